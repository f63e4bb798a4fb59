"""/v1/api-keys (admin scope): create (the key is shown once), list, get, revoke."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, delete, get, post
from litestar.openapi.spec import Example
from litestar.params import Body, PathParameter

from service import auth, db, etag
from service.deps import Request
from service.errors import responses
from service.keys import queries
from service.keys.schemas import ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyPage
from service.pagination import Cursor, Limit, decode_cursor, page

KeyId = Annotated[UUID, PathParameter(description="The key's id (not the key).")]

CREATE_EXAMPLES = [
    Example(
        summary="A read-only key for a newsroom CMS",
        value={"name": "newsroom-cms", "scopes": ["read"]},
    ),
    Example(
        summary="A fact-checker's key that expires",
        value={"name": "desk-laptop", "scopes": ["write"], "expires_at": "2027-06-30T00:00:00Z"},
    ),
]


class ApiKeyController(Controller):
    path = "/v1/api-keys"
    tags = ["api-keys"]
    opt = auth.ADMIN["opt"]

    @post(
        "/",
        operation_id="create_api_key",
        summary="Create an API key",
        description="The answer holds the key (`key`) once; only its SHA-256 is stored.",
        responses=responses(400, 413, 422),
        response_headers=[etag.LOCATION_HEADER, etag.NO_STORE_HEADER],
    )
    async def create_api_key(
        self, request: Request, data: Annotated[ApiKeyCreate, Body(examples=CREATE_EXAMPLES)]
    ) -> Response[ApiKeyCreated]:
        async with db.transaction(request.pool) as conn:
            created = await queries.create(conn, data, created_by=request.who.changed_by)
        return Response(
            created,
            status_code=201,
            headers={"Location": f"/v1/api-keys/{created.id}", **etag.SECRET_HEADERS},
        )

    @get(
        "/",
        operation_id="list_api_keys",
        summary="List API keys",
        description="Newest first, revoked and expired keys included (with their `status`).",
        responses=responses(422),
    )
    async def list_api_keys(
        self, request: Request, limit: Limit = 50, cursor: Cursor = None
    ) -> ApiKeyPage:
        before = decode_cursor(cursor, "api-keys", UUID)[0] if cursor else None
        async with request.pool.acquire() as conn:
            rows = await queries.list_keys(conn, limit + 1, before)
        data, next_cursor = page(rows, limit, "api-keys", lambda k: (k.id,))
        return ApiKeyPage(data=data, next_cursor=next_cursor)

    @get(
        "/{key_id:str}",
        operation_id="get_api_key",
        summary="Get an API key",
        description="Its name, scopes, status and use; never the key.",
        responses=responses(404),
    )
    async def get_api_key(self, request: Request, key_id: KeyId) -> ApiKey:
        async with request.pool.acquire() as conn:
            return await queries.get(conn, key_id)

    @delete(
        "/{key_id:str}",
        operation_id="revoke_api_key",
        summary="Revoke an API key",
        description="The key stops working (on every worker within "
        "`CLAIMDESK_KEY_CACHE_SECONDS`) and stays listed as `revoked`. Revoking a revoked key "
        "changes nothing.",
        responses=responses(404),
    )
    async def revoke_api_key(self, request: Request, key_id: KeyId) -> None:
        async with db.transaction(request.pool) as conn:
            await queries.revoke(conn, key_id, revoked_by=request.who.changed_by)
        request.app.state.key_cache.clear()
