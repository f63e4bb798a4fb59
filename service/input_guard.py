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
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

import msgspec
from litestar import Request

from service import db
from service.errors import FieldError, Invalid, msgspec_field_error

NUL_MESSAGE = "Text may not contain the NUL character (U+0000)."
DATE_TIME_MESSAGE = "Expected an RFC 3339 date-time such as 2019-11-24T10:00:00Z."
OUT_OF_RANGE = "Out of range: must fall within the years 1 to 9999 in UTC."


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
    plan = _Plan(data.annotation if data is not None else None, date_times)
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
            errors.append(FieldError(field=query_name, message=OUT_OF_RANGE, location="query"))
    return errors


def _strict(request: Request[Any, Any, Any], body: bytes, body_type: Any) -> list[FieldError]:
    """Decode the body strictly, once: a value of the wrong type is a 422; a good body is
    handed to the handler as decoded here (Litestar takes the decoded JSON it finds on the
    request, and a Struct passes its conversion unchanged), not decoded a second time."""
    try:
        value = msgspec.json.decode(body, type=body_type, strict=True)
    except msgspec.ValidationError as exc:
        return [msgspec_field_error(exc)]
    except (msgspec.DecodeError, RecursionError):
        return []  # not JSON: the handler's own parse answers 400
    request._json = request._connection_state.json = value
    return []


async def check_request(request: Request[Any, Any, Any]) -> None:
    """``before_request`` hook: a 422 for a NUL in a query parameter or a JSON body string,
    for a date-time query parameter that is not RFC 3339, and for a body value of the wrong
    type."""
    errors = [
        FieldError(field=name.replace("\x00", "\\u0000"), message=NUL_MESSAGE, location="query")
        for name, value in request.query_params.multi_items()
        if "\x00" in name or "\x00" in value
    ]
    plan = _plan(request)
    if not errors and plan.date_times:
        errors = _date_time_errors(request, plan.date_times)
    if request.method in ("POST", "PUT", "PATCH"):
        body = await request.body()  # kept on the request: the handler does not read it again
        if b"\\u0000" in body:  # a raw NUL byte is not valid JSON; the escape is
            try:
                decoded = msgspec.json.decode(body)
            except (msgspec.DecodeError, RecursionError):
                decoded = None  # the handler's own parse reports what is wrong with it
            errors += [
                FieldError(field=path.replace("\x00", "\\u0000"), message=NUL_MESSAGE)
                for path in _nul_paths(decoded)
            ]
        if not errors and body and plan.body_type is not None:
            errors = _strict(request, body, plan.body_type)
    if errors:
        raise Invalid(errors)
