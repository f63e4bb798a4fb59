"""Entity tags and conditional requests (RFC 9110 sections 8.8.3 and 13), in one place.

A resource's tag is strong and names the exact bytes of its representation:
``"<version>-<first 16 hex digits of sha256(body)>"``. The version alone would not do: a
representation embeds other resources (a claim its speaker's name, a dispute its claims), and
those change without the resource's own ``version`` moving.

- ``If-None-Match`` on a read: 304 when any listed tag matches (weak comparison) or ``*``.
- ``If-Match`` and ``If-None-Match`` on a write (:class:`Preconditions`): the slice calls
  :func:`require` inside the write's transaction, right after it has locked the row and read
  the current resource, so two writers holding the same tag cannot both pass. 412 when
  ``If-Match`` lists no current tag (strong comparison: a weak tag never matches; ``*``
  matches any existing resource), or when ``If-None-Match`` lists the current tag (weak
  comparison) or is ``*`` (the resource exists), in RFC 9110 section 13.2.2's order.

The tag is computed from the same bytes the response sends (:func:`respond` encodes once),
and the bytes of a resource read inside a write are those a ``GET`` would send.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any, Literal

import msgspec
from litestar import Response
from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec

from service.errors import FieldError, Invalid, PreconditionFailed
from service.responses import EncodedJson
from service.schemas import Stamped

Header = Literal["If-Match", "If-None-Match"]


def tag_for(version: int, body: bytes) -> str:
    """The strong entity tag of a representation at ``version`` sent as exactly ``body``."""
    return f'"{version}-{hashlib.sha256(body).hexdigest()[:16]}"'


def tag_of(resource: Stamped) -> str:
    """The strong entity tag of ``resource`` as the service sends it (quotes included)."""
    return tag_for(resource.version, msgspec.json.encode(resource))


class Condition(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed ``If-Match`` or ``If-None-Match``: ``*``, or the entity tags it lists."""

    any: bool = False
    strong: frozenset[str] = frozenset()  # opaque tags, quotes included
    weak: frozenset[str] = frozenset()  # opaque tags listed as W/"...", quotes included

    def matches_strongly(self, tag: str) -> bool:
        """If-Match's comparison: both tags strong and equal."""
        return self.any or tag in self.strong

    def matches_weakly(self, tag: str) -> bool:
        """If-None-Match's comparison: equal opaque tags, weak or not."""
        return self.any or tag in self.strong or tag in self.weak


def _is_etagc(char: str) -> bool:
    # etagc = %x21 / %x23-7E / obs-text (%x80-FF; header bytes arrive decoded as latin-1)
    code = ord(char)
    return code == 0x21 or 0x23 <= code <= 0x7E or 0x80 <= code <= 0xFF


def _malformed(header: Header, why: str) -> Invalid:
    example = '"3-5f0c2a1e9b7d4c6a"'
    return Invalid(
        [
            FieldError(
                field=header,
                message=f"{why} Expected `*` or a comma-separated list of entity tags such as "
                f"{example}, as ETag headers give them (a weak one is written W/{example}).",
                location="header",
            )
        ]
    )


def read(header: Header, headers: Iterable[tuple[bytes, bytes]]) -> Condition | None:
    """``header`` as a request's ASGI headers carry it, parsed (see :func:`parse`): every field
    line of it, since a client may send the list on several lines. ASGI servers give header
    names in lower case."""
    name = HEADER_NAMES[header]
    return parse(header, [value.decode("latin-1") for key, value in headers if key == name])


