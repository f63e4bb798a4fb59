"""/v1/disputes and /v1/claims/{id}/contradictions: HTTP only; SQL lives in ``queries``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.openapi.spec import Example
from litestar.params import Body, PathParameter, QueryParameter

from service import db, etag, history, references
from service.claims.schemas import DisputeStatus
from service.deps import Request
from service.disputes import examples, queries
from service.disputes.schemas import (
    ContradictionPage,
    Dispute,
    DisputeCreate,
    DisputeFilters,
    DisputePage,
    DisputeUpdate,
    PositionInput,
    PositionUpdate,
)
from service.errors import check_range, invalid, responses
from service.history import Revision, RevisionPage, Version
from service.pagination import (
    Cursor,
    Limit,
    compact_json,
    decode_cursor,
    documents_page_response,
    page,
)
from service.schemas import TOPIC_PATTERN

DisputeId = Annotated[UUID, PathParameter(description="The dispute's id.")]
ClaimId = Annotated[UUID, PathParameter(description="The claim's id.")]


class DisputeController(Controller):
    path = "/v1/disputes"
    tags = ["disputes"]

    @get(
        "/",
        operation_id="list_disputes",
        summary="List disputes",
        description="Newest first, with keyset pagination; each with its sides.",
        responses=responses(308, 422),
    )
    async def list_disputes(
        self,
        request: Request,
        limit: Limit = 50,
        cursor: Cursor = None,
        status: Annotated[
            DisputeStatus | None, QueryParameter(description="Only disputes with this status.")
        ] = None,
        actor_id: Annotated[
            UUID | None,
            QueryParameter(description="Disputes with a claim this actor said or is a target of."),
        ] = None,
        claim_id: Annotated[
            UUID | None, QueryParameter(description="Disputes this claim stands in.")
        ] = None,
        topic: Annotated[
            str | None,
            QueryParameter(
                pattern=TOPIC_PATTERN,
                max_length=64,
                examples=[Example(summary="The safe zone", value="safe-zone")],
            ),
        ] = None,
        updated_from: Annotated[
            datetime | None, QueryParameter(description="Changed at or after (RFC 3339).")
        ] = None,
        updated_to: Annotated[
            datetime | None, QueryParameter(description="Changed at or before (RFC 3339).")
        ] = None,
    ) -> Response[DisputePage]:
        for name, value in (("updated_from", updated_from), ("updated_to", updated_to)):
            if value is not None and value.tzinfo is None:
                raise invalid(name, "Give a time zone offset (Z or +03:00).", "query")
        check_range("updated_from", updated_from, "updated_to", updated_to)
        before = decode_cursor(cursor, "disputes", UUID)[0] if cursor else None
        filters = DisputeFilters(
            status=status,
            actor_id=actor_id,
            claim_id=claim_id,
            topic=topic,
            updated_from=updated_from,
            updated_to=updated_to,
        )
        async with request.pool.acquire() as conn:
            documents, last = await queries.list_disputes_json(conn, filters, limit, before)
            if not documents:  # a merged actor: 308; an id nothing has: 422
                await references.explain_empty(
                    conn, {"actor_id": actor_id}, claims={"claim_id": claim_id}
                )
        return documents_page_response(documents, "disputes", last)

    @post(
        "/",
        operation_id="create_dispute",
        summary="Create a dispute",
        description="A question and at least two claims holding at least two different "
        "stances (affirms, denies, questions); a claim stands in it once.",
        responses=responses(400, 413, 422),
        response_headers=[etag.ETAG_HEADER, etag.LOCATION_HEADER],
    )
    async def create_dispute(
        self, request: Request, data: Annotated[DisputeCreate, Body(examples=examples.CREATE)]
    ) -> Response[Dispute]:
        async with db.transaction(request.pool) as conn:
            dispute = await queries.create(conn, request.who, data)
        return etag.respond(dispute, location=f"/v1/disputes/{dispute.id}")

    @get(
        "/{dispute_id:str}",
        operation_id="get_dispute",
        summary="Get a dispute as its sides",
        description="Claims grouped by stance, each with speaker (and role), relayed-by, "
        "date and precision, sources and reviews.",
        responses={**responses(404, 422), **etag.NOT_MODIFIED},
        response_headers=[etag.ETAG_HEADER],
        **etag.TAKES_IF_NONE_MATCH,
    )
    async def get_dispute(self, request: Request, dispute_id: DisputeId) -> Response[Dispute]:
        async with request.pool.acquire() as conn:
            version, text = await queries.get_json(conn, dispute_id)
        return etag.respond_json(version, compact_json(text), request.if_none_match())

    @patch(
        "/{dispute_id:str}",
        operation_id="update_dispute",
        summary="Update, resolve, dismiss or reopen a dispute",
        description="Resolving needs a `resolution` (verdict and note), dismissing a "
        "`dismissal` note; reopening clears them (revisions keep them).",
        responses=responses(400, 404, 412, 413, 422),
        response_headers=[etag.ETAG_HEADER],
        **etag.TAKES_PRECONDITIONS,
    )
    async def update_dispute(
        self,
        request: Request,
        dispute_id: DisputeId,
        data: Annotated[DisputeUpdate, Body(examples=examples.UPDATE)],
    ) -> Response[Dispute]:
        async with db.transaction(request.pool) as conn:
            dispute = await queries.update(
                conn, request.who, dispute_id, data, precondition=request.preconditions()
            )
        return etag.respond(dispute)

    @delete(
        "/{dispute_id:str}",
        operation_id="delete_dispute",
        summary="Delete a dispute",
        description="Its claims stay; its revisions stay readable.",
        responses=responses(404, 412, 422),
        **etag.TAKES_PRECONDITIONS,
    )
    async def delete_dispute(self, request: Request, dispute_id: DisputeId) -> None:
        async with db.transaction(request.pool) as conn:
            await queries.delete(
                conn, request.who, dispute_id, precondition=request.preconditions()
            )

    @post(
        "/{dispute_id:str}/positions",
        operation_id="add_dispute_position",
        summary="Add a claim to a dispute",
        description="409 if it stands there already. Answers the dispute as it now stands; "
        "`If-Match` compares the dispute's tag.",
        # a position has no URL of its own to read: no Location
        response_description="The claim added: the dispute as it now stands.",
        responses=responses(400, 404, 409, 412, 413, 422),
        response_headers=[etag.ETAG_HEADER],
        **etag.TAKES_PRECONDITIONS,
    )
    async def add_position(
        self,
        request: Request,
        dispute_id: DisputeId,
        data: Annotated[PositionInput, Body(examples=examples.POSITION)],
    ) -> Response[Dispute]:
        async with db.transaction(request.pool) as conn:
            dispute = await queries.add_position(
                conn, request.who, dispute_id, data, precondition=request.preconditions()
            )
        return etag.respond(dispute)

    @patch(
        "/{dispute_id:str}/positions/{claim_id:str}",
        operation_id="update_dispute_position",
        summary="Change a claim's stance in a dispute",
        description="Refused (422) if an open or resolved dispute would be left with one stance. Answers "
        "the dispute as it now stands; `If-Match` compares the dispute's tag.",
        responses=responses(400, 404, 412, 413, 422),
        response_headers=[etag.ETAG_HEADER],
        **etag.TAKES_PRECONDITIONS,
    )
    async def update_position(
        self,
        request: Request,
        dispute_id: DisputeId,
        claim_id: ClaimId,
        data: Annotated[PositionUpdate, Body(examples=examples.STANCE)],
    ) -> Response[Dispute]:
        async with db.transaction(request.pool) as conn:
            dispute = await queries.set_stance(
                conn,
                request.who,
                dispute_id,
                claim_id,
                data.stance,
                precondition=request.preconditions(),
            )
        return etag.respond(dispute)

    @delete(
        "/{dispute_id:str}/positions/{claim_id:str}",
        operation_id="remove_dispute_position",
        summary="Remove a claim from a dispute",
        status_code=200,
        description="Refused (422) if an open or resolved dispute would be left with fewer than two "
        "claims or one stance. Answers the dispute as it now stands; `If-Match` compares the "
        "dispute's tag.",
        responses=responses(404, 412, 422),
        response_headers=[etag.ETAG_HEADER],
        **etag.TAKES_PRECONDITIONS,
    )
    async def remove_position(
        self, request: Request, dispute_id: DisputeId, claim_id: ClaimId
    ) -> Response[Dispute]:
        async with db.transaction(request.pool) as conn:
            dispute = await queries.remove_position(
                conn, request.who, dispute_id, claim_id, precondition=request.preconditions()
            )
        return etag.respond(dispute)

    @get(
        "/{dispute_id:str}/revisions",
        operation_id="list_dispute_revisions",
        summary="List a dispute's revisions",
        description="Newest first; every change to it or its positions, kept after a delete.",
        responses=responses(404, 422),
    )
    async def list_dispute_revisions(
        self, request: Request, dispute_id: DisputeId, limit: Limit = 50, cursor: Cursor = None
    ) -> RevisionPage:
        return await history.revision_page(request.pool, "dispute", dispute_id, limit, cursor)

    @get(
        "/{dispute_id:str}/revisions/{version:str}",
        operation_id="get_dispute_revision",
        summary="Get one of a dispute's revisions",
        description="The dispute as it was at that version, who changed it and when (for a "
        "delete, what it was before it).",
        responses=responses(404),
    )
    async def get_dispute_revision(
        self, request: Request, dispute_id: DisputeId, version: Version
    ) -> Revision:
        return await history.revision_at(request, "dispute", dispute_id, version)


@get(
    "/v1/claims/{claim_id:str}/contradictions",
    operation_id="list_claim_contradictions",
    summary="List the claims that contradict a claim",
    tags=["claims"],
    description="Claims on another side of any dispute this claim stands in, each with the "
    "dispute named.",
    responses=responses(404, 422),
)
async def list_contradictions(
    request: Request, claim_id: ClaimId, limit: Limit = 50, cursor: Cursor = None
) -> ContradictionPage:
    after = decode_cursor(cursor, "contradictions", UUID, UUID) if cursor else None
    async with request.pool.acquire() as conn:
        rows = await queries.contradictions(conn, claim_id, limit + 1, after)
    data, next_cursor = page(rows, limit, "contradictions", lambda row: row[1])
    return ContradictionPage(data=[c for c, _ in data], next_cursor=next_cursor)
