"""Actor SQL. Every function takes a connection; writes go through ``history.record``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from service import etag, history, references
from service.actors.schemas import Actor, ActorCreate, ActorFilters, ActorUpdate, MembershipInput
from service.db import new_id
from service.errors import Duplicate, FieldError, Invalid, NotFound
from service.history import Who
from service.schemas import sent
from service.text.lang import canonical_lang
from service.text.normalize import normalize

# The full representation of actor ``a``, built in PostgreSQL: one query, whatever the page size.
ACTOR_JSON = """json_build_object(
    'id', a.id, 'kind', a.kind, 'name', a.name,
    'names', COALESCE((
        SELECT json_agg(json_build_object('value', n.value, 'lang', n.lang, 'kind', n.kind)
                        ORDER BY n.position)
        FROM actor_names n WHERE n.actor_id = a.id), '[]'),
    'description', a.description, 'country', a.country, 'wikidata_id', a.wikidata_id,
    'memberships', COALESCE((
        SELECT json_agg(json_build_object(
                   'organization_id', m.organization_id, 'organization_name', o.name,
                   'role', m.role, 'start_date', m.start_date, 'end_date', m.end_date)
               ORDER BY m.position)
        FROM actor_memberships m JOIN actors o ON o.id = m.organization_id
        WHERE m.actor_id = a.id), '[]'),
    'version', a.version, 'created_at', a.created_at, 'updated_at', a.updated_at)::text"""

_decode = msgspec.json.Decoder(Actor).decode


async def get(conn: asyncpg.Connection, actor_id: UUID, *, lock: bool = False) -> Actor:
    sql = f"SELECT {ACTOR_JSON} FROM actors a WHERE a.id = $1"
    if lock:
        await conn.execute("SELECT 1 FROM actors WHERE id = $1 FOR UPDATE", actor_id)
    row = await conn.fetchval(sql, actor_id)
    if row is None:
        raise NotFound("actor", actor_id)
    return _decode(row)


# Actor names score 1 for an exact match of any name, 0.9 for a prefix, and below 0.8 by
# trigram word similarity: an alias typed exactly ranks above a near miss. ``{q}`` is the
# normalised query's parameter, ``{prefix}`` its LIKE pattern's (see ``like_prefix``).
ACTOR_MATCHES_TEMPLATE = """
    SELECT x.actor_id,
           max(CASE WHEN x.norm = {q} THEN 1.0
                    WHEN x.norm LIKE {prefix} ESCAPE '\\' THEN 0.9
                    ELSE 0.8 * word_similarity({q}, x.norm) END)::float8 AS score,
           array_agg(DISTINCT x.value) AS names
    FROM (SELECT a.id AS actor_id, a.name_norm AS norm, a.name AS value FROM actors a
          UNION ALL
          SELECT n.actor_id, n.value_norm, n.value FROM actor_names n) AS x
    WHERE x.norm = {q} OR x.norm LIKE {prefix} ESCAPE '\\' OR {q} <% x.norm
    GROUP BY x.actor_id"""
ACTOR_MATCHES = ACTOR_MATCHES_TEMPLATE.format(q="$1", prefix="$2")


def like_prefix(normalised: str) -> str:
    """A LIKE pattern for what starts with ``normalised`` (its own % and _ taken literally)."""
    escaped = normalised.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


# Filters are a fixed set of clauses; each reads its parameter and is a no-op when it is NULL.
_LIST = f"""
SELECT {ACTOR_JSON}
FROM actors a
WHERE ($1::text IS NULL OR a.kind = $1)
  AND ($2::text IS NULL OR a.country = $2)
  AND ($3::text IS NULL OR a.wikidata_id = $3)
  AND ($4::uuid IS NULL OR a.id IN (
        SELECT actor_id FROM actor_memberships WHERE organization_id = $4))
  AND ($5::text IS NULL OR a.id IN (SELECT actor_id FROM ({ACTOR_MATCHES_TEMPLATE.format(q="$5", prefix="$8")}) AS m))
  AND ($6::uuid IS NULL OR a.id < $6)
