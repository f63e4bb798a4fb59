"""/v1/sources: HTTP only; SQL lives in ``queries``."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import Body, PathParameter, QueryParameter

from service import db, etag, history, references
from service.deps import Request
from service.errors import check_range, responses
from service.history import Revision, RevisionPage, Version
from service.pagination import Cursor, Limit, decode_cursor, page
from service.sources import examples, queries
from service.sources.schemas import (
    Source,
    SourceCreate,
    SourceFilters,
    SourceKind,
    SourcePage,
    SourceUpdate,
)
from service.text.lang import LANG_PATTERN

SourceId = Annotated[UUID, PathParameter(description="The source's id.")]


class SourceController(Controller):
    path = "/v1/sources"
    tags = ["sources"]

    @get(
        "/",
        operation_id="list_sources",
        summary="List sources",
        description="Newest first, with keyset pagination. Filters combine with AND.",
        responses=responses(308, 422),
    )
    async def list_sources(
        self,
        request: Request,
        limit: Limit = 50,
        cursor: Cursor = None,
        kind: Annotated[SourceKind | None, QueryParameter(description="Only this kind.")] = None,
        publisher_id: Annotated[
            UUID | None, QueryParameter(description="Published by this actor.")
        ] = None,
        lang: Annotated[
            str | None,
            QueryParameter(
                pattern=LANG_PATTERN, max_length=35, description="`ar` also matches `ar-SY`."
            ),
        ] = None,
        url: Annotated[
            str | None,
            QueryParameter(
                max_length=2048,
                description="The source at this URL (compared after normalisation).",
                examples=[examples.URL_EXAMPLE],
            ),
        ] = None,
        published_from: Annotated[
            date | None, QueryParameter(description="On or after (the source's own day).")
        ] = None,
        published_to: Annotated[
            date | None, QueryParameter(description="On or before (the source's own day).")
        ] = None,
    ) -> SourcePage:
        check_range("published_from", published_from, "published_to", published_to)
        before = decode_cursor(cursor, "sources", UUID)[0] if cursor else None
        filters = SourceFilters(
            kind=kind,
            publisher_id=publisher_id,
            lang=lang,
            url=url,
            published_from=published_from,
            published_to=published_to,
        )
        async with request.pool.acquire() as conn:
            rows = await queries.list_sources(conn, filters, limit + 1, before)
            if not rows:  # a merged actor: 308; an id nothing has: 422
                await references.explain_empty(conn, {"publisher_id": publisher_id})
        data, next_cursor = page(rows, limit, "sources", lambda s: (s.id,))
        return SourcePage(data=data, next_cursor=next_cursor)

    @post(
        "/",
        operation_id="create_source",
        summary="Create a source",
        description="A URL is unique after normalisation: a second source at the same page "
        "is a 409 naming the first (`existing_id`).",
        responses=responses(400, 409, 413, 422),
        response_headers=[etag.ETAG_HEADER, etag.LOCATION_HEADER],
    )
    async def create_source(
        self, request: Request, data: Annotated[SourceCreate, Body(examples=examples.CREATE)]
    ) -> Response[Source]:
        async with db.transaction(request.pool) as conn:
            source = await queries.create(conn, request.who, data)
        return etag.respond(source, location=f"/v1/sources/{source.id}")

    @get(
        "/{source_id:str}",
        operation_id="get_source",
        summary="Get a source",
        responses={**responses(404, 422), **etag.NOT_MODIFIED},
        response_headers=[etag.ETAG_HEADER],
        **etag.TAKES_IF_NONE_MATCH,
    )
    async def get_source(self, request: Request, source_id: SourceId) -> Response[Source]:
        async with request.pool.acquire() as conn:
            source = await queries.get(conn, source_id)
        return etag.respond(source, request.if_none_match())

    @patch(
        "/{source_id:str}",
        operation_id="update_source",
        summary="Update a source",
        description="Send only the fields to change.",
        responses=responses(400, 404, 409, 412, 413, 422),
        response_headers=[etag.ETAG_HEADER],
        **etag.TAKES_PRECONDITIONS,
    )
    async def update_source(
        self,
        request: Request,
        source_id: SourceId,
        data: Annotated[SourceUpdate, Body(examples=examples.UPDATE)],
    ) -> Response[Source]:
        async with db.transaction(request.pool) as conn:
            source = await queries.update(
                conn, request.who, source_id, data, precondition=request.preconditions()
            )
        return etag.respond(source)

    @delete(
        "/{source_id:str}",
        operation_id="delete_source",
        summary="Delete a source",
        description="Refused (409) while claims appear in it; its revisions stay readable.",
        responses=responses(404, 409, 412, 422),
        **etag.TAKES_PRECONDITIONS,
    )
    async def delete_source(self, request: Request, source_id: SourceId) -> None:
        async with db.transaction(request.pool) as conn:
            await queries.delete(conn, request.who, source_id, precondition=request.preconditions())

    @get(
        "/{source_id:str}/revisions",
        operation_id="list_source_revisions",
        summary="List a source's revisions",
        description="Newest first; kept after a delete.",
        responses=responses(404, 422),
    )
    async def list_source_revisions(
        self, request: Request, source_id: SourceId, limit: Limit = 50, cursor: Cursor = None
    ) -> RevisionPage:
        return await history.revision_page(request.pool, "source", source_id, limit, cursor)

    @get(
        "/{source_id:str}/revisions/{version:str}",
        operation_id="get_source_revision",
        summary="Get one of a source's revisions",
        description="The source as it was at that version, who changed it and when (for a "
        "delete, what it was before it).",
        responses=responses(404),
    )
    async def get_source_revision(
        self, request: Request, source_id: SourceId, version: Version
    ) -> Revision:
        return await history.revision_at(request, "source", source_id, version)
