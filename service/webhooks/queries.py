"""Webhook subscriptions and their delivery logs in SQL, for the API.

Subscriptions are configuration, like API keys: they have no versions, revisions or change
events (a webhook about webhooks would help nobody). Whatever changes which subscriptions the
worker fans events out to (create, enable, delete) takes the fan-out lock in shared mode (see
``outbox``): a fan-out running meanwhile finishes first, and none starts until the change is
committed, so a new subscription gets exactly the events from its start on.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from service.db import new_id
from service.errors import Duplicate, NotFound
from service.schemas import sent
from service.webhooks import outbox, signing
from service.webhooks.schemas import (
    EVENT_TYPES,
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEvent,
    WebhookUpdate,
)

# How long a rotated-out secret still signs deliveries (alongside the new one).
ROTATION_GRACE = timedelta(hours=24)
ATTEMPTS_SHOWN = 20

_COLUMNS = """
    id, url, event_types, description, enabled, disabled_reason, disabled_at, last_success_at,
    CASE WHEN previous_secret_expires_at > now() THEN previous_secret_expires_at END
        AS previous_secret_expires_at,
    created_at, created_by, updated_at
"""


def _types(event_types: list[str]) -> list[str]:
    """Without repeats, in the documented order."""
    return [t for t in EVENT_TYPES if t in set(event_types)]


def _webhook(row: asyncpg.Record) -> Webhook:
    return Webhook(**dict(row))


async def _lock_fanout(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock_shared($1)", outbox.FANOUT_LOCK)


async def _check_twin(
    conn: asyncpg.Connection, url: str, event_types: list[str], webhook_id: UUID | None = None
) -> None:
    """A 409 when another subscription has this URL and these event types (in ``_types``'s
    order): every event would reach the receiver twice, under two webhook-ids, defeating its
    dedupe (a create retried without an Idempotency-Key made one). The same URL with other
    types is a receiver taking several subscriptions, as it may. Two writes of one URL wait
    for each other (a transaction lock on it), so neither misses the other."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext('claimdesk webhook url'), hashtext($1))", url
    )
    twin = await conn.fetchval(
        "SELECT id FROM webhooks WHERE url = $1 AND event_types = $2 AND id IS DISTINCT FROM $3",
        url,
        event_types,
        webhook_id,
    )
    if twin is not None:
        raise Duplicate(
            f"Webhook {twin} delivers these event types to this URL already (each event would "
            "arrive twice): change or enable that one.",
            field="url",
            existing_id=twin,
        )


async def create(conn: asyncpg.Connection, data: WebhookCreate, created_by: str) -> WebhookCreated:
    """The URL has been checked by the caller (it resolves names, which takes time that no
    transaction should be held open for)."""
    await _lock_fanout(conn)
    event_types = _types(list(data.event_types))
    await _check_twin(conn, data.url, event_types)
    secret = signing.new_secret()
    row = await conn.fetchrow(
        f"""
        INSERT INTO webhooks (id, url, event_types, description, secret, start_txid, created_by)
        VALUES ($1, $2, $3, $4, $5, pg_snapshot_xmin(pg_current_snapshot()), $6)
        RETURNING {_COLUMNS}
        """,
        new_id(),
        data.url,
        event_types,
        data.description,
        secret,
        created_by,
    )
    return WebhookCreated(**dict(row), secret=secret)


