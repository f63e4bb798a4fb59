"""The delivery side in SQL: fan change events out into deliveries, claim due deliveries,
record what an attempt gave, schedule the retry.

**Nothing is lost.** ``change_events`` is the transactional outbox: every write stores its
event in its own transaction (``service.history``). The fan-out reads the events in the change
feed's exactly-once order (``(txid, id)`` behind the horizon of finished transactions; see
``service.changes.queries``) from the position stored in ``webhook_fanout``, inserts one
delivery per matching enabled subscription, and moves the position, all in one transaction:
a crash before the commit redoes the batch, after it the deliveries exist. The pair
``(webhook_id, event_id)`` is unique, so an event reaches a subscription once.

**Sending** claims due deliveries with ``FOR UPDATE SKIP LOCKED`` and a lease (``lease_until``):
a claim commits at once (no transaction stays open while a receiver thinks: an open writing
transaction would hold the change feed back), and no other worker takes the delivery before
the lease ends. A worker that dies mid-attempt leaves the lease to expire; the next claim
logs that attempt as lost and sends it again. Each attempt's number is its token: a worker
whose lease ran out and was taken over records its attempt but no longer moves the delivery.
So a delivery is sent at least once, and every attempt carries the same ``webhook-id``.

Every time comes from the caller (``now``), so the schedule is tested with a fake clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from service.changes import queries as feed
from service.changes.schemas import ChangeEvent
from service.db import new_id
from service.pagination import encode_cursor
from service.webhooks.schemas import WebhookEvent, WebhookEventData

# pg_advisory_xact_lock key of the fan-out ("cdwebhok"): exclusive for a fan-out, shared for a
# change to the subscriptions that the fan-out reads.
FANOUT_LOCK = 0x6364776562686F6B
BATCH = 500
# The change feed's cursor kind (service.changes.routes.CURSOR_KIND): `feed_cursor` in a
# payload is a valid `after` for GET /v1/changes.
FEED_CURSOR_KIND = "changes"

# Seconds before retry n (the last repeats): full jitter draws each delay uniformly between 0
# and this (at least a second), so receivers that failed together do not retry together.
SCHEDULE: tuple[int, ...] = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800)
MIN_DELAY_SECONDS = 1.0
# Retries go on until an attempt fails this long after the round's first one.
RETRY_WINDOW = timedelta(hours=24)
RESPONSE_CHARS = 1000
LOST_ATTEMPT = "No answer recorded: the worker sending it stopped before it finished."


def message_id(delivery_id: UUID) -> str:
    """The ``webhook-id``: one per (subscription, event), the same on every attempt."""
    return f"msg_{delivery_id.hex}"


def backoff(round_attempt: int, draw: float) -> timedelta:
    """The delay after the ``round_attempt``-th failed attempt of a round; ``draw`` in [0, 1)."""
    base = SCHEDULE[min(round_attempt, len(SCHEDULE)) - 1]
    return timedelta(seconds=max(MIN_DELAY_SECONDS, base * draw))


def event_type(resource: str, action: str) -> str:
    return f"{resource}.{action}"


def matches(patterns: list[str], resource: str, action: str) -> bool:
    return bool({"*", f"{resource}.*", event_type(resource, action)} & set(patterns))


def payload(event: ChangeEvent, position: feed.Position) -> str:
    """The body: Standard Webhooks' ``{type, timestamp, data}``."""
    return msgspec.json.encode(
        WebhookEvent(
            type=event_type(event.type, event.action),
            timestamp=event.occurred_at.astimezone(UTC),
            data=WebhookEventData(
                event_id=event.id,
                resource=event.type,
                id=event.resource_id,
                action=event.action,
                version=event.version,
                occurred_at=event.occurred_at.astimezone(UTC),
                changed_by=event.changed_by,
                key_id=event.key_id,
                path=f"/v1/{event.type}s/{event.resource_id}",
                feed_cursor=encode_cursor(FEED_CURSOR_KIND, *position),
                merged_into_id=event.merged_into_id,  # a merge only (left out when None)
            ),
        )
    ).decode()


