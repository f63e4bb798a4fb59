"""Safe retries: a POST sent with an ``Idempotency-Key`` header is done at most once.

A client that did not hear the answer to a POST (timeout, dropped connection) sends it again
with the same key, and gets the first answer back instead of a second resource:

- same key, same request (method, path, query and body): the first response is replayed
  (status, body, ``Content-Type``, ``Location``, ``ETag``) with ``Idempotent-Replayed: true``,
  and nothing is done again;
- same key, another request: 422 ``idempotency-key-reused``; nothing is done;
- same key while the first request is still running: 409 ``idempotency-key-in-use`` with
  ``Retry-After: 1``;
- a malformed key (not 1-255 printable ASCII characters, or several ``Idempotency-Key``
  lines): 422 naming the header;
- a 5xx answer is not kept: the key may be retried. Every other answer (4xx included) is.

Keys are kept per caller: the API key (``scope["state"]["api_key_id"]``, set by the
authentication middleware that runs before this one) or ``anonymous``. They are remembered
for ``idempotency_retention_hours`` (default 24): an older row is ignored, overwritten when
its key comes again, and deleted by the cleanup that runs before each keyed POST (a batch of
the oldest expired rows, found through the ``created_at`` index; each POST stores at most one
row and may delete up to :data:`CLEANUP_BATCH`, so the table never outgrows its retention).

How a keyed POST runs: the whole body is read and hashed, then on ONE pooled connection a
transaction takes ``pg_try_advisory_xact_lock`` on (caller, key) — held already means the
first request is running: 409. Under the lock the stored row is looked up (replay or 422).
Otherwise the request runs with that connection in :data:`service.db.request_connection`, so
its write transaction (``db.transaction``) is a savepoint inside this one; the response is
buffered, stored, and committed together with the work, and only then sent. A 5xx rolls
everything back. Requests without the header, and other methods, pass straight through.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import asyncpg
import structlog
from litestar.enums import ParamType
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIHeader,
    OpenAPIResponse,
    OpenAPIType,
    Schema,
)
from litestar.openapi.spec import Parameter as OpenAPIParameter
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    ReceiveMessage,
    Send,
)
from litestar.types import Scope as ASGIScope

from service import db
from service.errors import FieldError, problem_content, problem_message
from service.pool import Pool
from service.settings import Settings

log = structlog.get_logger("claimdesk.idempotency")

# An HTTP connection scope (litestar.types.Scope also covers websockets, which never get here).
Scope = dict[str, Any]

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# The response headers a replay repeats; the others belong to the exchange (length, request id).
# Cache-Control: an answer holding a secret (a webhook's) says no-store, and so does its replay.
KEPT_HEADERS = (b"content-type", b"location", b"etag", b"cache-control")
# Expired rows deleted before each keyed POST, at most.
CLEANUP_BATCH = 100
ANONYMOUS = "anonymous"

# Printable ASCII, no space at either end (HTTP strips those from a header value anyway).
KEY_PATTERN = r"^[!-~]([ -~]{0,253}[!-~])?\Z"
_KEY = re.compile(KEY_PATTERN)
_HEADER_NAME = HEADER.lower().encode()

CLEANUP = """
DELETE FROM idempotency_keys
WHERE (scope, key) IN (
    SELECT scope, key FROM idempotency_keys
    WHERE created_at < now() - make_interval(hours => $1)
    ORDER BY created_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
"""

LOOKUP = """
SELECT method, path, request_hash, status, headers, body
FROM idempotency_keys
WHERE scope = $1 AND key = $2 AND created_at >= now() - make_interval(hours => $3)
"""

# An expired row of the same key may still be there (not yet cleaned up): it is replaced.
STORE = """
INSERT INTO idempotency_keys (scope, key, method, path, request_hash, status, headers, body)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (scope, key) DO UPDATE SET
    method = EXCLUDED.method, path = EXCLUDED.path, request_hash = EXCLUDED.request_hash,
    status = EXCLUDED.status, headers = EXCLUDED.headers, body = EXCLUDED.body,
    created_at = now()
"""


def caller_scope(scope: Scope) -> str:
    """Whose keys these are: the API key's id, or ``anonymous``."""
    api_key_id = scope.get("state", {}).get("api_key_id")
    return str(api_key_id) if api_key_id else ANONYMOUS


def lock_key(caller: str, key: str) -> int:
    """The 64-bit advisory lock id of (caller, key)."""
    digest = hashlib.sha256(b"idempotency\0" + caller.encode() + b"\0" + key.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def request_hash(method: str, path: str, query_string: bytes, body: bytes) -> bytes:
    """SHA-256 over what makes two requests the same request."""
    digest = hashlib.sha256()
    for part in (method.encode(), _text(path).encode(), query_string):
        digest.update(len(part).to_bytes(8, "big") + part)
    digest.update(body)
    return digest.digest()


def _text(path: str) -> str:
    """``path`` as text PostgreSQL can store (no lone surrogates, no NUL)."""
    return path.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\x00")


@dataclass
class _Response:
    status: int = 500
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: list[bytes] = field(default_factory=list)

    async def send(self, send: Send) -> None:
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": self.status,
            "headers": self.headers,
        }
        body: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": b"".join(self.body),
            "more_body": False,
        }
        await send(start)
        await send(body)


