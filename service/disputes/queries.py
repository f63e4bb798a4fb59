"""Dispute SQL. Every function takes a connection; writes go through ``history.record``."""

from __future__ import annotations

from collections import Counter
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from service import etag, history, references
from service.claims.queries import document
from service.db import new_id, rfc3339
from service.disputes.schemas import (
    Contradiction,
    Dispute,
    DisputeCreate,
    DisputeFilters,
    DisputeUpdate,
    PositionInput,
)
from service.errors import Duplicate, FieldError, Invalid, Location, NotFound, invalid, repeats
from service.history import Who
from service.pagination import keyset_pages, page_size
from service.schemas import sent, unchanged

STANCES = ("affirms", "denies", "questions")

# The dispute as its sides: every member claim with its speaker, relayed-by, date, sources and
# reviews, grouped by stance, in one statement.
_SIDE = """COALESCE((
        SELECT json_agg(json_build_object('claim_id', dp.claim_id, 'stance', dp.stance,
                                          'added_at', {added_at}, 'claim', {claim})
                        ORDER BY c.stated_on NULLS LAST, c.id)
        FROM dispute_positions dp JOIN claims c ON c.id = dp.claim_id
        LEFT JOIN claim_documents cd ON cd.claim_id = c.id
        WHERE dp.dispute_id = d.id AND dp.stance = '{stance}'), '[]')"""
# Keys in the order of Dispute's fields and timestamps as msgspec writes them, as for a claim
# (see claims.queries.claim_json): GET sends this text compacted, without decoding it.
_ADDED_AT = rfc3339("dp.added_at")
_CLAIM = document("cd")  # the claim's stored document
_SIDES = ", ".join(
    f"'{s}', " + _SIDE.format(claim=_CLAIM, stance=s, added_at=_ADDED_AT) for s in STANCES
)
DISPUTE_JSON = f"""json_build_object(
    'id', d.id, 'version', d.version, 'created_at', {rfc3339("d.created_at")},
    'updated_at', {rfc3339("d.updated_at")},
    'title', d.title, 'question', d.question, 'status', d.status,
    'resolution', CASE WHEN d.status = 'resolved' THEN json_build_object(
        'verdict', d.resolution_verdict, 'note', d.resolution_note,
        'resolved_at', {rfc3339("d.resolved_at")}) END,
    'dismissal', CASE WHEN d.status = 'dismissed' THEN json_build_object(
        'note', d.dismissal_note, 'dismissed_at', {rfc3339("d.dismissed_at")}) END,
    'topics', d.topics,
    'sides', json_build_object({_SIDES}))"""

_decode = msgspec.json.Decoder(Dispute).decode
_decode_list = msgspec.json.Decoder(list[Dispute]).decode


# As UTF-8 bytes (bytea), which the service sends compacted without decoding them into a
# string to encode them again.
_GET = f"SELECT d.version, convert_to({DISPUTE_JSON}::text, 'UTF8') FROM disputes d WHERE d.id = $1"


async def get_json(conn: asyncpg.Connection, dispute_id: UUID) -> tuple[int, bytes]:
    """The dispute's version and its JSON as PostgreSQL wrote it (UTF-8)."""
    row = await conn.fetchrow(_GET, dispute_id)
    if row is None:
        raise NotFound("dispute", dispute_id)
    return row[0], row[1]


async def get(conn: asyncpg.Connection, dispute_id: UUID, *, lock: bool = False) -> Dispute:
    if lock:
        await conn.execute("SELECT 1 FROM disputes WHERE id = $1 FOR UPDATE", dispute_id)
    return _decode((await get_json(conn, dispute_id))[1])


# A dispute page's filters, in the order their parameters take (see ``claims._FILTERS``).
_FILTERS = {
    "status": "d.status = {0}",
    "actor_id": """d.id IN (
        SELECT dp.dispute_id FROM dispute_positions dp JOIN claims c ON c.id = dp.claim_id
        WHERE c.speaker_id = {0}
           OR c.id IN (SELECT claim_id FROM claim_targets WHERE actor_id = {0}))""",
    "claim_id": "d.id IN (SELECT dispute_id FROM dispute_positions WHERE claim_id = {0})",
    "topic": "d.topics @> ARRAY[{0}::text]",
    "updated_from": "d.updated_at >= {0}",
    "updated_to": "d.updated_at <= {0}",
    "before": "d.id < {0}",
}


