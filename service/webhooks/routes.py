"""/v1/webhooks (admin scope): subscriptions, their secrets, delivery logs and redelivery.
HTTP only; SQL lives in ``queries``."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.openapi.spec import Example
from litestar.params import Body, PathParameter, QueryParameter

from service import auth, db, etag
from service.deps import Request
from service.errors import invalid, responses
from service.pagination import Cursor, Limit, decode_cursor, page
from service.webhooks import guard, queries
from service.webhooks.schemas import (
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookDelivery,
    WebhookDeliveryPage,
    WebhookDeliveryStatus,
    WebhookPage,
    WebhookUpdate,
)

WebhookId = Annotated[UUID, PathParameter(description="The webhook's id.")]
DeliveryId = Annotated[UUID, PathParameter(description="The delivery's id.")]

CREATE_EXAMPLES = [
    Example(
        summary="A CMS that follows claims and disputes",
        value={
            "url": "https://cms.example/hooks/claimdesk",
            "event_types": ["claim.create", "claim.update", "dispute.*"],
            "description": "Newsroom CMS: refresh embedded dispute cards",
        },
    ),
    Example(
        summary="Everything, including actor merges",
        value={"url": "https://archive.example/claimdesk-events", "event_types": ["*"]},
    ),
]
UPDATE_EXAMPLES = [
    Example(summary="Enable again after an automatic disable", value={"enabled": True}),
    Example(summary="Follow reviews too", value={"event_types": ["claim.*", "review.*"]}),
]


async def _checked(request: Request, url: str) -> None:
    """A 422 naming ``url`` when it may not be a target (before any transaction opens: it
    resolves the host)."""
    try:
        await guard.check(url, allow_private=request.app.state.settings.webhook_allow_private)
    except guard.Refused as exc:
        raise invalid("url", str(exc)) from None


class WebhookController(Controller):
    path = "/v1/webhooks"
    tags = ["webhooks"]
    opt = auth.ADMIN["opt"]

    @post(
        "/",
        operation_id="create_webhook",
        summary="Subscribe a URL to events",
        description="Every change event of the types chosen (from this subscription's "
        "creation on) is POSTed to `url`, signed as Standard Webhooks says (`webhook-id`, "
        "`webhook-timestamp`, `webhook-signature`), retried with backoff for at least 24 "
        "hours. The answer holds the signing `secret`, shown only here (and in the replay of "
        "this request under the same `Idempotency-Key`). The URL's host must resolve to "
        "public addresses only: loopback, private, link-local and other internal addresses "
        "are a 422 naming `url`. A subscription with this URL and these event types "
        "already is a 409 naming it (`existing_id`): each event would arrive twice.",
        responses=responses(400, 409, 413, 422),
        response_headers=[etag.LOCATION_HEADER, etag.NO_STORE_HEADER],
    )
    async def create_webhook(
        self, request: Request, data: Annotated[WebhookCreate, Body(examples=CREATE_EXAMPLES)]
    ) -> Response[WebhookCreated]:
        await _checked(request, data.url)
        async with db.transaction(request.pool) as conn:
            created = await queries.create(conn, data, created_by=request.who.changed_by)
        return Response(
            created,
            status_code=201,
            headers={"Location": f"/v1/webhooks/{created.id}", **etag.SECRET_HEADERS},
        )

    @get(
        "/",
        operation_id="list_webhooks",
        summary="List webhooks",
        description="Newest first, disabled ones included (with `disabled_reason`).",
        responses=responses(422),
    )
    async def list_webhooks(
        self, request: Request, limit: Limit = 50, cursor: Cursor = None
    ) -> WebhookPage:
        before = decode_cursor(cursor, "webhooks", UUID)[0] if cursor else None
        async with request.pool.acquire() as conn:
            rows = await queries.list_webhooks(conn, limit + 1, before)
        data, next_cursor = page(rows, limit, "webhooks", lambda w: (w.id,))
        return WebhookPage(data=data, next_cursor=next_cursor)

    @get(
        "/{webhook_id:str}",
        operation_id="get_webhook",
        summary="Get a webhook",
        description="Never its secret.",
        responses=responses(404),
    )
    async def get_webhook(self, request: Request, webhook_id: WebhookId) -> Webhook:
        async with request.pool.acquire() as conn:
            return await queries.get(conn, webhook_id)

    @patch(
        "/{webhook_id:str}",
        operation_id="update_webhook",
        summary="Update a webhook",
        description="Send only the fields to change. `enabled: false` stops deliveries; "
        "`enabled: true` resumes them (a webhook disabled automatically says why in "
        "`disabled_reason` until then): pending deliveries are retried at once, and events "
        "from then on are delivered. Events of the time it was disabled are not: read them "
        "from the change feed, from the `feed_cursor` of the last event received. A URL "
        "and event types another subscription has are a 409 naming it.",
        responses=responses(400, 404, 409, 413, 422),
    )
    async def update_webhook(
        self,
        request: Request,
        webhook_id: WebhookId,
        data: Annotated[WebhookUpdate, Body(examples=UPDATE_EXAMPLES)],
    ) -> Webhook:
        if isinstance(data.url, str):
            await _checked(request, data.url)
        async with db.transaction(request.pool) as conn:
            return await queries.update(conn, webhook_id, data, changed_by=request.who.changed_by)

    @delete(
        "/{webhook_id:str}",
        operation_id="delete_webhook",
        summary="Delete a webhook",
        description="No more deliveries; its delivery log goes with it.",
        responses=responses(404),
    )
    async def delete_webhook(self, request: Request, webhook_id: WebhookId) -> None:
        async with db.transaction(request.pool) as conn:
            await queries.delete(conn, webhook_id)

    @post(
        "/{webhook_id:str}/rotate-secret",
        operation_id="rotate_webhook_secret",
        summary="Rotate a webhook's secret",
        description="A new secret, shown only in this answer. For 24 hours deliveries carry "
        "two signatures, one with each secret (space-separated in `webhook-signature`, as "
        "Standard Webhooks allows), so the receiver can switch over without losing one.",
        status_code=200,
        responses=responses(404),
        response_headers=[etag.NO_STORE_HEADER],
    )
    async def rotate_webhook_secret(
        self, request: Request, webhook_id: WebhookId
    ) -> Response[WebhookCreated]:
        async with db.transaction(request.pool) as conn:
            rotated = await queries.rotate_secret(conn, webhook_id)
        return Response(rotated, headers=etag.SECRET_HEADERS)

    @get(
        "/{webhook_id:str}/deliveries",
        operation_id="list_webhook_deliveries",
        summary="A webhook's delivery log",
        description="One delivery per event sent to this webhook, newest first, with its "
        "status, next attempt, and its attempts (status code, the start of the answer, or "
        "why there was none). Finished deliveries are kept "
        "`CLAIMDESK_WEBHOOK_LOG_RETENTION_DAYS` (30).",
        responses=responses(404, 422),
    )
    async def list_webhook_deliveries(
        self,
        request: Request,
        webhook_id: WebhookId,
        limit: Limit = 50,
        cursor: Cursor = None,
        status: Annotated[
            WebhookDeliveryStatus | None,
            QueryParameter(description="Only deliveries in this state."),
        ] = None,
    ) -> WebhookDeliveryPage:
        before = decode_cursor(cursor, "webhook-deliveries", UUID)[0] if cursor else None
        async with request.pool.acquire() as conn:
            rows = await queries.list_deliveries(conn, webhook_id, status, limit + 1, before)
        data, next_cursor = page(rows, limit, "webhook-deliveries", lambda d: (d.id,))
        return WebhookDeliveryPage(data=data, next_cursor=next_cursor)

    @get(
        "/{webhook_id:str}/deliveries/{delivery_id:str}",
        operation_id="get_webhook_delivery",
        summary="Get a delivery",
        description="Its state, body and attempts.",
        responses=responses(404),
    )
    async def get_webhook_delivery(
        self, request: Request, webhook_id: WebhookId, delivery_id: DeliveryId
    ) -> WebhookDelivery:
        async with request.pool.acquire() as conn:
            return await queries.get_delivery(conn, webhook_id, delivery_id)

    @post(
        "/{webhook_id:str}/deliveries/{delivery_id:str}/redeliver",
        operation_id="redeliver_webhook_delivery",
        summary="Send a delivery again",
        description="The delivery is due again at once, with the same `webhook-id` and body "
        "and a new 24-hour retry window, whatever its state. On a disabled webhook it waits "
        "until the webhook is enabled.",
        status_code=202,
        responses=responses(404),
    )
    async def redeliver_webhook_delivery(
        self, request: Request, webhook_id: WebhookId, delivery_id: DeliveryId
    ) -> WebhookDelivery:
        async with db.transaction(request.pool) as conn:
            return await queries.redeliver(conn, webhook_id, delivery_id)
