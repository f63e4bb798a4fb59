"""/v1/actors: HTTP only; SQL lives in ``queries``."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import asyncpg
from litestar import Controller, Response, delete, get, patch, post
from litestar.params import Body, PathParameter, QueryParameter

from service import db, etag, history, references
from service.actors import examples, merge, queries
from service.actors.schemas import (
    Actor,
    ActorCreate,
    ActorFilters,
    ActorMerge,
    ActorPage,
    ActorUpdate,
)
from service.deps import Request
from service.errors import invalid, responses
from service.history import Revision, RevisionPage, Version
from service.pagination import Cursor, Limit, decode_cursor, page, searchable
from service.schemas import COUNTRY_PATTERN, WIKIDATA_PATTERN, ActorKind

ActorId = Annotated[UUID, PathParameter(description="The actor's id.")]

# A merge moves many rows and may collide with writers of them; PostgreSQL then rolls one
# transaction back, and the merge, which changed nothing yet, tries again.
MERGE_ATTEMPTS = 3


class ActorController(Controller):
    path = "/v1/actors"
    tags = ["actors"]

    @get(
        "/",
        operation_id="list_actors",
        summary="List actors",
        description="Newest first, with keyset pagination. Filters combine with AND.",
        responses=responses(308, 422),
    )
    async def list_actors(
        self,
        request: Request,
        limit: Limit = 50,
        cursor: Cursor = None,
        kind: Annotated[ActorKind | None, QueryParameter(description="Only this kind.")] = None,
        country: Annotated[
            str | None, QueryParameter(pattern=COUNTRY_PATTERN, description="ISO 3166-1 alpha-2.")
        ] = None,
        wikidata_id: Annotated[str | None, QueryParameter(pattern=WIKIDATA_PATTERN)] = None,
        member_of: Annotated[
            UUID | None,
            QueryParameter(description="Only members of this organization (an actor id)."),
        ] = None,
        q: Annotated[
            str | None,
            QueryParameter(
                max_length=300,
                description="Only actors one of whose names matches, in any spelling: exactly, "
                "by prefix or nearly (newest first, like the rest of the list). Written as "
                "`/v1/search`'s `q`: `or` between names finds either, and a word excluded "
                "(`-word`) is no name to look for.",
                examples=[examples.NAME_EXAMPLE],
            ),
        ] = None,
        name: Annotated[
            str | None,
            QueryParameter(
                max_length=300,
                description="Typeahead: actors by how well one of their names matches — "
                "exact, then prefix, then near misses — best first. Combines with the other "
                "filters but `q`.",
                examples=[examples.TYPEAHEAD_EXAMPLE],
            ),
        ] = None,
    ) -> ActorPage:
        filters = ActorFilters(
            kind=kind, country=country, wikidata_id=wikidata_id, member_of=member_of, q=q
        )
        if q is not None:
            searchable(q, "q")
        if name is not None:
            searchable(name, "name")
            if q is not None:
                raise invalid(
                    "q",
                    "Send `q` (filter the newest-first list) or `name` (rank by how well a name "
                    "matches), not both.",
                    "query",
                )
            after = decode_cursor(cursor, "actors-typeahead", float, UUID) if cursor else None
            async with request.pool.acquire() as conn:
                ranked = await queries.typeahead(conn, name, filters, limit + 1, after)
                if not ranked:  # a merged actor: 308; an id nothing has: 422
                    await references.explain_empty(conn, {"member_of": member_of})
            ranked, next_cursor = page(ranked, limit, "actors-typeahead", lambda r: (r[1], r[0].id))
            return ActorPage(data=[actor for actor, _ in ranked], next_cursor=next_cursor)
        before = decode_cursor(cursor, "actors", UUID)[0] if cursor else None
        async with request.pool.acquire() as conn:
            rows = await queries.list_actors(conn, filters, limit + 1, before)
            if not rows:  # a merged actor: 308; an id nothing has: 422
                await references.explain_empty(conn, {"member_of": member_of})
        data, next_cursor = page(rows, limit, "actors", lambda a: (a.id,))
        return ActorPage(data=data, next_cursor=next_cursor)

    @post(
        "/",
        operation_id="create_actor",
        summary="Create an actor",
        description="A person, organization, state, armed group, media outlet or unnamed group.",
        responses=responses(400, 409, 413, 422),
        response_headers=[etag.ETAG_HEADER, etag.LOCATION_HEADER],
    )
    async def create_actor(
        self, request: Request, data: Annotated[ActorCreate, Body(examples=examples.CREATE)]
    ) -> Response[Actor]:
        async with db.transaction(request.pool) as conn:
            actor = await queries.create(conn, request.who, data)
        return etag.respond(actor, location=f"/v1/actors/{actor.id}")

    @get(
        "/{actor_id:str}",
        operation_id="get_actor",
        summary="Get an actor",
        description="An actor merged into another answers 308 with the survivor's URL in "
        "`Location` (and `merged_into_id` in the problem body).",
        responses={**responses(308, 404, 422), **etag.NOT_MODIFIED},
        response_headers=[etag.ETAG_HEADER],
        **etag.TAKES_IF_NONE_MATCH,
    )
    async def get_actor(self, request: Request, actor_id: ActorId) -> Response[Actor]:
        async with request.pool.acquire() as conn:
            actor = await queries.get(conn, actor_id)
        return etag.respond(actor, request.if_none_match())

    @patch(
        "/{actor_id:str}",
        operation_id="update_actor",
        summary="Update an actor",
        description="Send only the fields to change; a list sent replaces the whole list. "
        "An actor merged into another answers 308 to the survivor's URL.",
        responses=responses(308, 400, 404, 409, 412, 413, 422),
        response_headers=[etag.ETAG_HEADER],
        **etag.TAKES_PRECONDITIONS,
    )
    async def update_actor(
        self,
        request: Request,
        actor_id: ActorId,
        data: Annotated[ActorUpdate, Body(examples=examples.UPDATE)],
    ) -> Response[Actor]:
        async with db.transaction(request.pool) as conn:
            actor = await queries.update(
                conn, request.who, actor_id, data, precondition=request.preconditions()
            )
        return etag.respond(actor)

    @delete(
        "/{actor_id:str}",
        operation_id="delete_actor",
        summary="Delete an actor",
        description="Refused (409) while claims, sources or memberships refer to it; "
        "its revisions stay readable. An actor merged into another is not redirected: 409 "
        "`already-merged` names the survivor.",
        responses=responses(404, 409, 412, 422),
        **etag.TAKES_PRECONDITIONS,
    )
    async def delete_actor(self, request: Request, actor_id: ActorId) -> None:
        async with db.transaction(request.pool) as conn:
            await queries.delete(conn, request.who, actor_id, precondition=request.preconditions())

    @post(
        "/{actor_id:str}/merge",
        operation_id="merge_actor",
        status_code=200,
        summary="Merge a duplicate actor into another",
        description="In one transaction, moves everything that refers to this actor (the "
        "duplicate) to `into_id` (the survivor): claims it speaks, relays or is a target of, "
        "sources it publishes, reviews it wrote, its memberships and its members. Its display "
        "name and names become names of the survivor (one per normalised spelling), and its "
        "description, country and wikidata_id fill the survivor's empty fields. Repeats are "
        "dropped: a target or membership the survivor holds already, a claim relayed by its "
        "own speaker. Every changed claim, source, review and actor gets a new version and "
        "revision; the duplicate's last revision (action `merge`) names `merged_into_id`. "
        "It leaves the lists; its URL answers 308 to the survivor's, also after the survivor "
        "is merged on. Answers the survivor. `If-Match` is compared with the duplicate. "
        "409 `already-merged`: this actor was merged before (`merged_into_id` says where).",
        responses=responses(400, 404, 409, 412, 413, 422),
        response_headers=[etag.ETAG_HEADER],
        **etag.TAKES_PRECONDITIONS,
    )
    async def merge_actor(
        self,
        request: Request,
        actor_id: ActorId,
        data: Annotated[ActorMerge, Body(examples=examples.MERGE)],
    ) -> Response[Actor]:
        for attempt in range(1, MERGE_ATTEMPTS + 1):
            try:
                async with db.transaction(request.pool) as conn:
                    actor = await merge.merge(
                        conn,
                        request.who,
                        actor_id,
                        data.into_id,
                        precondition=request.preconditions(),
                    )
                break
            except asyncpg.DeadlockDetectedError:
                if attempt == MERGE_ATTEMPTS:
                    raise
        return etag.respond(actor)

    @get(
        "/{actor_id:str}/revisions",
        operation_id="list_actor_revisions",
        summary="List an actor's revisions",
        description="Newest first; kept after a delete, and after a merge (whose last "
        "revision, action `merge`, names `merged_into_id`).",
        responses=responses(404, 422),
    )
    async def list_actor_revisions(
        self, request: Request, actor_id: ActorId, limit: Limit = 50, cursor: Cursor = None
    ) -> RevisionPage:
        return await history.revision_page(request.pool, "actor", actor_id, limit, cursor)

    @get(
        "/{actor_id:str}/revisions/{version:str}",
        operation_id="get_actor_revision",
        summary="Get one of an actor's revisions",
        description="The actor as it was at that version, who changed it and when (for a "
        "delete, what it was before it).",
        responses=responses(404),
    )
    async def get_actor_revision(
        self, request: Request, actor_id: ActorId, version: Version
    ) -> Revision:
        return await history.revision_at(request, "actor", actor_id, version)
