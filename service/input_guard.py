"""Checks on every request before its handler parses it.

- Text PostgreSQL cannot store: ``text`` cannot hold the NUL character (U+0000), so a query
  parameter or a JSON string carrying one would fail deep in a query. It is refused here, as a
  422 naming the field, before anything is read or written (the database error is mapped to a
  422 too, as a backstop).
- Types as the document states them: Litestar converts a request body to the handler's Struct
  leniently, so the string ``"null"`` would become a null (silently dropping a claim's
  ``relayed_by_id``) and ``"true"`` a boolean. The body is decoded strictly here instead, and
  a value of the wrong JSON type is a 422 naming the field; the handler is given what was
  decoded here (the body is decoded once). Query parameters are converted
  leniently too: a date-time parameter took a number as seconds since 1970 (``updated_to=0.5``
  was 1970-01-01T00:00:00.5Z); it must be an RFC 3339 string, as the document says.
- Parameters as the document lists them: a query parameter the operation does not take (a
  typo: ``topics=`` for ``topic=``) would be ignored and answer an unfiltered list, one
  sent twice would silently keep its last value, and ``null`` for an id, a date or a kind
  was read as no value (no filter). Each is a 422 naming the parameter. The
  public pages (``auth.PUBLIC``: the embed card, oEmbed, probes, problem types) ignore
  parameters they do not take, as a web page does: links and monitors add their own.
- Bodies as JSON: a body sent as another media type is a 415, an empty body where the
  operation needs one and bytes that are not UTF-8 are a 400 (the JSON parser would raise
  on the latter deep inside the handler's parse).
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime
from typing import Any, NamedTuple, cast

import msgspec
from litestar import Litestar, Request
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.openapi.spec import Parameter as OpenAPIParameter

from service import auth, db, deps, etag
from service.errors import (
    FieldError,
    Invalid,
    Malformed,
    NoEntityTag,
    UnsupportedMediaType,
    msgspec_field_error,
)

NUL_MESSAGE = "Text may not contain the NUL character (U+0000)."
# (a + sent as it is in a query string arrives a space: the offset's + must be sent %2B)
DATE_TIME_MESSAGE = (
    "Expected an RFC 3339 date-time such as 2019-11-24T10:00:00Z or 2019-11-24T13:00:00+03:00 "
    "(in a URL a + is read as a space: write it %2B)."
)


def _nul_paths(value: Any, path: str = "") -> list[str]:
    """JSON paths (``translations[0].text``) of the strings in ``value`` that hold a NUL."""
    if isinstance(value, str):
        return [path or "body"] if "\x00" in value else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                found.append(child)
            found += _nul_paths(item, child)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _nul_paths(item, f"{path}[{i}]")
    return found


class _Plan(NamedTuple):
    """What the checks need to know of a handler, worked out once (its first request)."""

    body_type: Any  # the type of ``data``, or None
    date_times: tuple[str, ...]  # query parameters that take a date-time
    conditions: tuple[etag.Header, ...]  # the condition headers the handler reads (deps)


_plans: dict[int, tuple[Any, _Plan]] = {}


def _plan(request: Request[Any, Any, Any]) -> _Plan:
    handler = request.route_handler
    found = _plans.get(id(handler))
    if found is not None and found[0] is handler:
        return found[1]
    parameters = handler.parsed_fn_signature.parameters
    data = parameters.get("data")
    date_times = tuple(
        getattr(field.kwarg_definition, "query", None) or name
        for name, field in parameters.items()
        if datetime in [field.annotation, *(t.annotation for t in field.inner_types)]
    )
    plan = _Plan(
        data.annotation if data is not None else None,
        date_times,
        handler.opt.get(etag.CONDITION, ()),
    )
    _plans[id(handler)] = (handler, plan)
    return plan


def _date_time_errors(request: Request[Any, Any, Any], names: tuple[str, ...]) -> list[FieldError]:
    """Date-time query parameters that are not RFC 3339 strings (numbers, say)."""
    errors: list[FieldError] = []
    for query_name in names:
        value = request.query_params.get(query_name)
        if value is None:
            continue
        try:
            parsed = msgspec.json.decode(msgspec.json.encode(value), type=datetime, strict=True)
        except msgspec.ValidationError:
            errors.append(FieldError(field=query_name, message=DATE_TIME_MESSAGE, location="query"))
            continue
        if not db.representable(parsed):
            errors.append(FieldError(field=query_name, message=db.OUT_OF_RANGE, location="query"))
    return errors


def _bad_utf8_at(body: bytes) -> int:
    """The offset of the first byte of ``body`` that is not UTF-8."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return 0  # not reached: msgspec found one


