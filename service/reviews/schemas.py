"""Review bodies: a fact-check verdict on a claim, after schema.org ClaimReview."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from service.schemas import ActorRef, Input, LangTag, PublicUrl, Stamped
from service.text.visible import LINE_PATTERN, TEXT_PATTERN

RatingNumber = Annotated[int, msgspec.Meta(ge=-1000, le=1000)]
# text a reader reads, as a dispute's notes are (an empty one is `null`, not "")
Summary = Annotated[str, msgspec.Meta(min_length=1, pattern=TEXT_PATTERN, max_length=5000)]


class RatingInput(Input, kw_only=True):
    """``worst <= value <= best`` and ``worst < best``: "Disputed", 2 on a scale of 1 to 5."""

    label: Annotated[
        str, msgspec.Meta(min_length=1, pattern=LINE_PATTERN, max_length=100, examples=["Disputed"])
    ]
    value: RatingNumber
    best: RatingNumber
    worst: RatingNumber


class Rating(msgspec.Struct, kw_only=True):
    """A rating as stored, read back without checking its label again: a label an older,
    looser rule let in (a line break) stays readable, and so do the claim and the disputes
    that embed its review."""

    label: str
    value: int
    best: int
    worst: int


class ReviewCreate(Input, kw_only=True):
    claim_id: UUID
    reviewer_id: Annotated[UUID, msgspec.Meta(description="The fact-checking actor.")]
    rating: RatingInput
    summary: Summary | None = None
    url: PublicUrl | None = None
    published_at: date | None = None
    lang: LangTag | None = None


class ReviewUpdate(Input, kw_only=True):
    """Fields not sent stay as they are; `null` clears; `rating` is replaced whole."""

    reviewer_id: UUID | UnsetType = UNSET
    rating: RatingInput | UnsetType = UNSET
    summary: Summary | UnsetType | None = UNSET
    url: PublicUrl | UnsetType | None = UNSET
    published_at: date | UnsetType | None = UNSET
    lang: LangTag | UnsetType | None = UNSET


class ReviewSummary(msgspec.Struct, kw_only=True):
    """A review as a claim embeds it."""

    id: UUID
    reviewer: ActorRef
    rating: Rating
    summary: str | None
    url: str | None
    published_at: date | None
    lang: str | None


class Review(Stamped, kw_only=True):
    claim_id: UUID
    reviewer_id: UUID
    reviewer: ActorRef
    rating: Rating
    summary: str | None
    url: str | None
    published_at: date | None
    lang: str | None


class ReviewPage(msgspec.Struct, kw_only=True):
    data: list[Review]
    next_cursor: str | None
