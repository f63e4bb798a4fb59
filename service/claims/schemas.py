"""Claim bodies: one statement by one speaker, with its provenance."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from service.reviews.schemas import ReviewSummary
from service.schemas import ActorRef, Input, LangTag, Stamped, Topic
from service.sources.schemas import SourceKind
from service.text.visible import TEXT_PATTERN

ClaimKind = Literal[
    "assertion", "denial", "accusation", "doubt", "demand", "prediction", "promise", "other"
]
Precision = Literal["day", "month", "year"]
TargetRole = Literal["accused", "criticized", "addressed", "supported", "mentioned"]
Stance = Literal["affirms", "denies", "questions"]
DisputeStatus = Literal["open", "resolved", "dismissed"]

MAX_TEXT = 20_000
ClaimText = Annotated[str, msgspec.Meta(min_length=1, pattern=TEXT_PATTERN, max_length=MAX_TEXT)]
Note = Annotated[str, msgspec.Meta(max_length=2000)]


class TranslationInput(Input, kw_only=True):
    lang: LangTag
    text: ClaimText


class AppearanceInput(Input, kw_only=True):
    source_id: UUID
    note: Note | None = None


class TargetInput(Input, kw_only=True):
    actor_id: UUID
    role: TargetRole = "mentioned"


Translations = Annotated[list[TranslationInput], msgspec.Meta(max_length=20)]
Appearances = Annotated[
    list[AppearanceInput],
    msgspec.Meta(
        min_length=1,
        max_length=50,
        description="Where the claim appears; at least one: no claim without provenance.",
    ),
]
Targets = Annotated[list[TargetInput], msgspec.Meta(max_length=100)]
Topics = Annotated[list[Topic], msgspec.Meta(max_length=20)]


class ClaimCreate(Input, kw_only=True):
    speaker_id: UUID
    text: Annotated[ClaimText, msgspec.Meta(description="In the original language.")]
    lang: LangTag
    verbatim: Annotated[
        bool,
        msgspec.Meta(description="true: a direct quote; false: a paraphrase of what was said."),
    ] = False
    translations: Annotated[
        Translations,
        msgspec.Meta(description="Into other languages than `lang`."),
    ] = []
    kind: ClaimKind = "assertion"
    stated_on: Annotated[
        date | None,
        msgspec.Meta(
            description="When it was stated: not after today in the earliest time zone (UTC+14)."
        ),
    ] = None
    stated_on_precision: Annotated[
        Precision | None,
        msgspec.Meta(
            description="How much of `stated_on` is known; `day` when omitted. For `month` "
            "`stated_on` is the 1st of the month, for `year` the 1st of January."
        ),
    ] = None
    appearances: Appearances
    relayed_by_id: Annotated[
        UUID | None,
        msgspec.Meta(description="The actor through whom a second-hand claim is known."),
    ] = None
    targets: Targets = []
    topics: Topics = []


class ClaimUpdate(Input, kw_only=True):
    """Fields not sent stay as they are; `null` clears; a sent list replaces the whole list."""

    speaker_id: UUID | UnsetType = UNSET
    text: ClaimText | UnsetType = UNSET
    lang: LangTag | UnsetType = UNSET
    verbatim: bool | UnsetType = UNSET
    translations: Annotated[
        Translations | UnsetType,
        msgspec.Meta(description="Into other languages than `lang`."),
    ] = UNSET
    kind: ClaimKind | UnsetType = UNSET
    stated_on: Annotated[
        date | UnsetType | None,
        msgspec.Meta(
            description="When it was stated: not after today in the earliest time zone (UTC+14)."
        ),
    ] = UNSET
    stated_on_precision: Precision | UnsetType | None = UNSET
    appearances: Appearances | UnsetType = UNSET
    relayed_by_id: UUID | UnsetType | None = UNSET
    targets: Targets | UnsetType = UNSET
    topics: Topics | UnsetType = UNSET


class SpeakerRole(msgspec.Struct, kw_only=True):
    """The speaker's membership on the claim's date: "Minister of National Defence" of Turkey."""

    role: str | None
    organization_id: UUID
    organization_name: str


class Speaker(ActorRef, kw_only=True):
    role: SpeakerRole | None


class SourceRef(msgspec.Struct, kw_only=True):
    id: UUID
    title: str
    url: str | None
    kind: SourceKind


class Appearance(msgspec.Struct, kw_only=True):
    source_id: UUID
    note: str | None
    source: SourceRef


class Target(msgspec.Struct, kw_only=True):
    actor_id: UUID
    role: TargetRole
    actor: ActorRef


class ClaimDispute(msgspec.Struct, kw_only=True):
    """A dispute the claim stands in, and on which side."""

    id: UUID
    title: str
    status: DisputeStatus
    stance: Stance


# Read back as stored, its tag not checked again (``ActorName``).
class Translation(msgspec.Struct, kw_only=True):
    """The claim's text in another language. `lang` is as stored: a tag stored before tags
    were held to RFC 5646 may be looser than one accepted now."""

    lang: str
    text: str


class Claim(Stamped, kw_only=True):
    speaker_id: UUID
    speaker: Speaker
    text: str
    lang: str
    verbatim: bool
    translations: list[Translation]
    kind: ClaimKind
    stated_on: date | None
    stated_on_precision: Precision | None
    appearances: list[Appearance]
    relayed_by_id: UUID | None
    relayed_by: ActorRef | None
    targets: list[Target]
    topics: list[str]
    disputes: list[ClaimDispute]
    reviews: list[ReviewSummary]


class ClaimPage(msgspec.Struct, kw_only=True):
    data: list[Claim]
    next_cursor: str | None


class ClaimFilters(msgspec.Struct, kw_only=True):
    speaker_id: UUID | None = None
    target_id: UUID | None = None
    relayed_by_id: UUID | None = None
    source_id: UUID | None = None
    topic: str | None = None
    lang: str | None = None
    kind: ClaimKind | None = None
    stated_from: date | None = None
    stated_to: date | None = None
    dispute_id: UUID | None = None
    q: str | None = None
