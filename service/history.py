"""The single write path: every change to a tracked row records a revision and a change event.

A slice changes its row (``version = version + 1``), reads back its full representation, and
calls :func:`record` on the same connection, inside the same transaction; or, as claims do,
makes the change, builds the representation and records it in one statement, with the CTEs
of :func:`recording`. The revision keeps what the resource was at that version (for a delete:
what it was before); the change event is the ordered stream the change feed and webhooks read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

import asyncpg
import msgspec
from litestar.params import PathParameter

from service.errors import Missing, NotFound
from service.pagination import Int4, decode_cursor, page
from service.pool import Pool
from service.schemas import Timestamp

if TYPE_CHECKING:  # deps needs Who from here
    from service.deps import Request

# ``merge``: the last revision of an actor merged into another (see service/actors/merge.py).
Action = Literal["create", "update", "delete", "merge"]
Resource = Literal["actor", "source", "claim", "dispute", "review"]


class Who(msgspec.Struct, frozen=True, kw_only=True):
    """Who makes a change: the API key (its name and id) or a command, and the request."""

    changed_by: str
    key_id: UUID | None = None
    request_id: str | None = None


class Revision(msgspec.Struct, kw_only=True):
    """One version of a resource: who changed it, when, how, and what it was then."""

    version: int
    action: Action
    changed_by: Annotated[
        str, msgspec.Meta(description="The name of the API key (or the command) that made it.")
    ]
    key_id: Annotated[UUID | None, msgspec.Meta(description="The API key that made it.")]
    request_id: str | None
    changed_at: Timestamp
    data: Annotated[
        dict[str, Any],
        msgspec.Meta(
            description="The resource as `GET` returned it at this version (for a delete or "
            "a merge: what it was; a merge adds `merged_into_id`, the actor it went into)."
        ),
    ]


# A revision's version in its URL (``.../revisions/{version}``).
Version = Annotated[
    int, PathParameter(ge=1, le=2**31 - 1, description="The version, from 1 (the create).")
]


class RevisionPage(msgspec.Struct, kw_only=True):
    data: list[Revision]
    next_cursor: str | None


def recording(resource: str, action: str, changed: str, who: int) -> str:
    """CTEs that store the revision and the change event in the statement that makes the
    change: ``changed`` names a relation of one row with ``id``, ``version`` and ``data``
    (json or jsonb); ``resource`` and ``action`` are SQL expressions; ``$<who>``, ``$<who+1>``
    and ``$<who+2>`` are the :func:`who_params`."""
    by, key, request = f"${who}::text", f"${who + 1}::uuid", f"${who + 2}::text"
    return f"""revision AS (
    INSERT INTO revisions
        (resource, resource_id, version, action, changed_by, key_id, request_id, data)
    SELECT {resource}, id, version, {action}, {by}, {key}, {request}, data FROM {changed}
), change_event AS (
    INSERT INTO change_events (resource, resource_id, version, action, changed_by, key_id)
    SELECT {resource}, id, version, {action}, {by}, {key} FROM {changed}
)"""


def who_params(who: Who) -> tuple[str, UUID | None, str | None]:
    """The parameters :func:`recording` reads, in its order."""
    return (who.changed_by, who.key_id, who.request_id)


_RECORD = f"""
WITH changed AS (SELECT $2::uuid AS id, $3::int AS version, $8::jsonb AS data),
{recording("$1::text", "$4::text", "changed", 5)}
SELECT 1
"""


def _row(
    who: Who, resource: Resource, resource_id: UUID, version: int, action: Action, data: Any
) -> tuple[Any, ...]:
    """The parameters of ``_RECORD`` for one change."""
    return (resource, resource_id, version, action, *who_params(who), msgspec.to_builtins(data))


async def record(
    conn: asyncpg.Connection,
    who: Who,
    resource: Resource,
    resource_id: UUID,
    version: int,
    action: Action,
    data: Any,
) -> None:
    """Store the revision and the change event, in the caller's transaction (one round trip)."""
    assert conn.is_in_transaction(), "history.record must run inside the write's transaction"
    await conn.execute(_RECORD, *_row(who, resource, resource_id, version, action, data))


async def record_many(
    conn: asyncpg.Connection,
    who: Who,
    resource: Resource,
    changes: Iterable[tuple[UUID, int, Action, Any]],
) -> None:
    """:func:`record` for many rows of one resource changed by one write (``(id, version,
    action, data)`` each), pipelined: a merge moves every claim of an actor at once."""
    assert conn.is_in_transaction(), "history.record_many must run inside the write's transaction"
    await conn.executemany(
        _RECORD,
        [_row(who, resource, *change) for change in changes],
    )


async def revisions(
    conn: asyncpg.Connection,
    resource: Resource,
    resource_id: UUID,
    limit: int,
    before_version: int | None,
) -> list[Revision]:
    """Revisions newest first, ``limit`` of them, below ``before_version`` when given."""
    rows = await conn.fetch(
        """
        SELECT version, action, changed_by, key_id, request_id, changed_at, data
        FROM revisions
        WHERE resource = $1 AND resource_id = $2 AND ($3::int IS NULL OR version < $3)
        ORDER BY version DESC
        LIMIT $4
        """,
        resource,
        resource_id,
        before_version,
        limit,
    )
    return [Revision(**dict(row)) for row in rows]


# A version as its URL spells it: the one spelling of each (``01``, ``+1`` and ``1.0``, which
# the path's conversion would take as 1, are no version).
_VERSION = re.compile(r"[1-9][0-9]*")


async def revision_at(
    request: Request, resource: Resource, resource_id: UUID, version: int
) -> Revision:
    """``GET /v1/<collection>/{id}/revisions/{version}``: the resource as it was at
    ``version`` (for a delete or a merge, as it was before). A 404 names the versions there
    are, when the id has any."""
    if not _VERSION.fullmatch(request.path_params["version"]):
        raise Missing(f"No revision at {request.url.path}: a version is written 1, 2, 3...")
    async with request.pool.acquire() as conn:
        row = await conn.fetchrow(
            """
            SELECT version, action, changed_by, key_id, request_id, changed_at, data
            FROM revisions
            WHERE resource = $1 AND resource_id = $2 AND version = $3
            """,
            resource,
            resource_id,
            version,
        )
        if row is None:
            latest = await conn.fetchval(
                "SELECT max(version) FROM revisions WHERE resource = $1 AND resource_id = $2",
                resource,
                resource_id,
            )
    if row is not None:
        return Revision(**dict(row))
    if latest is None:
        raise NotFound(resource, resource_id)
    raise Missing(
        f"The {resource} '{resource_id}' has no version {version}: its versions are 1 to {latest}."
    )


async def revision_page(
    pool: Pool, resource: Resource, resource_id: UUID, limit: int, cursor: str | None
) -> RevisionPage:
    """``GET /v1/<collection>/{id}/revisions``: a 404 only if the id never existed."""
    kind = f"{resource}-revisions"
    before = decode_cursor(cursor, kind, Int4)[0] if cursor else None
    async with pool.acquire() as conn:
        rows = await revisions(conn, resource, resource_id, limit + 1, before)
    if not rows and before is None:
        raise NotFound(resource, resource_id)
    data, next_cursor = page(rows, limit, kind, lambda r: (r.version,))
    return RevisionPage(data=data, next_cursor=next_cursor)
