"""Opaque keyset cursors and the list parameters every list endpoint shares.

A cursor is the sort key of the last row a page returned, tagged with the list it belongs to,
base64url-encoded. Clients treat it as opaque; the next page starts strictly after that key,
so a walk sees every row once, whatever is inserted meanwhile, and no OFFSET is ever used.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar
from uuid import UUID

import msgspec
from litestar import Response
from litestar.params import QueryParameter

from service.errors import invalid

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

Limit = Annotated[
    int,
    QueryParameter(
        ge=1,
        le=MAX_LIMIT,
        description=f"Page size, 1 to {MAX_LIMIT}.",
    ),
]
Cursor = Annotated[
    str | None,
    QueryParameter(
        max_length=200,
        description="`next_cursor` of the previous page; omit for the first page.",
    ),
]

T = TypeVar("T")


def encode_cursor(kind: str, *key: Any) -> str:
    raw = msgspec.json.encode([kind, *[str(k) if isinstance(k, UUID) else k for k in key]])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, kind: str, *types: type) -> tuple[Any, ...]:
    """The key inside ``cursor``; a 422 naming ``cursor`` if it is not one of this list's."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = msgspec.json.decode(raw)
        if not isinstance(value, list) or len(value) != len(types) + 1 or value[0] != kind:
            raise ValueError(cursor)
        return tuple(t(v) for t, v in zip(types, value[1:], strict=True))
    except (ValueError, TypeError, binascii.Error, msgspec.DecodeError):
        raise invalid(
            "cursor", "Not a cursor of this list; pass back a next_cursor unchanged.", "query"
        ) from None


def json_page(documents: bytes, next_cursor: str | None) -> bytes:
    """``{"data": [...], "next_cursor": ...}`` around ``documents`` (JSON documents PostgreSQL
    wrote, comma-separated), compacted without decoding them: a page of 50 claims costs a fifth
    of decoding them into structs and encoding those. The documents' keys must come in their
    struct's order (as the SQL writes them), so that a page reads the same as the struct would
    encode it."""
    cursor = b"null" if next_cursor is None else f'"{next_cursor}"'.encode()  # base64url
    return compact_json(b'{"data":[' + documents + b'],"next_cursor":' + cursor + b"}")


def json_page_response(
    rows: Sequence[tuple[UUID, str | None]], limit: int, kind: str
) -> Response[Any]:
    """The page of ``(id, JSON)`` rows, fetched ``limit + 1`` and newest first by id, as sent
    (a row without JSON is not on it, though the cursor may go by its id)."""
    data, next_cursor = page(list(rows), limit, kind, lambda row: (row[0],))
    documents = ",".join(text for _, text in data if text is not None).encode()
    return Response(json_page(documents, next_cursor), media_type="application/json")


def documents_page_response(documents: bytes, kind: str, last: UUID | None) -> Response[Any]:
    """A page of ``documents`` (comma-separated JSON), with a cursor past ``last`` when a next
    page exists."""
    next_cursor = None if last is None else encode_cursor(kind, last)
    return Response(json_page(documents, next_cursor), media_type="application/json")


def compact_json(text: str | bytes) -> bytes:
    """JSON PostgreSQL wrote (``"key" : value, ...``), without its spaces, not decoded."""
    return msgspec.json.format(text.encode() if isinstance(text, str) else text, indent=-1)


def page(rows: list[T], limit: int, kind: str, key: Any) -> tuple[list[T], str | None]:
    """Trim the extra row fetched to learn whether there is a next page; make its cursor.

    Queries fetch ``limit + 1`` rows; ``key`` maps a row to its sort key (a tuple).
    """
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(kind, *key(rows[-1]))
