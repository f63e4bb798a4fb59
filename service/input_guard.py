"""Checks on every request before its handler parses it: text PostgreSQL cannot store.

PostgreSQL ``text`` cannot hold the NUL character (U+0000): a query parameter or a JSON string
carrying one would fail deep in a query. It is refused here instead, as a 422 naming the field,
before anything is read or written. (The database error is mapped to a 422 too, as a backstop.)
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from service.errors import FieldError, Invalid

NUL_MESSAGE = "Text may not contain the NUL character (U+0000)."


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


async def reject_nul(request: Request[Any, Any, Any]) -> None:
    """``before_request`` hook: a 422 for a NUL in a query parameter or a JSON body string."""
    errors = [
        FieldError(field=name.replace("\x00", "\\u0000"), message=NUL_MESSAGE, location="query")
        for name, value in request.query_params.multi_items()
        if "\x00" in name or "\x00" in value
    ]
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
    if errors:
        raise Invalid(errors)
