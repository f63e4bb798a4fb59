"""/v1/claims: HTTP only; SQL lives in ``queries``."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.openapi.spec import Example
from litestar.params import Body, PathParameter, QueryParameter

from service import db, etag, history, references
from service.claims import examples, queries
from service.claims.schemas import (
    Claim,
    ClaimCreate,
    ClaimFilters,
    ClaimKind,
    ClaimPage,
    ClaimUpdate,
)
from service.deps import Request
from service.errors import check_range, responses
from service.history import Revision, RevisionPage, Version
from service.pagination import (
    Cursor,
    Limit,
    compact_json,
    decode_cursor,
    documents_page_response,
    searchable,
)
from service.schemas import TOPIC_PATTERN
from service.text.lang import LANG_PATTERN

ClaimId = Annotated[UUID, PathParameter(description="The claim's id.")]


class ClaimController(Controller):
    path = "/v1/claims"
    tags = ["claims"]

    @get(
        "/",
        operation_id="list_claims",
        summary="List claims",
        description="Newest first, with keyset pagination. Filters combine with AND. A date "
        "range matches claims whose stated period (day, month or year) overlaps it.",
        responses=responses(308, 422),
    )
    async def list_claims(
        self,
        request: Request,
        limit: Limit = 50,
        cursor: Cursor = None,
        speaker_id: Annotated[
            UUID | None, QueryParameter(description="Said by this actor.")
        ] = None,
        target_id: Annotated[UUID | None, QueryParameter(description="About this actor.")] = None,
        relayed_by_id: Annotated[
            UUID | None, QueryParameter(description="Known through this actor.")
        ] = None,
        source_id: Annotated[
            UUID | None, QueryParameter(description="Appears in this source.")
        ] = None,
        topic: Annotated[
            str | None,
            QueryParameter(
                pattern=TOPIC_PATTERN,
                max_length=64,
                examples=[Example(summary="The safe zone", value="safe-zone")],
            ),
        ] = None,
        lang: Annotated[
            str | None,
            QueryParameter(
                pattern=LANG_PATTERN, max_length=35, description="`ar` also matches `ar-SY`."
            ),
        ] = None,
        kind: Annotated[ClaimKind | None, QueryParameter(description="Only this kind.")] = None,
        stated_from: Annotated[
            date | None,
            QueryParameter(
                examples=[Example(summary="From the Sochi agreement", value="2019-10-22")]
            ),
        ] = None,
        stated_to: Annotated[
            date | None,
            QueryParameter(examples=[Example(summary="To the article's day", value="2019-11-24")]),
        ] = None,
        dispute_id: Annotated[
            UUID | None, QueryParameter(description="Claims standing in this dispute.")
        ] = None,
        q: Annotated[
            str | None,
            QueryParameter(
                max_length=200,
                description="Only claims whose text or a translation matches, in any spelling "
                "(newest first; `/v1/search` ranks by relevance). Written as `/v1/search`'s "
                '`q`: words, `"a phrase"`, `or`, `-word` to leave out.',
                examples=[Example(summary="The safe zone, without hamza", value="المنطقه الامنه")],
            ),
        ] = None,
    ) -> Response[ClaimPage]:
        check_range("stated_from", stated_from, "stated_to", stated_to)
        before = decode_cursor(cursor, "claims", UUID)[0] if cursor else None
        if q is not None:
            searchable(q, "q")
        filters = ClaimFilters(
            speaker_id=speaker_id,
            target_id=target_id,
            relayed_by_id=relayed_by_id,
            source_id=source_id,
            topic=topic,
            lang=lang,
            kind=kind,
            stated_from=stated_from,
            stated_to=stated_to,
            dispute_id=dispute_id,
            q=q,
        )
        async with request.pool.acquire() as conn:
            documents, last = await queries.list_claims_json(conn, filters, limit, before)
            if not documents:  # a merged actor: 308; an id nothing has: 422
                await references.explain_empty(
                    conn,
                    {
                        "speaker_id": speaker_id,
                        "target_id": target_id,
                        "relayed_by_id": relayed_by_id,
                    },
                    sources={"source_id": source_id},
                    disputes={"dispute_id": dispute_id},
                )
        return documents_page_response(documents, "claims", last)

    @post(
        "/",
        operation_id="create_claim",
        summary="Create a claim",
        description="One statement by one speaker, with at least one appearance in a source.",
        responses=responses(400, 413, 422),
        response_headers=[etag.ETAG_HEADER, etag.LOCATION_HEADER],
    )
    async def create_claim(
        self, request: Request, data: Annotated[ClaimCreate, Body(examples=examples.CREATE)]
    ) -> Response[Claim]:
        # one statement: no transaction needed around it
        async with db.acquire(request.pool) as conn:
            claim_id, version, text = await queries.create_json(conn, request.who, data)
        return etag.respond_json(version, compact_json(text), location=f"/v1/claims/{claim_id}")

    @get(
        "/{claim_id:str}",
        operation_id="get_claim",
        summary="Get a claim",
        description="Embeds speaker (with their role on that date), relayed-by, targets and "
        "sources.",
        responses={**responses(404, 422), **etag.NOT_MODIFIED},
        response_headers=[etag.ETAG_HEADER],
        **etag.TAKES_IF_NONE_MATCH,
    )
    async def get_claim(self, request: Request, claim_id: ClaimId) -> Response[Claim]:
        async with request.pool.acquire() as conn:
            version, text = await queries.get_json(conn, claim_id)
        return etag.respond_json(version, compact_json(text), request.if_none_match())

    @patch(
        "/{claim_id:str}",
        operation_id="update_claim",
        summary="Update a claim",
        description="Send only the fields to change; a list sent replaces the whole list. "
        "Sending `stated_on` without a precision means a day.",
        responses=responses(400, 404, 412, 413, 422),
        response_headers=[etag.ETAG_HEADER],
        **etag.TAKES_PRECONDITIONS,
    )
    async def update_claim(
        self,
        request: Request,
        claim_id: ClaimId,
        data: Annotated[ClaimUpdate, Body(examples=examples.UPDATE)],
    ) -> Response[Claim]:
        # two round trips without a transaction, or the transaction it opens (queries)
        async with db.acquire(request.pool) as conn:
            _, version, text = await queries.update_json(
                conn, request.who, claim_id, data, precondition=request.preconditions()
            )
        return etag.respond_json(version, compact_json(text))

    @delete(
        "/{claim_id:str}",
        operation_id="delete_claim",
        summary="Delete a claim",
        description="Refused (409) while a dispute holds it or reviews rate it; its revisions "
        "stay readable.",
        responses=responses(404, 409, 412, 422),
        **etag.TAKES_PRECONDITIONS,
    )
    async def delete_claim(self, request: Request, claim_id: ClaimId) -> None:
        async with db.transaction(request.pool) as conn:
            await queries.delete(conn, request.who, claim_id, precondition=request.preconditions())

    @get(
        "/{claim_id:str}/revisions",
        operation_id="list_claim_revisions",
        summary="List a claim's revisions",
        description="Newest first; kept after a delete.",
        responses=responses(404, 422),
    )
    async def list_claim_revisions(
        self, request: Request, claim_id: ClaimId, limit: Limit = 50, cursor: Cursor = None
    ) -> RevisionPage:
        return await history.revision_page(request.pool, "claim", claim_id, limit, cursor)

    @get(
        "/{claim_id:str}/revisions/{version:str}",
        operation_id="get_claim_revision",
        summary="Get one of a claim's revisions",
        description="The claim as it was at that version, who changed it and when (for a "
        "delete, what it was before it).",
        responses=responses(404),
    )
    async def get_claim_revision(
        self, request: Request, claim_id: ClaimId, version: Version
    ) -> Revision:
        return await history.revision_at(request, "claim", claim_id, version)
