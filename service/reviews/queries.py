"""Review SQL. Every function takes a connection; writes go through ``history.record``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from service import etag, history, references
from service.db import new_id
from service.errors import FieldError, Invalid, NotFound
from service.history import Who
from service.reviews.schemas import Rating, RatingInput, Review, ReviewCreate, ReviewUpdate
from service.schemas import sent, unchanged
from service.sources.urls import check_if_changed, checked_key
from service.text.lang import canonical_lang

# Review ``rv`` as a claim embeds it; REVIEW_JSON adds what only the review itself shows.
REVIEW_SUMMARY_FIELDS = """
    'id', rv.id,
    'reviewer', (SELECT json_build_object('id', ra.id, 'name', ra.name, 'kind', ra.kind)
                 FROM actors ra WHERE ra.id = rv.reviewer_id),
    'rating', json_build_object('label', rv.rating_label, 'value', rv.rating_value,
                                'best', rv.rating_best, 'worst', rv.rating_worst),
    'summary', rv.summary, 'url', rv.url, 'published_at', rv.published_at, 'lang', rv.lang"""
REVIEW_JSON = f"""json_build_object({REVIEW_SUMMARY_FIELDS},
    'claim_id', rv.claim_id, 'reviewer_id', rv.reviewer_id,
    'version', rv.version, 'created_at', rv.created_at, 'updated_at', rv.updated_at)"""

_decode = msgspec.json.Decoder(Review).decode


async def get(conn: asyncpg.Connection, review_id: UUID, *, lock: bool = False) -> Review:
    if lock:
        await conn.execute("SELECT 1 FROM reviews WHERE id = $1 FOR UPDATE", review_id)
    row = await conn.fetchval(
        f"SELECT {REVIEW_JSON}::text FROM reviews rv WHERE rv.id = $1", review_id
    )
    if row is None:
        raise NotFound("review", review_id)
    return _decode(row)


_LIST = f"""
SELECT {REVIEW_JSON}::text
FROM reviews rv
WHERE ($1::uuid IS NULL OR rv.claim_id = $1)
  AND ($2::uuid IS NULL OR rv.reviewer_id = $2)
  AND ($3::uuid IS NULL OR rv.id < $3)
ORDER BY rv.id DESC
LIMIT $4
"""


async def list_reviews(
    conn: asyncpg.Connection,
    claim_id: UUID | None,
    reviewer_id: UUID | None,
    limit: int,
    before: UUID | None,
) -> list[Review]:
    rows = await conn.fetch(_LIST, claim_id, reviewer_id, before, limit)
    return [_decode(r[0]) for r in rows]


def _check_rating(rating: Rating | RatingInput) -> None:
    errors = []
    if rating.worst >= rating.best:
        errors.append(FieldError(field="rating.best", message="best must be above worst."))
    elif not rating.worst <= rating.value <= rating.best:
        errors.append(
            FieldError(
                field="rating.value",
                message=(
                    f"value must lie between worst ({rating.worst}) and best ({rating.best})."
                ),
            )
        )
    if errors:
        raise Invalid(errors)


_WRITE = """
INSERT INTO reviews (id, claim_id, reviewer_id, rating_label, rating_value, rating_best,
                     rating_worst, summary, url, published_at, lang)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (id) DO UPDATE SET
    reviewer_id = EXCLUDED.reviewer_id, rating_label = EXCLUDED.rating_label,
    rating_value = EXCLUDED.rating_value, rating_best = EXCLUDED.rating_best,
    rating_worst = EXCLUDED.rating_worst, summary = EXCLUDED.summary, url = EXCLUDED.url,
    published_at = EXCLUDED.published_at, lang = EXCLUDED.lang,
    version = reviews.version + 1, updated_at = now()
"""


async def _write(conn: asyncpg.Connection, review_id: UUID, r: dict[str, Any]) -> Review:
    _check_rating(r["rating"])
    errors = await references.missing(conn, "claims", [("claim_id", r["claim_id"])])
    errors += await references.missing(conn, "actors", [("reviewer_id", r["reviewer_id"])])
    if errors:
        raise Invalid(errors)
    rating: Rating | RatingInput = r["rating"]
    await conn.execute(
        _WRITE,
        review_id,
        r["claim_id"],
        r["reviewer_id"],
        rating.label,
        rating.value,
        rating.best,
        rating.worst,
        r["summary"],
        r["url"],
        r["published_at"],
        canonical_lang(r["lang"]) if r["lang"] else None,
    )
    return await get(conn, review_id)


async def create(conn: asyncpg.Connection, who: Who, data: ReviewCreate) -> Review:
    checked_key(data.url, "url")
    review = await _write(conn, new_id(), msgspec.structs.asdict(data))
    await history.record(conn, who, "review", review.id, review.version, "create", review)
    return review


async def update(
    conn: asyncpg.Connection,
    who: Who,
    review_id: UUID,
    data: ReviewUpdate,
    *,
    precondition: etag.Preconditions | None = None,
) -> Review:
    current = await get(conn, review_id, lock=True)
    etag.require(precondition, current)
    changes = sent(data)
    if unchanged(current, changes):
        return current
    check_if_changed(changes, current, "url")
    r = {name: getattr(current, name) for name in (*ReviewUpdate.__struct_fields__, "claim_id")}
    r.update(changes)
    review = await _write(conn, review_id, r)
    await history.record(conn, who, "review", review_id, review.version, "update", review)
    return review


async def delete(
    conn: asyncpg.Connection,
    who: Who,
    review_id: UUID,
    *,
    precondition: etag.Preconditions | None = None,
) -> None:
    review = await get(conn, review_id, lock=True)
    etag.require(precondition, review)
    await conn.execute("DELETE FROM reviews WHERE id = $1", review_id)
    await history.record(conn, who, "review", review_id, review.version + 1, "delete", review)