# A dispute page's statement for a set of filters and a page size (``keyset_page_sql``).
list_sql = keyset_pages(
    _FILTERS,
    rows="disputes d",
    key="d.id",
    document=DISPUTE_JSON,
    join="JOIN disputes d ON d.id = p.id",
)


def list_query(f: DisputeFilters, limit: int, before: UUID | None) -> tuple[str, list[Any]]:
    """The statement and parameters of the page of ``limit`` disputes after ``before``."""
    given = {**msgspec.structs.asdict(f), "before": before}
    used = tuple(name for name in _FILTERS if given[name] is not None)
    return list_sql(used, page_size(limit)), [*(given[name] for name in used), limit]


async def list_disputes(
    conn: asyncpg.Connection, f: DisputeFilters, limit: int, before: UUID | None
) -> list[Dispute]:
    documents, _ = await list_disputes_json(conn, f, limit, before)
    return _decode_list(b"[" + documents + b"]")


async def list_disputes_json(
    conn: asyncpg.Connection, f: DisputeFilters, limit: int, before: UUID | None
) -> tuple[bytes, UUID | None]:
    """Up to ``limit`` disputes, newest first, as their JSON (as PostgreSQL wrote it,
    comma-separated), and the id the next page starts after, if there is one."""
    sql, args = list_query(f, limit, before)
    documents, last = await conn.fetchrow(sql, *args)
    return documents or b"", last


def _check_minimum(
    stances: list[str], field: str = "positions", location: Location = "body"
) -> None:
    """Nothing is disputed without two claims on two different sides."""
    if len(stances) < 2 or len(set(stances)) < 2:
        held = ", ".join(f"{n} {s}" for s, n in Counter(stances).items()) or "no claims"
        raise invalid(
            field,
            "A dispute needs at least two claims holding at least two "
            f"different stances; this would leave {held}.",
            location,
        )


async def _require_claims(
    conn: asyncpg.Connection,
    positions: list[PositionInput],
    field: str = "positions",
    others: list[FieldError] | None = None,
) -> None:
    """Each position's claim exists and is named once; ``others``: errors found already, told
    with these."""
    errors = [*(others or [])]
    errors += [
        FieldError(
            field=f"{field}[{i}].claim_id",
            message=f"Repeats {field}[{first}]: a claim stands in a dispute once.",
        )
        for i, p in enumerate(positions)
        if (first := next(j for j, q in enumerate(positions) if q.claim_id == p.claim_id)) != i
    ]
    errors += await references.missing(
        conn, "claims", [(f"{field}[{i}].claim_id", p.claim_id) for i, p in enumerate(positions)]
    )
    if errors:
        raise Invalid(errors)


async def _bump(conn: asyncpg.Connection, who: Who, dispute_id: UUID) -> Dispute:
    """Record a change to the dispute or its positions: version, revision, change event."""
    await conn.execute(
        "UPDATE disputes SET version = version + 1, updated_at = now() WHERE id = $1", dispute_id
    )
    dispute = await get(conn, dispute_id)
    await history.record(conn, who, "dispute", dispute_id, dispute.version, "update", dispute)
    return dispute


async def create(conn: asyncpg.Connection, who: Who, data: DisputeCreate) -> Dispute:
    await _require_claims(conn, data.positions, others=repeats("topics", data.topics, "same topic"))
    _check_minimum([p.stance for p in data.positions])
    dispute_id = new_id()
    await conn.execute(
        "INSERT INTO disputes (id, title, question, topics) VALUES ($1, $2, $3, $4)",
        dispute_id,
        data.title,
        data.question,
        data.topics,
    )
    await conn.executemany(
        "INSERT INTO dispute_positions (dispute_id, claim_id, stance) VALUES ($1, $2, $3)",
        [(dispute_id, p.claim_id, p.stance) for p in data.positions],
    )
    dispute = await get(conn, dispute_id)
    await history.record(conn, who, "dispute", dispute_id, dispute.version, "create", dispute)
    return dispute


