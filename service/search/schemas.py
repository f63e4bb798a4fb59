"""Search results: ranked hits across actors, claims and disputes."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from service.claims.schemas import Claim

HitType = Literal["actor", "claim", "dispute"]


class SearchHit(msgspec.Struct, kw_only=True):
    type: HitType
    id: UUID
    title: str
    snippet: str  # HTML: the text around the match, escaped, matches in <mark>
    score: float


class SearchPage(msgspec.Struct, kw_only=True):
    data: list[SearchHit]
    next_cursor: str | None
    incomplete_results: Annotated[
        bool,
        msgspec.Meta(
            description="More claims or disputes may match than were ranked: a search ranks "
            "at most 200 of each (for a common query, the newest claims that match), so "
            "paging on will not reach the rest. Narrow the query or add filters to see them. "
            "The same on every page of a search; `false` on an empty page."
        ),
    ]


class SearchFilters(msgspec.Struct, kw_only=True):
    types: frozenset[HitType]
    lang: str | None = None
    speaker_id: UUID | None = None
    target_id: UUID | None = None
    topic: str | None = None
    stated_from: date | None = None
    stated_to: date | None = None
    status: str | None = None


class SimilarClaim(msgspec.Struct, kw_only=True):
    score: float
    claim: Claim


class SimilarPage(msgspec.Struct, kw_only=True):
    data: list[SimilarClaim]
    next_cursor: str | None
