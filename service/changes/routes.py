"""GET /v1/changes: the change feed. HTTP only; SQL lives in ``queries``."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from litestar import Response, get
from litestar.datastructures import ResponseHeader
from litestar.openapi.spec import Example
from litestar.params import QueryParameter

from service.changes import queries
from service.changes.schemas import ChangePage
from service.deps import Request
from service.errors import Invalid, in_words, invalid, responses
from service.pagination import Limit, decode_cursor, encode_cursor

TYPES = queries.TYPES
_TYPE = "|".join(TYPES)
# (a constant: annotations are read late, and the words must be known before any request)
TYPES_PATTERN = in_words(
    rf"^({_TYPE})(,({_TYPE}))*\Z",
    "Expected one or more of " + ", ".join(TYPES) + ", comma-separated (such as claim,dispute)",
)
CURSOR_KIND = "changes"
START: queries.Position = (0, 0)
NOW = "now"
_MAX_TXID = 2**64 - 1  # xid8
_MAX_ID = 2**63 - 1  # bigint

LINK_HEADER = ResponseHeader(
    name="Link",
    value='</v1/changes?after=WyJjaGFuZ2VzIiwyOTQ1LDQyXQ&types=claim%2Cdispute>; rel="next"',
    documentation_only=True,
    required=True,
    description='The next poll\'s URL, as `rel="next"` (RFC 8288): the same filters, '
    "`after` set to `next_cursor`.",
)


def _position(after: str | None) -> queries.Position:
    if after is None:
        return START
    try:
        txid, event_id = decode_cursor(after, CURSOR_KIND, int, int)
        if not (0 <= txid <= _MAX_TXID and 0 <= event_id <= _MAX_ID):
            raise ValueError(after)
    except (Invalid, ValueError):
        raise invalid(
            "after", "Not a cursor of the change feed; pass back a next_cursor unchanged.", "query"
        ) from None
    return txid, event_id


@get(
    "/v1/changes",
    operation_id="list_changes",
    summary="The change feed",
    tags=["changes"],
    description="Every create, update and delete (and any other change, such as a merge) of "
    "actors, sources, claims, disputes and reviews, each once, with the key that made it. "
    "Store `next_cursor` and send it back as `after`: a client that does so sees every change "
    "exactly once and in the same order, across its restarts and whatever the concurrency of "
    "the writers. The order is that of the writing transactions (by transaction id), the "
    "events of one transaction together. An event is listed once its transaction has ended, "
    "so a transaction still open anywhere on the database server holds the feed back until it "
    "ends (seconds at most for the service's own writes). `has_more: true`: ask again at once; "
    "`false`: you are up to date, poll again in a few seconds. An empty page still carries "
    "`next_cursor`, so polling never loses the place. Two transactions racing on one resource "
    "may list its versions out of order: keep the highest `version` you have seen.",
    response_headers=[LINK_HEADER],
    responses=responses(422),
)
async def list_changes(
    request: Request,
    after: Annotated[
        str | None,
        QueryParameter(
            max_length=200,
            description="`next_cursor` of the previous poll; omit to start from the first "
            "change ever recorded, or `now` for an empty page whose `next_cursor` is the "
            "current position (to follow new changes without reading the history).",
            examples=[
                Example(summary="A stored cursor", value="WyJjaGFuZ2VzIiwyOTQ1LDQyXQ"),
                Example(summary="From now on", value="now"),
            ],
        ),
    ] = None,
    types: Annotated[
        str | None,
        QueryParameter(
            pattern=TYPES_PATTERN,
            description="Comma-separated resource types to list (default: all): "
            + ", ".join(f"`{t}`" for t in TYPES)
            + ".",
            examples=[Example(summary="Claims and disputes", value="claim,dispute")],
        ),
    ] = None,
    resource_id: Annotated[
        UUID | None, QueryParameter(description="Only the changes of this one resource.")
    ] = None,
    limit: Limit = 50,
) -> Response[ChangePage]:
    now = after == NOW
    position = START if now else _position(after)
    wanted = TYPES if types is None else tuple(t for t in TYPES if t in types.split(","))
    async with request.pool.acquire() as conn:
        # `now`: no type read, only the horizon, which is where the next poll starts
        found = await queries.read(conn, () if now else wanted, position, resource_id, limit + 1)
    if position[0] > found.head:
        # A position this database has not reached: a cursor from another database, or one
        # restored from a backup older than the cursor. Kept, it would read nothing until the
        # server's transaction ids caught up, then skip every change made meanwhile.
        raise invalid(
            "after",
            "This cursor is ahead of this feed: it comes from another database, or this one "
            "was restored from a backup older than the cursor. Start again: omit `after` to "
            "read every change, or send `now` to follow new ones.",
            "query",
        )
    has_more = len(found.events) > limit
    events = found.events[:limit]
    if has_more:
        next_position = events[-1][1]
    else:
        # Every matching event before the horizon has been returned, and every event still
        # to come is after (horizon, 0): skip there, so that the next poll does not walk past
        # other types' events again. Never backwards.
        next_position = max(position, (found.horizon, 0))
    next_cursor = encode_cursor(CURSOR_KIND, *next_position)
    query = {"after": next_cursor}
    if types is not None:
        query["types"] = ",".join(wanted)
    if resource_id is not None:
        query["resource_id"] = str(resource_id)
    query["limit"] = str(limit)
    return Response(
        ChangePage(data=[e for e, _ in events], next_cursor=next_cursor, has_more=has_more),
        headers={"Link": f'</v1/changes?{urlencode(query)}>; rel="next"'},
    )