def _stances(dispute: Dispute) -> dict[UUID, str]:
    return {p.claim_id: p.stance for s in STANCES for p in getattr(dispute.sides, s)}


async def update(
    conn: asyncpg.Connection,
    who: Who,
    dispute_id: UUID,
    data: DisputeUpdate,
    *,
    precondition: etag.Preconditions | None = None,
) -> Dispute:
    current = await get(conn, dispute_id, lock=True)
    etag.require(precondition, current)
    if unchanged(current, sent(data)):
        return current
    changes = sent(data)
    status = changes.get("status", current.status)
    moving = status != current.status
    errors = repeats("topics", changes["topics"], "same topic") if "topics" in changes else []
    if "resolution" in changes and status != "resolved":
        errors.append(FieldError(field="resolution", message="Only a resolved dispute has one."))
    if "dismissal" in changes and status != "dismissed":
        errors.append(FieldError(field="dismissal", message="Only a dismissed dispute has one."))
    if status == "resolved" and moving and "resolution" not in changes:
        errors.append(
            FieldError(
                field="resolution", message="Resolving needs a resolution: a verdict and a note."
            )
        )
    if status == "dismissed" and moving and "dismissal" not in changes:
        errors.append(FieldError(field="dismissal", message="Dismissing needs a note saying why."))
    if errors:
        raise Invalid(errors)
    if status != "dismissed" and moving:
        # opened or resolved: the minimum holds again (a dismissed dispute may have lost a
        # side; resolving it so would publish a verdict above one)
        _check_minimum(list(_stances(current).values()), "status")

    resolution = changes.get("resolution")
    dismissal = changes.get("dismissal")
    await conn.execute(
        """
        UPDATE disputes SET
            title = $2, question = $3, topics = $4, status = $5,
            resolution_verdict = CASE WHEN $5 = 'resolved'
                                      THEN COALESCE($6, resolution_verdict) END,
            resolution_note = CASE WHEN $5 = 'resolved' THEN COALESCE($7, resolution_note) END,
            -- when it was resolved, or its verdict last changed (a verdict changed kept the
            -- first one's day, which the card then showed beside the new verdict); a note
            -- mended keeps it
            resolved_at = CASE WHEN $5 = 'resolved'
                               THEN CASE WHEN status = 'resolved'
                                          AND resolution_verdict = COALESCE($6, resolution_verdict)
                                         THEN resolved_at ELSE now() END
                          END,
            dismissal_note = CASE WHEN $5 = 'dismissed' THEN COALESCE($8, dismissal_note) END,
            dismissed_at = CASE WHEN $5 = 'dismissed'
                                THEN CASE WHEN status = 'dismissed' THEN dismissed_at ELSE now() END
                           END
        WHERE id = $1
        """,
        dispute_id,
        changes.get("title", current.title),
        changes.get("question", current.question),
        changes.get("topics", current.topics),
        status,
        resolution.verdict if resolution else None,
        resolution.note if resolution else None,
        dismissal.note if dismissal else None,
    )
    return await _bump(conn, who, dispute_id)


async def add_position(
    conn: asyncpg.Connection,
    who: Who,
    dispute_id: UUID,
    data: PositionInput,
    *,
    precondition: etag.Preconditions | None = None,
) -> Dispute:
    current = await get(conn, dispute_id, lock=True)
    etag.require(precondition, current)
    if data.claim_id in _stances(current):
        raise Duplicate(
            "This claim stands in the dispute already; change its stance instead.", field="claim_id"
        )
    await references.require(conn, "claims", [("claim_id", data.claim_id)])
    await conn.execute(
        "INSERT INTO dispute_positions (dispute_id, claim_id, stance) VALUES ($1, $2, $3)",
        dispute_id,
        data.claim_id,
        data.stance,
    )
    return await _bump(conn, who, dispute_id)