ORDER BY a.id DESC
LIMIT $7
"""


async def list_actors(
    conn: asyncpg.Connection, filters: ActorFilters, limit: int, before: UUID | None
) -> list[Actor]:
    q = normalize(filters.q) if filters.q else None
    rows = await conn.fetch(
        _LIST,
        filters.kind,
        filters.country,
        filters.wikidata_id,
        filters.member_of,
        q,
        before,
        limit,
        like_prefix(q) if q else None,
    )
    return [_decode(r[0]) for r in rows]


_TYPEAHEAD = f"""
SELECT {ACTOR_JSON}, m.score
FROM ({ACTOR_MATCHES}) AS m JOIN actors a ON a.id = m.actor_id
WHERE ($3::text IS NULL OR a.kind = $3)
  AND ($4::float8 IS NULL OR (m.score, a.id) < ($4, $5::uuid))
ORDER BY m.score DESC, a.id DESC
LIMIT $6
"""


async def typeahead(
    conn: asyncpg.Connection,
    name: str,
    kind: str | None,
    limit: int,
    after: tuple[float, UUID] | None,
) -> list[tuple[Actor, float]]:
    """Actors any of whose names is ``name``, starts with it, or nearly matches it: best first."""
    q = normalize(name)
    score, last = after or (None, None)
    rows = await conn.fetch(_TYPEAHEAD, q, like_prefix(q), kind, score, last, limit)
    return [(_decode(r[0]), r["score"]) for r in rows]


def _check_names(names: list[Any]) -> None:
    seen: dict[tuple[str, str], int] = {}
    errors = []
    for i, name in enumerate(names):
        key = (name.value, canonical_lang(name.lang))
        if key in seen:
            errors.append(
                FieldError(
                    field=f"names[{i}]",
                    message=f"Repeats names[{seen[key]}] (same value and lang).",
                )
            )
        seen.setdefault(key, i)
    if errors:
        raise Invalid(errors)


async def _check_memberships(
    conn: asyncpg.Connection, actor_id: UUID, memberships: list[MembershipInput]
) -> None:
    errors = []
    for i, m in enumerate(memberships):
        if m.organization_id == actor_id:
            errors.append(
                FieldError(
                    field=f"memberships[{i}].organization_id",
                    message="An actor cannot be a member of itself.",
                )
            )
        if m.start_date and m.end_date and m.end_date < m.start_date:
            errors.append(
                FieldError(
                    field=f"memberships[{i}].end_date", message="end_date is before start_date."
                )
            )
    if errors:
        raise Invalid(errors)
    await references.require(
        conn,
        "actors",
        [
            (f"memberships[{i}].organization_id", m.organization_id)
            for i, m in enumerate(memberships)
        ],
    )


async def _check_wikidata(
    conn: asyncpg.Connection, wikidata_id: str | None, actor_id: UUID
) -> None:
    if wikidata_id is None:
        return
    other = await conn.fetchval(
        "SELECT id FROM actors WHERE wikidata_id = $1 AND id <> $2", wikidata_id, actor_id
    )
    if other is not None:
        raise Duplicate(
            f"Actor {other} has wikidata_id {wikidata_id} already.",
            field="wikidata_id",
            existing_id=other,
        )


async def _write_children(
    conn: asyncpg.Connection, actor_id: UUID, changes: dict[str, Any], replace: bool
) -> None:
    if "names" in changes:
        if replace:
            await conn.execute("DELETE FROM actor_names WHERE actor_id = $1", actor_id)
        names = changes["names"]
        if names:
            await conn.executemany(
                "INSERT INTO actor_names (actor_id, position, value, lang, kind) "
                "VALUES ($1, $2, $3, $4, $5)",
                [
                    (actor_id, i, n.value, canonical_lang(n.lang), n.kind)
                    for i, n in enumerate(names)
                ],
            )
    if "memberships" in changes:
        if replace:
            await conn.execute("DELETE FROM actor_memberships WHERE actor_id = $1", actor_id)
        memberships = changes["memberships"]
        if memberships:
            await conn.executemany(
                "INSERT INTO actor_memberships (actor_id, position, organization_id, role, "
                "start_date, end_date) VALUES ($1, $2, $3, $4, $5, $6)",
                [
                    (actor_id, i, m.organization_id, m.role, m.start_date, m.end_date)
                    for i, m in enumerate(memberships)
                ],
            )


async def create(conn: asyncpg.Connection, who: Who, data: ActorCreate) -> Actor:
    actor_id = new_id()
    _check_names(data.names)
    await _check_memberships(conn, actor_id, data.memberships)
    await _check_wikidata(conn, data.wikidata_id, actor_id)
    await conn.execute(
        "INSERT INTO actors (id, kind, name, description, country, wikidata_id) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        actor_id,
        data.kind,
        data.name,
        data.description,
        data.country,
        data.wikidata_id,
    )
    await _write_children(
        conn, actor_id, {"names": data.names, "memberships": data.memberships}, replace=False
    )
    actor = await get(conn, actor_id)
    await history.record(conn, who, "actor", actor_id, actor.version, "create", actor)
    return actor


async def update(
    conn: asyncpg.Connection,
    who: Who,
    actor_id: UUID,
    data: ActorUpdate,
    *,
    precondition: etag.Condition | None = None,
) -> Actor:
    current = await get(conn, actor_id, lock=True)
    etag.require(precondition, current)
    changes = sent(data)
    if "names" in changes:
        _check_names(changes["names"])
    if "memberships" in changes:
        await _check_memberships(conn, actor_id, changes["memberships"])
    if "wikidata_id" in changes:
        await _check_wikidata(conn, changes["wikidata_id"], actor_id)
    merged = msgspec.structs.replace(
        current, **{k: v for k, v in changes.items() if k not in ("names", "memberships")}
    )
    await conn.execute(
        "UPDATE actors SET kind = $2, name = $3, description = $4, country = $5, "
        "wikidata_id = $6, version = version + 1, updated_at = now() WHERE id = $1",
        actor_id,
        merged.kind,
        merged.name,
        merged.description,
        merged.country,
        merged.wikidata_id,
    )
    await _write_children(conn, actor_id, changes, replace=True)
    actor = await get(conn, actor_id)
    await history.record(conn, who, "actor", actor_id, actor.version, "update", actor)
    return actor


# Everything that may refer to an actor; deleting one that is referenced is refused.
HOLDERS: list[references.Holder] = [
    ("claims", "speaker_id", "SELECT id FROM claims WHERE speaker_id = $1"),
    ("claims", "relayed_by_id", "SELECT id FROM claims WHERE relayed_by_id = $1"),
    (
        "claims",
        "targets[].actor_id",
        "SELECT claim_id AS id FROM claim_targets WHERE actor_id = $1",
    ),
    ("sources", "publisher_id", "SELECT id FROM sources WHERE publisher_id = $1"),
    ("reviews", "reviewer_id", "SELECT id FROM reviews WHERE reviewer_id = $1"),
    (
        "actors",
        "memberships[].organization_id",
        "SELECT actor_id AS id FROM actor_memberships WHERE organization_id = $1",
    ),
]


async def delete(
    conn: asyncpg.Connection,
    who: Who,
    actor_id: UUID,
    *,
    precondition: etag.Condition | None = None,
) -> None:
    actor = await get(conn, actor_id, lock=True)
    etag.require(precondition, actor)
    await references.refuse_if_held(conn, "actor", actor_id, HOLDERS)
    await conn.execute("DELETE FROM actors WHERE id = $1", actor_id)
    await history.record(conn, who, "actor", actor_id, actor.version + 1, "delete", actor)