async def fan_out(conn: asyncpg.Connection, now: datetime, limit: int = BATCH) -> int | None:
    """One batch of events into deliveries, and the position moved past them, in one
    transaction. Returns the number of events passed (``limit``: more may wait), or None when
    another worker holds the fan-out (or a subscription is being changed)."""
    async with conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", FANOUT_LOCK):
            return None
        row = await conn.fetchrow("SELECT txid::text AS txid, event_id FROM webhook_fanout")
        position: feed.Position = (int(row["txid"]), row["event_id"])
        subscriptions = await conn.fetch(
            "SELECT id, event_types, start_txid::text AS start FROM webhooks WHERE enabled"
        )
        if subscriptions:
            found = await feed.read(conn, feed.TYPES, position, None, limit)
        else:
            # Nobody listens: skip to the horizon without reading the events.
            horizon, head = await conn.fetchrow(
                "SELECT pg_snapshot_xmin(s)::text, pg_snapshot_xmax(s)::text "
                "FROM pg_current_snapshot() AS s"
            )
            found = feed.Slice([], int(horizon), int(head))
        columns: tuple[list[Any], ...] = ([], [], [], [], [])
        for event, at in found.events:
            for sub in subscriptions:
                if at[0] >= int(sub["start"]) and matches(
                    sub["event_types"], event.type, event.action
                ):
                    for column, value in zip(
                        columns,
                        (
                            new_id(),
                            sub["id"],
                            event.id,
                            event_type(event.type, event.action),
                            payload(event, at),
                        ),
                        strict=True,
                    ):
                        column.append(value)
        if columns[0]:
            await conn.execute(
                """
                INSERT INTO webhook_deliveries
                    (id, webhook_id, event_id, event_type, payload, created_at, next_attempt_at)
                SELECT id, webhook_id, event_id, event_type, payload, $6, $6
                FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::text[])
                    AS t(id, webhook_id, event_id, event_type, payload)
                """,
                *columns,
                now,
            )
        if len(found.events) >= limit:
            new_position = found.events[-1][1]
        else:
            new_position = max(position, (found.horizon, 0))
        if new_position != position:
            await conn.execute(
                "UPDATE webhook_fanout SET txid = $1::text::xid8, event_id = $2",
                str(new_position[0]),
                new_position[1],
            )
        return len(found.events)


@dataclass(frozen=True)
class Claimed:
    """A delivery a worker holds the lease of, with what it needs to send it."""

    id: UUID
    webhook_id: UUID
    attempt: int
    round_attempt: int
    round_started_at: datetime
    event_id: int
    payload: str
    url: str
    secrets: tuple[str, ...]


_CLAIM = """
WITH due AS (
    SELECT d.id, d.lease_until IS NOT NULL AS lost
    FROM webhook_deliveries AS d
    JOIN webhooks AS w ON w.id = d.webhook_id
    WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND w.enabled
      AND (d.lease_until IS NULL OR d.lease_until <= $1)
    ORDER BY d.next_attempt_at, d.id
    LIMIT $2
    FOR UPDATE OF d SKIP LOCKED
), lost AS (
    INSERT INTO webhook_attempts (delivery_id, attempt, started_at, error)
    SELECT d.id, d.attempts, d.last_attempt_at, $4
    FROM webhook_deliveries AS d
    JOIN due USING (id)
    WHERE due.lost AND d.attempts > 0
    ON CONFLICT (delivery_id, attempt) DO NOTHING
)
UPDATE webhook_deliveries AS d
SET attempts = d.attempts + 1,
    round_attempts = d.round_attempts + 1,
    round_started_at = coalesce(d.round_started_at, $1),
    last_attempt_at = $1,
    lease_until = $1 + make_interval(secs => $3)
FROM due, webhooks AS w
WHERE d.id = due.id AND w.id = d.webhook_id
RETURNING d.id, d.webhook_id, d.attempts, d.round_attempts, d.round_started_at, d.event_id,
          d.payload, w.url, w.secret,
          CASE WHEN w.previous_secret_expires_at > $1 THEN w.previous_secret END
              AS previous_secret
"""


