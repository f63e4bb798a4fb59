"""Per-client rate limits: GCRA in process memory, with the IETF draft's ``RateLimit-*`` fields.

Each client — its API key when the request carries one (``scope["state"]["api_key_id"]``, set
by the authentication middleware that runs before this one), otherwise its address — has a
bucket of ``burst`` requests that refills at ``per_minute`` requests a minute. The bucket is
kept as one number, GCRA's *theoretical arrival time* (TAT): the moment the bucket would be
full again. A request is let through when ``TAT + interval`` lies no more than
``burst × interval`` ahead of now, which moves the TAT on by one interval; a refused request
moves nothing. One dictionary look-up a request, and an idle client (its TAT in the past) is
indistinguishable from an unknown one, so idle entries are dropped: a few at the old end of
the LRU order on every request, and the least recently seen beyond ``max_keys`` whatever it
holds.

Every response except ``/health`` and ``/ready`` carries (draft-ietf-httpapi-ratelimit-headers-06)::

    RateLimit-Limit: 100         the bucket's size (burst)
    RateLimit-Remaining: 99      requests that may follow at once
    RateLimit-Reset: 1           seconds until the bucket is full again
    RateLimit-Policy: 100;w=10   burst per the seconds an empty bucket takes to refill

and a refused request is a 429 ``rate-limited`` problem with ``Retry-After`` (whole seconds
until the next request fits). Counters live in this process: N workers allow N times the rate.

Two places see requests: :meth:`RateLimiter.middleware` sits in the route middleware after the
request id and authentication, and is where requests are let through or refused before their
handler runs. Litestar answers a path with no route (404) or a method it does not allow (405)
without running route middleware, and a middleware before this one may answer by itself (a
401): :meth:`RateLimiter.wrap` wraps the whole application and counts those responses against
the client's address after the fact, adding the fields, or replacing the response with the 429
when that address is over its limit.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import problem_message

# Never limited, never counted: a load balancer's or orchestrator's probes.
EXEMPT_PATHS = frozenset({"/health", "/ready"})
# Distinct clients remembered at most (about 200 bytes each).
MAX_KEYS = 100_000
# Idle entries looked at (and dropped) on each request, from the least recently seen end.
SWEEP = 2
# Where a request's decision is kept in ``scope["state"]``.
STATE_KEY = "rate_limit"
# Floating-point slack: 0.1 s intervals do not add up exactly.
_EPSILON = 1e-9

Clock = Callable[[], float]


class Decision(NamedTuple):
    allowed: bool
    remaining: int
    reset: int  # seconds until the bucket is full again
    retry_after: int  # seconds until a refused request would fit (0 when allowed)


def client_key(scope: Scope) -> str:
    """The API key when the request was authenticated with one, otherwise the client address
    (what uvicorn reports: ``X-Forwarded-For`` from a trusted proxy, else the peer)."""
    key_id = scope.get("state", {}).get("api_key_id")
    if key_id:
        return f"key:{key_id}"
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"


def exempt(scope: Scope) -> bool:
    return scope["type"] != ScopeType.HTTP or (scope["path"].rstrip("/") or "/") in EXEMPT_PATHS


class RateLimiter:
    """GCRA buckets by client key, with the ASGI middleware that applies them."""

    def __init__(
        self,
        per_minute: int,
        burst: int,
        *,
        clock: Clock = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        if per_minute < 1 or burst < 1 or max_keys < 1:
            raise ValueError("per_minute, burst and max_keys must be positive")
        self.limit = burst
        self.per_minute = per_minute
        self.interval = 60.0 / per_minute  # seconds one request's token takes to come back
        self.tolerance = burst * self.interval  # how far the TAT may run ahead of now
        self.clock = clock
        self.max_keys = max_keys
        self._tat: OrderedDict[str, float] = OrderedDict()
        self.policy = f"{burst};w={math.ceil(self.tolerance - _EPSILON)}"

    @property
    def clients(self) -> int:
        """How many clients' buckets are held."""
        return len(self._tat)

    def take(self, key: str) -> Decision:
        """Let one request of ``key`` through, or refuse it; O(1)."""
        now = self.clock()
        self._sweep(now)
        tat = max(self._tat.get(key, now), now)
        ahead = tat + self.interval - now  # where the TAT would be, seen from now
        if ahead > self.tolerance + _EPSILON:
            if key in self._tat:
                self._tat.move_to_end(key)  # a refused client is still an active one
            return Decision(
                allowed=False,
                remaining=0,
                reset=math.ceil(tat - now - _EPSILON),
                retry_after=max(1, math.ceil(ahead - self.tolerance - _EPSILON)),
            )
        self._tat[key] = now + ahead
        self._tat.move_to_end(key)
        if len(self._tat) > self.max_keys:
            self._tat.popitem(last=False)
        return Decision(
            allowed=True,
            remaining=math.floor((self.tolerance - ahead) / self.interval + _EPSILON),
            reset=math.ceil(ahead - _EPSILON),
            retry_after=0,
        )

    def _sweep(self, now: float) -> None:
        """Drop up to ``SWEEP`` idle entries (a full bucket) from the least recently seen end.
        An entry's TAT is at most ``tolerance`` past its last request, so the entries that
        stay are those of clients seen within about that long."""
        for _ in range(SWEEP):
            oldest = next(iter(self._tat.items()), None)
            if oldest is None or oldest[1] > now:
                return
            del self._tat[oldest[0]]

    # ------------------------------------------------------------------ HTTP

    def headers(self, decision: Decision) -> list[tuple[bytes, bytes]]:
        fields = [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(decision.remaining).encode()),
            (b"ratelimit-reset", str(decision.reset).encode()),
            (b"ratelimit-policy", self.policy.encode()),
        ]
        if not decision.allowed:
            fields.append((b"retry-after", str(decision.retry_after).encode()))
        return fields

    async def refuse(self, scope: Scope, send: Send, decision: Decision) -> None:
        who = "this API key" if client_key(scope).startswith("key:") else "this client address"
        status, headers, body = problem_message(
            scope,
            "rate-limited",
            f"Too many requests from {who}: at most {self.limit} at once, "
            f"refilled at {self.per_minute} a minute. Retry in {decision.retry_after} s.",
            self.headers(decision),
        )
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Route middleware: let the request through with the ``RateLimit-*`` fields, or answer
        429 without running its handler."""

        async def rate_limit(scope: Scope, receive: Receive, send: Send) -> None:
            if exempt(scope):
                await app(scope, receive, send)
                return
            decision = self.take(client_key(scope))
            scope.setdefault("state", {})[STATE_KEY] = decision
            if not decision.allowed:
                await self.refuse(scope, send, decision)
                return
            fields = self.headers(decision)

            async def send_with_fields(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []), *fields]
                await send(message)

            await app(scope, receive, send_with_fields)

        return rate_limit

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """Around the whole application: a response the route middleware never saw (no route,
        a method not allowed, refused by an earlier middleware) is counted against the client
        address when it starts, carries the fields, and becomes the 429 if over the limit."""

        async def count_the_rest(scope: Scope, receive: Receive, send: Send) -> None:
            if exempt(scope):
                await app(scope, receive, send)
                return
            state: dict[str, Any] = scope.setdefault("state", {})
            replaced = False

            async def send_counted(message: Message) -> None:
                nonlocal replaced
                if replaced:
                    return  # the original response, swallowed in favour of the 429
                if message["type"] == "http.response.start" and STATE_KEY not in state:
                    decision = self.take(client_key(scope))
                    state[STATE_KEY] = decision
                    if not decision.allowed:
                        replaced = True
                        await self.refuse(scope, send, decision)
                        return
                    message["headers"] = [*message.get("headers", []), *self.headers(decision)]
                await send(message)

            await app(scope, receive, send_counted)

        return count_the_rest


def from_settings(per_minute: int, burst: int, *, clock: Clock | None = None) -> RateLimiter | None:
    """The limiter the settings ask for; ``None`` when ``per_minute`` is 0 (no limit)."""
    if per_minute == 0:
        return None
    return RateLimiter(per_minute, burst, clock=clock or time.monotonic)