def _not_utf8(body: bytes) -> Malformed:
    """The 400 for a body that is not UTF-8, naming its first bad byte: msgspec's offset is
    inside the string it was reading (or none), so the body's own decoding says where (on
    this error path only)."""
    return Malformed(
        f"The request body is not valid UTF-8 (byte {_bad_utf8_at(body)}): send JSON "
        "encoded as UTF-8."
    )


def _strict(request: Request[Any, Any, Any], body: bytes, body_type: Any) -> list[FieldError]:
    """Decode the body strictly, once: a value of the wrong type is a 422; a good body is
    handed to the handler as decoded here (Litestar takes the decoded JSON it finds on the
    request, and a Struct passes its conversion unchanged), not decoded a second time."""
    try:
        value = msgspec.json.decode(body, type=body_type, strict=True)
    except msgspec.ValidationError as exc:
        return [msgspec_field_error(exc, body_type)]
    except UnicodeDecodeError:  # msgspec 0.22
        raise _not_utf8(body) from None
    except (msgspec.DecodeError, RecursionError) as exc:
        if "UTF-8" in str(exc):  # msgspec 0.23: "Invalid UTF-8 encoded string"
            raise _not_utf8(body) from None
        at = _lone_high_surrogate(body) if "truncated" in str(exc) else None
        if at is not None:  # msgspec calls it truncated input
            raise Malformed(
                f"The request body is not valid JSON: {body[at : at + 6].decode()} (byte {at}) "
                "is half of a UTF-16 surrogate pair, without its other half."
            ) from None
        return []  # not JSON: the handler's own parse answers 400
    request._json = request._connection_state.json = value
    return []


# A \uXXXX escape of a high surrogate not followed by one of a low surrogate (msgspec names
# a lone low one itself). Found from its literal \u, so that a large body is not tried at
# every byte.
_HIGH_SURROGATE = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})")


def _lone_high_surrogate(body: bytes) -> int | None:
    """Where the first lone high surrogate escape of ``body`` starts, if it has one: not an
    escaped backslash followed by ``ud800`` (an odd run of backslashes ends in the escape's).
    Only the first few candidates, and runs of a few dozen backslashes, are looked at: this
    names an error better, and a crafted body must not make it walk a megabyte in Python."""
    for found in itertools.islice(_HIGH_SURROGATE.finditer(body), 16):
        start = run = found.start()
        while run > 0 and body[run - 1] == 0x5C and start - run < 64:  # the escapes before
            run -= 1
        if (start - run) % 2 == 0 and (run == 0 or body[run - 1] != 0x5C):
            return start
    return None


class _Query(NamedTuple):
    """An operation's query parameters, from the OpenAPI document."""

    names: frozenset[str]
    repeatable: frozenset[str]  # lists
    typed: frozenset[str]  # not free text: an id, a date, a number, one of a set of values
    integers: dict[str, tuple[Any, Any]]  # each integer's (minimum, maximum), or None


_QUERY: dict[str, _Query] = {}  # by operation id


def learn_parameters(app: Litestar) -> None:
    """Fill the table of every operation's query parameters from ``app``'s OpenAPI document,
    once a process, as the app is made (``service.app``). Read from the document's objects,
    as ``service.openapi.tidy_openapi`` walks them (0.3 ms): turning the document into its
    dict took about 100 ms, and was paid by each worker's first request with a query string
    when the table was made then."""
    if _QUERY:
        return
    for item in (app.openapi_schema.paths or {}).values():
        for method in ("get", "put", "post", "delete", "options", "head", "patch", "trace"):
            operation = getattr(item, method, None)
            if operation is None or operation.operation_id is None:
                continue
            query = [
                p
                for p in operation.parameters or []
                if isinstance(p, OpenAPIParameter) and p.param_in == "query"
            ]
            _QUERY[operation.operation_id] = _Query(
                frozenset(p.name for p in query),
                frozenset(
                    p.name
                    for p in query
                    if isinstance(p.schema, Schema) and p.schema.type == OpenAPIType.ARRAY
                ),
                frozenset(p.name for p in query if not _free_text(p.schema)),
                {p.name: bounds for p in query if (bounds := _integer(p.schema)) is not None},
            )


