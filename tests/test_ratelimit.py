"""Per-client rate limits: the RateLimit-* fields, 429 rate-limited with Retry-After, refill
on a fake clock, one bucket per API key and per client address, exemptions, the off switch,
bounded memory, and the OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from litestar.types import ASGIApp, Receive, Scope, Send

from service.app import create_app
from service.errors import PROBLEM_DESCRIPTIONS
from service.ratelimit import RateLimiter
from service.settings import Settings
from tests.conftest import make_key, serving
from tests.helpers import COMMITTED, problem

FIELDS = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "ratelimit-policy")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def as_client(app: ASGIApp, keys: dict[str, str]) -> ASGIApp:
    """Outermost, like a proxy: ``X-Test-Key: <name>`` sends the real API key of that name
    (``key-one``, ``key-two``, ``writer``), ``X-Test-Address`` sets the client address."""

    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            if b"x-test-key" in headers:
                key = keys[headers[b"x-test-key"].decode()]
                scope["headers"] = [*scope["headers"], (b"authorization", f"Bearer {key}".encode())]
            if b"x-test-address" in headers:
                scope["client"] = (headers[b"x-test-address"].decode(), 40000)
        await app(scope, receive, send)

    return wrapper


Make = Callable[..., Any]
KEY_NAMES = ("key-one", "key-two", "writer")
WRITER = {"x-test-key": "writer"}


@pytest.fixture
async def limited(settings: Settings, database_url: str) -> AsyncIterator[Make]:
    """``await limited(per_minute, burst)``: a client of the app with these limits, on a
    fake clock (``client.clock``). Reads need no key (``CLAIMDESK_PUBLIC_READ``), so
    requests without one are counted by address."""
    opened: list[AsyncTestClient[Litestar]] = []
    keys = {name: await make_key(database_url, "write", name=name) for name in KEY_NAMES}

    async def make(per_minute: int, burst: int = 1) -> AsyncTestClient[Litestar]:
        clock = FakeClock()
        app = create_app(
            Settings(
                database_url=settings.database_url,
                log_format="json",
                log_level="warning",
                rate_limit_per_minute=per_minute,
                rate_limit_burst=burst,
                public_read=True,
            ),
            clock=clock,
        )
        app.asgi_handler = as_client(app.asgi_handler, keys)
        client = AsyncTestClient(app=app)
        await client.__aenter__()
        client.clock = clock  # type: ignore[attr-defined]
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.__aexit__(None, None, None)


def rate(response: httpx.Response) -> tuple[int, int, int, str]:
    h = response.headers
    return (
        int(h["ratelimit-limit"]),
        int(h["ratelimit-remaining"]),
        int(h["ratelimit-reset"]),
        h["ratelimit-policy"],
    )


async def test_every_answer_carries_the_fields_and_remaining_counts_down(limited: Make) -> None:
    client = await limited(60, burst=5)
    seen = [rate(await client.get("/v1/actors")) for _ in range(5)]
    # 60 a minute is one a second: a bucket of 5 that an empty one refills in 5 s
    policy = "5;w=5"
    assert seen == [(5, left, 5 - left, policy) for left in (4, 3, 2, 1, 0)]
    # error answers too: a 404 of a handler, a path with no route, a method not allowed
    client.clock.now += 60
    for response in (
        await client.get("/v1/actors/00000000-0000-0000-0000-000000000000"),
        await client.get("/no/such/path"),
        await client.put("/v1/actors"),
        await client.get("/problems/rate-limited"),
    ):
        assert response.status_code in (200, 404, 405)
        assert all(name in response.headers for name in FIELDS), response.status_code
    assert rate(response)[1] == 1


async def test_past_the_limit_a_429_problem_with_retry_after_and_nothing_written(
    limited: Make, conn: asyncpg.Connection
) -> None:
    client = await limited(60, burst=2)
    for name in ("Russia", "Turkey"):
        created = await client.post(
            "/v1/actors", json={"kind": "state", "name": name}, headers=WRITER
        )
        assert created.status_code == 201, created.text
    refused = await client.post(
        "/v1/actors", json={"kind": "state", "name": "Syria"}, headers=WRITER
    )
    body = problem(refused, 429)
    assert body["type"] == "/problems/rate-limited"
    assert body["title"] == "Too many requests"
    assert body["instance"] == "/v1/actors"
    assert body["request_id"] == refused.headers["x-request-id"]
    assert "this API key" in body["detail"]
    assert refused.headers["retry-after"] == "1"  # one a second: the next token in 1 s
    assert rate(refused) == (2, 0, 2, "2;w=2")
    names = await conn.fetch("SELECT name FROM actors ORDER BY name")
    assert [r["name"] for r in names] == ["Russia", "Turkey"]
    # the refused request cost nothing: once its Retry-After has passed, one more fits
    problem(await client.get("/v1/actors", headers=WRITER), 429)
    client.clock.now += 1
    assert (await client.get("/v1/actors", headers=WRITER)).status_code == 200
    problem(await client.get("/v1/actors", headers=WRITER), 429)
    client.clock.now += 1
    described = await client.get("/problems/rate-limited")
    assert described.json() == {
        "type": "/problems/rate-limited",
        "title": "Too many requests",
        "status": 429,
        "description": PROBLEM_DESCRIPTIONS["rate-limited"],
    }


async def test_the_bucket_refills_with_time(limited: Make) -> None:
    client = await limited(6, burst=3)  # a token every 10 s
    for _ in range(3):
        assert (await client.get("/v1/sources")).status_code == 200
    refused = await client.get("/v1/sources")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "10"
    assert rate(refused)[2] == 30  # full again in 30 s
    client.clock.now += 9.5
    assert (await client.get("/v1/sources")).headers["retry-after"] == "1"  # 0.5 s, rounded up
    client.clock.now += 0.5
    assert rate(await client.get("/v1/sources"))[:3] == (3, 0, 30)
    client.clock.now += 30
    assert rate(await client.get("/v1/sources"))[:3] == (3, 2, 10)


async def test_sub_second_intervals_add_up_exactly(limited: Make) -> None:
    client = await limited(600, burst=100)  # a token every 0.1 s, which floats do not hold
    for expected in range(99, -1, -1):
        assert rate(await client.get("/problems/not-found"))[1] == expected
    assert (await client.get("/problems/not-found")).status_code == 429
    for _ in range(10):
        client.clock.now += 0.1
        response = await client.get("/problems/not-found")
        assert response.status_code == 200, response.headers
        assert (await client.get("/problems/not-found")).status_code == 429


async def test_each_api_key_has_its_own_bucket(limited: Make) -> None:
    client = await limited(60, burst=2)
    one, two = {"x-test-key": "key-one"}, {"x-test-key": "key-two"}
    for _ in range(2):
        assert (await client.get("/v1/claims", headers=one)).status_code == 200
    refused = problem(await client.get("/v1/claims", headers=one), 429)
    assert "this API key" in refused["detail"]
    assert rate(await client.get("/v1/claims", headers=two))[1] == 1
    assert rate(await client.get("/v1/claims"))[1] == 1  # no key: the address's own bucket
    # a key is counted as the key from whatever address it comes
    moved = await client.get("/v1/claims", headers={**one, "x-test-address": "192.0.2.7"})
    assert moved.status_code == 429


async def test_each_client_address_has_its_own_bucket(limited: Make) -> None:
    client = await limited(60, burst=1)
    here, there = {"x-test-address": "192.0.2.1"}, {"x-test-address": "2001:db8::2"}
    assert (await client.get("/v1/disputes", headers=here)).status_code == 200
    assert (await client.get("/v1/disputes", headers=here)).status_code == 429
    assert (await client.get("/v1/disputes", headers=there)).status_code == 200
    assert (await client.get("/v1/disputes", headers=there)).status_code == 429
    # the address's bucket counts paths with no route, and refuses them as well
    assert (await client.get("/nothing/here", headers=here)).status_code == 429
    assert (await client.get("/nothing/here")).status_code == 404


async def test_health_and_readiness_are_neither_limited_nor_counted(limited: Make) -> None:
    client = await limited(1, burst=1)
    for _ in range(5):
        for path in ("/health", "/ready", "/health/"):
            response = await client.get(path)
            assert response.status_code == 200, response.text
            assert not any(name in response.headers for name in FIELDS)
    assert rate(await client.get("/v1/reviews"))[1] == 0  # the first counted request
    assert (await client.get("/v1/reviews")).status_code == 429
    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/ready")).status_code == 200


async def test_zero_per_minute_turns_the_limits_off(limited: Make) -> None:
    client = await limited(0, burst=1)
    for _ in range(20):
        response = await client.get("/v1/actors")
        assert response.status_code == 200
        assert not any(name in response.headers for name in FIELDS)
    assert (await client.get("/no/such/path")).status_code == 404


def test_settings_from_the_environment() -> None:
    default = Settings.from_env({})
    assert (default.rate_limit_per_minute, default.rate_limit_burst) == (600, 100)
    given = Settings.from_env(
        {"CLAIMDESK_RATE_LIMIT_PER_MINUTE": "0", "CLAIMDESK_RATE_LIMIT_BURST": "7"}
    )
    assert (given.rate_limit_per_minute, given.rate_limit_burst) == (0, 7)
    for name, value in (("PER_MINUTE", "-1"), ("BURST", "0"), ("PER_MINUTE", "many")):
        with pytest.raises(SystemExit, match=f"CLAIMDESK_RATE_LIMIT_{name}"):
            Settings.from_env({f"CLAIMDESK_RATE_LIMIT_{name}": value})


def test_memory_is_bounded_and_idle_clients_are_forgotten() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, 5, clock=clock, max_keys=100)
    for i in range(1000):
        assert limiter.take(f"ip:10.0.{i // 256}.{i % 256}").allowed
        assert limiter.clients <= 100
    # the most recently seen are the ones kept: a client still inside its window keeps its count
    for _ in range(4):
        assert limiter.take("ip:10.0.3.231").allowed
    assert not limiter.take("ip:10.0.3.231").allowed
    # once their buckets are full again (5 s), a client's entry goes as others come
    clock.now += 5
    for i in range(60):
        assert limiter.take(f"key:{i}").remaining == 4
    assert limiter.clients == 60
    # without a cap reached, idle entries go too: each request sweeps a few
    limiter = RateLimiter(60, 5, clock=clock)
    for i in range(500):
        limiter.take(f"ip:a{i}")
    clock.now += 5
    for i in range(300):
        limiter.take(f"ip:b{i}")
    assert limiter.clients == 300
    with pytest.raises(ValueError):
        RateLimiter(0, 5)


async def test_a_real_server_sends_the_fields_with_the_default_limits(
    live_url: str, auth: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=live_url, headers=auth) as client:
        response = await client.get("/v1/actors")
        assert response.status_code == 200
        assert rate(response) == (100, 99, 1, "100;w=10")  # 600 a minute, 100 at once
        health = await client.get("/health")
        assert not any(name in health.headers for name in FIELDS)


def test_the_document_states_the_fields_and_the_429_for_every_limited_operation() -> None:
    document = json.loads(COMMITTED.read_text())
    assert set(document["components"]["headers"]) == {
        "RateLimit-Limit",
        "RateLimit-Remaining",
        "RateLimit-Reset",
        "RateLimit-Policy",
    }
    operations = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            if path in ("/health", "/ready"):
                assert "429" not in responses
                assert all(
                    "RateLimit-Limit" not in r.get("headers", {}) for r in responses.values()
                )
                continue
            operations += 1
            limited = responses["429"]
            assert limited["headers"]["Retry-After"]["schema"]["type"] == "integer"
            assert limited["content"]["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/ProblemDetails"
            }
            for status, response in responses.items():
                ref = response["headers"]["RateLimit-Remaining"]["$ref"]
                assert ref == "#/components/headers/RateLimit-Remaining", (method, path, status)
    assert operations > 30


async def test_guessing_keys_is_limited_by_address(limited: Make) -> None:
    """A 401 is answered before the route's limiter runs; the whole-app layer still counts it
    against the address, so keys cannot be tried faster than the limit."""
    client = await limited(60, burst=2)
    guess = {"Authorization": "Bearer cd_" + "x" * 32, "x-test-address": "198.51.100.9"}
    for _ in range(2):
        assert (await client.post("/v1/actors", json={}, headers=guess)).status_code == 401
    refused = await client.post("/v1/actors", json={}, headers=guess)
    assert problem(refused, 429)["type"] == "/problems/rate-limited"


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
async def test_behind_a_trusted_proxy_each_reader_has_a_bucket_of_their_own(database_url, server):
    """A proxy on the same machine (trusted by default, as uvicorn's FORWARDED_ALLOW_IPS has
    it) names the reader in X-Forwarded-For and the scheme in X-Forwarded-Proto. granian,
    the Docker image's server, read neither: every reader shared one bucket, and the card
    named itself http:// behind TLS (found by an operator's walkthrough)."""
    env = {
        "CLAIMDESK_SERVER": server,
        "CLAIMDESK_RATE_LIMIT_PER_MINUTE": "1",
        "CLAIMDESK_RATE_LIMIT_BURST": "2",
    }
    with serving(database_url, env) as url:
        async with httpx.AsyncClient(base_url=url) as anonymous:

            async def statuses(reader: str) -> list[int]:
                forwarded = {"X-Forwarded-For": reader, "X-Forwarded-Proto": "https"}
                return [
                    (await anonymous.get("/problems/not-found", headers=forwarded)).status_code
                    for _ in range(3)
                ]

            assert await statuses("203.0.113.1") == [200, 200, 429]
            assert await statuses("203.0.113.2") == [200, 200, 429]
            host = url.split("://", 1)[1]
            oembed = await anonymous.get(
                "/oembed",
                params={
                    "url": f"https://{host}/embed/disputes/{'0' * 8}-0000-7000-8000-{'0' * 12}"
                },
                headers={"X-Forwarded-For": "203.0.113.3", "X-Forwarded-Proto": "https"},
            )
            # an https URL is this service's own behind the proxy: not found, rather than
            # "not the URL of a dispute on this service"
            assert oembed.status_code == 404 and "No dispute" in oembed.text, oembed.text