def _with_length(headers: list[tuple[bytes, bytes]], body: bytes) -> list[tuple[bytes, bytes]]:
    return [*headers, (b"content-length", str(len(body)).encode())]


def _problem(
    scope: Scope,
    slug: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> _Response:
    extra = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    status, raw_headers, body = problem_message(scope, slug, detail, extra, errors=errors)
    return _Response(status, raw_headers, [body])


# POSTs whose answer must not be stored: an API key is shown once and kept only as a hash, so
# the answer that holds it cannot be kept for a replay.
NOT_REPLAYABLE = frozenset({"/v1/api-keys"})
NOT_REPLAYABLE_DETAIL = (
    "An API key is shown once and never stored, so its creation cannot be replayed: send it "
    "without Idempotency-Key. If an answer was lost, list the keys, revoke the one you did not "
    "receive, and create another."
)


def _key_from(scope: Scope) -> str | _Response | None:
    """The request's key; None without the header; a 422 problem when it is malformed (or
    sent where no answer may be kept)."""
    values = [value for name, value in scope["headers"] if name == _HEADER_NAME]
    if not values:
        return None
    if scope["path"].rstrip("/") in NOT_REPLAYABLE:
        return _problem(
            scope,
            "validation-error",
            f"{HEADER}: {NOT_REPLAYABLE_DETAIL}",
            errors=[FieldError(field=HEADER, message=NOT_REPLAYABLE_DETAIL, location="header")],
        )
    key: str = values[0].decode("latin-1")
    if len(values) == 1 and _KEY.fullmatch(key):
        return key
    why = (
        "Send one Idempotency-Key header."
        if len(values) > 1
        else "Must be 1 to 255 printable ASCII characters, not starting or ending with a "
        "space (a UUID makes a good key)."
    )
    return _problem(
        scope,
        "validation-error",
        f"{HEADER}: {why}",
        errors=[FieldError(field=HEADER, message=why, location="header")],
    )


async def _read_body(receive: Receive, limit: int) -> tuple[list[ReceiveMessage], bool]:
    """The request's body messages, and whether the body is complete within ``limit`` bytes
    (False: too large, or the client went away; the messages read so far are returned)."""
    messages: list[ReceiveMessage] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, False
        size += len(message.get("body", b""))
        if size > limit:
            return messages, False
        if not message.get("more_body", False):
            return messages, True


def _replaying(messages: list[ReceiveMessage], receive: Receive) -> Receive:
    """A ``receive`` that gives ``messages`` first, then whatever the client sends next."""
    pending = list(messages)

    async def replay() -> ReceiveMessage:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


class _Discard(Exception):
    """Leaves the transaction with a rollback, carrying the response to send."""

    def __init__(self, response: _Response) -> None:
        super().__init__()
        self.response = response


def idempotency_middleware(settings: Settings) -> Callable[[ASGIApp], ASGIApp]:
    """The middleware factory for ``Litestar(middleware=[...])``."""
    retention = settings.idempotency_retention_hours
    max_body = settings.max_body_bytes

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Any, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["method"] != "POST":
                await app(scope, receive, send)
                return
            key = _key_from(scope)
            if key is None:
                await app(scope, receive, send)
                return
            if isinstance(key, _Response):
                await key.send(send)
                return
            messages, complete = await _read_body(receive, max_body)
            if not complete:
                # Too large (the app answers 413) or abandoned: nothing to do or to keep.
                await app(scope, _replaying(messages, receive), send)
                return
            body = b"".join(m["body"] for m in messages if m["type"] == "http.request")
            response = await _run(
                app, scope, _replaying(messages, receive), key, body, retention=retention
            )
            await response.send(send)

        return middleware

    return wrap


async def _run(
    app: ASGIApp, scope: Scope, receive: Receive, key: str, body: bytes, *, retention: int
) -> _Response:
    caller = caller_scope(scope)
    path = _text(scope["path"])
    digest = request_hash(scope["method"], scope["path"], scope.get("query_string", b""), body)
    pool: Pool = scope["litestar_app"].state.pool
    try:
        async with pool.acquire() as conn:
            await conn.execute(CLEANUP, retention, CLEANUP_BATCH)
            async with conn.transaction():
                if not await conn.fetchval(
                    "SELECT pg_try_advisory_xact_lock($1)", lock_key(caller, key)
                ):
                    raise _Discard(
                        _problem(
                            scope,
                            "idempotency-key-in-use",
                            f"A request with this {HEADER} is still being processed; retry "
                            "shortly to get its response.",
                            headers={"Retry-After": "1"},
                        )
                    )
                stored = await conn.fetchrow(LOOKUP, caller, key, retention)
                if stored is not None:
                    raise _Discard(_stored(scope, stored, path, digest))
                response = await _capture(app, scope, receive, conn)
                if response.status >= 500:
                    raise _Discard(response)
                payload = b"".join(response.body)
                kept = [
                    [name.decode("latin-1"), value.decode("latin-1")]
                    for name, value in response.headers
                    if name.lower() in KEPT_HEADERS
                ]
                await conn.execute(
                    STORE,
                    caller,
                    key,
                    scope["method"],
                    path,
                    digest,
                    response.status,
                    kept,
                    payload,
                )
                return response
    except _Discard as discard:
        return discard.response


def _stored(scope: Scope, stored: asyncpg.Record, path: str, digest: bytes) -> _Response:
    """The replay of a stored response, or a 422 when the key was used for another request."""
    if stored["request_hash"] != digest:
        if (stored["method"], stored["path"]) != (scope["method"], path):
            what = f"{stored['method']} {stored['path']}"
        else:
            what = "a different query or body"
        return _problem(
            scope,
            "idempotency-key-reused",
            f"This {HEADER} was first used for {what}. A key names one request: send a new "
            "key for a new request.",
            errors=[
                FieldError(field=HEADER, message="used for another request", location="header")
            ],
        )
    log.info("idempotent_replay", status=stored["status"])
    headers = [
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in stored["headers"]
    ]
    headers.append((REPLAYED_HEADER.lower().encode(), b"true"))
    return _Response(stored["status"], _with_length(headers, stored["body"]), [stored["body"]])


async def _capture(
    app: ASGIApp, scope: Scope, receive: Receive, conn: asyncpg.Connection
) -> _Response:
    """Run the request on ``conn``'s transaction, buffering its response."""
    response = _Response()

    async def buffer(message: Any) -> None:
        if message["type"] == "http.response.start":
            response.status = message["status"]
            response.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            response.body.append(message.get("body", b""))

    token = db.request_connection.set(conn)
    try:
        await app(cast(ASGIScope, scope), receive, buffer)
    finally:
        db.request_connection.reset(token)
    return response


# ------------------------------------------------------------------------- OpenAPI

PARAMETER_DESCRIPTION = (
    "Optional. Makes the POST safe to retry: 1 to 255 printable ASCII characters, unique per "
    "request (a UUID). Sent again with the same request (method, path, query and body), it "
    "answers the first response again (`Idempotent-Replayed: true`) without doing the work "
    "twice; with another request, 422; while the first is still running, 409 with "
    "`Retry-After`. 5xx answers are not kept. Keys are kept per API key for at least 24 hours."
)
REPLAYED_DESCRIPTION = (
    "`true` when this is the stored response to an earlier request with the same "
    "`Idempotency-Key`, replayed; absent otherwise."
)
IN_PROGRESS = (
    "a request with the same `Idempotency-Key` is still running (`Retry-After` says when to retry)."
)
REUSED = "the `Idempotency-Key` is malformed, or was used for another request."


def document(openapi: OpenAPI) -> None:
    """Document the header, the replay marker and the 409/422 on every POST operation (but
    those whose answer may not be kept)."""
    for path, path_item in (openapi.paths or {}).items():
        operation = path_item.post
        if operation is None or path in NOT_REPLAYABLE:
            continue
        operation.parameters = [
            *(operation.parameters or []),
            OpenAPIParameter(
                name=HEADER,
                param_in=ParamType.HEADER,
                required=False,
                description=PARAMETER_DESCRIPTION,
                schema=Schema(
                    type=OpenAPIType.STRING,
                    min_length=1,
                    max_length=255,
                    pattern=KEY_PATTERN,
                ),
            ),
        ]
        responses = operation.responses or {}
        operation.responses = responses
        for status, response in responses.items():
            if status.startswith("2") and isinstance(response, OpenAPIResponse):
                response.headers = {
                    **(response.headers or {}),
                    REPLAYED_HEADER: OpenAPIHeader(
                        schema=Schema(type=OpenAPIType.STRING, enum=["true"]),
                        description=REPLAYED_DESCRIPTION,
                    ),
                }
        retry_after = OpenAPIHeader(
            schema=Schema(type=OpenAPIType.STRING),
            description="Seconds to wait before retrying.",
        )
        conflict = responses.get("409")
        if isinstance(conflict, OpenAPIResponse):
            conflict.description += " Or " + IN_PROGRESS
            conflict.headers = {**(conflict.headers or {}), "Retry-After": retry_after}
        else:
            responses["409"] = OpenAPIResponse(
                description=IN_PROGRESS[0].upper() + IN_PROGRESS[1:],
                headers={"Retry-After": retry_after},
                content=problem_content(),
            )
        invalid = responses.get("422")
        if isinstance(invalid, OpenAPIResponse):
            invalid.description += " Or " + REUSED
        else:
            responses["422"] = OpenAPIResponse(
                description=REUSED[0].upper() + REUSED[1:],
                content=problem_content(),
            )
        operation.responses = dict(sorted(responses.items()))
