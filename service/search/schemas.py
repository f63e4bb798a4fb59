"""Search results: ranked hits across actors, claims and disputes."""

from __future__ import annotations

from datetime import date
from typing import Literal
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
