"""Opaque keyset cursors and the list parameters every list endpoint shares.

A cursor is the sort key of the last row a page returned, tagged with the list it belongs to,
base64url-encoded. Clients treat it as opaque; the next page starts strictly after that key,
so a walk sees every row once, whatever is inserted meanwhile, and no OFFSET is ever used.
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
import string
from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from uuid import UUID

import msgspec
from litestar import Response
from litestar.params import QueryParameter

from service.errors import invalid
from service.responses import EncodedJson
from service.text.normalize import has_letter_or_digit, normalize

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
# The page sizes a list statement is written for (see ``keyset_page_sql``): a page of any other
# size runs the statement of the next size up, cut to its own.
PAGE_SIZES = (10, 20, 50, 100, MAX_LIMIT)

Cursor = Annotated[
    str | None,
    QueryParameter(
        max_length=200,
        description="`next_cursor` of the previous page; omit for the first page.",
    ),
]

T = TypeVar("T")


def searchable(text: str, parameter: str) -> None:
    """A 422 naming ``parameter`` (a list's ``q``, typeahead's ``name``, search's ``q``) when
    ``text`` holds no letter or digit once normalised (empty, white space, punctuation): an
    empty filter, not "no filter"."""
    if not has_letter_or_digit(normalize(text)):
        raise invalid(parameter, "Give at least one letter or digit.", "query")


def encode_cursor(kind: str, *key: Any) -> str:
    raw = msgspec.json.encode([kind, *[str(k) if isinstance(k, UUID) else k for k in key]])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Int4(int):
    """A cursor's key that PostgreSQL holds as ``integer`` (a revision's version): for
    :func:`decode_cursor`, which then refuses a value out of its range."""


# What a cursor's key may be, by the type a list asks for: (the JSON types it may have been
# written as, the range of a number). A key of another type or out of range is a 422 (a
# tampered cursor), never a conversion that fails deeper (UUID(1)) or a value PostgreSQL
# refuses (2**31 for an integer column).
_KEYS: dict[type, tuple[tuple[type, ...], tuple[float, float] | None]] = {
    UUID: ((str,), None),
    str: ((str,), None),
    int: ((int,), (-(2**63), 2**63 - 1)),  # bigint
    Int4: ((int,), (-(2**31), 2**31 - 1)),
    float: ((int, float), None),  # finite: checked below
}


def _key(t: type, value: Any) -> Any:
    kinds, bounds = _KEYS[t]
    if type(value) not in kinds:  # type(): True is an int to isinstance
        raise TypeError(value)
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise ValueError(value)
    if t is float and not math.isfinite(value):
        raise ValueError(value)
    if t is str and "\x00" in value:  # PostgreSQL's text cannot hold it
        raise ValueError(value)
    return int(value) if t is Int4 else t(value)


def decode_cursor(
    cursor: str, kind: str, *types: type, names: frozenset[str] | None = None
) -> tuple[Any, ...]:
    """The key inside ``cursor``; a 422 naming ``cursor`` if it is not one of this list's.
    ``names``: the values its text part can have (search's types of hit), when a list says."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = msgspec.json.decode(raw)
        if not isinstance(value, list) or len(value) != len(types) + 1 or value[0] != kind:
            raise ValueError(cursor)
        key = tuple(_key(t, v) for t, v in zip(types, value[1:], strict=True))
        if names is not None and not all(k in names for k in key if isinstance(k, str)):
            raise ValueError(cursor)
        return key
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


def page_size(limit: int) -> int:
    """The smallest of ``PAGE_SIZES`` that holds ``limit`` rows."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"a page holds 1 to {MAX_LIMIT} rows, not {limit}")
    return next(size for size in PAGE_SIZES if size >= limit)


def keyset_pages(
    filters: dict[str, str], *, rows: str, key: str, document: str, join: str
) -> Callable[[tuple[str, ...], int], str]:
    """``sql(used, size)``: the statement of a page of up to ``size`` of these ``rows`` with
    the ``used`` filters (names of ``filters``, in its order), made once (see
    ``keyset_page_sql``)."""

    @functools.lru_cache(maxsize=1024)
    def sql(used: tuple[str, ...], size: int) -> str:
        return keyset_page_sql(
            filters, used, rows=rows, key=key, size=size, document=document, join=join
        )

    return sql


def keyset_page_sql(
    filters: dict[str, str],
    used: tuple[str, ...],
    *,
    rows: str,
    key: str,
    size: int,
    document: str,
    join: str,
) -> str:
    """The statement of a newest-first page of documents: the ``rows`` (``claims c``) that
    pass the ``used`` filters (names of ``filters``: SQL with ``{0}``, ``{1}``... for their
    parameters, taken from ``$1`` on in that order), at most ``size`` of them (one of
    ``PAGE_SIZES``; the page's own size is the last parameter), by ``key`` descending. It
    answers one row: the page's ``document``s (SQL of ``p.id`` and what ``join`` brings)
    comma-separated, as UTF-8 bytes, and the last id when a next page follows.

    Each set of filters has a statement of its own, written with those filters alone, so that
    PostgreSQL plans it once for the connection and reuses the plan: one statement with every
    filter, each a no-op when its parameter is NULL, had to be planned for its values at every
    request for the right index to be chosen (a quarter to half a millisecond). The LIMIT is
    written in too: a plan made for a LIMIT parameter expects to read a tenth of the table,
    not to stop after a page, and PostgreSQL would keep planning for the values. Written for
    each size a client asks for, a client that varied it would make a statement for each (up
    to ``MAX_LIMIT`` for one set of filters), more than a connection's cache of statements
    holds, each planned anew; written for ``PAGE_SIZES``, there are five at most, and a page
    of 30 reads 51 keys (an index's entries) and builds or reads 30 documents. The keys (one
    more than the page, to tell whether a next page exists) are found first, then the page's
    documents joined in their order, as one value: fifty rows and their text decoded and
    encoded again cost the service more than the rest of the request.
    """
    if size not in PAGE_SIZES:
        raise ValueError(f"not a page size: {size}")
    conditions, n = [], 1
    for name in used:
        arity = len({field for _, field, _, _ in string.Formatter().parse(filters[name]) if field})
        conditions.append(filters[name].format(*(f"${n + i}" for i in range(arity))))
        n += arity
    limit = f"${n}::int"
    # The rows are numbered after the LIMIT: numbered before it, a sort of the matches (a
    # full-text filter's, say) could not keep only the newest but had to order them all.
    return f"""
WITH found AS MATERIALIZED (
    SELECT {key} AS id
    FROM {rows}
    WHERE {" AND ".join(conditions) or "TRUE"}
    ORDER BY {key} DESC
    LIMIT {size + 1}),
page AS MATERIALIZED (SELECT id, row_number() OVER (ORDER BY id DESC) AS n FROM found)
SELECT convert_to(string_agg({document}::text, ',' ORDER BY p.n), 'UTF8'),
       -- the page's last id, when a row follows it: where the next page starts
       (SELECT id FROM page WHERE n = {limit} AND EXISTS (SELECT FROM page WHERE n > {limit}))
FROM page p {join}
WHERE p.n <= {limit}
"""


def documents_page_response(documents: bytes, kind: str, last: UUID | None) -> Response[Any]:
    """A page of ``documents`` (comma-separated JSON), with a cursor past ``last`` when a next
    page exists."""
    next_cursor = None if last is None else encode_cursor(kind, last)
    return EncodedJson(json_page(documents, next_cursor))


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