async def claim(
    conn: asyncpg.Connection, now: datetime, limit: int, lease_seconds: float
) -> list[Claimed]:
    """Due deliveries of enabled subscriptions, oldest due first, leased to the caller."""
    rows = await conn.fetch(_CLAIM, now, limit, lease_seconds, LOST_ATTEMPT)
    return [
        Claimed(
            id=r["id"],
            webhook_id=r["webhook_id"],
            attempt=r["attempts"],
            round_attempt=r["round_attempts"],
            round_started_at=r["round_started_at"],
            event_id=r["event_id"],
            payload=r["payload"],
            url=r["url"],
            secrets=tuple(s for s in (r["secret"], r["previous_secret"]) if s),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Outcome:
    """What one attempt gave: a status (and the start of the answer), or an error."""

    started_at: datetime
    duration_ms: int
    status_code: int | None = None
    response: str | None = None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _clean(text: str | None) -> str | None:
    # PostgreSQL text cannot hold NUL.
    return None if text is None else text[:RESPONSE_CHARS].replace("\x00", "\ufffd")


async def record(
    conn: asyncpg.Connection, delivery: Claimed, outcome: Outcome, now: datetime, draw: float
) -> str:
    """Log the attempt and move the delivery on: succeeded, retried later (``draw`` in [0, 1)
    picks the jittered delay), or failed (410 Gone, or a failure ``RETRY_WINDOW`` after the
    round's first attempt), disabling the subscription when it has had no success since.
    Returns the delivery's new status (``stale`` when another worker took it over)."""
    async with conn.transaction():
        await conn.execute(
            """
            INSERT INTO webhook_attempts
                (delivery_id, attempt, started_at, duration_ms, status_code, response, error)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (delivery_id, attempt) DO UPDATE SET
                started_at = EXCLUDED.started_at, duration_ms = EXCLUDED.duration_ms,
                status_code = EXCLUDED.status_code, response = EXCLUDED.response,
                error = EXCLUDED.error
            """,
            delivery.id,
            delivery.attempt,
            outcome.started_at,
            outcome.duration_ms,
            outcome.status_code,
            _clean(outcome.response),
            _clean(outcome.error),
        )
        gone = outcome.status_code == 410
        exhausted = now - delivery.round_started_at >= RETRY_WINDOW
        if outcome.succeeded:
            status, next_attempt_at = "succeeded", None
        elif gone or exhausted:
            status, next_attempt_at = "failed", None
        else:
            status = "pending"
            next_attempt_at = now + backoff(delivery.round_attempt, draw)
        moved = await conn.fetchval(
            """
            UPDATE webhook_deliveries
            SET status = $3, next_attempt_at = $4, lease_until = NULL, last_status_code = $5,
                finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE $6::timestamptz END
            WHERE id = $1 AND attempts = $2
            RETURNING true
            """,
            delivery.id,
            delivery.attempt,
            status,
            next_attempt_at,
            outcome.status_code,
            now,
        )
        if not moved:
            return "stale"
        if outcome.succeeded:
            await conn.execute(
                "UPDATE webhooks SET last_success_at = greatest(last_success_at, $2) WHERE id = $1",
                delivery.webhook_id,
                now,
            )
        elif status == "failed":
            last = (
                f"HTTP {outcome.status_code}"
                if outcome.status_code is not None
                else (outcome.error or "no answer")
            )
            if gone:
                reason = (
                    f"The receiver answered 410 Gone to delivery {delivery.id} "
                    f"(event {delivery.event_id}): it asks for no more deliveries."
                )
                since = None
            else:
                reason = (
                    f"Delivery {delivery.id} (event {delivery.event_id}) failed for 24 hours "
                    f"({delivery.round_attempt} attempts; the last: {last[:200]}) with no "
                    "successful delivery meanwhile."
                )
                since = delivery.round_started_at
            await conn.execute(
                """
                UPDATE webhooks
                SET enabled = false, disabled_reason = $2, disabled_at = $3, updated_at = $3
                WHERE id = $1 AND enabled
                  AND ($4::timestamptz IS NULL OR last_success_at IS NULL
                       OR last_success_at < $4)
                """,
                delivery.webhook_id,
                reason,
                now,
                since,
            )
        return status


async def clean_up(conn: asyncpg.Connection, now: datetime, retention: timedelta) -> int:
    """Finished deliveries past the retention, a few hundred at a time (their attempts go with
    them)."""
    deleted: str = await conn.execute(
        """
        DELETE FROM webhook_deliveries
        WHERE id IN (
            SELECT id FROM webhook_deliveries
            WHERE status <> 'pending' AND finished_at < $1
            ORDER BY finished_at
            LIMIT 500
        )
        """,
        now - retention,
    )
    return int(deleted.split()[-1])
