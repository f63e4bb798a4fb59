"""Webhooks: subscriptions (admin only), signed deliveries checked by an independent
implementation, fan-out exactly once per subscription in feed order, retries on a fake clock,
auto-disable, redelivery, a worker killed mid-flight, and the SSRF guard."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import itertools
import json
import select
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
import standardwebhooks
from litestar.testing import AsyncTestClient

from service import db
from service.app import create_app
from service.changes.routes import CURSOR_KIND
from service.pool import Pool
from service.settings import Settings
from service.webhooks import guard, outbox, signing
from service.webhooks.schemas import WebhookEvent
from service.webhooks.worker import Worker
from tests import helpers
from tests.conftest import make_key, serving
from tests.helpers import COMMITTED, fields, problem

MISSING = "01937a5e-8c1d-7d2e-9f4a-3b5c6d7e8f90"

# ------------------------------------------------------------------ a local receiver


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Behaviour = tuple[int, bytes] | str  # (status, body), or "hang"


@dataclass
class Receiver:
    """A tiny HTTP/1.1 server on 127.0.0.1 (asyncio streams, no framework): it records each
    request and answers as ``respond`` says (default 200), or hangs."""

    respond: Callable[[Received], Behaviour] = lambda _: (200, b"ok")
    requests: list[Received] = field(default_factory=list)
    port: int = 0

    async def start(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/claimdesk"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            request = Received(method, path, headers, body)
            self.requests.append(request)
            behaviour = self.respond(request)
            if behaviour == "hang":
                await asyncio.Event().wait()
            assert isinstance(behaviour, tuple)
            status, content = behaviour
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Length: {len(content)}\r\n"
                "Connection: close\r\n\r\n".encode()
                + content
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)

    async def wait_for(self, count: int, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"{len(self.requests)} requests, not {count}"
            await asyncio.sleep(0.05)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


# ------------------------------------------------------------------ fixtures


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The tests' receivers live on 127.0.0.1: private targets allowed (the guard's own tests
    use ``strict`` below, with the default)."""
    return msgspec.structs.replace(settings, webhook_allow_private=True)


@pytest.fixture
async def strict(settings: Settings, auth: dict[str, str]) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """The app with the default settings: private targets refused."""
    app = create_app(msgspec.structs.replace(settings, webhook_allow_private=False))
    async with AsyncTestClient(app=app) as test_client:
        test_client.headers.update(auth)
        yield test_client


@pytest.fixture
async def pool(settings: Settings, database_url: str) -> AsyncIterator[Pool]:
    created = await db.create_pool(settings, database_url)
    try:
        yield created
    finally:
        await created.close()


