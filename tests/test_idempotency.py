"""Safe retries: the Idempotency-Key header on every POST.

The race tests run against a real server process (``live_url``) so that two requests really
run at the same time, each on its own pooled connection.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from litestar.testing import AsyncTestClient

from service import db, idempotency
from service.app import create_app
from service.settings import Settings
from tests import helpers
from tests.conftest import make_key, serving
from tests.helpers import problem, snapshot

KEY = "Idempotency-Key"


async def everything(conn: asyncpg.Connection) -> dict[str, Any]:
    """Every row of every table, the stored idempotency keys included."""
    state = await snapshot(conn)
    rows = await conn.fetch(
        "SELECT scope, key, status, body, created_at FROM idempotency_keys ORDER BY 1, 2"
    )
    state["idempotency_keys"] = [tuple(r.values()) for r in rows]
    return state


async def count(conn: asyncpg.Connection, table: str) -> int:
    value: int = await conn.fetchval(f"SELECT count(*) FROM {table}")
    return value


# ------------------------------------------------------------------- one POST of each family

Post = tuple[str, dict[str, Any], dict[str, Any], str]  # path, body, another body, table


async def _claims_world(client: Any) -> dict[str, Any]:
    russia = await helpers.create(client, "actors", {"kind": "state", "name": "Russia"})
    akar = await helpers.actor(client)
    src = await helpers.source(client, title="Awtan Post")
    left = await helpers.claim(client, russia["id"], src["id"], text="أخلوا تماماً تلك المناطق")
    remain = await helpers.claim(client, akar["id"], src["id"])
    doubt = await helpers.claim(client, akar["id"], src["id"], text="يثير الكثير من الشكوك")
    return {"russia": russia, "akar": akar, "source": src, "left": left, "remain": remain,
            "doubt": doubt}  # fmt: skip


async def post_actor(client: Any) -> Post:
    return (
        "/v1/actors",
        {"kind": "person", "name": "Hulusi Akar"},
        {"kind": "person", "name": "خلوصي آكار"},
        "actors",
    )


async def post_source(client: Any) -> Post:
    body = {"kind": "article", "title": "عين عيسى", "url": "https://awtanpost.com/a"}
    return "/v1/sources", body, {**body, "title": "Ain Issa"}, "sources"


async def post_claim(client: Any) -> Post:
    world = await _claims_world(client)
    body = {
        "speaker_id": world["akar"]["id"],
        "text": "إن بعض عناصر ميليشيات قسد مازالوا موجودين في المنطقة الآمنة",
        "lang": "ar",
        "appearances": [{"source_id": world["source"]["id"]}],
    }
    return "/v1/claims", body, {**body, "kind": "denial"}, "claims"


async def post_dispute(client: Any) -> Post:
    world = await _claims_world(client)
    body = {
        "title": "SDF withdrawal from the safe zone",
        "question": "Has the SDF fully withdrawn from the safe zone?",
        "positions": [
            {"claim_id": world["left"]["id"], "stance": "affirms"},
            {"claim_id": world["remain"]["id"], "stance": "denies"},
        ],
    }
    return "/v1/disputes", body, {**body, "title": "Safe zone"}, "disputes"


async def post_review(client: Any) -> Post:
    world = await _claims_world(client)
    checker = await helpers.create(client, "actors", {"kind": "media", "name": "Misbar"})
    body = {
        "claim_id": world["left"]["id"],
        "reviewer_id": checker["id"],
        "rating": {"label": "Disputed", "value": 2, "best": 5, "worst": 1},
        "lang": "en",
    }
    return "/v1/reviews", body, {**body, "lang": "ar"}, "reviews"


async def post_position(client: Any) -> Post:
    _, body, _, _ = await post_dispute(client)
    dispute = await helpers.create(client, "disputes", body)
    claims = await client.get("/v1/claims", params={"limit": 10})
    used = {p["claim_id"] for p in body["positions"]}
    free = next(c["id"] for c in claims.json()["data"] if c["id"] not in used)
    position = {"claim_id": free, "stance": "questions"}
    return (
        f"/v1/disputes/{dispute['id']}/positions",
        position,
        {**position, "stance": "denies"},
        "dispute_positions",
    )


FAMILIES: dict[str, Callable[[Any], Awaitable[Post]]] = {
    "actors": post_actor,
    "sources": post_source,
    "claims": post_claim,
    "disputes": post_dispute,
    "reviews": post_review,
    "dispute positions": post_position,
}


def test_every_post_operation_is_covered(client):
    """A new POST operation must join FAMILIES (and so these tests)."""
    schema = client.app.openapi_schema.to_schema()
    posts = {path for path, item in schema["paths"].items() if "post" in item}
    assert posts == {
        "/v1/actors",
        "/v1/sources",
        "/v1/claims",
        "/v1/disputes",
        "/v1/reviews",
        "/v1/disputes/{dispute_id}/positions",
        "/v1/actors/{actor_id}/merge",
        "/v1/api-keys",
        # tests/test_webhooks.py::test_an_idempotency_key_replays_a_webhook_write
        "/v1/webhooks",
        "/v1/webhooks/{webhook_id}/rotate-secret",
        "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    }
    # the two below and the three webhook ones have tests of their own
    assert len(FAMILIES) + 5 == len(posts)


@pytest.mark.parametrize("family", FAMILIES)
async def test_a_retry_replays_the_first_response_and_does_nothing(client, conn, family):
    path, body, _, table = await FAMILIES[family](client)
    rows, events = await count(conn, table), await count(conn, "change_events")
    headers = {KEY: str(uuid.uuid4())}

    first = await client.post(path, json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    state = await everything(conn)
    again = await client.post(path, json=body, headers=headers)

    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    for header in ("content-type", "etag", "location"):
        assert again.headers.get(header) == first.headers.get(header), header
    assert again.headers["content-length"] == str(len(first.content))
    assert await everything(conn) == state  # nothing done again
    assert await count(conn, table) == rows + 1
    assert await count(conn, "change_events") == events + 1
    stored = await conn.fetchrow("SELECT scope, key, status FROM idempotency_keys")
    key_id = await conn.fetchval("SELECT id::text FROM api_keys")
    assert tuple(stored.values()) == (key_id, headers[KEY], 201)


@pytest.mark.parametrize("family", FAMILIES)
async def test_the_same_key_for_another_body_is_refused(client, conn, family):
    path, body, other, _ = await FAMILIES[family](client)
    headers = {KEY: "retry-me"}
    first = await client.post(path, json=body, headers=headers)
    assert first.status_code == 201, first.text
    state = await everything(conn)

    refused = problem(await client.post(path, json=other, headers=headers), 422)

    assert refused["type"] == "/problems/idempotency-key-reused"
    assert refused["errors"] == [
        {"field": KEY, "message": "used for another request", "location": "header"}
    ]
    assert "a different query or body" in refused["detail"]
    assert await everything(conn) == state
    # the first request's answer is still what its key replays
    again = await client.post(path, json=body, headers=headers)
    assert again.headers["idempotent-replayed"] == "true" and again.content == first.content


async def test_the_same_key_on_another_path_or_query_is_refused(client, conn):
    headers = {KEY: "one-key"}
    actor = await client.post(
        "/v1/actors", json={"kind": "state", "name": "Turkey"}, headers=headers
    )
    assert actor.status_code == 201
    state = await everything(conn)

    elsewhere = await client.post(
        "/v1/sources", json={"kind": "article", "title": "t"}, headers=headers
    )
    body = problem(elsewhere, 422)
    assert body["type"] == "/problems/idempotency-key-reused"
    assert "POST /v1/actors" in body["detail"]
    query = await client.post(
        "/v1/actors?x=1", json={"kind": "state", "name": "Turkey"}, headers=headers
    )
    assert problem(query, 422)["type"] == "/problems/idempotency-key-reused"
    assert await everything(conn) == state


async def test_without_the_header_every_post_is_done(client, conn):
    for _ in range(2):
        response = await client.post("/v1/actors", json={"kind": "state", "name": "Turkey"})
        assert response.status_code == 201 and "idempotent-replayed" not in response.headers
    assert await count(conn, "actors") == 2
    assert await count(conn, "idempotency_keys") == 0


async def test_different_keys_are_different_requests(client, conn):
    for key in ("a", "b"):
        response = await client.post(
            "/v1/actors", json={"kind": "state", "name": "Turkey"}, headers={KEY: key}
        )
        assert response.status_code == 201 and "idempotent-replayed" not in response.headers
    assert await count(conn, "actors") == 2


# ------------------------------------------------------------------- what is kept


async def test_a_client_error_is_replayed_too(client, conn):
    """The answer is kept, not recomputed: a 409 stays a 409 after its cause is gone."""
    url = "https://awtanpost.com/a"
    existing = await helpers.source(client, url=url)
    headers = {KEY: "dup"}
    body = {"kind": "article", "title": "again", "url": url}
    first = problem(await client.post("/v1/sources", json=body, headers=headers), 409)
    assert first["type"] == "/problems/duplicate"
    delete = await client.delete(f"/v1/sources/{existing['id']}")
    assert delete.status_code == 204

    again = await client.post("/v1/sources", json=body, headers=headers)
    assert problem(again, 409) == first
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == "application/problem+json"
    assert await count(conn, "sources") == 0


async def test_a_validation_error_is_replayed_and_writes_nothing(client, conn):
    headers = {KEY: "bad-body"}
    body = {"kind": "person", "name": "   "}
    first = await client.post("/v1/actors", json=body, headers=headers)
    problem(first, 422)
    again = await client.post("/v1/actors", json=body, headers=headers)
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    assert await count(conn, "actors") == 0
    assert await count(conn, "idempotency_keys") == 1


@pytest.fixture
async def impatient(database_url, auth) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """A service whose statements give up after 300 ms (503)."""
    settings = Settings(
        database_url=database_url, log_format="json", log_level="error", statement_timeout_ms=300
    )
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        test_client.headers.update(auth)
        yield test_client


async def test_a_server_error_is_not_kept_and_the_key_can_be_retried(impatient, conn):
    """The test locks the actors table: the insert times out (503, rolled back), and nothing
    is kept for the key; once the table is free the same key does the work."""
    headers = {KEY: "flaky"}
    body = {"kind": "state", "name": "Turkey"}
    async with conn.transaction():
        await conn.execute("LOCK TABLE actors IN ACCESS EXCLUSIVE MODE")
        failed = await impatient.post("/v1/actors", json=body, headers=headers)
    assert problem(failed, 503)["type"] == "/problems/unavailable"
    assert await count(conn, "idempotency_keys") == 0
    assert await count(conn, "actors") == 0

    retried = await impatient.post("/v1/actors", json=body, headers=headers)
    assert retried.status_code == 201 and "idempotent-replayed" not in retried.headers
    assert await count(conn, "actors") == 1
    replay = await impatient.post("/v1/actors", json=body, headers=headers)
    assert replay.headers["idempotent-replayed"] == "true" and replay.content == retried.content


async def test_a_body_too_large_is_refused_and_not_kept(client, conn):
    body = {"kind": "state", "name": "x" * 2_000_000}
    refused = await client.post("/v1/actors", json=body, headers={KEY: "big"})
    assert problem(refused, 413)["type"] == "/problems/payload-too-large"
    assert await count(conn, "idempotency_keys") == 0


# ------------------------------------------------------------------- retention


async def test_keys_are_kept_for_the_retention_then_forgotten_and_cleaned_up(client, conn):
    body = {"kind": "state", "name": "Turkey"}
    first = await client.post("/v1/actors", json=body, headers={KEY: "old"})
    assert first.status_code == 201

    # 23 hours on: still replayed
    await conn.execute("UPDATE idempotency_keys SET created_at = now() - interval '23 hours'")
    kept = await client.post("/v1/actors", json=body, headers={KEY: "old"})
    assert kept.headers["idempotent-replayed"] == "true"
    assert await count(conn, "actors") == 1

    # 25 hours on: forgotten, so the same key does the work again (and is kept anew)
    await conn.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
    fresh = await client.post("/v1/actors", json=body, headers={KEY: "old"})
    assert fresh.status_code == 201 and "idempotent-replayed" not in fresh.headers
    assert fresh.json()["id"] != first.json()["id"]
    assert await count(conn, "actors") == 2
    assert await conn.fetchval(
        "SELECT created_at > now() - interval '1 minute' FROM idempotency_keys WHERE key = 'old'"
    )

    # an expired row of another key is deleted by the next keyed POST
    await conn.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
    other = await client.post("/v1/sources", json={"kind": "article", "title": "t"},
                              headers={KEY: "new"})  # fmt: skip
    assert other.status_code == 201
    assert await conn.fetchval("SELECT array_agg(key) FROM idempotency_keys") == ["new"]


async def test_cleanup_deletes_a_bounded_batch_of_expired_rows(client, conn):
    await conn.execute(
        """
        INSERT INTO idempotency_keys
            (scope, key, method, path, request_hash, status, headers, body, created_at)
        SELECT 'anonymous', 'k' || i, 'POST', '/v1/actors', sha256(i::text::bytea), 201,
               '[]', '', now() - interval '30 hours'
        FROM generate_series(1, $1) AS i
        """,
        idempotency.CLEANUP_BATCH + 20,
    )
    response = await client.post(
        "/v1/actors", json={"kind": "state", "name": "Turkey"}, headers={KEY: "now"}
    )
    assert response.status_code == 201
    assert await count(conn, "idempotency_keys") == 20 + 1


async def test_a_longer_retention_keeps_keys_longer(database_url, conn, auth):
    settings = Settings(
        database_url=database_url, log_format="json", idempotency_retention_hours=48
    )
    async with AsyncTestClient(app=create_app(settings)) as longer:
        longer.headers.update(auth)
        body = {"kind": "state", "name": "Turkey"}
        assert (await longer.post("/v1/actors", json=body, headers={KEY: "k"})).status_code == 201
        await conn.execute("UPDATE idempotency_keys SET created_at = now() - interval '47 hours'")
        again = await longer.post("/v1/actors", json=body, headers={KEY: "k"})
        assert again.headers["idempotent-replayed"] == "true"
    assert await count(conn, "actors") == 1


def test_the_retention_setting():
    assert Settings.from_env({}).idempotency_retention_hours == 24
    env = {"CLAIMDESK_IDEMPOTENCY_RETENTION_HOURS": "72"}
    assert Settings.from_env(env).idempotency_retention_hours == 72
    with pytest.raises(SystemExit, match="CLAIMDESK_IDEMPOTENCY_RETENTION_HOURS"):
        Settings.from_env({"CLAIMDESK_IDEMPOTENCY_RETENTION_HOURS": "12"})


# ------------------------------------------------------------------- key syntax


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"x" * 256,
        "خلوصي".encode(),
        b"tab\there",
        b"bell\x07",
    ],
    ids=["empty", "too long", "not ascii", "tab", "control"],
)
async def test_a_malformed_key_is_refused_naming_the_header(client, conn, value):
    state = await everything(conn)
    response = await client.post(
        "/v1/actors", json={"kind": "state", "name": "Turkey"}, headers=[(KEY.encode(), value)]
    )
    body = problem(response, 422)
    assert body["type"] == "/problems/validation-error"
    assert [(e["field"], e["location"]) for e in body["errors"]] == [(KEY, "header")]
    assert KEY in body["detail"]
    assert await everything(conn) == state


async def test_two_key_headers_are_refused(live_url, conn, auth):
    """Over a real connection: two header lines reach the service as two."""
    async with httpx.AsyncClient(base_url=live_url, headers=auth) as c:
        response = await c.post(
            "/v1/actors",
            json={"kind": "state", "name": "Turkey"},
            headers=[(KEY, "a"), (KEY, "b")],
        )
    assert "Send one" in problem(response, 422)["detail"]
    assert await count(conn, "actors") == 0


@pytest.mark.parametrize(
    "value", ["x", "x" * 255, "a b", '"quoted"', "96a0fb05-8c33-4cbf-8f58-c54698ff4970"]
)
async def test_well_formed_keys(client, value):
    response = await client.post(
        "/v1/actors", json={"kind": "state", "name": "Turkey"}, headers={KEY: value}
    )
    assert response.status_code == 201, response.text


# ------------------------------------------------------------------- per API key


async def test_keys_are_kept_per_api_key(anonymous, database_url, conn):
    """One caller's Idempotency-Key says nothing about another's: the same key from two API
    keys is two requests."""
    keys = {name: await make_key(database_url, "write", name=name) for name in ("a", "b")}
    body = {"kind": "state", "name": "Turkey"}

    async def post(name: str, json: dict[str, Any] = body) -> httpx.Response:
        headers = {KEY: "shared", "Authorization": f"Bearer {keys[name]}"}
        return await anonymous.post("/v1/actors", json=json, headers=headers)

    first_a, first_b = await post("a"), await post("b")
    for response in (first_a, first_b):
        assert response.status_code == 201 and "idempotent-replayed" not in response.headers
    assert first_a.json()["id"] != first_b.json()["id"]

    again_a = await post("a")
    assert again_a.headers["idempotent-replayed"] == "true"
    assert again_a.content == first_a.content
    other_body_b = await post("b", {"kind": "state", "name": "Russia"})
    assert problem(other_body_b, 422)["type"] == "/problems/idempotency-key-reused"
    assert await count(conn, "actors") == 2
    scopes = await conn.fetch("SELECT scope FROM idempotency_keys ORDER BY scope")
    ids = await conn.fetch("SELECT id::text FROM api_keys WHERE name IN ('a', 'b') ORDER BY 1")
    assert [r["scope"] for r in scopes] == [r["id"] for r in ids]


async def test_a_merge_is_replayed_not_redone(client, conn):
    first_actor = await helpers.create(client, "actors", {"kind": "armed_group", "name": "قسد"})
    second = await helpers.create(client, "actors", {"kind": "armed_group", "name": "SDF"})
    path, body = f"/v1/actors/{first_actor['id']}/merge", {"into_id": second["id"]}
    first = await client.post(path, json=body, headers={KEY: "merge-1"})
    assert first.status_code == 200, first.text
    revisions = await count(conn, "revisions")
    again = await client.post(path, json=body, headers={KEY: "merge-1"})
    # without the key the second merge would be a 409 (already merged)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert await count(conn, "revisions") == revisions


async def test_creating_an_api_key_refuses_the_header(client, conn):
    """The answer holds the key, which is never stored: it cannot be kept for a replay."""
    body = {"name": "cms", "scopes": ["read"]}
    before = await count(conn, "api_keys")
    refused = problem(await client.post("/v1/api-keys", json=body, headers={KEY: "k"}), 422)
    assert refused["errors"][0]["field"] == KEY and "shown once" in refused["detail"]
    assert await count(conn, "api_keys") == before
    assert await count(conn, "idempotency_keys") == 0
    assert (await client.post("/v1/api-keys", json=body)).status_code == 201


# ------------------------------------------------------------------- one connection a request


@pytest.fixture
def one_connection_url(database_url: str) -> Iterator[str]:
    """`claimdesk serve` as `live_url` runs it, with a pool of one connection."""
    one = {"CLAIMDESK_POOL_MIN_SIZE": "1", "CLAIMDESK_POOL_MAX_SIZE": "1"}
    # killed: a request stuck waiting for a second connection must not hang us
    with serving(database_url, one, kill=True) as url:
        yield url


async def test_a_keyed_post_holds_one_connection(one_connection_url, conn, auth):
    """The handler's transaction reuses the connection the middleware holds: with a pool of
    one, a keyed POST that writes several tables still completes (two connections a request
    would wait for forever), and so do several at once."""
    async with httpx.AsyncClient(base_url=one_connection_url, timeout=20, headers=auth) as c:
        path, body, _, table = await post_claim(c)
        responses = await asyncio.gather(
            *(c.post(path, json=body, headers={KEY: f"k{i}"}) for i in range(3))
        )
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert await count(conn, table) == 3 + 3  # the world's three claims and these


async def test_db_helpers_use_the_request_connection(database_url):
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        async with pool.acquire() as held, held.transaction():
            token = db.request_connection.set(held)
            try:
                async with db.acquire(pool) as read:
                    assert read is held
                async with db.transaction(pool) as write:
                    assert write is held
                    await write.execute("CREATE TEMP TABLE t (x int)")
                    await write.execute("INSERT INTO t VALUES (1)")
                with pytest.raises(RuntimeError):
                    async with db.transaction(pool) as write:
                        await write.execute("INSERT INTO t VALUES (2)")
                        raise RuntimeError  # undoes this write (a savepoint), not the first
                assert await held.fetchval("SELECT array_agg(x) FROM t") == [1]
            finally:
                db.request_connection.reset(token)
        async with db.acquire(pool) as own:
            assert own is not held
    finally:
        await pool.close()


# ------------------------------------------------------------------- concurrent retries


async def test_a_retry_while_the_first_runs_is_a_409(live_url, conn, database_url, auth):
    """Forced: the test holds the advisory lock of (the caller's API key, key), as a request
    still running would."""
    key = "in-flight"
    body = {"kind": "state", "name": "Turkey"}
    holder = await asyncpg.connect(database_url)
    try:
        await holder.execute(
            "SELECT pg_advisory_lock($1)",
            idempotency.lock_key(await conn.fetchval("SELECT id::text FROM api_keys"), key),
        )
        async with httpx.AsyncClient(base_url=live_url, headers=auth) as c:
            busy = await c.post("/v1/actors", json=body, headers={KEY: key})
            assert problem(busy, 409)["type"] == "/problems/idempotency-key-in-use"
            assert busy.headers["retry-after"] == "1"
            assert await count(conn, "actors") == 0
            assert await count(conn, "idempotency_keys") == 0
            # another key is not held up
            other = await c.post("/v1/actors", json=body, headers={KEY: "another"})
            assert other.status_code == 201
            await holder.execute("SELECT pg_advisory_unlock_all()")
            done = await c.post("/v1/actors", json=body, headers={KEY: key})
            assert done.status_code == 201 and "idempotent-replayed" not in done.headers
    finally:
        await holder.close()
    assert await count(conn, "actors") == 2


async def test_concurrent_retries_do_the_work_once(live_url, conn, auth):
    """Unforced: the same POST sent several times at once with one key."""
    async with httpx.AsyncClient(base_url=live_url, headers=auth) as setup:
        path, body, _, table = await post_claim(setup)
    before = await count(conn, table)
    clients = [httpx.AsyncClient(base_url=live_url, headers=auth) for _ in range(4)]
    try:
        responses = await asyncio.gather(
            *(c.post(path, json=body, headers={KEY: "once"}) for c in clients)
        )
    finally:
        for c in clients:
            await c.aclose()

    done = [r for r in responses if r.status_code == 201 and "idempotent-replayed" not in r.headers]
    assert len(done) == 1, [(r.status_code, r.text) for r in responses]
    for r in responses:
        if r is done[0]:
            continue
        if r.status_code == 409:
            assert problem(r, 409)["type"] == "/problems/idempotency-key-in-use"
        else:
            assert r.status_code == 201 and r.headers["idempotent-replayed"] == "true"
            assert r.content == done[0].content
    assert await count(conn, table) == before + 1


# ------------------------------------------------------------------- the document


def test_every_post_operation_documents_the_key(client):
    schema = client.app.openapi_schema.to_schema()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            names = [p["name"] for p in operation.get("parameters", [])]
            if method != "post" or path in idempotency.NOT_REPLAYABLE:
                assert KEY not in names, (method, path)
                continue
            (parameter,) = [p for p in operation["parameters"] if p["name"] == KEY]
            assert parameter["in"] == "header" and parameter["required"] is False
            assert parameter["schema"]["maxLength"] == 255
            responses = operation["responses"]
            (ok,) = [r for status, r in responses.items() if status.startswith("2")]
            assert "Idempotent-Replayed" in ok["headers"], path
            assert "Idempotency-Key" in responses["409"]["description"], path
            assert "Retry-After" in responses["409"]["headers"], path
            assert "Idempotency-Key" in responses["422"]["description"], path
            for status in ("409", "422"):
                assert "application/problem+json" in responses[status]["content"]


@pytest.mark.parametrize(
    "slug, status", [("idempotency-key-in-use", 409), ("idempotency-key-reused", 422)]
)
async def test_the_problem_types_resolve(client, slug, status):
    response = await client.get(f"/problems/{slug}")
    assert response.status_code == 200
    assert response.json()["status"] == status
