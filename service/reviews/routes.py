"""/v1/reviews and /v1/claims/{id}/claim-review: HTTP only; SQL lives in ``queries``."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import Body, PathParameter, QueryParameter

from service import db, etag, history, references
from service.claims import queries as claims
from service.deps import Request
from service.errors import responses
from service.history import Revision, RevisionPage, Version
from service.pagination import Cursor, Limit, decode_cursor, page
from service.reviews import examples, queries
from service.reviews.jsonld import ClaimReviewLD, claim_reviews
from service.reviews.schemas import Review, ReviewCreate, ReviewPage, ReviewUpdate

ReviewId = Annotated[UUID, PathParameter(description="The review's id.")]
JSON_LD = "application/ld+json"


class ReviewController(Controller):
    path = "/v1/reviews"
    tags = ["reviews"]

    @get(
        "/",
        operation_id="list_reviews",
        summary="List reviews",
        description="Newest first, with keyset pagination.",
        responses=responses(308, 422),
    )
    async def list_reviews(
        self,
        request: Request,
        limit: Limit = 50,
        cursor: Cursor = None,
        claim_id: Annotated[
            UUID | None, QueryParameter(description="Reviews of this claim.")
        ] = None,
        reviewer_id: Annotated[
            UUID | None, QueryParameter(description="Reviews by this actor.")
        ] = None,
    ) -> ReviewPage:
        before = decode_cursor(cursor, "reviews", UUID)[0] if cursor else None
        async with request.pool.acquire() as conn:
            rows = await queries.list_reviews(conn, claim_id, reviewer_id, limit + 1, before)
            if not rows:  # a merged actor: 308; an id nothing has: 422
                await references.explain_empty(
                    conn, {"reviewer_id": reviewer_id}, claims={"claim_id": claim_id}
                )
        data, next_cursor = page(rows, limit, "reviews", lambda r: (r.id,))
        return ReviewPage(data=data, next_cursor=next_cursor)

    @post(
        "/",
        operation_id="create_review",
        summary="Create a review",
        description="A fact-check verdict on a claim; `worst <= value <= best`.",
        responses=responses(400, 413, 422),
        response_headers=[etag.ETAG_HEADER, etag.LOCATION_HEADER],
    )
    async def create_review(
        self, request: Request, data: Annotated[ReviewCreate, Body(examples=examples.CREATE)]
    ) -> Response[Review]:
        async with db.transaction(request.pool) as conn:
            review = await queries.create(conn, request.who, data)
        return etag.respond(review, location=f"/v1/reviews/{review.id}")

    @get(
        "/{review_id:str}",
        operation_id="get_review",
        summary="Get a review",
        responses={**responses(404, 422), **etag.NOT_MODIFIED},
        response_headers=[etag.ETAG_HEADER],
        **etag.TAKES_IF_NONE_MATCH,
    )
    async def get_review(self, request: Request, review_id: ReviewId) -> Response[Review]:
        async with request.pool.acquire() as conn:
            review = await queries.get(conn, review_id)
        return etag.respond(review, request.if_none_match())

    @patch(
        "/{review_id:str}",
        operation_id="update_review",
        summary="Update a review",
        description="Send only the fields to change; the claim reviewed does not change.",
        responses=responses(400, 404, 412, 413, 422),
        response_headers=[etag.ETAG_HEADER],
        **etag.TAKES_PRECONDITIONS,
    )
    async def update_review(
        self,
        request: Request,
        review_id: ReviewId,
        data: Annotated[ReviewUpdate, Body(examples=examples.UPDATE)],
    ) -> Response[Review]:
        async with db.transaction(request.pool) as conn:
            review = await queries.update(
                conn, request.who, review_id, data, precondition=request.preconditions()
            )
        return etag.respond(review)

    @delete(
        "/{review_id:str}",
        operation_id="delete_review",
        summary="Delete a review",
        description="Its revisions stay readable.",
        responses=responses(404, 412, 422),
        **etag.TAKES_PRECONDITIONS,
    )
    async def delete_review(self, request: Request, review_id: ReviewId) -> None:
        async with db.transaction(request.pool) as conn:
            await queries.delete(conn, request.who, review_id, precondition=request.preconditions())

    @get(
        "/{review_id:str}/revisions",
        operation_id="list_review_revisions",
        summary="List a review's revisions",
        description="Newest first; kept after a delete.",
        responses=responses(404, 422),
    )
    async def list_review_revisions(
        self, request: Request, review_id: ReviewId, limit: Limit = 50, cursor: Cursor = None
    ) -> RevisionPage:
        return await history.revision_page(request.pool, "review", review_id, limit, cursor)

    @get(
        "/{review_id:str}/revisions/{version:str}",
        operation_id="get_review_revision",
        summary="Get one of a review's revisions",
        description="The review as it was at that version, who changed it and when (for a "
        "delete, what it was before it).",
        responses=responses(404),
    )
    async def get_review_revision(
        self, request: Request, review_id: ReviewId, version: Version
    ) -> Revision:
        return await history.revision_at(request, "review", review_id, version)


@get(
    "/v1/claims/{claim_id:str}/claim-review",
    operation_id="get_claim_review_jsonld",
    summary="A claim's reviews as schema.org ClaimReview JSON-LD",
    tags=["claims", "reviews"],
    description="An array of ClaimReview objects (empty when the claim has no review), to "
    'paste into a page\'s `<script type="application/ld+json">`.',
    media_type=JSON_LD,
    responses=responses(404),
)
async def get_claim_review(
    request: Request, claim_id: Annotated[UUID, PathParameter(description="The claim's id.")]
) -> Response[list[ClaimReviewLD]]:
    async with request.pool.acquire() as conn:
        claim = await claims.get(conn, claim_id)
    return Response(claim_reviews(claim), media_type=JSON_LD)
