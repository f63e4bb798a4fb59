"""Reference checks shared by the slices: dangling ids (422) and what holds a row (409).

PostgreSQL's foreign keys are the backstop; these checks run first so the answer names the
exact field (``targets[2].actor_id``) and, for a refused delete, every kind of holder.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal
from uuid import UUID

import asyncpg

from service.errors import FieldError, HeldBy, InUse, Invalid, Location, Merged

Table = Literal["actors", "sources", "claims", "disputes"]
_NOUN = {"actors": "actor", "sources": "source", "claims": "claim", "disputes": "dispute"}


async def missing(
    conn: asyncpg.Connection, table: Table, refs: Iterable[tuple[str, UUID | None]]
) -> list[FieldError]:
    """An error for every field whose id is not a row of ``table``."""
    return await missing_in(conn, {table: refs})


async def missing_in(
    conn: asyncpg.Connection, refs: dict[Table, Iterable[tuple[str, UUID | None]]]
) -> list[FieldError]:
    """:func:`missing` for several tables at once, in one statement."""
    errors, _ = await _missing(conn, refs, location="body", lock=True)
    return errors


async def _missing(
    conn: asyncpg.Connection,
    refs: dict[Table, Iterable[tuple[str, UUID | None]]],
    *,
    location: Location,
    lock: bool,
) -> tuple[list[FieldError], dict[UUID, UUID]]:
    """The errors of ``missing_in``, and the actors among the missing merged into another
    (by id: the survivor's). ``lock``: the rows found are key-share locked, as a write that
    refers to them needs (a list only reads)."""
    wanted = {
        table: [(field, ref) for field, ref in fields if ref is not None]
        for table, fields in refs.items()
    }
    wanted = {table: fields for table, fields in wanted.items() if fields}
    if not wanted:
        return [], {}
    ids = {table: list({ref for _, ref in fields}) for table, fields in wanted.items()}
    # KEY SHARE: the referenced rows cannot be deleted before this transaction commits.
    sql = " UNION ALL ".join(
        f"SELECT {i} AS t, id FROM (SELECT id FROM {table} WHERE id = ANY(${i}::uuid[])"
        f"{' FOR KEY SHARE' if lock else ''}) AS found"
        for i, table in enumerate(ids, 1)
    )
    rows = await conn.fetch(sql, *ids.values())
    tables = list(ids)
    found = {(tables[r["t"] - 1], r["id"]) for r in rows}
    merged: dict[UUID, UUID] = {}
    lost_actors = [i for i in ids.get("actors", []) if ("actors", i) not in found]
    if lost_actors:
        # An actor merged into another: say which one to use instead.
        merges = await conn.fetch(
            "SELECT merged_id, into_id FROM actor_merges WHERE merged_id = ANY($1::uuid[])",
            lost_actors,
        )
        merged = {r["merged_id"]: r["into_id"] for r in merges}
    errors = [
        FieldError(
            field=field,
            message=f"Actor '{ref}' was merged into actor '{merged[ref]}'; use that one."
            if table == "actors" and ref in merged
            else f"No {_NOUN[table]} with id '{ref}'.",
            location=location,
        )
        for table, fields in wanted.items()
        for field, ref in fields
        if (table, ref) not in found
    ]
    return errors, merged


async def require(
    conn: asyncpg.Connection, table: Table, refs: Iterable[tuple[str, UUID | None]]
) -> None:
    """Raise 422 naming every field whose id is not a row of ``table``."""
    errors = await missing(conn, table, refs)
    if errors:
        raise Invalid(errors)


# (resource, field, SQL selecting the holder ids for $1 — at most 11 are fetched)
Holder = tuple[str, str, str]


async def refuse_if_held(
    conn: asyncpg.Connection, noun: str, resource_id: UUID, holders: list[Holder]
) -> None:
    """Raise 409 listing what still refers to ``resource_id`` (up to 10 ids of each kind)."""
    parts = [
        f"(SELECT '{resource}' AS resource, '{field}' AS field, count(DISTINCT id) AS count, "
        f"(array_agg(DISTINCT id))[1:10] AS ids FROM ({sql}) AS h)"
        for resource, field, sql in holders
    ]
    rows = await conn.fetch(" UNION ALL ".join(parts), resource_id)
    held = [
        HeldBy(resource=r["resource"], field=r["field"], count=r["count"], ids=r["ids"])
        for r in rows
        if r["count"]
    ]
    if held:
        what = ", ".join(
            f"{h.count} {h.resource.removesuffix('s') if h.count == 1 else h.resource} ({h.field})"
            for h in held
        )
        raise InUse(
            f"This {noun} is still referenced by {what}; remove those references first.", held
        )


Filters = dict[str, UUID | None]  # a list's id filters of one table, by parameter name


async def explain_empty(
    conn: asyncpg.Connection,
    actors: Filters,
    *,
    sources: Filters | None = None,
    claims: Filters | None = None,
    disputes: Filters | None = None,
) -> None:
    """For a list filtered by ids that came back empty: a 308 (:class:`Merged`) to the same
    list with the survivor's id when one of ``actors`` names an actor merged into another,
    as the merged actor's own URL answers; otherwise a 422 naming every parameter whose id
    is no row of its table (a mistyped id, or a deleted row's, was an empty page, as if
    nothing named it). A merged or missing row is named by nothing, so a list filtered by one
    is always empty: checked only then, it costs the other lists nothing; one statement
    when every id names a row (an empty page of real filters), a second for merges."""
    tables: dict[Table, Filters] = {
        "actors": actors,
        "sources": sources or {},
        "claims": claims or {},
        "disputes": disputes or {},
    }
    errors, merged = await _missing(
        conn, {table: ids.items() for table, ids in tables.items()}, location="query", lock=False
    )
    for actor_id in actors.values():
        if actor_id in merged:
            raise Merged(actor_id, merged[actor_id])
    if errors:
        raise Invalid(errors)
