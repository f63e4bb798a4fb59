"""Source bodies: where a claim appears."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from service.errors import in_words
from service.schemas import ActorKind, Input, LangTag, PublicUrl, Stamped
from service.text.visible import LINE_PATTERN

SourceKind = Literal[
    "article",
    "statement",
    "press_release",
    "social_post",
    "video",
    "broadcast",
    "interview",
    "document",
]
Title = Annotated[str, msgspec.Meta(min_length=1, pattern=LINE_PATTERN, max_length=1000)]
PublishedAt = Annotated[
    str,
    msgspec.Meta(
        pattern=in_words(
            r"^\d{4}-\d{2}-\d{2}([Tt]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d))?\Z",
            "Expected a date (2019-11-24) or an RFC 3339 date-time with its offset "
            "(2019-11-24T09:30:00+03:00, or Z for UTC)",
        ),
        description="A date (`2019-11-24`) or an RFC 3339 date-time with offset "
        "(`2019-11-24T09:30:00+03:00`; RFC 3339 lets `t` and `z` be lower case); read back "
        "as given, date-times in UTC (to the microsecond: a fraction of a second of up to "
        "nine digits is taken, the digits past six dropped). The offset is kept for the source's own day, the date "
        "its readers saw (the dispute card's, and `published_from` and `published_to`'s): "
        "sending the same instant back in UTC keeps it.",
        examples=["2019-11-24"],
    ),
]


class SourceCreate(Input, kw_only=True):
    kind: SourceKind
    title: Title
    url: PublicUrl | None = None
    publisher_id: UUID | None = None
    published_at: PublishedAt | None = None
    lang: LangTag | None = None
    archive_url: PublicUrl | None = None


class SourceUpdate(Input, kw_only=True):
    """Fields not sent stay as they are; `null` clears."""

    kind: SourceKind | UnsetType = UNSET
    title: Title | UnsetType = UNSET
    url: PublicUrl | UnsetType | None = UNSET
    publisher_id: UUID | UnsetType | None = UNSET
    published_at: PublishedAt | UnsetType | None = UNSET
    lang: LangTag | UnsetType | None = UNSET
    archive_url: PublicUrl | UnsetType | None = UNSET


class Publisher(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    kind: ActorKind


class Source(Stamped, kw_only=True):
    kind: SourceKind
    title: str
    url: str | None
    publisher_id: UUID | None
    publisher: Publisher | None
    published_at: str | None
    lang: str | None
    archive_url: str | None
    # last, with a default: revisions stored before it have none
    published_at_offset: Annotated[
        str | None,
        msgspec.Meta(
            description="The offset `published_at` was given with (`+03:00`), which sets the "
            "source's own day (the card's date, `published_from`/`published_to`); null for a "
            "date, or for a date-time stored before offsets were kept (migration 0026). "
            "Read-only: `published_at` sets it.",
            examples=["+03:00"],
        ),
    ] = None


class SourcePage(msgspec.Struct, kw_only=True):
    data: list[Source]
    next_cursor: str | None


class SourceFilters(msgspec.Struct, kw_only=True):
    kind: SourceKind | None = None
    publisher_id: UUID | None = None
    lang: str | None = None
    url: str | None = None
    published_from: date | None = None
    published_to: date | None = None