def parse(header: Header, values: list[str]) -> Condition | None:
    """Parse every field line of ``header`` (RFC 9110: ``"*" / #entity-tag``).

    ``None`` when the header is absent. A value that is not that grammar is a 422 naming the
    header, never a guess: a condition misread would lose an update or refuse a good one.
    """
    if not values:
        return None
    value = ", ".join(values)  # several field lines are one comma-separated list
    if value.strip(" \t") == "*":
        return Condition(any=True)
    strong: set[str] = set()
    weak: set[str] = set()
    i, end = 0, len(value)
    while True:
        while i < end and value[i] in " \t,":  # OWS and empty list elements
            i += 1
        if i == end:
            break
        if value[i] == "*":
            raise _malformed(header, "`*` must stand alone.")
        is_weak = value.startswith("W/", i)
        if is_weak:
            i += 2
        if i == end or value[i] != '"':
            raise _malformed(header, f"Not an entity tag at character {i + 1}.")
        close = value.find('"', i + 1)
        if close == -1:
            raise _malformed(header, "An entity tag is missing its closing quote.")
        opaque = value[i : close + 1]
        if not all(_is_etagc(c) for c in opaque[1:-1]):
            raise _malformed(
                header, "An entity tag holds a character it may not (a space, a control)."
            )
        (weak if is_weak else strong).add(opaque)
        i = close + 1
        while i < end and value[i] in " \t":
            i += 1
        if i < end and value[i] != ",":
            raise _malformed(header, f"Expected a comma after an entity tag at character {i + 1}.")
    if not strong and not weak:
        raise _malformed(header, "No entity tag given.")
    return Condition(strong=frozenset(strong), weak=frozenset(weak))


class Preconditions(msgspec.Struct, frozen=True, kw_only=True):
    """A write's conditions on its resource, as sent (at least one of them)."""

    if_match: Condition | None = None
    if_none_match: Condition | None = None

    def failed(self, tag: str) -> Header | None:
        """The header whose condition is false for a resource whose current tag is ``tag``
        (RFC 9110 section 13.2.2: ``If-Match`` is evaluated first), or None."""
        if self.if_match is not None and not self.if_match.matches_strongly(tag):
            return "If-Match"
        if self.if_none_match is not None and self.if_none_match.matches_weakly(tag):
            return "If-None-Match"
        return None


def require(preconditions: Preconditions | None, current: Stamped) -> None:
    """412 unless ``If-Match`` lists ``current``'s tag (or is ``*``) and ``If-None-Match``
    neither lists it nor is ``*``.

    Call it inside the write's transaction, after the row is locked (``get(..., lock=True)``)
    and before anything is changed: a writer that waited for the lock sees the version the
    other writer committed, whose tag it cannot hold.
    """
    if preconditions is not None:
        _require(preconditions, tag_of(current), type(current).__name__.lower())


def require_json(preconditions: Preconditions | None, version: int, body: bytes, noun: str) -> None:
    """:func:`require` for a resource read as the bytes a GET sends (``body``, at ``version``)."""
    if preconditions is not None:
        _require(preconditions, tag_for(version, body), noun)


def _require(preconditions: Preconditions, tag: str, noun: str) -> None:
    failed = preconditions.failed(tag)
    if failed is not None:
        # the current tag sent weak: nothing changed, and GETting it again would not help
        if_match = preconditions.if_match
        weak = failed == "If-Match" and if_match is not None and tag in if_match.weak
        raise PreconditionFailed(noun, failed, weak=weak)


def respond(
    resource: Stamped,
    if_none_match: Condition | None = None,
    *,
    status_code: int | None = None,
    location: str | None = None,
) -> Response[Any]:
    """The resource with its ``ETag`` (and, for a create, its ``Location``); a bodiless 304
    when ``If-None-Match`` matches it.

    The body is encoded here, once, and sent as these bytes: the tag names exactly them.
    """
    return respond_json(
        resource.version,
        msgspec.json.encode(resource),
        if_none_match,
        status_code=status_code,
        location=location,
    )