async def _change_position(
    conn: asyncpg.Connection,
    who: Who,
    dispute_id: UUID,
    claim_id: UUID,
    stance: str | None,
    precondition: etag.Preconditions | None,
) -> Dispute:
    """Set the stance of ``claim_id`` (``None``: remove it), keeping an open or resolved
    dispute disputed (a resolved one's verdict weighs its sides: emptied, its card published
    a verdict above no claims, a walkthrough found); a dismissed one disputes nothing."""
    current = await get(conn, dispute_id, lock=True)
    etag.require(precondition, current)
    stances = _stances(current)
    if claim_id not in stances:
        raise NotFound("position of claim", claim_id)
    if stance == stances[claim_id]:
        return current  # sent again as it stands: nothing to write (see schemas.unchanged)
    if stance is None:
        del stances[claim_id]
    else:
        stances[claim_id] = stance
    if current.status != "dismissed":
        # a removal names the claim of its path; a change, the stance of its body
        if stance is None:
            _check_minimum(list(stances.values()), "claim_id", "path")
        else:
            _check_minimum(list(stances.values()), "stance")
    if stance is None:
        await conn.execute(
            "DELETE FROM dispute_positions WHERE dispute_id = $1 AND claim_id = $2",
            dispute_id,
            claim_id,
        )
    else:
        await conn.execute(
            "UPDATE dispute_positions SET stance = $3 WHERE dispute_id = $1 AND claim_id = $2",
            dispute_id,
            claim_id,
            stance,
        )
    return await _bump(conn, who, dispute_id)


async def set_stance(
    conn: asyncpg.Connection,
    who: Who,
    dispute_id: UUID,
    claim_id: UUID,
    stance: str,
    *,
    precondition: etag.Preconditions | None = None,
) -> Dispute:
    return await _change_position(conn, who, dispute_id, claim_id, stance, precondition)


async def remove_position(
    conn: asyncpg.Connection,
    who: Who,
    dispute_id: UUID,
    claim_id: UUID,
    *,
    precondition: etag.Preconditions | None = None,
) -> Dispute:
    return await _change_position(conn, who, dispute_id, claim_id, None, precondition)


async def delete(
    conn: asyncpg.Connection,
    who: Who,
    dispute_id: UUID,
    *,
    precondition: etag.Preconditions | None = None,
) -> None:
    dispute = await get(conn, dispute_id, lock=True)
    etag.require(precondition, dispute)
    await conn.execute("DELETE FROM disputes WHERE id = $1", dispute_id)
    await history.record(conn, who, "dispute", dispute_id, dispute.version + 1, "delete", dispute)


_CONTRADICTIONS = f"""
SELECT json_build_object(
    'dispute', json_build_object('id', d.id, 'title', d.title, 'status', d.status),
    'stance', theirs.stance, 'against', mine.stance, 'claim', {_CLAIM})::text,
    d.id AS dispute_id, c.id AS claim_id
FROM dispute_positions mine
JOIN dispute_positions theirs ON theirs.dispute_id = mine.dispute_id
                             AND theirs.claim_id <> mine.claim_id
                             AND theirs.stance <> mine.stance
JOIN disputes d ON d.id = mine.dispute_id
JOIN claims c ON c.id = theirs.claim_id
LEFT JOIN claim_documents cd ON cd.claim_id = c.id
WHERE mine.claim_id = $1
  AND ($2::uuid IS NULL OR (d.id, c.id) < ($2, $3::uuid))
ORDER BY d.id DESC, c.id DESC
LIMIT $4
"""
_decode_contradiction = msgspec.json.Decoder(Contradiction).decode


async def contradictions(
    conn: asyncpg.Connection, claim_id: UUID, limit: int, after: tuple[UUID, UUID] | None
) -> list[tuple[Contradiction, Any]]:
    """Claims on another side of any dispute ``claim_id`` stands in, with their sort key."""
    if not await conn.fetchval("SELECT true FROM claims WHERE id = $1", claim_id):
        raise NotFound("claim", claim_id)
    rows = await conn.fetch(_CONTRADICTIONS, claim_id, *(after or (None, None)), limit)
    return [(_decode_contradiction(r[0]), (r["dispute_id"], r["claim_id"])) for r in rows]