def _integer(schema: Any) -> tuple[Any, Any] | None:
    """The (minimum, maximum) of an integer's schema, or of one of an integer or null; None
    for another schema."""
    if not isinstance(schema, Schema):
        return None
    if schema.type == OpenAPIType.INTEGER:
        return schema.minimum, schema.maximum
    return next(filter(None, map(_integer, schema.one_of or ())), None)


# A whole number as the parameter's conversion reads one, and that alone: it also took
# `5.0` and `1e1` (as 5 and 10), and refused `05` as no whole number
_WHOLE_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)")
_LEADING_ZERO = re.compile(r"-?0[0-9]+")
# More digits than any integer parameter's bounds have (each is at most 100,000)
_DIGITS = 18


def _free_text(schema: Any) -> bool:
    return (
        isinstance(schema, Schema)
        and schema.type == OpenAPIType.STRING
        and not schema.format
        and not schema.enum
    )


def _query_parameters(request: Request[Any, Any, Any]) -> _Query | None:
    operation_id = request.route_handler.operation_id
    if not isinstance(operation_id, str):
        return None
    return _QUERY.get(operation_id)


def _parameter_errors(request: Request[Any, Any, Any]) -> list[FieldError]:
    """Query parameters the operation does not take, or sends once but got several times."""
    known = _query_parameters(request)
    if known is None:
        return []
    names, repeatable, typed, integers = known
    open_query = request.route_handler.opt.get(auth.OPEN_QUERY, False)
    errors: list[FieldError] = []
    seen: set[str] = set()
    for name, value in request.query_params.multi_items():
        if name not in names:
            if open_query:
                continue
            message = (
                f"Unknown parameter (this operation takes: {', '.join(sorted(names))})."
                if names
                else "Unknown parameter: this operation takes no query parameters."
            )
        elif name in seen and name not in repeatable:
            message = "Sent more than once; send it once."
        elif name in typed and value.lower() == "null":
            # Litestar's lenient conversion reads `null` as no value: `?target_id=null` was
            # no filter at all, answering every claim as if they were the filtered ones
            message = "`null` is not a value of this parameter: leave the parameter out."
        elif name in integers and not _WHOLE_NUMBER.fullmatch(value):
            message = (
                "Expected a whole number without a leading zero (such as 5)"
                if _LEADING_ZERO.fullmatch(value)
                else "Expected a whole number, in digits (such as 20)"
            )
        elif name in integers and len(value) > _DIGITS:
            # past what converting it takes (Python's int of 4,300 digits or more): "Integer
            # value out of range." (the range a number of a few digits is told)
            negative = value.startswith("-")
            bound = integers[name][0 if negative else 1]
            message = (
                f"Expected a whole number of at most {_DIGITS} digits"  # no such bound
                if bound is None
                else f"Expected a whole number, {'at least' if negative else 'at most'} {bound:g}"
            )
        else:
            seen.add(name)
            continue
        if all(e.field != name for e in errors):
            errors.append(FieldError(field=name, message=message, location="query"))
    return errors


_CHARSET = re.compile(r"(?i)(?:^|;)\s*charset\s*=\s*(\"[^\"]*\"|[^;\s]*)")


def _check_media_type(request: Request[Any, Any, Any]) -> None:
    given = request.headers.get("content-type")
    if given is None:
        return  # no type said: read as JSON
    media_type, _, parameters = given.partition(";")
    media_type = media_type.strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        found = _CHARSET.search(parameters)
        charset = found.group(1).strip('"') if found else "utf-8"
        if charset.lower() not in ("utf-8", "utf8", "us-ascii", "ascii"):  # ASCII is UTF-8
            # it was read as UTF-8 all the same: a Latin-1 body's é refused as bad UTF-8
            raise UnsupportedMediaType(
                f"JSON is read as UTF-8 (RFC 8259), not {charset or 'an empty charset'}: "
                "send the body in UTF-8, with charset=utf-8 or no charset."
            )
        return
    hint = (
        " (`curl -d` sends that unless told otherwise: add -H 'Content-Type: application/json')"
        if media_type == "application/x-www-form-urlencoded"
        else ""
    )
    raise UnsupportedMediaType(
        f"The request body must be JSON (Content-Type: application/json), not "
        f"{media_type or 'an empty type'}{hint}."
    )