def respond_json(
    version: int,
    body: bytes,
    if_none_match: Condition | None = None,
    *,
    status_code: int | None = None,
    location: str | None = None,
) -> Response[Any]:
    """:func:`respond` for a resource already encoded, as ``body``, at ``version``."""
    tag = tag_for(version, body)
    if if_none_match is not None and if_none_match.matches_weakly(tag):
        return Response(b"", status_code=304, headers={"ETag": tag})
    headers = {"ETag": tag} if location is None else {"ETag": tag, "Location": location}
    return EncodedJson(body, status_code=status_code, headers=headers)


# ------------------------------------------------------------------------- OpenAPI

_TAG_FORMAT = '`"<version>-<16 hex digits of the SHA-256 of the body>"`'

# What :func:`parse` accepts, for the document: `*`, or a comma-separated list of one or more
# entity tags (empty list elements and spaces or tabs around them allowed).
_ENTITY_TAG = r'(?:W/)?"[\x21\x23-\x7E\x80-\xFF]*"'
CONDITION_PATTERN = (
    rf"^(?:[ \t]*\*[ \t]*|[ \t,]*{_ENTITY_TAG}(?:[ \t]*,[ \t,]*{_ENTITY_TAG})*[ \t,]*)\Z"
)

# The Location header of a create's 201.
LOCATION_HEADER = ResponseHeader(
    name="Location",
    value="/v1/actors/01937a5e-0000-7000-8000-000000000001",
    documentation_only=True,
    required=True,
    description="The new resource's URL.",
)
# An answer that holds a secret shown once (an API key, a webhook's signing secret): no cache
# may keep it.
SECRET_HEADERS = {"Cache-Control": "no-store"}
NO_STORE_HEADER = ResponseHeader(
    name="Cache-Control",
    value=SECRET_HEADERS["Cache-Control"],
    documentation_only=True,
    required=True,
    description="`no-store`: the answer holds a secret shown only here; no cache may keep it.",
)
ETAG_HEADER = ResponseHeader(
    name="ETag",
    value='"2-5f0c2a1e9b7d4c6a"',
    documentation_only=True,
    required=True,
    description=f"Strong tag of this exact representation, {_TAG_FORMAT}: it changes when "
    "the resource or anything it embeds changes. Send it back in `If-None-Match` (reads) or "
    "`If-Match` (writes).",
)

NOT_MODIFIED: dict[int, ResponseSpec] = {
    304: ResponseSpec(
        data_container=None,
        description="Not modified: `If-None-Match` lists the current tag (or is `*`). "
        "No body; the `ETag` header is sent.",
        generate_examples=False,
    )
}

# A handler that reads condition headers declares them on its route (``**TAKES_PRECONDITIONS``
# on a write to a resource with entity tags, ``**TAKES_IF_NONE_MATCH`` on a read, kept in the
# handler's ``opt``): service.openapi documents the headers on that operation, and
# ``service.deps.Request`` reads only the headers its route declares.
CONDITION = "condition"
TAKES_PRECONDITIONS: dict[str, Any] = {CONDITION: ("If-Match", "If-None-Match")}
TAKES_IF_NONE_MATCH: dict[str, Any] = {CONDITION: ("If-None-Match",)}
HEADER_NAMES: dict[Header, bytes] = {"If-Match": b"if-match", "If-None-Match": b"if-none-match"}

# What the document says of each, on the operations that take it: on a read, on a write.
DESCRIPTIONS: dict[tuple[Header, bool], str] = {
    ("If-Match", True): "Optional. Apply the write only if the resource's current `ETag` is "
    "one of these comma-separated tags (or `*`: it exists); otherwise 412, nothing changed. "
    "Weak tags (`W/...`) never match.",
    ("If-None-Match", True): "Optional. Apply the write only if the resource's current `ETag` "
    "is none of these comma-separated tags (compared weakly); `*` refuses the write to any "
    "existing resource. Otherwise 412, nothing changed.",
    ("If-None-Match", False): "Optional. Comma-separated tags from earlier `ETag` headers "
    "(or `*`): when one is still current, the answer is a bodiless 304.",
}
