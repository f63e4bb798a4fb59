"""Field types and helpers every slice's schemas share."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from service.text.lang import LANG_PATTERN, canonical_lang


class Input(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of request bodies: unknown fields (a typo, or ``id``/``version``) are an error."""


LangTag = Annotated[
    str,
    msgspec.Meta(
        pattern=LANG_PATTERN,
        max_length=35,
        description="BCP 47 language tag, well-formed as RFC 5646 has it, e.g. `ar`, `en`, "
        "`ar-SY`, `zh-Hant-TW`; stored in canonical case.",
        examples=["ar"],
    ),
]
TOPIC_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*\Z"
COUNTRY_PATTERN = r"^[A-Z]{2}\Z"
WIKIDATA_PATTERN = r"^Q[1-9][0-9]{0,11}\Z"
Topic = Annotated[
    str,
    msgspec.Meta(
        pattern=TOPIC_PATTERN,
        max_length=64,
        description="A short lowercase slug.",
        examples=["safe-zone"],
    ),
]
HTTP_URL_PATTERN = r"^[hH][tT][tT][pP][sS]?://[^\s/?#]+[^\s]*\Z"
PUBLIC_URL_PATTERN = r"^[hH][tT][tT][pP][sS]?://[^\s/?#@]+(?:[/?#]\S*)?\Z"
HttpUrl = Annotated[
    str,
    msgspec.Meta(
        pattern=HTTP_URL_PATTERN,
        max_length=2048,
        description="An absolute http(s) URL.",
    ),
]
PublicUrl = Annotated[
    str,
    msgspec.Meta(
        pattern=PUBLIC_URL_PATTERN,
        max_length=2048,
        description="An absolute http(s) URL, without a user name or password: it is shown "
        "to readers (the embeddable card, ClaimReview).",
    ),
]
Version = Annotated[int, msgspec.Meta(ge=1, description="Bumped by every change.")]
Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]


class Stamped(msgspec.Struct, kw_only=True):
    """What every stored resource carries."""

    id: UUID
    version: Version
    created_at: Timestamp
    updated_at: Timestamp


def sent(update: msgspec.Struct) -> dict[str, Any]:
    """The fields a PATCH body actually sent (``None`` included: it means "clear")."""
    return {
        name: value
        for name in update.__struct_fields__
        if (value := getattr(update, name)) is not msgspec.UNSET
    }


ActorKind = Literal["person", "organization", "state", "armed_group", "media", "group"]


class ActorRef(msgspec.Struct, kw_only=True):
    """An actor as other resources embed it."""

    id: UUID
    name: str
    kind: ActorKind


def unchanged(current: msgspec.Struct, changes: dict[str, Any]) -> bool:
    """Whether a PATCH would change nothing: every field it sent equals what is stored (an
    empty PATCH too). Then no version, revision or change event is written: the feed and
    webhooks carry only real changes, and other clients' ETags stay valid. A list sent is
    compared item by item, in order, each item by the fields it was sent with (a claim's
    appearances as sent are the stored ones without their embedded source). A language tag
    (a ``lang`` field) is compared as it would be stored, in canonical case: ``AR`` is ``ar``."""
    return not changed(current, changes)


def changed(current: msgspec.Struct, changes: dict[str, Any]) -> set[str]:
    """The fields a PATCH sent that differ from what is stored, compared as ``unchanged``
    compares them (a field sent back as stored is not among them)."""
    return {
        name
        for name, value in changes.items()
        if not _same(getattr(current, name, None), value, name)
    }


def _same(stored: Any, sent: Any, name: str) -> bool:
    if isinstance(sent, msgspec.Struct):
        return all(
            _same(getattr(stored, field, _ABSENT), getattr(sent, field), field)
            for field in sent.__struct_fields__
        )
    if isinstance(sent, list):
        return (
            isinstance(stored, list)
            and len(stored) == len(sent)
            and all(_same(a, b, name) for a, b in zip(stored, sent, strict=True))
        )
    if name == "lang" and isinstance(sent, str):
        return bool(stored == canonical_lang(sent))
    return bool(stored == sent)


_ABSENT = object()  # a field the stored item lacks: never equal to one sent