async def list_webhooks(conn: asyncpg.Connection, limit: int, before: UUID | None) -> list[Webhook]:
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM webhooks
        WHERE $1::uuid IS NULL OR id < $1
        ORDER BY id DESC
        LIMIT $2
        """,
        before,
        limit,
    )
    return [_webhook(r) for r in rows]


async def get(conn: asyncpg.Connection, webhook_id: UUID) -> Webhook:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM webhooks WHERE id = $1", webhook_id)
    if row is None:
        raise NotFound("webhook", webhook_id)
    return _webhook(row)


async def update(
    conn: asyncpg.Connection, webhook_id: UUID, data: WebhookUpdate, changed_by: str
) -> Webhook:
    """Only the fields sent change. Enabling starts delivering from now on (the fan-out lock
    held, as for a creation) and retries the pending deliveries at once, in a new window."""
    fields = sent(data)
    if "enabled" in fields:
        await _lock_fanout(conn)
    current = await conn.fetchrow(
        "SELECT url, event_types, description, enabled FROM webhooks WHERE id = $1 FOR UPDATE",
        webhook_id,
    )
    if current is None:
        raise NotFound("webhook", webhook_id)
    url = fields.get("url", current["url"])
    event_types = (
        _types(list(fields["event_types"])) if "event_types" in fields else current["event_types"]
    )
    if (url, event_types) != (current["url"], current["event_types"]):
        await _check_twin(conn, url, event_types, webhook_id)
    enable = fields.get("enabled") is True and not current["enabled"]
    disable = fields.get("enabled") is False and current["enabled"]
    row = await conn.fetchrow(
        f"""
        UPDATE webhooks SET
            url = $2,
            event_types = $3,
            description = $4,
            enabled = CASE WHEN $5 THEN true WHEN $6 THEN false ELSE enabled END,
            disabled_reason = CASE WHEN $5 THEN NULL WHEN $6 THEN $7 ELSE disabled_reason END,
            disabled_at = CASE WHEN $5 THEN NULL WHEN $6 THEN now() ELSE disabled_at END,
            start_txid = CASE WHEN $5 THEN pg_snapshot_xmin(pg_current_snapshot())
                              ELSE start_txid END,
            updated_at = now()
        WHERE id = $1
        RETURNING {_COLUMNS}
        """,
        webhook_id,
        url,
        event_types,
        fields.get("description", current["description"]),
        enable,
        disable,
        f"Disabled by {changed_by}.",
    )
    if enable:
        await conn.execute(
            """
            UPDATE webhook_deliveries
            SET next_attempt_at = now(), round_started_at = NULL, round_attempts = 0
            WHERE webhook_id = $1 AND status = 'pending'
            """,
            webhook_id,
        )
    return _webhook(row)


async def delete(conn: asyncpg.Connection, webhook_id: UUID) -> None:
    """The subscription and its delivery log."""
    await _lock_fanout(conn)
    deleted = await conn.fetchval("DELETE FROM webhooks WHERE id = $1 RETURNING id", webhook_id)
    if deleted is None:
        raise NotFound("webhook", webhook_id)


async def rotate_secret(conn: asyncpg.Connection, webhook_id: UUID) -> WebhookCreated:
    """A new secret; the old one keeps signing alongside it for ``ROTATION_GRACE``."""
    secret = signing.new_secret()
    row = await conn.fetchrow(
        f"""
        UPDATE webhooks
        SET previous_secret = secret,
            previous_secret_expires_at = now() + $3::interval,
            secret = $2,
            updated_at = now()
        WHERE id = $1
        RETURNING {_COLUMNS}
        """,
        webhook_id,
        secret,
        ROTATION_GRACE,
    )
    if row is None:
        raise NotFound("webhook", webhook_id)
    return WebhookCreated(**dict(row), secret=secret)


_DELIVERY = f"""
SELECT d.id, d.webhook_id, d.event_id, d.event_type, d.status, d.attempts AS attempt_count,
       d.next_attempt_at, d.last_attempt_at, d.last_status_code, d.created_at, d.finished_at,
       d.payload,
       coalesce((
           SELECT json_agg(a ORDER BY a.attempt DESC)
           FROM (
               SELECT attempt, started_at, duration_ms, status_code, response, error
               FROM webhook_attempts
               WHERE delivery_id = d.id
               ORDER BY attempt DESC
               LIMIT {ATTEMPTS_SHOWN}
           ) AS a
       ), '[]'::json) AS attempts
FROM webhook_deliveries AS d
"""


def _delivery(row: asyncpg.Record) -> WebhookDelivery:
    values: dict[str, Any] = dict(row)
    values["message_id"] = outbox.message_id(row["id"])
    # the text sent, decoded here so that its keys keep the order they were signed in
    # (through jsonb they came back reordered, and re-encoded it was not the body sent): the
    # struct's fields are in that order, and it wrote the text (``outbox.payload``)
    values["payload"] = msgspec.json.decode(row["payload"], type=WebhookEvent)
    return msgspec.convert(values, WebhookDelivery)  # the attempts' times arrive as JSON text


async def list_deliveries(
    conn: asyncpg.Connection,
    webhook_id: UUID,
    status: WebhookDeliveryStatus | None,
    limit: int,
    before: UUID | None,
) -> list[WebhookDelivery]:
    """Newest first; a 404 when the webhook does not exist."""
    if not await conn.fetchval("SELECT true FROM webhooks WHERE id = $1", webhook_id):
        raise NotFound("webhook", webhook_id)
    rows = await conn.fetch(
        _DELIVERY
        + """
        WHERE d.webhook_id = $1 AND ($2::uuid IS NULL OR d.id < $2)
          AND ($3::text IS NULL OR d.status = $3)
        ORDER BY d.id DESC
        LIMIT $4
        """,
        webhook_id,
        before,
        status,
        limit,
    )
    return [_delivery(r) for r in rows]


async def get_delivery(
    conn: asyncpg.Connection, webhook_id: UUID, delivery_id: UUID
) -> WebhookDelivery:
    row = await conn.fetchrow(
        _DELIVERY + "WHERE d.id = $1 AND d.webhook_id = $2", delivery_id, webhook_id
    )
    if row is None:
        if not await conn.fetchval("SELECT true FROM webhooks WHERE id = $1", webhook_id):
            raise NotFound("webhook", webhook_id)
        raise NotFound("delivery", delivery_id)
    return _delivery(row)


async def redeliver(
    conn: asyncpg.Connection, webhook_id: UUID, delivery_id: UUID
) -> WebhookDelivery:
    """Pending again, due now, with a new retry window; same message id and body."""
    updated = await conn.fetchval(
        """
        UPDATE webhook_deliveries
        SET status = 'pending', next_attempt_at = now(), round_started_at = NULL,
            round_attempts = 0, finished_at = NULL
        WHERE id = $1 AND webhook_id = $2
        RETURNING id
        """,
        delivery_id,
        webhook_id,
    )
    if updated is None:
        await get_delivery(conn, webhook_id, delivery_id)  # the right 404
    return await get_delivery(conn, webhook_id, delivery_id)