async def check_request(request: Request[Any, Any, Any]) -> None:
    """``before_request`` hook: a 422 for a NUL in a query parameter or a JSON body string,
    for a date-time query parameter that is not RFC 3339, for a body value of the wrong
    type, and for a malformed condition header (``If-Match``, ``If-None-Match``) the handler
    reads."""
    errors: list[FieldError] = []
    plan = _plan(request)
    if request.scope["query_string"]:  # none on most requests: nothing to parse
        errors = [
            FieldError(field=name.replace("\x00", "\\u0000"), message=NUL_MESSAGE, location="query")
            for name, value in request.query_params.multi_items()
            if "\x00" in name or "\x00" in value
        ]
        if not errors:
            errors = _parameter_errors(request)
        if not errors and plan.date_times:
            errors = _date_time_errors(request, plan.date_times)
    if errors:
        raise Invalid(errors)
    if request.method in ("POST", "PUT", "PATCH") and plan.body_type is not None:
        _check_media_type(request)
        body = await request.body()  # kept on the request: the handler does not read it again
        if not body.strip():
            raise Malformed("This operation needs a JSON body; the request had none.")
        if body.startswith(_BOM):  # "invalid character (byte 0)" said nothing of it
            raise Malformed(
                "The body starts with a byte order mark (U+FEFF), which JSON sent over a "
                "network must not have (RFC 8259 section 8.1): send it without."
            )
        if b"\\u0000" in body:  # a raw NUL byte is not valid JSON; the escape is
            try:
                decoded = msgspec.json.decode(body)
            except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
                decoded = None  # the strict parse below reports what is wrong with it
            errors += [
                FieldError(field=path.replace("\x00", "\\u0000"), message=NUL_MESSAGE)
                for path in _nul_paths(decoded)
            ]
        if not errors:
            errors = _strict(request, body, plan.body_type)
    elif request.method in _WRITES and plan.body_type is None:
        errors = _no_body_errors(await request.body())
    if errors:
        raise Invalid(errors)
    for header in plan.conditions:  # a malformed one is a 422 before the handler does anything
        cast(deps.Request, request).condition(header)  # the app's request class
    if request.method in _WRITES:
        unmet = None if plan.conditions else _untagged_condition(request)
        if unmet is not None and not request.path_params:
            raise NoEntityTag(unmet)  # a POST to a collection, which always exists
        # a write to one resource finds it first (a 404 when it is not there), then is
        # undone with the 412 (service.db.transaction); set on every write, so that none
        # inherits another's (reads open no write transaction)
        db.unmet_condition.set(unmet)


_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_NO_BODY = "This operation takes no body: leave it out."


def _no_body_errors(body: bytes) -> list[FieldError]:
    """An operation that takes no body (a secret's rotation, a redelivery, a delete) given
    one: each member of a JSON object is an unknown field, as in any body, and anything else
    the body as a whole. It was ignored, so a client believed it had sent options the
    operation never read (a CMS developer's walkthrough). Nothing, white space, ``{}`` and
    ``null`` are no body (clients send them for a POST without one)."""
    if body.strip() in (b"", b"{}", b"null"):
        return []
    try:
        sent = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        sent = None
    if isinstance(sent, dict) and sent:
        return [FieldError(field=name, message=_NO_BODY) for name in sent]
    return [FieldError(field="body", message=_NO_BODY)]


_BOM = "\ufeff".encode()


def _untagged_condition(request: Request[Any, Any, Any]) -> etag.Header | None:
    """A write whose route takes no conditions (its resource has no entity tag) sent one
    anyway, and RFC 9110 has a server evaluate it: the header whose condition is false for
    any existing resource, or None. A malformed one is a 422. An ``If-Match`` listing tags
    cannot match (``*``, any current representation, can); ``If-None-Match: *`` fails on
    an existing resource (a list of tags cannot match, so it passes)."""
    headers = request.scope["headers"]
    if_match = etag.read("If-Match", headers)
    if_none_match = etag.read("If-None-Match", headers)
    if if_match is not None and not if_match.any:
        return "If-Match"
    if if_none_match is not None and if_none_match.any:
        return "If-None-Match"
    return None
