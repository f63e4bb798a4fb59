"""Source SQL. Every function takes a connection; writes go through ``history.record``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from service import etag, history, references
from service.db import OUT_OF_RANGE, new_id, representable, rfc3339
from service.errors import Duplicate, NotFound, invalid
from service.history import Who
from service.schemas import sent, unchanged
from service.sources.schemas import Source, SourceCreate, SourceFilters, SourceUpdate
from service.sources.urls import check_if_changed, checked_key, url_key
from service.text.lang import canonical_lang

SOURCE_JSON = f"""json_build_object(
    'id', s.id, 'kind', s.kind, 'title', s.title, 'url', s.url,
    'publisher_id', s.publisher_id,
    'publisher', (SELECT json_build_object('id', p.id, 'name', p.name, 'kind', p.kind)
                  FROM actors p WHERE p.id = s.publisher_id),
    'published_at', CASE s.published_at_precision
        WHEN 'day' THEN to_char(s.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')
        ELSE {rfc3339("s.published_at")} END,
    'published_at_offset', CASE WHEN s.published_at_precision = 'second' THEN
        CASE WHEN s.published_at_offset < 0 THEN '-' ELSE '+' END
        || to_char(abs(s.published_at_offset) / 60, 'FM00') || ':'
        || to_char(abs(s.published_at_offset) % 60, 'FM00') END,
    'lang', s.lang, 'archive_url', s.archive_url,
    'version', s.version, 'created_at', s.created_at, 'updated_at', s.updated_at)::text"""

_decode = msgspec.json.Decoder(Source).decode

# A source's own day: the date its readers saw, in the offset its `published_at` was given
# with (migration 0026); a date's own, and the UTC day of a source stored before the offset
# was kept.
SOURCE_DAY = """(s.published_at AT TIME ZONE 'UTC'
                 + make_interval(mins => coalesce(s.published_at_offset, 0)))::date"""


async def get(conn: asyncpg.Connection, source_id: UUID, *, lock: bool = False) -> Source:
    if lock:
        await conn.execute("SELECT 1 FROM sources WHERE id = $1 FOR UPDATE", source_id)
    row = await conn.fetchval(f"SELECT {SOURCE_JSON} FROM sources s WHERE s.id = $1", source_id)
    if row is None:
        raise NotFound("source", source_id)
    return _decode(row)


_LIST = f"""
SELECT {SOURCE_JSON}
FROM sources s
WHERE ($1::text IS NULL OR s.kind = $1)
  AND ($2::uuid IS NULL OR s.publisher_id = $2)
  AND ($3::text IS NULL OR s.lang = $3 OR s.lang LIKE $3 || '-%')
  AND ($4::text IS NULL OR s.url_key = $4)
  AND ($5::date IS NULL OR {SOURCE_DAY} >= $5)
  AND ($6::date IS NULL OR {SOURCE_DAY} <= $6)
  AND ($7::uuid IS NULL OR s.id < $7)
ORDER BY s.id DESC
LIMIT $8
"""


async def list_sources(
    conn: asyncpg.Connection, filters: SourceFilters, limit: int, before: UUID | None
) -> list[Source]:
    key = None
    if filters.url is not None:
        try:
            key = url_key(filters.url)
        except ValueError:
            raise invalid("url", "Not an absolute http(s) URL.", "query") from None
    lang = canonical_lang(filters.lang) if filters.lang else None
    rows = await conn.fetch(
        _LIST,
        filters.kind,
        filters.publisher_id,
        lang,
        key,
        filters.published_from,
        filters.published_to,
        before,
        limit,
    )
    return [_decode(r[0]) for r in rows]


# ``published_at`` as stored: the instant, its precision, the offset it was given with (minutes)
Published = tuple[datetime | None, str | None, int | None]


def _published(value: str | None) -> Published:
    """``published_at`` as (timestamptz, precision, offset in minutes): a date is midnight
    UTC, precision day, no offset."""
    if value is None:
        return None, None, None
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            return datetime(d.year, d.month, d.day, tzinfo=UTC), "day", None
        instant = datetime.fromisoformat(value.upper())  # RFC 3339 allows `t` and `z`
    except ValueError:
        raise invalid("published_at", f"'{value}' is not a real date or date-time.") from None
    if not representable(instant):  # 9999-12-31T23:59-05:00 is in the year 10000 in UTC
        raise invalid("published_at", OUT_OF_RANGE)
    offset = instant.utcoffset()
    # (the pattern requires an offset, in whole minutes, under a day either way)
    return instant, "second", int(offset.total_seconds()) // 60 if offset is not None else 0


async def _check(
    conn: asyncpg.Connection, source_id: UUID, key: str | None, publisher_id: UUID | None
) -> None:
    if key is not None:
        other = await conn.fetchval(
            "SELECT id FROM sources WHERE url_key = $1 AND id <> $2", key, source_id
        )
        if other is not None:
            raise Duplicate(
                f"Source {other} has this URL already (after normalisation).",
                field="url",
                existing_id=other,
            )
    await references.require(conn, "actors", [("publisher_id", publisher_id)])


_WRITE = """
INSERT INTO sources (id, kind, title, url, url_key, publisher_id, published_at,
                     published_at_precision, published_at_offset, lang, archive_url)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (id) DO UPDATE SET
    kind = EXCLUDED.kind, title = EXCLUDED.title, url = EXCLUDED.url,
    url_key = CASE WHEN $12 THEN sources.url_key ELSE EXCLUDED.url_key END,
    publisher_id = EXCLUDED.publisher_id,
    published_at = CASE WHEN $13 THEN sources.published_at ELSE EXCLUDED.published_at END,
    published_at_precision = CASE WHEN $13 THEN sources.published_at_precision
                                  ELSE EXCLUDED.published_at_precision END,
    published_at_offset = CASE WHEN $13 THEN sources.published_at_offset
                               ELSE EXCLUDED.published_at_offset END,
    lang = EXCLUDED.lang,
    archive_url = EXCLUDED.archive_url, version = sources.version + 1, updated_at = now()
"""


async def _write(
    conn: asyncpg.Connection,
    source_id: UUID,
    fields: dict[str, Any],
    published: Published | None,
    *,
    keep_key: bool = False,
) -> Source:
    """Insert or update. ``published``: ``fields["published_at"]`` as ``_published`` reads it,
    or None for an update that keeps the stored one, and with it the offset it was given with
    (``_same_moment``), which the API returns in UTC. ``keep_key``: an update that keeps the
    URL keeps its stored key, as it was made (migration 0019 left some keys in an older form,
    beside a source holding the new one: such a source stays editable), and is not checked
    again: one stored before a check that refuses it stays editable too (the key given then
    only keeps the table's check that a URL has one)."""
    key = fields["url"] if keep_key else checked_key(fields["url"], "url")
    published_at, precision, offset = published or (None, None, None)
    await _check(conn, source_id, None if keep_key else key, fields["publisher_id"])
    await conn.execute(
        _WRITE,
        source_id,
        fields["kind"],
        fields["title"],
        fields["url"].strip() if fields["url"] else None,
        key,
        fields["publisher_id"],
        published_at,
        precision,
        offset,
        canonical_lang(fields["lang"]) if fields["lang"] else None,
        fields["archive_url"],
        keep_key,
        published is None,
    )
    return await get(conn, source_id)


async def create(conn: asyncpg.Connection, who: Who, data: SourceCreate) -> Source:
    fields = msgspec.structs.asdict(data)
    checked_key(data.archive_url, "archive_url")
    source = await _write(conn, new_id(), fields, _published(fields["published_at"]))
    await history.record(conn, who, "source", source.id, source.version, "create", source)
    return source


async def update(
    conn: asyncpg.Connection,
    who: Who,
    source_id: UUID,
    data: SourceUpdate,
    *,
    precondition: etag.Preconditions | None = None,
) -> Source:
    current = await get(conn, source_id, lock=True)
    etag.require(precondition, current)
    changes = sent(data)
    check_if_changed(changes, current, "archive_url")
    published = _published(changes["published_at"]) if "published_at" in changes else None
    if published is not None and _same_moment(current, published):
        del changes["published_at"]  # the same instant and offset, written another way
        published = None
    if unchanged(current, changes):
        return current
    fields = {name: getattr(current, name) for name in SourceUpdate.__struct_fields__}
    fields.update(changes)
    source = await _write(conn, source_id, fields, published, keep_key=fields["url"] == current.url)
    await history.record(conn, who, "source", source_id, source.version, "update", source)
    return source


def _same_moment(current: Source, sent: Published) -> bool:
    """Whether ``sent`` (``published_at`` as ``_published`` reads it) says what the source's
    says: the same instant (or date) and, for an instant, the offset kept for it (as the
    source shows it, ``published_at_offset``), or UTC (``Z``, ``+00:00``, or ``.000``, as
    every date-time is returned: a client sending back what it read), which then keeps the
    offset. A client that sends the article's local time on every save writes nothing new."""
    instant, precision, offset = sent
    if instant is None or current.published_at is None:
        return instant is None and current.published_at is None
    if (instant, precision) != _published(current.published_at)[:2]:
        return False
    if offset in (None, 0):
        return True
    kept = current.published_at_offset  # "+03:00", as SOURCE_JSON writes it; None: not kept
    if kept is None:
        return False
    sign = -1 if kept[0] == "-" else 1
    return sign * (int(kept[1:3]) * 60 + int(kept[4:6])) == offset


HOLDERS: list[references.Holder] = [
    (
        "claims",
        "appearances[].source_id",
        "SELECT claim_id AS id FROM claim_appearances WHERE source_id = $1",
    ),
]


async def delete(
    conn: asyncpg.Connection,
    who: Who,
    source_id: UUID,
    *,
    precondition: etag.Preconditions | None = None,
) -> None:
    source = await get(conn, source_id, lock=True)
    etag.require(precondition, source)
    await references.refuse_if_held(conn, "source", source_id, HOLDERS)
    await conn.execute("DELETE FROM sources WHERE id = $1", source_id)
    await history.record(conn, who, "source", source_id, source.version + 1, "delete", source)