def test_the_forwarded_middleware_trusts_only_the_proxies_it_is_told_of():
    """What uvicorn does with FORWARDED_ALLOW_IPS, for granian (service.asgi.Forwarded)."""
    from service.asgi import Forwarded

    seen: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(dict(scope))

    def through(trusted: str, peer: str, *headers: tuple[bytes, bytes]) -> tuple[str, str]:
        scope = {"type": "http", "scheme": "http", "client": (peer, 4000), "headers": list(headers)}
        coroutine = Forwarded(app, trusted)(scope, None, None)
        with pytest.raises(StopIteration):
            coroutine.send(None)
        return seen[-1]["client"][0], seen[-1]["scheme"]

    chain = (b"x-forwarded-for", b"198.51.100.7, 10.1.2.3")
    https = (b"x-forwarded-proto", b"https")
    # a trusted proxy behind another trusted one: the nearest untrusted address is the client
    assert through("127.0.0.1, 10.0.0.0/8", "127.0.0.1", chain, https) == ("198.51.100.7", "https")
    assert through("127.0.0.1", "127.0.0.1", chain, https) == ("10.1.2.3", "https")
    # an untrusted peer's headers are its own claims: ignored
    assert through("127.0.0.1", "203.0.113.5", chain, https) == ("203.0.113.5", "http")
    assert through("*", "203.0.113.5", chain) == ("198.51.100.7", "http")  # all trusted: the first
    # a proto that is not one leaves the scheme as it was
    assert through("127.0.0.1", "127.0.0.1", chain, (b"x-forwarded-proto", b"gopher"))[1] == "http"
