"""Who may do what: API keys (``Authorization: Bearer <key>``) and their scopes.

Every request to an operation that needs a scope is checked here, in an ASGI middleware that
runs after routing and before anything reads the body: a 401 or 403 problem answers it before
the handler, the body parser or the idempotency and rate-limit layers do any work. The
scope an operation needs:

- ``opt={"scope": ...}`` on its handler, when given (``None``: public, e.g. ``/health``);
- otherwise ``read`` for GET, HEAD; ``write`` for everything else that changes state;
- OPTIONS and the OpenAPI document (``/schema``) are public.

Scopes nest: ``admin`` includes ``write``, which includes ``read``. With
``CLAIMDESK_PUBLIC_READ`` set, a request *without* an ``Authorization`` header may read; one
that sends a bad key is still a 401 (a typo should not silently turn into anonymous access).

Keys are looked up by their SHA-256 and cached in the process for ``key_cache_seconds``: a
revoked key stops working on other workers within that time (at once on the worker that
revoked it). Expiry is checked on every request.
"""

from __future__ import annotations

import functools
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

import structlog
from litestar import Litestar
from litestar.types import ASGIApp, Receive, Send

from service.errors import send_problem
from service.keys.queries import Credential, digest, lookup

IMPLIED: Final[dict[str, frozenset[str]]] = {
    "read": frozenset({"read"}),
    "write": frozenset({"read", "write"}),
    "admin": frozenset({"read", "write", "admin"}),
}
SAFE_METHODS: Final = frozenset({"GET", "HEAD"})
# A handler ``opt`` key: query parameters the operation does not take are ignored, not a 422
# (``service.input_guard``).
OPEN_QUERY: Final = "open_query"
# Handler keyword arguments for an operation anyone may call (and the document says so).
# Those are reached by links, browsers and monitors, which add parameters of their own
# (`utm_source` on a shared card's link, a cache buster on a probe): they are ignored there.
PUBLIC: Final[dict[str, Any]] = {"security": [], "opt": {"scope": None, OPEN_QUERY: True}}
ADMIN: Final[dict[str, Any]] = {"opt": {"scope": "admin"}}
SECURITY_SCHEME = "apiKey"
_REALM = 'Bearer realm="claimdesk"'


@functools.cache
def granted(scopes: tuple[str, ...]) -> frozenset[str]:
    """Every scope a key holds, the implied ones included (kept: keys share a few sets)."""
    return frozenset().union(*(IMPLIED.get(s, frozenset()) for s in scopes))


def required_scope(scope: Any) -> str | None:
    method = scope["method"]
    if method == "OPTIONS" or scope["path"].startswith("/schema"):
        return None
    handler = scope.get("route_handler")
    opt = getattr(handler, "opt", None) or {}
    if "scope" in opt:
        needed: str | None = opt["scope"]
        return needed
    return "read" if method in SAFE_METHODS else "write"


class KeyCache:
    """Recent look-ups by key digest, unknown keys included (so a stream of made-up keys costs
    one query each per TTL, not per request); bounded, oldest dropped first."""

    def __init__(
        self, ttl: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[bytes, tuple[float, Credential | None]] = OrderedDict()

    def get(self, key: bytes) -> tuple[bool, Credential | None]:
        entry = self._entries.get(key)
        if entry is None or self.clock() - entry[0] >= self.ttl:
            return False, None
        return True, entry[1]

    def put(self, key: bytes, credential: Credential | None) -> None:
        if self.ttl <= 0:
            return
        self._entries[key] = (self.clock(), credential)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


def _bearer(scope: Any) -> str | None:
    """The ``Authorization`` header as sent (None when absent)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            decoded: str = value.decode("latin-1")
            return decoded
    return None


def auth_middleware(public_read: bool, cache: KeyCache) -> Callable[[ASGIApp], ASGIApp]:
    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Any, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            needed = required_scope(scope)
            header = _bearer(scope)
            if needed is None or (header is None and needed == "read" and public_read):
                await app(scope, receive, send)
                return
            if header is None:
                await send_problem(
                    scope,
                    send,
                    "unauthorized",
                    "This operation needs an API key: send `Authorization: Bearer <key>`.",
                    headers={"WWW-Authenticate": _REALM},
                )
                return
            kind, _, token = header.strip().partition(" ")
            token = token.strip()
            if kind.lower() != "bearer" or not token or " " in token:
                await _refuse(scope, send, "The Authorization header must be `Bearer <key>`.")
                return
            secret_digest = digest(token)
            hit, credential = cache.get(secret_digest)
            if not hit:
                async with Litestar.from_scope(scope).state.pool.acquire() as conn:
                    credential = await lookup(conn, secret_digest)
                cache.put(secret_digest, credential)
            if credential is None:
                await _refuse(scope, send, "This API key is not valid.")
                return
            if credential.revoked:
                await _refuse(scope, send, "This API key has been revoked.")
                return
            if credential.expires_at is not None and credential.expires_at <= datetime.now(UTC):
                await _refuse(scope, send, "This API key has expired.")
                return
            if needed not in granted(credential.scopes):
                await send_problem(
                    scope,
                    send,
                    "forbidden",
                    f"This operation needs the `{needed}` scope; this key has "
                    f"{', '.join(f'`{s}`' for s in credential.scopes)}.",
                    headers={
                        "WWW-Authenticate": f'{_REALM}, error="insufficient_scope", '
                        f'scope="{needed}"'
                    },
                )
                return
            state = scope.setdefault("state", {})
            key_id = state["api_key_id"] = credential.id_text
            state["api_key_name"] = credential.name
            state["api_key_scopes"] = credential.scopes
            structlog.contextvars.bind_contextvars(api_key_id=key_id)
            await app(scope, receive, send)

        return middleware

    return wrap


async def _refuse(scope: Any, send: Send, detail: str) -> None:
    await send_problem(
        scope,
        send,
        "unauthorized",
        detail,
        headers={"WWW-Authenticate": f'{_REALM}, error="invalid_token"'},
    )
