"""Domain errors and RFC 9457 problem+json responses, in one place.

Every error the service returns is a ``ProblemDetails`` body with media type
``application/problem+json``: domain errors raised by queries and routes, Litestar's own
(validation, 404/405 routing, 413 body too large), PostgreSQL integrity errors that got past
the checks in Python (unique, foreign key, check), and anything unexpected (500, logged, no
internals in the body).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode
from uuid import UUID

import asyncpg
import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, Reference
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from service.methods import allow_listed
from service.schemas import (
    COUNTRY_PATTERN,
    HTTP_URL_PATTERN,
    PUBLIC_URL_PATTERN,
    TOPIC_PATTERN,
    WIKIDATA_PATTERN,
)
from service.text import visible
from service.text.lang import LANG_PATTERN

log = structlog.get_logger("claimdesk.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Problem types are served by the service itself: GET /problems/<slug> describes each.
PROBLEM_BASE = "/problems/"

Location = Literal["body", "query", "path", "header"]


class FieldError(msgspec.Struct, kw_only=True):
    """One bad field: where it is (a JSON path inside the body, or a parameter name) and why."""

    field: str
    message: str
    location: Location = "body"


def repeats(field: str, keys: list[Any], what: str) -> list[FieldError]:
    """An error for each item of the list ``field`` whose key an earlier item has."""
    seen: dict[Any, int] = {}
    errors = []
    for i, key in enumerate(keys):
        if key in seen:
            errors.append(
                FieldError(field=f"{field}[{i}]", message=f"Repeats {field}[{seen[key]}] ({what}).")
            )
        seen.setdefault(key, i)
    return errors


class HeldBy(msgspec.Struct, kw_only=True):
    """What still refers to a resource that was asked to be deleted."""

    resource: str
    field: str
    count: int
    ids: list[UUID]


ProblemType = Annotated[
    str,
    msgspec.Meta(
        description="A URI reference naming the class of error: `/problems/<slug>`, which the "
        "service serves (GET it for a description; README, Errors), or `about:blank`.",
        examples=["/problems/validation-error"],
        extra_json_schema={"format": "uri-reference"},
    ),
]


class ProblemDetails(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An RFC 9457 problem: ``type`` names the class of error, ``detail`` this occurrence."""

    type: ProblemType
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None
    held_by: list[HeldBy] | None = None
    existing_id: UUID | None = None
    merged_into_id: UUID | None = None


def summarise(errors: list[FieldError]) -> str:
    """One sentence naming every bad field, for ``detail``."""
    return "; ".join(f"{e.field}: {e.message.rstrip('.')}" for e in errors) + "."


