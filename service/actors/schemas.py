"""Actor bodies: anyone who speaks or is spoken about."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from service.schemas import (
    COUNTRY_PATTERN,
    WIKIDATA_PATTERN,
    ActorKind,
    Input,
    LangTag,
    Stamped,
)
from service.text.visible import LINE_PATTERN

NameKind = Literal["official", "common", "abbreviation", "transliteration", "translation"]

ActorNameText = Annotated[
    str, msgspec.Meta(min_length=1, pattern=LINE_PATTERN, max_length=300, examples=["خلوصي آكار"])
]
Description = Annotated[str, msgspec.Meta(max_length=5000)]
Country = Annotated[
    str,
    msgspec.Meta(
        pattern=COUNTRY_PATTERN,
        description="ISO 3166-1 alpha-2: a code the standard assigns, or XK (Kosovo).",
        examples=["TR"],
    ),
]
WikidataId = Annotated[str, msgspec.Meta(pattern=WIKIDATA_PATTERN, examples=["Q43"])]
Role = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        pattern=LINE_PATTERN,
        max_length=300,
        examples=["Minister of National Defence"],
    ),
]

MAX_NAMES = 50
MAX_MEMBERSHIPS = 50


class ActorNameInput(Input, kw_only=True):
    """One name of an actor, in one language: قسد, SDF and Syrian Democratic Forces are one actor."""

    value: ActorNameText
    lang: LangTag
    kind: NameKind = "common"


class MembershipInput(Input, kw_only=True):
    organization_id: UUID
    role: Role | None = None
    start_date: date | None = None
    end_date: date | None = None


class Membership(msgspec.Struct, kw_only=True):
    organization_id: UUID
    organization_name: str
    role: str | None
    start_date: date | None
    end_date: date | None


Names = Annotated[list[ActorNameInput], msgspec.Meta(max_length=MAX_NAMES)]
Memberships = Annotated[list[MembershipInput], msgspec.Meta(max_length=MAX_MEMBERSHIPS)]


class ActorCreate(Input, kw_only=True):
    kind: ActorKind
    name: Annotated[ActorNameText, msgspec.Meta(description="Display name.")]
    names: Names = []
    description: Description | None = None
    country: Country | None = None
    wikidata_id: WikidataId | None = None
    memberships: Memberships = []


class ActorUpdate(Input, kw_only=True):
    """Fields not sent stay as they are; `null` clears; a sent list replaces the whole list."""

    kind: ActorKind | UnsetType = UNSET
    name: ActorNameText | UnsetType = UNSET
    names: Names | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    country: Country | UnsetType | None = UNSET
    wikidata_id: WikidataId | UnsetType | None = UNSET
    memberships: Memberships | UnsetType = UNSET


class ActorMerge(Input, kw_only=True):
    """Merge the actor of the path (a duplicate) into ``into_id``, the actor that stays."""

    into_id: Annotated[
        UUID,
        msgspec.Meta(
            description="The actor that stays and receives the duplicate's claims, names, "
            "memberships, members, sources and reviews."
        ),
    ]


# A name as stored, read back without checking its tag again: a tag an older, looser pattern
# let in stays readable (checked on every read, it made its actor a 500); a tag sent now is
# checked by ``LangTag``'s pattern (``ActorNameInput``).
class ActorName(msgspec.Struct, kw_only=True):
    """One name of an actor, in one language. `lang` is as stored: a tag stored before tags
    were held to RFC 5646 may be looser than one accepted now."""

    value: str
    lang: str
    kind: NameKind


class Actor(Stamped, kw_only=True):
    kind: ActorKind
    name: str
    names: list[ActorName]
    description: str | None
    country: str | None
    wikidata_id: str | None
    memberships: list[Membership]


class ActorPage(msgspec.Struct, kw_only=True):
    data: list[Actor]
    next_cursor: str | None


class ActorFilters(msgspec.Struct, kw_only=True):
    kind: ActorKind | None = None
    country: str | None = None
    wikidata_id: str | None = None
    member_of: UUID | None = None
    q: str | None = None