class Clock:
    """A fake clock: it moves only when a test moves it."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def worker(pool: Pool, settings: Settings, clock: Clock) -> AsyncIterator[Worker]:
    """A worker on the fake clock, with no jitter (each delay is the schedule's)."""
    made = Worker(pool, settings, now=clock, draw=lambda: 1.0)
    try:
        yield made
    finally:
        await made.aclose()


async def subscribe(
    client: Any, url: str, event_types: list[str] | None = None, **more: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/webhooks", json={"url": url, "event_types": event_types or ["*"], **more}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def deliveries(client: Any, webhook_id: str, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/webhooks/{webhook_id}/deliveries", params=params)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def until(condition: Callable[[], Any], seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        result = await condition()
        if result:
            return result
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


# ------------------------------------------------------------------ subscriptions


async def test_create_shows_the_secret_once(client, conn) -> None:
    response = await client.post(
        "/v1/webhooks",
        json={
            "url": "http://127.0.0.1:9/hooks",
            "event_types": ["dispute.*", "claim.update", "claim.create", "claim.update"],
            "description": "newsroom CMS",
        },
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    assert response.headers["location"] == f"/v1/webhooks/{created['id']}"
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    # repeats dropped, documented order
    assert created["event_types"] == ["claim.create", "claim.update", "dispute.*"]
    assert created["enabled"] is True and created["disabled_reason"] is None
    assert created["created_by"] == "test admin"

    one = (await client.get(f"/v1/webhooks/{created['id']}")).json()
    listed = (await client.get("/v1/webhooks")).json()["data"]
    assert "secret" not in one and all("secret" not in w for w in listed)
    assert secret not in json.dumps(one) + json.dumps(listed)
    assert {k: v for k, v in created.items() if k != "secret"} == one
    # Kept as it is (an HMAC needs the key): the README says so.
    assert await conn.fetchval("SELECT secret FROM webhooks") == secret


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://127.0.0.1/", "event_types": []}, "event_types"),
        ({"url": "http://127.0.0.1/", "event_types": ["claim.created"]}, "event_types[0]"),
        ({"url": "http://127.0.0.1/", "event_types": ["claim.merge"]}, "event_types[0]"),
        ({"url": "http://127.0.0.1/"}, "event_types"),
        ({"url": "ftp://127.0.0.1/", "event_types": ["*"]}, "url"),
        ({"url": "http://127.0.0.1/", "event_types": ["*"], "secret": "whsec_x"}, "secret"),
        (
            {"url": "http://127.0.0.1/", "event_types": ["*"], "description": "x" * 501},
            "description",
        ),
    ],
)
async def test_create_refuses_bad_bodies(client, conn, body, field) -> None:
    response = await client.post("/v1/webhooks", json=body)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await conn.fetchval("SELECT count(*) FROM webhooks") == 0


async def test_update_and_delete(client, conn) -> None:
    created = await subscribe(client, "http://127.0.0.1:9/a", ["claim.*"], description="x")
    url = f"/v1/webhooks/{created['id']}"
    response = await client.patch(
        url, json={"url": "http://127.0.0.1:9/b", "event_types": ["review.*"], "description": None}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["url"], body["event_types"], body["description"]) == (
        "http://127.0.0.1:9/b",
        ["review.*"],
        None,
    )
    response = await client.patch(url, json={"enabled": False})
    body = response.json()
    assert body["enabled"] is False
    assert body["disabled_reason"] == "Disabled by test admin."
    assert body["disabled_at"] is not None
    response = await client.patch(url, json={"enabled": True})
    assert response.json()["enabled"] is True and response.json()["disabled_reason"] is None
    for bad in ({"enabled": None}, {"url": None}, {"event_types": ["nope"]}, {"id": created["id"]}):
        assert (await client.patch(url, json=bad)).status_code == 422
    assert (await client.delete(url)).status_code == 204
    assert (await client.get(url)).status_code == 404
    assert (await client.delete(url)).status_code == 404
    assert (await client.patch(url, json={"enabled": False})).status_code == 404
    assert await conn.fetchval("SELECT count(*) FROM webhooks") == 0


async def test_pages_of_webhooks(client) -> None:
    made = [await subscribe(client, f"http://127.0.0.1:9/{n}") for n in range(3)]
    first = (await client.get("/v1/webhooks", params={"limit": 2})).json()
    second = (await client.get("/v1/webhooks", params={"cursor": first["next_cursor"]})).json()
    assert [w["id"] for w in first["data"] + second["data"]] == [w["id"] for w in reversed(made)]
    assert second["next_cursor"] is None
    bad = await client.get("/v1/webhooks", params={"cursor": "garbage"})
    assert bad.status_code == 422


async def test_a_subscription_twice_over_is_a_409(client, conn) -> None:
    """The same URL and event types again (a create retried without an Idempotency-Key) made
    a second subscription, and every event arrived twice under two webhook-ids (a CMS
    developer's walkthrough). Other types to the same URL are a receiver's choice."""
    first = await subscribe(client, "http://127.0.0.1:9/x", ["claim.*", "actor.create"])
    before = await conn.fetch("SELECT * FROM webhooks ORDER BY id")
    # the same types in another order, repeated: the same subscription
    twice = {"url": first["url"], "event_types": ["actor.create", "claim.*", "claim.*"]}
    body = problem(await client.post("/v1/webhooks", json=twice), 409)
    assert body["existing_id"] == first["id"] and fields(body) == {"url"}, body
    assert await conn.fetch("SELECT * FROM webhooks ORDER BY id") == before
    other = await subscribe(client, first["url"], ["claim.*"])  # other types: taken
    # nor can a change make one the twin of another
    before = await conn.fetch("SELECT * FROM webhooks ORDER BY id")
    body = problem(
        await client.patch(
            f"/v1/webhooks/{other['id']}", json={"event_types": ["claim.*", "actor.create"]}
        ),
        409,
    )
    assert body["existing_id"] == first["id"], body
    assert await conn.fetch("SELECT * FROM webhooks ORDER BY id") == before
    same = await client.patch(f"/v1/webhooks/{first['id']}", json={"url": first["url"]})
    assert same.status_code == 200, same.text  # itself is no twin


async def test_a_body_where_none_is_taken_is_a_422(client, conn) -> None:
    """A rotation given a body ignored it, where every body is held to its fields (a CMS
    developer's walkthrough): a client believed it sent options nothing read."""
    hook = await subscribe(client, "http://127.0.0.1:9/x")
    rotate = f"/v1/webhooks/{hook['id']}/rotate-secret"
    before = await conn.fetch("SELECT * FROM webhooks ORDER BY id")
    body = problem(await client.post(rotate, json={"grace_hours": 1}), 422)
    assert fields(body) == {"grace_hours"} and "takes no body" in body["detail"], body
    gone = await client.request("DELETE", f"/v1/webhooks/{hook['id']}", content=b"[1]")
    body = problem(gone, 422)
    assert fields(body) == {"body"}, body
    assert await conn.fetch("SELECT * FROM webhooks ORDER BY id") == before
    for none in (b"", b"{}", b" null "):  # what clients send for a POST without a body
        response = await client.post(
            rotate, content=none, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 200, (none, response.text)


@pytest.mark.parametrize("scope", ["read", "write"])
async def test_webhooks_need_the_admin_scope(settings, database_url, client, scope) -> None:
    created = await subscribe(client, "http://127.0.0.1:9/x")
    key = await make_key(database_url, scope, name="desk")
    base = f"/v1/webhooks/{created['id']}"
    async with AsyncTestClient(app=create_app(settings)) as other:
        other.headers["Authorization"] = f"Bearer {key}"
        for method, path, body in [
            ("POST", "/v1/webhooks", {"url": "http://127.0.0.1:9/y", "event_types": ["*"]}),
            ("GET", "/v1/webhooks", None),
            ("GET", base, None),
            ("PATCH", base, {"enabled": False}),
            ("DELETE", base, None),
            ("POST", f"{base}/rotate-secret", None),
            ("GET", f"{base}/deliveries", None),
        ]:
            response = await other.request(method, path, json=body)
            assert response.status_code == 403, (method, path, response.text)
            assert problem(response, 403)["detail"]
    # nothing was changed
    assert (await client.get(base)).json() == {k: v for k, v in created.items() if k != "secret"}


async def test_an_idempotency_key_replays_a_webhook_write(client, conn, worker) -> None:
    """A lost answer to a creation or a rotation can be had again under the same key (the
    secret included: it is the answer), without a second webhook or another new secret."""
    body = {"url": "http://127.0.0.1:9/x", "event_types": ["*"]}
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    first = await client.post("/v1/webhooks", json=body, headers=headers)
    again = await client.post("/v1/webhooks", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    # the replay holds the secret too: not to be kept by a cache, as the first answer
    assert again.headers["cache-control"] == first.headers["cache-control"] == "no-store"
    assert await conn.fetchval("SELECT count(*) FROM webhooks") == 1
    hook = first.json()

    rotate = f"/v1/webhooks/{hook['id']}/rotate-secret"
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    first = await client.post(rotate, headers=headers)
    again = await client.post(rotate, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json()["secret"] == first.json()["secret"] != hook["secret"]
    assert again.headers["cache-control"] == "no-store"
    assert await conn.fetchval("SELECT secret FROM webhooks") == first.json()["secret"]

    await helpers.actor(client)
    await worker.fan_out()
    delivery_id = await conn.fetchval("SELECT id FROM webhook_deliveries")
    redeliver = f"/v1/webhooks/{hook['id']}/deliveries/{delivery_id}/redeliver"
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    first = await client.post(redeliver, headers=headers)
    again = await client.post(redeliver, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.headers["idempotent-replayed"] == "true"


# ------------------------------------------------------------------ signatures


def test_signing_matches_a_known_vector_and_the_reference_package() -> None:
    # The vector of the Standard Webhooks reference libraries' own tests.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    msg_id, timestamp, body = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signing.sign(secret, msg_id, timestamp, body) == expected
    reference = standardwebhooks.Webhook(secret)
    at = datetime.fromtimestamp(timestamp, UTC)
    assert reference.sign(msg_id, at, body.decode()) == expected


async def test_a_delivery_is_signed_as_standard_webhooks_says(
    client, conn, worker, receiver
) -> None:
    hook = await subscribe(client, receiver.url, ["actor.create"])
    actor = await helpers.actor(client, "Hulusi Akar")
    worker.now = lambda: datetime.now(UTC)  # the reference package checks the time
    assert await worker.run_once() == 1
    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", "/hooks/claimdesk")
    assert request.headers["content-type"] == "application/json"
    # verified by the independent implementation
    payload = standardwebhooks.Webhook(hook["secret"]).verify(request.body, request.headers)
    # and by hand, as a receiver without the package would
    key = base64.b64decode(hook["secret"].removeprefix("whsec_"))
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode()
    digest = base64.b64encode(hmac.new(key, signed + request.body, hashlib.sha256).digest())
    assert request.headers["webhook-signature"] == "v1," + digest.decode()
    # a tampered body fails
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(hook["secret"]).verify(request.body + b" ", request.headers)
    # the body is what the document's `webhooks` says, field for field and byte for byte
    assert msgspec.json.encode(msgspec.json.decode(request.body, type=WebhookEvent)) == request.body
    document = json.loads(COMMITTED.read_text())
    body_schema = document["webhooks"]["change"]["post"]["requestBody"]["content"]
    assert body_schema["application/json"]["schema"]["$ref"].endswith("/WebhookEvent")

    event = await conn.fetchrow("SELECT * FROM change_events")
    delivery = await conn.fetchrow("SELECT * FROM webhook_deliveries")
    assert request.headers["webhook-id"] == f"msg_{delivery['id'].hex}"
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
    assert payload["type"] == "actor.create"
    assert payload["timestamp"] == event["occurred_at"].isoformat().replace("+00:00", "Z")
    data = payload["data"]
    assert data["event_id"] == event["id"]
    assert (data["resource"], data["id"], data["action"], data["version"]) == (
        "actor",
        actor["id"],
        "create",
        1,
    )
    assert data["changed_by"] == "test admin" and data["key_id"] == str(event["key_id"])
    assert data["path"] == f"/v1/actors/{actor['id']}"
    # feed_cursor is a change feed cursor just past this event
    russia = await helpers.actor(client, "Russia", kind="state")
    after = (await client.get("/v1/changes", params={"after": data["feed_cursor"]})).json()
    assert [e["resource_id"] for e in after["data"]] == [russia["id"]]
    assert outbox.FEED_CURSOR_KIND == CURSOR_KIND
    log = await deliveries(client, hook["id"])
    assert log[0]["status"] == "succeeded" and log[0]["attempts"][0]["status_code"] == 200
    assert log[0]["message_id"] == request.headers["webhook-id"]
    assert log[0]["payload"] == payload
    # the log holds the body as sent, its keys in the order signed: a receiver can check a
    # signature against it (the stored text once came back through jsonb, keys reordered)
    for path in (
        f"/v1/webhooks/{hook['id']}/deliveries",
        f"/v1/webhooks/{hook['id']}/deliveries/{log[0]['id']}",
    ):
        response = await client.get(path)
        assert b'"payload":' + request.body in response.content, response.text


async def test_a_rotated_secret_signs_alongside_the_old_one_for_a_day(
    client, conn, worker, receiver
) -> None:
    hook = await subscribe(client, receiver.url)
    response = await client.post(f"/v1/webhooks/{hook['id']}/rotate-secret")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    rotated = response.json()
    assert rotated["secret"] != hook["secret"] and rotated["previous_secret_expires_at"]
    await helpers.actor(client)
    worker.now = lambda: datetime.now(UTC)
    await worker.run_once()
    [request] = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (rotated["secret"], hook["secret"]):
        standardwebhooks.Webhook(secret).verify(request.body, request.headers)
    # a day later only the new secret signs
    await conn.execute("UPDATE webhooks SET previous_secret_expires_at = now() - interval '1 s'")
    await client.post(
        f"/v1/webhooks/{hook['id']}/deliveries/{(await deliveries(client, hook['id']))[0]['id']}/redeliver"
    )
    await worker.run_once()
    last = receiver.requests[-1]
    assert " " not in last.headers["webhook-signature"]
    standardwebhooks.Webhook(rotated["secret"]).verify(last.body, last.headers)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(hook["secret"]).verify(last.body, last.headers)
    assert (await client.post(f"/v1/webhooks/{MISSING}/rotate-secret")).status_code == 404


# ------------------------------------------------------------------ fan-out


async def feed_order(conn: asyncpg.Connection) -> list[int]:
    rows = await conn.fetch("SELECT id FROM change_events ORDER BY txid, id")
    return [r["id"] for r in rows]


async def test_fan_out_is_exactly_once_per_subscription_in_feed_order(
    client, conn, pool, settings, clock, receiver
) -> None:
    await helpers.actor(client, "before any webhook")  # not delivered: before the subscriptions
    everything = await subscribe(client, receiver.url, ["*"])
    claims = await subscribe(client, receiver.url, ["claim.*", "actor.merge"])
    creations = await subscribe(client, receiver.url, ["actor.create", "source.create"])
    before = set(await feed_order(conn))

    # A transaction held open across fan-outs: its event comes once it commits, once.
    held = await asyncpg.connect(settings.database_url)
    held_tx = held.transaction()
    await held_tx.start()
    held_id = await held.fetchval(
        "INSERT INTO change_events (resource, resource_id, action, version, changed_by) "
        "VALUES ('claim', gen_random_uuid(), 'update', 2, 'held') RETURNING id"
    )

    async def write(n: int) -> None:
        actor = await helpers.actor(client, f"writer {n}")
        source = await helpers.source(client)
        claim = await helpers.create(
            client,
            "claims",
            {
                "speaker_id": actor["id"],
                "text": f"claim {n}",
                "lang": "en",
                "appearances": [{"source_id": source["id"]}],
            },
        )
        await client.patch(f"/v1/claims/{claim['id']}", json={"text": f"claim {n} again"})
        if n % 2:
            other = await helpers.actor(client, f"duplicate {n}")
            response = await client.post(
                f"/v1/actors/{other['id']}/merge", json={"into_id": actor["id"]}
            )
            assert response.status_code == 200, response.text

    workers = [Worker(pool, settings, now=clock) for _ in range(3)]
    try:

        async def fan_out_a_while() -> None:
            for _ in range(15):
                await asyncio.gather(*(w.fan_out() for w in workers))
                await asyncio.sleep(0.01)

        await asyncio.gather(*(write(n) for n in range(6)), fan_out_a_while())
        await asyncio.gather(*(w.fan_out() for w in workers))
        assert not await conn.fetchval(
            "SELECT count(*) FROM webhook_deliveries WHERE event_id = $1", held_id
        )
        await held_tx.commit()
        for _ in range(2):
            await asyncio.gather(*(w.fan_out() for w in workers))
    finally:
        await held.close()
        for w in workers:
            await w.aclose()

    events = await conn.fetch("SELECT id, resource, action FROM change_events ORDER BY txid, id")
    new = [e for e in events if e["id"] not in before]
    assert any(e["action"] == "merge" for e in new)

    def wanted(patterns: list[str]) -> list[int]:
        return [e["id"] for e in new if outbox.matches(patterns, e["resource"], e["action"])]

    for hook, patterns in (
        (everything, ["*"]),
        (claims, ["claim.*", "actor.merge"]),
        (creations, ["actor.create", "source.create"]),
    ):
        got = await conn.fetch(
            "SELECT event_id, event_type FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id",
            hook["id"],
        )
        # each matching event once, none before the subscription, in the feed's order
        assert [r["event_id"] for r in got] == wanted(patterns)
        assert got
    assert held_id in wanted(["claim.*"])


async def test_a_fan_out_rolled_back_loses_nothing(client, conn, clock) -> None:
    hook = await subscribe(client, "http://127.0.0.1:9/x")
    await helpers.actor(client)
    position = await conn.fetchrow("SELECT txid::text, event_id FROM webhook_fanout")
    # The fan-out's deliveries and the moved position are one transaction: a crash before
    # its commit (here, a rollback around it) leaves neither.
    tx = conn.transaction()
    await tx.start()
    assert await outbox.fan_out(conn, clock()) == 1
    assert await conn.fetchval("SELECT count(*) FROM webhook_deliveries") == 1
    await tx.rollback()
    assert await conn.fetchval("SELECT count(*) FROM webhook_deliveries") == 0
    assert await conn.fetchrow("SELECT txid::text, event_id FROM webhook_fanout") == position
    assert await outbox.fan_out(conn, clock()) == 1
    assert await outbox.fan_out(conn, clock()) == 0
    rows = await conn.fetch("SELECT webhook_id FROM webhook_deliveries")
    assert [r["webhook_id"] for r in rows] == [uuid.UUID(hook["id"])]


async def test_a_disabled_webhook_gets_nothing_from_its_disabled_time(
    client, conn, worker, receiver
) -> None:
    hook = await subscribe(client, receiver.url, ["actor.*"])
    url = f"/v1/webhooks/{hook['id']}"
    await client.patch(url, json={"enabled": False})
    await helpers.actor(client, "while disabled")
    await worker.run_once()
    await client.patch(url, json={"enabled": True})
    await helpers.actor(client, "after")
    await worker.run_once()
    assert len(receiver.requests) == 1
    names = await conn.fetch(
        "SELECT a.name FROM webhook_deliveries d JOIN actors a ON a.id = (d.payload::jsonb->'data'->>'id')::uuid"
    )
    assert [r["name"] for r in names] == ["after"]


# ------------------------------------------------------------------ retries on a fake clock


async def test_retries_back_off_for_at_least_a_day_then_the_webhook_is_disabled(
    client, conn, worker, clock, receiver
) -> None:
    receiver.respond = lambda _: (500, b"database on fire \x00" + b"x" * 5000)
    hook = await subscribe(client, receiver.url)
    await helpers.actor(client)
    first = clock()
    attempts_at: list[datetime] = []
    while True:
        sent = await worker.run_once()
        assert sent == 1
        attempts_at.append(clock())
        row = await conn.fetchrow("SELECT status, next_attempt_at FROM webhook_deliveries")
        if row["status"] != "pending":
            break
        # not a second early
        clock.now = row["next_attempt_at"] - timedelta(seconds=1)
        assert await worker.run_once() == 0
        clock.now = row["next_attempt_at"]
        assert len(attempts_at) < 30
    delays = [(b - a).total_seconds() for a, b in itertools.pairwise(attempts_at)]
    # the schedule, the last step repeating (no jitter: the draw is 1)
    assert delays == [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800, 28800]
    assert attempts_at[-2] - first < timedelta(hours=24) <= attempts_at[-1] - first
    assert row["status"] == "failed" and row["next_attempt_at"] is None
    assert len(receiver.requests) == 12
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1

    webhook = (await client.get(f"/v1/webhooks/{hook['id']}")).json()
    assert webhook["enabled"] is False
    assert "failed for 24 hours" in webhook["disabled_reason"]
    assert "12 attempts" in webhook["disabled_reason"] and "HTTP 500" in webhook["disabled_reason"]
    assert webhook["disabled_at"] is not None
    [delivery] = await deliveries(client, hook["id"])
    assert delivery["status"] == "failed" and delivery["attempt_count"] == 12
    assert delivery["last_status_code"] == 500 and delivery["next_attempt_at"] is None
    assert [a["attempt"] for a in delivery["attempts"]] == list(range(12, 0, -1))
    assert {a["status_code"] for a in delivery["attempts"]} == {500}
    snippet = delivery["attempts"][0]["response"]
    assert snippet.startswith("database on fire \ufffd") and len(snippet) == 1000


async def test_the_delay_is_drawn_with_full_jitter(
    client, conn, pool, settings, clock, receiver
) -> None:
    receiver.respond = lambda _: (503, b"")
    await subscribe(client, receiver.url)
    await helpers.actor(client)
    draws = iter([0.0, 0.5, 0.25])
    jittery = Worker(pool, settings, now=clock, draw=lambda: next(draws))
    try:
        expected = [1.0, 15.0, 30.0]  # max(1 s, 0 x 5 s), 0.5 x 30 s, 0.25 x 120 s
        for delay in expected:
            await jittery.run_once()
            due = await conn.fetchval("SELECT next_attempt_at FROM webhook_deliveries")
            assert (due - clock()).total_seconds() == delay
            clock.now = due
    finally:
        await jittery.aclose()
    assert [outbox.backoff(n, 1.0).total_seconds() for n in (1, 9, 10, 50)] == [
        5,
        28800,
        28800,
        28800,
    ]


async def test_a_failing_event_does_not_disable_a_webhook_that_takes_others(
    client, worker, clock, receiver
) -> None:
    hook = await subscribe(client, receiver.url)
    poison = await helpers.actor(client, "poison")
    marker = poison["id"].encode()
    receiver.respond = lambda r: (400, b"no") if marker in r.body else (204, b"")
    await worker.run_once()
    for n in range(15):
        clock.advance(hours=3)
        await helpers.actor(client, f"fine {n}")
        await worker.fan_out()
        await worker.run_once()
    log = await deliveries(client, hook["id"], status="failed")
    assert [d["payload"]["data"]["id"] for d in log] == [poison["id"]]
    webhook = (await client.get(f"/v1/webhooks/{hook['id']}")).json()
    assert webhook["enabled"] is True and webhook["last_success_at"] is not None


async def test_410_gone_disables_at_once(client, worker, receiver) -> None:
    receiver.respond = lambda _: (410, b"gone")
    hook = await subscribe(client, receiver.url)
    await helpers.actor(client)
    await helpers.actor(client, "second")
    await worker.fan_out()
    assert await worker.deliver_due(limit=1) == 1
    webhook = (await client.get(f"/v1/webhooks/{hook['id']}")).json()
    assert webhook["enabled"] is False and "410 Gone" in webhook["disabled_reason"]
    assert await worker.run_once() == 0  # the other delivery waits
    assert len(receiver.requests) == 1
    assert [d["status"] for d in await deliveries(client, hook["id"])] == ["pending", "failed"]


async def test_redirects_are_not_followed(client, worker, receiver) -> None:
    receiver.respond = lambda _: (307, b"")
    hook = await subscribe(client, receiver.url)
    await helpers.actor(client)
    await worker.run_once()
    [delivery] = await deliveries(client, hook["id"])
    assert delivery["status"] == "pending" and delivery["last_status_code"] == 307
    assert len(receiver.requests) == 1


async def test_a_hanging_receiver_times_out(client, pool, settings, clock, receiver) -> None:
    receiver.respond = lambda _: "hang"
    hook = await subscribe(client, receiver.url)
    await helpers.actor(client)
    quick = Worker(pool, msgspec.structs.replace(settings, webhook_timeout_seconds=1), now=clock)
    try:
        started = time.monotonic()
        await quick.run_once()
        assert time.monotonic() - started < 5
    finally:
        await quick.aclose()
    [delivery] = await deliveries(client, hook["id"])
    assert delivery["attempts"][0]["error"] == "No answer within 1 s."
    assert delivery["status"] == "pending"


# ------------------------------------------------------------------ log and redelivery


async def test_delivery_log_pages_and_redelivery(client, conn, worker, clock, receiver) -> None:
    hook = await subscribe(client, receiver.url)
    for n in range(3):
        await helpers.actor(client, f"actor {n}")
    await worker.run_once()
    first = (await client.get(f"/v1/webhooks/{hook['id']}/deliveries", params={"limit": 2})).json()
    second = (
        await client.get(
            f"/v1/webhooks/{hook['id']}/deliveries", params={"cursor": first["next_cursor"]}
        )
    ).json()
    log = first["data"] + second["data"]
    assert second["next_cursor"] is None and len(log) == 3
    assert [d["event_id"] for d in log] == sorted((d["event_id"] for d in log), reverse=True)
    assert {d["status"] for d in log} == {"succeeded"}
    target = log[-1]

    response = await client.post(f"/v1/webhooks/{hook['id']}/deliveries/{target['id']}/redeliver")
    assert response.status_code == 202, response.text
    again = response.json()
    assert again["status"] == "pending" and again["next_attempt_at"] is not None
    clock.advance(minutes=1)  # the redelivery is due at the database's now
    assert await worker.run_once() == 1
    resent = receiver.requests[-1]
    assert resent.headers["webhook-id"] == target["message_id"]
    assert json.loads(resent.body) == target["payload"]
    one = (await client.get(f"/v1/webhooks/{hook['id']}/deliveries/{target['id']}")).json()
    assert one["status"] == "succeeded" and one["attempt_count"] == 2
    assert [a["attempt"] for a in one["attempts"]] == [2, 1]

    missing = MISSING
    for path in (
        f"/v1/webhooks/{hook['id']}/deliveries/{missing}/redeliver",
        f"/v1/webhooks/{missing}/deliveries/{target['id']}/redeliver",
    ):
        assert (await client.post(path)).status_code == 404
    assert (await client.get(f"/v1/webhooks/{missing}/deliveries")).status_code == 404
    assert (
        await client.get(f"/v1/webhooks/{hook['id']}/deliveries", params={"status": "x"})
    ).status_code == 422


async def test_redelivery_to_a_disabled_webhook_waits_until_it_is_enabled(
    client, worker, clock, receiver
) -> None:
    hook = await subscribe(client, receiver.url)
    await helpers.actor(client)
    await worker.run_once()
    [delivery] = await deliveries(client, hook["id"])
    await client.patch(f"/v1/webhooks/{hook['id']}", json={"enabled": False})
    await client.post(f"/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver")
    clock.advance(minutes=1)
    assert await worker.run_once() == 0
    await client.patch(f"/v1/webhooks/{hook['id']}", json={"enabled": True})
    clock.advance(minutes=1)
    assert await worker.run_once() == 1
    assert len(receiver.requests) == 2


async def test_finished_deliveries_are_cleaned_up_after_the_retention(
    client, conn, pool, settings, clock, receiver
) -> None:
    hook = await subscribe(client, receiver.url)
    await helpers.actor(client)
    kept = Worker(pool, settings, now=clock)
    try:
        await kept.run_once()
        await helpers.actor(client, "still pending")
        await kept.fan_out()
        # not due for a long while: pending deliveries are never cleaned up
        await conn.execute(
            "UPDATE webhook_deliveries SET next_attempt_at = next_attempt_at + interval '99 days' "
            "WHERE status = 'pending'"
        )
        clock.advance(days=29)
        await kept.run_once()
        assert await conn.fetchval("SELECT count(*) FROM webhook_deliveries") == 2
        clock.advance(days=2)
        await kept.run_once()
    finally:
        await kept.aclose()
    assert await conn.fetchval("SELECT status FROM webhook_deliveries") == "pending"
    assert await conn.fetchval("SELECT count(*) FROM webhook_attempts") == 0
    assert (await client.get(f"/v1/webhooks/{hook['id']}")).status_code == 200


async def test_workers_never_claim_the_same_attempt(client, conn, settings, clock) -> None:
    await subscribe(client, "http://127.0.0.1:9/x")
    for n in range(4):
        await helpers.actor(client, f"actor {n}")
    await subscribe(client, "http://127.0.0.1:9/y")
    for n in range(4):
        await helpers.actor(client, f"more {n}")
    assert await outbox.fan_out(conn, clock()) == 8
    assert await conn.fetchval("SELECT count(*) FROM webhook_deliveries") == 12
    connections = [await asyncpg.connect(settings.database_url) for _ in range(4)]
    try:
        claims = await asyncio.gather(*(outbox.claim(c, clock(), 5, 15) for c in connections))
        claimed = [d.id for batch in claims for d in batch]
        assert len(claimed) == len(set(claimed)) == 12  # each once, between them
        # leased: nobody takes them again until the lease ends
        assert await outbox.claim(conn, clock() + timedelta(seconds=14), 50, 15) == []
        # then the next claim takes them over, logging the attempt that never reported
        clock.advance(seconds=15)
        again = await outbox.claim(conn, clock(), 50, 15)
        assert sorted(d.id for d in again) == sorted(claimed)
        assert {d.attempt for d in again} == {2}
        lost = await conn.fetch("SELECT attempt, error FROM webhook_attempts")
        assert len(lost) == 12 and {r["attempt"] for r in lost} == {1}
        assert all(r["error"] == outbox.LOST_ATTEMPT for r in lost)
        # the first worker, reporting late, no longer moves the delivery (attempt 2 is on)
        late = next(d for batch in claims for d in batch)  # any worker's: batches vary
        outcome = outbox.Outcome(started_at=clock(), duration_ms=1, status_code=200)
        assert await outbox.record(conn, late, outcome, clock(), 1.0) == "stale"
        assert (
            await conn.fetchval("SELECT status FROM webhook_deliveries WHERE id = $1", late.id)
            == "pending"
        )
        assert (
            await conn.fetchval(
                "SELECT status_code FROM webhook_attempts WHERE delivery_id = $1 AND attempt = 1",
                late.id,
            )
            == 200
        )
    finally:
        for c in connections:
            await c.close()


async def test_a_webhook_deleted_while_its_delivery_is_in_flight(
    client, conn, worker, clock, receiver
) -> None:
    hook = await subscribe(client, receiver.url)
    await helpers.actor(client)
    await worker.fan_out()
    [in_flight] = await outbox.claim(conn, clock(), 10, 15)
    assert (await client.delete(f"/v1/webhooks/{hook['id']}")).status_code == 204
    await worker._attempt(in_flight)  # sent, and nothing left to record it in: no error
    assert len(receiver.requests) == 1
    assert await conn.fetchval("SELECT count(*) FROM webhook_attempts") == 0


# ------------------------------------------------------------------ crash and resume


def _env(database_url: str, **more: str) -> dict[str, str]:
    env = helpers.clean_env()
    return env | {
        "CLAIMDESK_DATABASE_URL": database_url,
        "CLAIMDESK_LOG_LEVEL": "warning",
        "CLAIMDESK_DATA_DIR": "/nonexistent/claimdesk-must-not-start-embedded",
        "CLAIMDESK_WEBHOOK_ALLOW_PRIVATE": "true",
        **more,
    }


def _start_worker(database_url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli", "worker", "--no-migrate"],
        env=_env(database_url, CLAIMDESK_WEBHOOK_TIMEOUT_SECONDS="2"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_the_worker_logs_on_stdout_as_the_server_does(database_url) -> None:
    """`claimdesk worker` logged on stderr, `claimdesk serve` on stdout: a deployment
    collecting the services' output missed the worker's (an operator's walkthrough)."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "worker", "--no-migrate"],
        env=_env(database_url, CLAIMDESK_LOG_LEVEL="info", CLAIMDESK_LOG_FORMAT="json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert worker.stdout is not None
        # (a worker logging elsewhere writes nothing here: wait a while, not for ever)
        ready, _, _ = select.select([worker.stdout], [], [], 60)
        assert ready, "the worker wrote nothing on stdout in 60 s"
        started = json.loads(worker.stdout.readline())
        assert started["event"] == "webhook_worker_started"
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            out, err = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()  # not left running by a failed test
            worker.communicate()
            raise
    assert worker.returncode == 0
    assert b"webhook_worker_stopped" in out and err == b""


async def test_a_worker_killed_mid_flight_loses_nothing(
    client, conn, database_url, receiver
) -> None:
    first_request = asyncio.Event()

    def respond(request: Received) -> Behaviour:
        if len(receiver.requests) == 1:
            first_request.set()
            return "hang"
        return (200, b"thanks")

    receiver.respond = respond
    hook = await subscribe(client, receiver.url)
    # Committed while no worker runs at all: the event waits in the outbox.
    actor = await helpers.actor(client, "Hulusi Akar")
    doomed = _start_worker(database_url)
    try:
        await asyncio.wait_for(first_request.wait(), 60)
        doomed.send_signal(signal.SIGKILL)  # mid-flight: the receiver has it, no answer yet
        doomed.wait(timeout=10)
    finally:
        doomed.kill()
    row = await conn.fetchrow("SELECT status, attempts, lease_until FROM webhook_deliveries")
    assert row["status"] == "pending" and row["attempts"] == 1 and row["lease_until"] is not None

    successor = _start_worker(database_url)
    try:
        await receiver.wait_for(2, seconds=60)

        async def finished() -> bool:
            status = await conn.fetchval("SELECT status FROM webhook_deliveries")
            return bool(status == "succeeded")

        await until(finished, seconds=30)
    finally:
        successor.send_signal(signal.SIGTERM)
        assert successor.wait(timeout=30) == 0
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    assert json.loads(second.body)["data"]["id"] == actor["id"]
    standardwebhooks.Webhook(hook["secret"]).verify(second.body, second.headers)
    [delivery] = await deliveries(client, hook["id"])
    assert delivery["attempt_count"] == 2
    lost, done = reversed(delivery["attempts"])
    assert lost["status_code"] is None and "stopped" in lost["error"]
    assert done["status_code"] == 200 and done["response"] == "thanks"


@pytest.fixture
def served(database_url: str) -> Iterator[str]:
    """`claimdesk serve` with its worker (the default), private targets allowed."""
    with serving(database_url, {"CLAIMDESK_WEBHOOK_ALLOW_PRIVATE": "true"}) as url:
        yield url


async def test_serve_runs_the_worker(served, auth, receiver) -> None:
    async with httpx.AsyncClient(base_url=served, headers=auth) as http:
        hook = await subscribe(http, receiver.url, ["claim.*", "actor.create"])
        started = time.monotonic()
        actor = await helpers.actor(http)
        await receiver.wait_for(1)
        took = time.monotonic() - started
        standardwebhooks.Webhook(hook["secret"]).verify(
            receiver.requests[0].body, receiver.requests[0].headers
        )
        assert json.loads(receiver.requests[0].body)["data"]["id"] == actor["id"]
        assert took < 10
        # requests are not held up by a receiver that hangs
        receiver.respond = lambda _: "hang"
        await helpers.actor(http, "second")
        await receiver.wait_for(2)
        started = time.monotonic()
        for _ in range(5):
            assert (await http.get("/v1/actors")).status_code == 200
        assert time.monotonic() - started < 2


# ------------------------------------------------------------------ the SSRF guard

REFUSED_URLS = [
    "http://127.0.0.1/",
    "http://127.0.0.1:8000/v1/actors",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://127.1/",
    "http://2130706433/",  # decimal 127.0.0.1
    "http://0x7f.1/",  # hex
    "http://0x7f000001/",
    "http://017700000001/",  # octal
    "http://0177.0.0.1/",
    "http://0/",
    "http://0.0.0.0:5432/",
    "http://10.0.0.1/",
    "http://10.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1./",
    "http://100.64.0.1/",  # CGNAT
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "http://198.18.0.1/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::127.0.0.1]/",  # IPv4-compatible
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[fe80::1]/",
    "http://[fec0::1]/",
    "http://[ff02::1]/",
    "http://[2001:db8::1]/",
    "ftp://1.1.1.1/",
    "gopher://1.1.1.1/",
    "file:///etc/passwd",
    "http://user:pass@1.1.1.1/",
    "http://[::1/",
    "http://1.1.1.1:99999/",
    "http://nonexistent.invalid/",
    "http://a..b/",
    "http://1.1.1.1:0/",  # taken until 2026-11-29, as a source's URL was not
]


@pytest.mark.parametrize("url", REFUSED_URLS)
async def test_the_guard_refuses_internal_targets(strict, conn, url) -> None:
    response = await strict.post("/v1/webhooks", json={"url": url, "event_types": ["*"]})
    assert response.status_code == 422, response.text
    [error] = problem(response, 422)["errors"]
    assert error["field"] == "url", error
    assert await conn.fetchval("SELECT count(*) FROM webhooks") == 0
    assert (await strict.patch(f"/v1/webhooks/{MISSING}", json={"url": url})).status_code == 422


@pytest.mark.parametrize(
    "url",
    ["http://1.1.1.1/hooks", "https://[2606:4700:4700::1111]:8443/h", "http://[::ffff:8.8.8.8]/"],
)
async def test_the_guard_takes_public_addresses(strict, url) -> None:
    await subscribe(strict, url)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """A stand-in for DNS: host name -> addresses (IP literals resolve as themselves)."""
    answers: dict[str, list[str]] = {}

    async def resolve(host: str, port: int) -> list[str]:
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            pass
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers[host]

    monkeypatch.setattr(guard, "resolve", resolve)
    return answers


@pytest.mark.parametrize(
    "addresses",
    [
        ["10.20.30.40"],
        ["192.168.0.10"],
        ["169.254.169.254"],
        ["127.0.0.53"],
        ["fd00::5"],
        ["::ffff:192.168.1.1"],
        ["fe80::1%eth0"],
        ["93.184.216.34", "10.0.0.1"],  # one bad answer among good ones is enough
        ["2606:2800:220:1::", "::1"],
    ],
)
async def test_the_guard_refuses_names_that_resolve_inside(strict, dns, addresses) -> None:
    dns["hooks.newsroom.example"] = addresses
    response = await strict.post(
        "/v1/webhooks", json={"url": "https://hooks.newsroom.example/x", "event_types": ["*"]}
    )
    assert response.status_code == 422, response.text
    detail = problem(response, 422)["errors"][0]
    assert detail["field"] == "url" and "hooks.newsroom.example" in detail["message"]


async def test_the_guard_checks_again_before_each_delivery(
    strict, dns, pool, settings, clock, receiver, conn
) -> None:
    # DNS rebinding: public when created, the receiver's loopback address when delivered.
    dns["rebind.example"] = ["93.184.216.34"]
    hook = await subscribe(strict, f"http://rebind.example:{receiver.port}/hooks")
    dns["rebind.example"] = ["127.0.0.1"]
    await helpers.actor(strict)
    guarded = Worker(
        pool, msgspec.structs.replace(settings, webhook_allow_private=False), now=clock
    )
    try:
        assert await guarded.run_once() == 1
    finally:
        await guarded.aclose()
    assert receiver.requests == []
    [delivery] = await deliveries(strict, hook["id"])
    assert delivery["status"] == "pending"
    assert delivery["attempts"][0]["error"].startswith(
        "Target refused: The host 'rebind.example' resolves to 127.0.0.1"
    )


async def test_a_delivery_connects_to_the_address_checked(client, dns, worker, receiver) -> None:
    # A name the system resolver does not know: the request can only have gone to the
    # address the guard resolved, with the name kept in Host.
    dns["hooks.test"] = ["127.0.0.1"]
    hook = await subscribe(client, f"http://hooks.test:{receiver.port}/in?x=1")
    await helpers.actor(client)
    await worker.run_once()
    [request] = receiver.requests
    assert request.headers["host"] == f"hooks.test:{receiver.port}"
    assert request.path == "/in?x=1"
    assert (await deliveries(client, hook["id"]))[0]["status"] == "succeeded"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:8.8.8.8", True),
        ("127.0.0.1", False),
        ("100.127.255.255", False),
        ("100.128.0.0", True),
        ("172.31.255.255", False),
        ("172.32.0.0", True),
        ("169.254.0.1", False),
        ("192.0.0.8", False),
        ("::ffff:100.64.0.1", False),
        ("64:ff9b::808:808", True),
        ("64:ff9b::7f00:1", False),
        ("64:ff9b:1::1", False),
        ("2002:0808:0808::", True),
        ("2002:0a00:0001::", False),
        ("2001::1", False),  # Teredo
        ("ff0e::1", False),
        ("fe80::1", False),
        ("::", False),
    ],
)
def test_refusal_of_addresses(address, public) -> None:
    assert (guard.refusal(ipaddress.ip_address(address)) is None) is public