# slug -> (status, title)
PROBLEMS: dict[str, tuple[int, str]] = {
    "malformed-request": (400, "Malformed request"),
    "merged": (308, "Merged into another actor"),
    "unauthorized": (401, "Authentication required"),
    "forbidden": (403, "Insufficient scope"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "conflict": (409, "Conflict"),
    "duplicate": (409, "Duplicate"),
    "in-use": (409, "Resource in use"),
    "already-merged": (409, "Already merged"),
    "idempotency-key-in-use": (409, "A request with this Idempotency-Key is in progress"),
    "precondition-failed": (412, "Precondition failed"),
    "payload-too-large": (413, "Payload too large"),
    "unsupported-media-type": (415, "Unsupported media type"),
    "validation-error": (422, "Validation error"),
    "rate-limited": (429, "Too many requests"),
    "idempotency-key-reused": (422, "Idempotency-Key reused for another request"),
    "internal-error": (500, "Internal server error"),
    "not-implemented": (501, "Not implemented"),
    "unavailable": (503, "Service unavailable"),
}

# slug -> what it means and what to do: the documentation its ``type`` URI serves (RFC 9457
# section 3.1.1: dereferenced, a type URI should document the problem for people).
PROBLEM_DESCRIPTIONS: dict[str, str] = {
    "malformed-request": "The request body is not JSON, or nests arrays and objects too "
    "deeply (send a JSON document; `detail` says where decoding stopped), or the request's "
    "`Host` or `Content-Length` header is not valid.",
    "merged": "The actor was merged into another. `Location` and `merged_into_id` name the "
    "survivor; send the request there (clients that follow redirects do).",
    "unauthorized": "No API key, or one that is unknown, revoked or expired. Send "
    "`Authorization: Bearer <key>`.",
    "forbidden": "The API key lacks the scope the operation needs: `read` for reading, "
    "`write` for changes, `admin` for API keys and webhooks.",
    "not-found": "No such resource or route, or a malformed id in the path (which can name "
    "nothing).",
    "method-not-allowed": "The path exists but does not take this method; `Allow` lists the "
    "ones it takes.",
    "conflict": "The request conflicts with the resource's current state (the type the "
    "other 409s refine; not answered as itself).",
    "duplicate": "A value that must be unique is taken; `existing_id` names the holder when "
    "it is known. Use that resource, or change the value.",
    "in-use": "The resource cannot be deleted while others refer to it; `held_by` lists "
    "each kind of holder with a count and some of their ids. Remove or repoint them first.",
    "already-merged": "The actor was merged into another already; `merged_into_id` names "
    "it. Merge or delete that one instead.",
    "idempotency-key-in-use": "A request with the same `Idempotency-Key` is still running. "
    "Retry after `Retry-After` seconds: the first request's answer is then replayed.",
    "precondition-failed": "`If-Match` lists no current `ETag` of the resource (it changed "
    "since it was read, or it has none), or a write's `If-None-Match` matched. Nothing was "
    "written: GET the resource again, reapply the change, and send its new `ETag`.",
    "payload-too-large": "The request body is larger than this service accepts.",
    "unsupported-media-type": "A body was sent as another media type than JSON. Send "
    "`Content-Type: application/json`.",
    "validation-error": "The request is well-formed but breaks a rule: a wrong type, an "
    "unknown or missing field, a value out of range or pattern, a reference to nothing, a "
    "rule across fields. `errors` names each field (or parameter, or header) and what is "
    "wrong with it. Nothing was changed.",
    "idempotency-key-reused": "The `Idempotency-Key` was used already for a different "
    "request (method, path, query or body). Use a new key for a new request.",
    "rate-limited": "Past the client's rate limit. Try again after `Retry-After` seconds.",
    "internal-error": "A bug on the service's side, logged with its request id. Nothing "
    "internal is in the answer; report the `request_id`.",
    "not-implemented": "The request is understood but not served here (oEmbed's XML format: "
    "ask for JSON).",
    "unavailable": "The database is unreachable or not migrated, a statement timed out, or "
    "a write lost a deadlock. Nothing was changed; when `Retry-After` is given, trying "
    "again then may succeed.",
}


class DomainError(Exception):
    """Base of the errors queries and routes raise; carries its problem slug and detail."""

    slug = "conflict"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions

    def headers(self, request: Request[Any, Any, Any]) -> dict[str, str] | None:
        """Response headers this error adds (a redirect's ``Location``)."""
        return None


class Malformed(DomainError):
    """A request body that cannot be read as JSON at all."""

    slug = "malformed-request"


class UnsupportedMediaType(DomainError):
    slug = "unsupported-media-type"


class NotFound(DomainError):
    slug = "not-found"

    def __init__(self, resource: str, resource_id: object) -> None:
        super().__init__(f"No {resource} with id '{resource_id}'.")


class Missing(DomainError):
    """A 404 whose detail says why (a page turned off, a URL that is not one of ours)."""

    slug = "not-found"


class NotImplementedHere(DomainError):
    """501: the request is understood but this service does not do it (oEmbed's XML)."""

    slug = "not-implemented"


class Merged(DomainError):
    """A merged actor's URL: 308 to the same URL of the actor it was merged into, method and
    body kept (an ``If-Match`` tag of the merged actor never matches the survivor's)."""

    slug = "merged"

    def __init__(self, merged_id: UUID, into_id: UUID) -> None:
        super().__init__(
            f"Actor '{merged_id}' was merged into actor '{into_id}', which holds its claims, "
            f"names and the rest now; use that actor.",
            merged_into_id=into_id,
        )
        self.merged_id = merged_id
        self.into_id = into_id

    def headers(self, request: Request[Any, Any, Any]) -> dict[str, str] | None:
        # The path segment or query parameter naming the merged id, in whatever spelling of a
        # UUID it was sent (upper case, no hyphens), becomes the survivor's id (a list
        # filtered by the merged actor: service.references.explain_empty).
        location = "/".join(
            str(self.into_id) if _uuid(segment) == self.merged_id else segment
            for segment in request.url.path.split("/")
        )
        if request.url.query:
            query = parse_qsl(request.url.query, keep_blank_values=True)
            location += "?" + urlencode(
                [(k, str(self.into_id) if _uuid(v) == self.merged_id else v) for k, v in query]
            )
        return {"Location": location}


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


class AlreadyMerged(DomainError):
    """A request that would change or remove a merged actor itself (delete it, merge it
    again): refused rather than redirected, so it never lands on the survivor."""

    slug = "already-merged"

    def __init__(self, merged_id: UUID, into_id: UUID) -> None:
        super().__init__(
            f"Actor '{merged_id}' was merged into actor '{into_id}' already; nothing was "
            f"changed. To act on the merged actor's claims and names, act on '{into_id}'.",
            merged_into_id=into_id,
        )


class Duplicate(DomainError):
    slug = "duplicate"

    def __init__(self, detail: str, *, field: str, existing_id: UUID | None = None) -> None:
        super().__init__(
            detail,
            errors=[FieldError(field=field, message=detail)],
            existing_id=existing_id,
        )


class InUse(DomainError):
    slug = "in-use"

    def __init__(self, detail: str, held_by: list[HeldBy]) -> None:
        super().__init__(detail, held_by=held_by)


class PreconditionFailed(DomainError):
    slug = "precondition-failed"

    def __init__(self, resource: str, header: str = "If-Match", *, weak: bool = False) -> None:
        if weak:
            detail = (
                f"If-Match lists the current ETag of this {resource} as a weak tag (W/...), and "
                "a weak tag never matches If-Match. Nothing was written; send the tag without "
                "W/."
            )
        elif header == "If-Match":
            detail = (
                f"If-Match lists no current ETag of this {resource}: it changed since it was "
                "read. Nothing was written; GET it again, reapply your change, and send its "
                "new ETag."
            )
        else:
            detail = (
                f"If-None-Match is `*` or lists the current ETag of this {resource}, and it "
                "asks for the write only if neither is so. Nothing was written."
            )
        super().__init__(detail)


class NoEntityTag(DomainError):
    """A condition sent to an operation whose resource has no entity tag (a webhook, an API
    key, a collection a POST adds to) that is false there: RFC 9110 section 13.1 has the
    server evaluate it. No tag an ``If-Match`` lists can match; ``If-None-Match: *`` fails
    because the resource exists."""

    slug = "precondition-failed"

    def __init__(self, header: str = "If-Match") -> None:
        if header == "If-Match":
            detail = (
                "This operation's resource has no entity tags, so no If-Match can match it. "
                "Nothing was written; send it without If-Match (or with `If-Match: *`)."
            )
        else:
            detail = (
                "If-None-Match: * asks for the write only if the resource does not exist, and "
                "it does (a collection a POST adds to always does). Nothing was written."
            )
        super().__init__(detail)


class Invalid(DomainError):
    slug = "validation-error"

    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        super().__init__(
            detail or summarise(errors),
            errors=errors,
        )


def invalid(field: str, message: str, location: Location = "body") -> Invalid:
    return Invalid([FieldError(field=field, message=message, location=location)])


def check_range(start: str, start_value: Any, end: str, end_value: Any) -> None:
    """A list's range filter (``stated_from``/``stated_to``): one that ends before it starts is
    a mistake, a 422 naming its end, not read as a range (an empty page, or for claims'
    overlapping periods the claims that span both days)."""
    if start_value is not None and end_value is not None and end_value < start_value:
        raise invalid(end, f"Before {start}.", "query")


async def held_back(check: Awaitable[None]) -> Invalid | None:
    """Run ``check`` and hand back the 422 it raises instead of raising it: for a check that
    must run early (for the locks it takes) while its 422 comes after a 404 or 412."""
    try:
        await check
    except Invalid as e:
        return e
    return None


def problem(
    slug: str,
    detail: str,
    request: Request[Any, Any, Any] | None = None,
    *,
    status: int | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> Response[ProblemDetails]:
    default_status, title = PROBLEMS[slug]
    body = ProblemDetails(
        type=PROBLEM_BASE + slug,
        title=title,
        status=status or default_status,
        detail=detail,
        instance=request.url.path if request is not None else None,
        request_id=request.scope.get("state", {}).get("request_id") if request else None,
        **extensions,
    )
    return Response(body, status_code=body.status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def problem_message(
    scope: Any,
    slug: str,
    detail: str,
    headers: list[tuple[bytes, bytes]] | None = None,
    **extensions: Any,
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """A problem as an ASGI middleware sends it, before any handler runs: its status, its
    raw headers (``headers`` added) and its body."""
    status, title = PROBLEMS[slug]
    body = msgspec.json.encode(
        ProblemDetails(
            type=PROBLEM_BASE + slug,
            title=title,
            status=status,
            detail=detail,
            instance=scope["path"],
            request_id=scope.get("state", {}).get("request_id"),
            **extensions,
        )
    )
    raw_headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        *(headers or []),
    ]
    return status, raw_headers, body


async def send_problem(
    scope: Any,
    send: Any,
    slug: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> None:
    """Answer with a problem from an ASGI middleware (a HEAD arrives here as a GET:
    service.methods drops the body on the way out)."""
    extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    status, raw_headers, body = problem_message(scope, slug, detail, extra, **extensions)
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


def problem_content() -> dict[str, OpenAPIMediaType]:
    """The content of a documented problem response: problem+json, a ProblemDetails."""
    return {
        PROBLEM_MEDIA_TYPE: OpenAPIMediaType(
            schema=Reference(ref="#/components/schemas/ProblemDetails")
        )
    }


# ---------------------------------------------------------------- Litestar validation errors

_MSGSPEC_PATH = re.compile(r" - at `\$(?:\.data)?(?P<path>[^`]*)`$")
_UNKNOWN_FIELD = re.compile(r"Object contains unknown field `(?P<name>[^`]+)`")
_MISSING_FIELD = re.compile(r"Object missing required field `(?P<name>[^`]+)`")
_MISSING_PARAMETER = re.compile(r"Missing required (?P<kind>\w+) parameter '(?P<name>[^']+)'")


def _readable(message: str) -> str:
    """msgspec's message as the OpenAPI document reads: a pattern's end written ``$`` (the
    service's patterns end in Python's ``\\Z``, see ``service.openapi``), and a language tag
    or visible text said in words, not as their patterns."""
    # msgspec's message doubles each backslash of the pattern it quotes
    for pattern, words in _IN_WORDS.items():
        message = message.replace(
            "Expected `str` matching regex '" + pattern.replace("\\", "\\\\") + "'", words
        )
    # (msgspec's "Invalid RFC3339 encoded datetime" is left: its own words suffice)
    message = _DATE.sub(
        "Expected a real calendar date written YYYY-MM-DD, such as 2019-11-24, without a time",
        message,
    )
    message = _LENGTH.sub(_length_in_words, message)
    message = _BOUND.sub(_bound_in_words, message)
    message = _TYPES.sub(_types_in_words, message)
    message = message.replace(
        "Expected `datetime` with a timezone component",
        "Expected a date-time with its offset (Z or +03:00), such as 2019-11-24T10:00:00Z",
    )
    return message.replace("\\\\Z'", "$'")


# msgspec's "Expected `str` of length >= 1": the JSON type's name says less than what counts
_LENGTH = re.compile(r"Expected `(?P<type>str|array|object)` of length (?P<op>[<>]=) (?P<n>\d+)")
_COUNTED = {"str": "character", "array": "item", "object": "field"}


def _length_in_words(match: re.Match[str]) -> str:
    n = int(match.group("n"))
    what = _COUNTED[match.group("type")] + ("" if n == 1 else "s")
    return f"Expected {'at least' if match.group('op') == '>=' else 'at most'} {n:,} {what}"


# msgspec's "Expected `int` >= 1" and "Expected `str`, got `int`": JSON's kinds of value in
# words, not Python's type names
_BOUND = re.compile(
    r"Expected `(?P<type>int|float)(?: \| null)?` (?P<op>>=|<=|>|<) (?P<n>-?[0-9.e+]+)"
)
_KINDS = {
    "int": "a whole number",
    "float": "a number",
    "str": "text (a JSON string)",
    "bool": "true or false",
    "array": "a list (a JSON array)",
    "object": "an object",
    "null": "null",
    "uuid": "a UUID",
    "date": "a date",
    "datetime": "a date-time",
}
_TYPES = re.compile(r"Expected `(?P<want>[^`]+)`, got `(?P<got>[^`]+)`")


def _bound_in_words(match: re.Match[str]) -> str:
    said = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than"}
    return f"Expected {_KINDS[match.group('type')]}, {said[match.group('op')]} {match.group('n')}"


def _types_in_words(match: re.Match[str]) -> str:
    def kind(name: str) -> str:
        return " or ".join(_KINDS.get(part.strip(), part.strip()) for part in name.split("|"))

    return f"Expected {kind(match.group('want'))}, got {kind(match.group('got'))}"


# Patterns a problem names in words rather than quotes: a language tag's grammar is 300
# characters, and the visible-text ones are lists of code points.
_IN_WORDS = {
    LANG_PATTERN: "Expected a language tag well-formed as RFC 5646 has it, its language in two "
    "or three letters (ISO 639's code, not the language's name), e.g. `ar`, `ar-SY`, "
    "`zh-Hant-TW`",
    **visible.IN_WORDS,
    HTTP_URL_PATTERN: "Expected an absolute http(s) URL without spaces, such as "
    "https://example.org/page",
    PUBLIC_URL_PATTERN: "Expected an absolute http(s) URL without spaces, such as "
    "https://example.org/page, and without a user name or password (it is shown to readers)",
    TOPIC_PATTERN: "Expected a topic: lower-case letters and digits, words joined by single "
    "hyphens, such as safe-zone",
    COUNTRY_PATTERN: "Expected a country's ISO 3166-1 alpha-2 code in capitals, such as TR",
    WIKIDATA_PATTERN: "Expected a Wikidata item's id, such as Q43",
}


_DATE = re.compile(r"Invalid RFC3339 encoded date(?!time)")


def in_words(pattern: str, words: str) -> str:
    """``pattern``, which a problem is to name in ``words`` (what it takes, with an example)
    rather than quote: a regular expression tells a user little."""
    _IN_WORDS[pattern] = words
    return pattern


def _named_field(path: str, message: str) -> str:
    """``path`` (a JSON path inside the body), extended by the field a message names: an
    unknown or a missing field is reported at the object that holds it."""
    for pattern in (_UNKNOWN_FIELD, _MISSING_FIELD):
        named = pattern.search(message)
        if named:
            path = f"{path}.{named.group('name')}" if path else named.group("name")
    return path


def msgspec_field_error(error: msgspec.ValidationError, decoded: Any = None) -> FieldError:
    """A body field error from msgspec's own message (``... - at `$.names[0].lang```);
    ``decoded``, the type the body was decoded as, tells a value not in a list the list."""
    text = str(error)
    match = _MSGSPEC_PATH.search(text)
    message = _readable(text[: match.start()] if match else text)
    path = match.group("path").lstrip(".") if match else ""
    field = _named_field(path, message) or "body"
    if _MISSING_FIELD.search(message):  # the field is named: say what is wrong with it
        message = "Required."
    return FieldError(field=field, message=_with_values(message, decoded, path))


_NOT_LISTED = re.compile(r"Invalid enum value (?P<got>.+)")
_PATH_PART = re.compile(r"\[\d+\]|[^.\[\]]+")


def _with_values(message: str, decoded: Any, path: str) -> str:
    """msgspec's "Invalid enum value 'x'" with the values the field at ``path`` of type
    ``decoded`` takes, in msgspec's sorted order ("Expected dismissed, open or resolved, not
    'x'"), as a pattern's message says what it takes; the message as it is when the path
    names no such list."""
    got = _NOT_LISTED.fullmatch(message)
    values = _listed_values(decoded, path) if got and decoded is not None else None
    if not got or not values:
        return message
    return f"Expected {listed([str(v) for v in values])}, not {got.group('got')}"


def listed(values: list[str], last: str = "or") -> str:
    """``a, b or c``: a list of values in words (``last``: ``and``); ``none`` for none."""
    if len(values) < 2:
        return values[0] if values else "none"
    return ", ".join(values[:-1]) + f" {last} " + values[-1]


def _listed_values(decoded: Any, path: str) -> tuple[Any, ...] | None:
    """The values of the ``Literal`` at ``path`` (``targets[0].role``) inside type
    ``decoded``, or None when the path leads to none."""
    info = msgspec.inspect.type_info(decoded)
    for part in _PATH_PART.findall(path):
        info = _unwrapped(info)
        if part.startswith("["):
            if not isinstance(info, msgspec.inspect.ListType):
                return None
            info = info.item_type
        elif isinstance(info, msgspec.inspect.StructType):
            field = next((f for f in info.fields if f.encode_name == part), None)
            if field is None:
                return None
            info = field.type
        else:
            return None
    info = _unwrapped(info)
    return info.values if isinstance(info, msgspec.inspect.LiteralType) else None


def _unwrapped(info: msgspec.inspect.Type) -> msgspec.inspect.Type:
    """The type inside constraints (``Annotated``) and an optional value's ``None``."""
    while True:
        if isinstance(info, msgspec.inspect.Metadata):
            info = info.type
        elif isinstance(info, msgspec.inspect.UnionType):
            rest = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
            if len(rest) != 1:
                return info
            info = rest[0]
        else:
            return info


# A parameter's type errors in words: msgspec reads it from text, and says it got a `str`.
_AS_TEXT = {
    "Expected `int`, got `str`": "Expected a whole number",
    "Expected `float`, got `str`": "Expected a number",
    "Expected `bool`, got `str`": "Expected true or false",
    "Expected `int | null`, got `str`": "Expected a whole number",
    "Expected `float | null`, got `str`": "Expected a number",
    "Expected `bool | null`, got `str`": "Expected true or false",
}


def _field_errors(exc: ValidationException, parameters: Any = None) -> list[FieldError]:
    """Litestar's ``extra`` list, made precise with msgspec's JSON path where it has one;
    ``parameters``, the handler's signature model, lists the values a parameter takes."""
    errors: list[FieldError] = []
    cause = exc.__cause__
    cause_text = str(cause) if isinstance(cause, msgspec.ValidationError) else ""
    match = _MSGSPEC_PATH.search(cause_text)
    extras = exc.extra if isinstance(exc.extra, list) else []
    for item in extras:
        if not isinstance(item, dict):
            continue
        raw = str(item.get("message", "Invalid value"))
        source = item.get("source", "body")
        location: Location = source if source in ("body", "query", "path", "header") else "body"
        field = str(item.get("key") or "")
        if location == "body":
            message = _readable(raw)
            path = match.group("path").lstrip(".") if match else ""
            field = _named_field(path, message) or ("body" if field in ("", "data") else field)
        else:  # every parameter arrives as text: "got `str`" says nothing (`limit=1.5`)
            message = _with_values(_AS_TEXT.get(raw) or _readable(raw), parameters, field)
        errors.append(FieldError(field=field, message=message, location=location))
    missing = _MISSING_PARAMETER.search(exc.detail or "")
    if not errors and missing:
        where: Location = "header" if missing.group("kind") == "header" else "query"
        errors.append(FieldError(field=missing.group("name"), message="Required.", location=where))
    if not errors:
        errors.append(FieldError(field="body", message=exc.detail or "Invalid request"))
    return errors


def _validation_handler(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    handler = request.scope.get("route_handler")
    errors = _field_errors(exc, getattr(handler, "signature_model", None))
    if all(e.location == "path" for e in errors):
        # A malformed id can name nothing: the same answer as a well-formed id that is absent.
        return problem(
            "not-found",
            "No resource at this path: " + summarise(errors),
            request,
        )
    detail = summarise(errors)
    return problem("validation-error", detail, request, errors=errors)


# Litestar's 400s for a header: an invalid Host (on any route, a GET's too) or Content-Length
_BAD_HEADERS = re.compile(r"Invalid (host|content-length)\b", re.IGNORECASE)


def _http_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    slug = {
        400: "malformed-request",
        404: "not-found",
        405: "method-not-allowed",
        413: "payload-too-large",
        415: "unsupported-media-type",
    }.get(status)
    if status == 400 and (header := _BAD_HEADERS.match(exc.detail or "")):
        # refused before routing, whatever the method: no body was read
        name = "Host" if header.group(1).lower() == "host" else "Content-Length"
        detail = f"The {name} header is not valid."
    elif status == 400:
        # Litestar's other 400s come from decoding the body (validation errors are above).
        reason = (exc.detail or "").removeprefix("JSON is malformed:").strip()
        detail = f"The request body is not valid JSON: {reason}"
    elif status == 413:
        limit = request.app.state.settings.max_body_bytes
        detail = f"The request body is larger than this service accepts: at most {limit:,} bytes."
    elif status == 404:
        detail = f"Nothing at {request.url.path}."
    else:
        detail = exc.detail or PROBLEMS.get(slug or "", (status, "Error"))[1]
    headers = dict(exc.headers or {})
    given = next((v for k, v in headers.items() if k.lower() == "allow"), "")
    if status == 405 and given:  # the methods it takes, as the Allow header will list them
        detail = f"{request.url.path} takes {listed(allow_listed(given).split(', '), 'and')} only."
    if slug is None:
        body = ProblemDetails(
            type="about:blank",
            title=exc.detail or "Error",
            status=status,
            detail=detail,
            instance=request.url.path,
        )
        return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)
    return problem(slug, detail, request, status=status, headers=headers)


def _domain_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    return problem(exc.slug, exc.detail, request, headers=exc.headers(request), **exc.extensions)


# ---------------------------------------------------------------- PostgreSQL integrity errors

# Child tables are reached through a list field of their parent resource.
_TABLE_FIELDS = {
    "actor_names": "names[]",
    "actor_memberships": "memberships[]",
    "claim_targets": "targets[]",
    "claim_appearances": "appearances[]",
}
_KEY = re.compile(r"Key \((?P<cols>[^)]+)\)=")
# Columns that stand for a differently named field.
_COLUMN_FIELDS = {"url_key": "url"}


def _db_field(exc: asyncpg.PostgresError) -> str:
    table = getattr(exc, "table_name", None) or ""
    column = getattr(exc, "column_name", None)
    if not column:
        match = _KEY.search(getattr(exc, "detail", None) or "")
        column = match.group("cols").split(",")[-1].strip() if match else None
    if not column:
        constraint = getattr(exc, "constraint_name", None) or ""
        column = constraint.split("__", 1)[1] if "__" in constraint else constraint or "body"
    column = _COLUMN_FIELDS.get(column, column)
    prefix = _TABLE_FIELDS.get(table)
    return f"{prefix}.{column}" if prefix else column


def _integrity_handler(
    request: Request[Any, Any, Any], exc: asyncpg.IntegrityConstraintViolationError
) -> Response[Any]:
    field = _db_field(exc)
    log.info(
        "integrity_error", sqlstate=exc.sqlstate, constraint=getattr(exc, "constraint_name", None)
    )
    if isinstance(exc, asyncpg.UniqueViolationError):
        return problem(
            "duplicate",
            f"{field}: a resource with this value exists already.",
            request,
            errors=[FieldError(field=field, message="already exists")],
        )
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        if "is still referenced" in (exc.detail or ""):
            return problem(
                "in-use", f"Still referenced from {exc.detail.rsplit(' ', 1)[-1]}", request
            )
        return problem(
            "validation-error",
            f"{field}: refers to a resource that does not exist.",
            request,
            errors=[FieldError(field=field, message="no such resource")],
        )
    return problem(
        "validation-error",
        f"{field}: value not allowed.",
        request,
        errors=[FieldError(field=field, message="value not allowed")],
    )


def _too_deep_handler(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    # Only decoding a request body nests this deep: arrays or objects inside each other
    # beyond what the parser follows.
    return problem("malformed-request", "The request body is nested too deeply.", request)


def _untextual_handler(request: Request[Any, Any, Any], exc: asyncpg.DataError) -> Response[Any]:
    # Text PostgreSQL cannot store (a NUL character) that got past the request check.
    log.info("untextual_input", sqlstate=exc.sqlstate)
    return problem(
        "validation-error",
        "Text may not contain the NUL character (U+0000).",
        request,
        errors=[FieldError(field="body", message="contains a character that cannot be stored")],
    )


class DatabaseUnreachable(Exception):
    """A new connection to PostgreSQL could not be made: it is down, restarting, refusing
    connections or unknown (``service.db``'s pools raise it for the error they met)."""


_UNREACHABLE = (
    DatabaseUnreachable,
    asyncpg.PostgresConnectionError,
    # class 57 but for QueryCanceledError (a statement timeout, answered below)
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.InternalClientError,
)


def _unexpected_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, _UNREACHABLE):
        # no connection to be had, or the one in use lost: the server shut down or restarted,
        # or ended the session (asyncpg's protocol meets that end as an InternalClientError,
        # "cannot switch to state 12", when a query starts before it has read it)
        log.warning("database_unreachable", error=f"{type(exc).__name__}: {exc}")
        return problem(
            "unavailable",
            "The database cannot be reached just now; nothing was done. Try again.",
            request,
            headers={"Retry-After": "2"},
        )
    if isinstance(exc, asyncpg.QueryCanceledError | asyncpg.TooManyConnectionsError):
        log.warning("database_unavailable", error=type(exc).__name__)
        return problem(
            "unavailable",
            "The database did not answer in time; try again.",
            request,
            headers={"Retry-After": "1"},
        )
    if isinstance(exc, asyncpg.DeadlockDetectedError | asyncpg.SerializationError):
        # Two transactions waited on each other's rows: PostgreSQL rolled this one back.
        log.warning("transaction_conflict", error=type(exc).__name__)
        return problem(
            "unavailable",
            "This change collided with a concurrent one and was rolled back: nothing was "
            "written. Try again.",
            request,
            headers={"Retry-After": "1"},
        )
    log.exception("unhandled_error", path=request.url.path)
    rid = request.scope.get("state", {}).get("request_id")
    return problem(
        "internal-error",
        f"Something went wrong on our side. Quote request id {rid} when reporting it.",
        request,
    )


exception_handlers: dict[Any, Any] = {
    ValidationException: _validation_handler,
    DomainError: _domain_handler,
    asyncpg.IntegrityConstraintViolationError: _integrity_handler,
    HTTPException: _http_handler,
    RecursionError: _too_deep_handler,
    asyncpg.CharacterNotInRepertoireError: _untextual_handler,
    asyncpg.UntranslatableCharacterError: _untextual_handler,
    HTTP_500_INTERNAL_SERVER_ERROR: _unexpected_handler,
    Exception: _unexpected_handler,
}


def responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI response declarations for the problems an operation can answer."""
    described = {
        308: "The actor (in the path, or a filter's, for a list it leaves empty) was merged "
        "into another: `Location` is the same URL with the id of the actor that holds its "
        "claims and names now, and `merged_into_id` names it.",
        400: "The body is not valid JSON.",
        401: "No valid API key: send `Authorization: Bearer <key>`.",
        403: "The API key lacks the scope this operation needs.",
        404: "No such resource.",
        409: "Conflicts with the current state (duplicate, or still in use).",
        412: "`If-Match` does not list the current `ETag` (the resource changed since it was "
        "read), or `If-None-Match` is `*` or lists it. Nothing was changed.",
        413: "The request body is too large.",
        422: "A field is invalid; `errors` names each one.",
        501: "Not implemented by this service.",
        503: "Not ready: the database is unreachable or not migrated.",
    }
    return {
        status: ResponseSpec(
            data_container=ProblemDetails,
            description=described[status],
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in statuses
    }


__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "AlreadyMerged",
    "DatabaseUnreachable",
    "DomainError",
    "Duplicate",
    "FieldError",
    "HeldBy",
    "InUse",
    "Invalid",
    "Merged",
    "Missing",
    "NotFound",
    "NotImplementedHere",
    "PreconditionFailed",
    "ProblemDetails",
    "exception_handlers",
    "invalid",
    "problem",
    "responses",
]
