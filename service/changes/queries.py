"""Change events of finished transactions, in (txid, id) order, after a position.

Why not ``id > last id``: ids come from a sequence when a transaction inserts its event, and
transactions commit in any order; a transaction holding id 7 may commit after the one holding
id 8 was read, and a reader already past 8 would never see 7. Instead the feed reads only
events of transactions that are certainly over: ``txid < pg_snapshot_xmin(...)``, the oldest
transaction id still running anywhere on the server. Every transaction below that horizon has
committed or rolled back, and every transaction that has not started yet will get a higher id,
so nothing can ever appear behind a position the feed has passed. The horizon and the rows
come from the same statement, hence the same snapshot: what is below it is all visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, get_args
from uuid import UUID

import asyncpg

from service.changes.schemas import ChangeEvent
from service.history import Resource

# Every resource type the write path records (history.Resource): the feed's `types`.
TYPES: tuple[str, ...] = get_args(Resource)
Position = tuple[int, int]  # (txid, id): the feed's order; a cursor is the last one passed

# One ordered range scan of change_events__feed_idx (resource, txid, id) per requested type,
# each reading at most $4 rows, merged in (txid, id) order: a page costs the same at the head
# of the feed and a million events behind it. With no event, the horizon still comes back.
_FEED = """
SELECT h.horizon::text AS horizon, h.head::text AS head, e.*
FROM (SELECT pg_snapshot_xmin(s) AS horizon, pg_snapshot_xmax(s) AS head
      FROM pg_current_snapshot() AS s) AS h
LEFT JOIN LATERAL (
    SELECT c.*
    FROM unnest($1::text[]) AS t(resource)
    CROSS JOIN LATERAL (
        SELECT id, resource, resource_id, action, version, occurred_at, changed_by, key_id,
               txid, txid::text AS txid_text,
               -- where a merged actor went, as its merge's revision keeps it
               (SELECT (r.data ->> 'merged_into_id')::uuid FROM revisions r
                WHERE change_events.action = 'merge' AND r.resource = 'actor'
                  AND r.resource_id = change_events.resource_id
                  AND r.version = change_events.version) AS merged_into_id
        FROM change_events
        WHERE resource = t.resource
          AND txid < h.horizon
          AND (txid, id) > ($2::text::xid8, $3::bigint)
          {resource_id}
        ORDER BY txid, id
        LIMIT $4
    ) AS c
    ORDER BY c.txid, c.id
    LIMIT $4
) AS e ON true
ORDER BY e.txid, e.id
"""
# A fixed clause, not a value: with it, change_events__resource_idx finds the few events of
# one resource (a generic plan of "$5 IS NULL OR ..." could not use it).
FEED = _FEED.format(resource_id="")
FEED_OF_ONE = _FEED.format(resource_id="AND resource_id = $5")


class Slice(NamedTuple):
    """Events after a position, up to ``limit`` of them, and the horizon they were read at:
    every event not among them that will ever exist is after ``(horizon, 0)``. ``head``: the
    next transaction id the server will hand out; no position this feed gives is past it."""

    events: list[tuple[ChangeEvent, Position]]
    horizon: int
    head: int


async def read(
    conn: asyncpg.Connection,
    types: Sequence[str],
    after: Position,
    resource_id: UUID | None,
    limit: int,
) -> Slice:
    args = [list(types), str(after[0]), after[1], limit]
    if resource_id is None:
        rows = await conn.fetch(FEED, *args)
    else:
        rows = await conn.fetch(FEED_OF_ONE, *args, resource_id)
    horizon = int(rows[0]["horizon"])
    events = [
        (
            ChangeEvent(
                id=r["id"],
                type=r["resource"],
                resource_id=r["resource_id"],
                action=r["action"],
                version=r["version"],
                occurred_at=r["occurred_at"],
                changed_by=r["changed_by"],
                key_id=r["key_id"],
                merged_into_id=r["merged_into_id"],
            ),
            (int(r["txid_text"]), r["id"]),
        )
        for r in rows
        if r["id"] is not None
    ]
    return Slice(events, horizon, int(rows[0]["head"]))
