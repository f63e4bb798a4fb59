"""GET /v1/changes: every change once, in a stable order, whatever commits when."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from service import db, history
from service.app import create_app
from service.changes import queries
from service.changes.schemas import ChangeEvent
from service.pagination import encode_cursor
from service.webhooks import outbox
from tests import helpers
from tests.conftest import make_key
from tests.helpers import fields, problem
from tests.test_explain import plan

pytestmark = pytest.mark.compat

SQL_WRITER = history.Who(changed_by="sql writer")


@pytest.fixture
async def writer(settings, database_url) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """The app with a `write` key named desk-laptop: the changes it makes carry that key."""
    key = await make_key(database_url, "write", name="desk-laptop")
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        test_client.headers["Authorization"] = f"Bearer {key}"
        yield test_client


@pytest.fixture
async def reader(settings, database_url) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """The app with a `read` key: the feed needs no more."""
    key = await make_key(database_url, "read", name="newsroom-cms")
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        test_client.headers["Authorization"] = f"Bearer {key}"
        yield test_client


async def poll(client: Any, cursor: str | None = None, **params: Any) -> dict[str, Any]:
    if cursor is not None:
        params["after"] = cursor
    response = await client.get("/v1/changes", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["next_cursor"]
    return body


async def drain(client: Any, cursor: str | None = None, **params: Any) -> tuple[list[Any], str]:
    """Pages until `has_more` is false: the events, and the cursor to poll from next."""
    events: list[Any] = []
    while True:
        body = await poll(client, cursor, **params)
        events += body["data"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return events, cursor


async def table_ids(conn: asyncpg.Connection) -> list[int]:
    """The ids of change_events in the feed's order."""
    return [r["id"] for r in await conn.fetch("SELECT id FROM change_events ORDER BY txid, id")]


async def connect(database_url: str) -> asyncpg.Connection:
    """A connection like the service's own (json/jsonb as Python values)."""
    connection = await asyncpg.connect(database_url)
    await db._init_connection(connection)
    return connection


async def record(conn: asyncpg.Connection, resource: str = "claim") -> int:
    """A change event written as every write writes it (``history.record``); its id."""
    resource_id = uuid.uuid4()
    await history.record(conn, SQL_WRITER, resource, resource_id, 1, "create", {})  # type: ignore[arg-type]
    event_id: int = await conn.fetchval(
        "SELECT id FROM change_events WHERE resource_id = $1", resource_id
    )
    return event_id


async def test_every_kind_of_write_is_listed_with_its_key(writer, reader, conn):
    akar = await helpers.actor(writer)
    russia = await helpers.create(writer, "actors", {"kind": "state", "name": "Russia"})
    checker = await helpers.create(writer, "actors", {"kind": "organization", "name": "Checker"})
    assert (
        await writer.patch(f"/v1/actors/{akar['id']}", json={"country": "TR"})
    ).status_code == 200
    src = await helpers.source(writer)
    left = await helpers.claim(writer, russia["id"], src["id"], text="أخلوا تماماً")
    remain = await helpers.claim(writer, akar["id"], src["id"])
    dispute = await helpers.create(
        writer,
        "disputes",
        {
            "title": "SDF withdrawal from the safe zone",
            "question": "Has the SDF fully withdrawn from the safe zone?",
            "positions": [
                {"claim_id": left["id"], "stance": "affirms"},
                {"claim_id": remain["id"], "stance": "denies"},
            ],
        },
    )
    # dismissed, so that a side may go (an open or resolved dispute keeps two)
    dismissal = {"note": "Two reports of one statement."}
    url = f"/v1/disputes/{dispute['id']}"
    patched = await writer.patch(url, json={"status": "dismissed", "dismissal": dismissal})
    assert patched.status_code == 200, patched.text
    side = await writer.delete(f"{url}/positions/{left['id']}")
    assert side.status_code == 200, side.text
    review = await helpers.create(
        writer,
        "reviews",
        {
            "claim_id": left["id"],
            "reviewer_id": checker["id"],
            "rating": {"label": "Disputed", "value": 2, "best": 5, "worst": 1},
            "summary": "Turkey's defence minister contradicts it.",
            "published_at": "2019-11-25",
            "lang": "en",
        },
    )
    assert (await writer.delete(f"/v1/reviews/{review['id']}")).status_code == 204
    assert (await writer.delete(f"/v1/disputes/{dispute['id']}")).status_code == 204
    assert (await writer.delete(f"/v1/claims/{remain['id']}")).status_code == 204

    events, _ = await drain(reader)
    expected = [
        ("actor", akar["id"], "create", 1),
        ("actor", russia["id"], "create", 1),
        ("actor", checker["id"], "create", 1),
        ("actor", akar["id"], "update", 2),
        ("source", src["id"], "create", 1),
        ("claim", left["id"], "create", 1),
        ("claim", remain["id"], "create", 1),
        ("dispute", dispute["id"], "create", 1),
        ("dispute", dispute["id"], "update", 2),  # status
        ("dispute", dispute["id"], "update", 3),  # a side removed
        ("review", review["id"], "create", 1),
        ("review", review["id"], "delete", 2),
        ("dispute", dispute["id"], "delete", 4),
        ("claim", remain["id"], "delete", 2),
    ]
    assert [(e["type"], e["resource_id"], e["action"], e["version"]) for e in events] == expected
    key = await conn.fetchrow("SELECT id, name FROM api_keys WHERE name = 'desk-laptop'")
    assert {(e["changed_by"], e["key_id"]) for e in events} == {("desk-laptop", str(key["id"]))}
    rows = {
        r["id"]: r
        for r in await conn.fetch("SELECT id, occurred_at, resource_id FROM change_events")
    }
    assert [e["id"] for e in events] == await table_ids(conn)
    for event in events:
        assert event["occurred_at"] == rows[event["id"]]["occurred_at"].isoformat().replace(
            "+00:00", "Z"
        )
    assert set(events[0]) == {
        "id",
        "type",
        "resource_id",
        "action",
        "version",
        "occurred_at",
        "changed_by",
        "key_id",
    }


async def test_a_merge_event_names_the_actor_merged_into(writer, reader, conn):
    """A CMS following the feed (or a webhook) saw `merge` on the duplicate and had to GET it
    to learn where it went: the event names it, as the merge's revision keeps it, even after
    the survivor is merged in turn (found by a new user's walkthrough); no other event has
    the field."""
    sdf = await helpers.create(writer, "actors", {"kind": "armed_group", "name": "SDF"})
    dup = await helpers.create(writer, "actors", {"kind": "armed_group", "name": "قسد"})
    third = await helpers.create(writer, "actors", {"kind": "armed_group", "name": "YPG-SDF"})
    for merged, into in ((dup, sdf), (sdf, third)):
        response = await writer.post(
            f"/v1/actors/{merged['id']}/merge", json={"into_id": into["id"]}
        )
        assert response.status_code == 200, response.text
    events, _ = await drain(reader, types="actor")
    merges = [(e["resource_id"], e["merged_into_id"]) for e in events if e["action"] == "merge"]
    assert merges == [(dup["id"], sdf["id"]), (sdf["id"], third["id"])]
    assert all("merged_into_id" not in e for e in events if e["action"] != "merge")
    # a webhook's body carries it as the feed does
    last_merge = [e for e in events if e["action"] == "merge"][-1]
    merge, update = (msgspec.convert(e, ChangeEvent) for e in (last_merge, events[0]))
    body = json.loads(outbox.payload(merge, (1, 1)))
    assert body["data"]["merged_into_id"] == third["id"], body
    assert "merged_into_id" not in json.loads(outbox.payload(update, (1, 1)))["data"]


async def test_types_and_resource_id_filter(writer, reader):
    akar = await helpers.actor(writer)
    src = await helpers.source(writer)
    claim = await helpers.claim(writer, akar["id"], src["id"])
    await writer.patch(f"/v1/claims/{claim['id']}", json={"topics": ["safe-zone"]})
    await writer.patch(f"/v1/actors/{akar['id']}", json={"country": "TR"})

    claims, _ = await drain(reader, types="claim")
    assert [(e["type"], e["version"]) for e in claims] == [("claim", 1), ("claim", 2)]
    both, _ = await drain(reader, types="source,actor")
    assert [(e["type"], e["version"]) for e in both] == [("actor", 1), ("source", 1), ("actor", 2)]
    one, _ = await drain(reader, resource_id=akar["id"])
    assert [(e["resource_id"], e["version"]) for e in one] == [(akar["id"], 1), (akar["id"], 2)]
    assert (await drain(reader, resource_id=akar["id"], types="claim"))[0] == []
    assert (await drain(reader, types="dispute,review"))[0] == []

    for bad in ("claims", "claim,", "claim,bogus", "CLAIM", ""):
        body = problem(await reader.get("/v1/changes", params={"types": bad}), 422)
        assert fields(body) == {"types"}, bad
    assert fields(problem(await reader.get("/v1/changes?resource_id=nope"), 422)) == {"resource_id"}
    for limit in ("0", "201", "x"):
        assert fields(problem(await reader.get(f"/v1/changes?limit={limit}"), 422)) == {"limit"}


async def test_now_starts_at_the_current_position(writer, reader):
    old = await helpers.actor(writer)
    body = await poll(reader, "now", types="actor")
    assert body["data"] == [] and body["has_more"] is False
    new = await helpers.actor(writer, name="Russia")
    await writer.patch(f"/v1/actors/{old['id']}", json={"country": "TR"})
    events, _ = await drain(reader, body["next_cursor"], types="actor")
    assert [(e["resource_id"], e["version"]) for e in events] == [
        (new["id"], 1),
        (old["id"], 2),
    ]


async def test_bad_cursors_are_refused(reader):
    forged = [
        "not-a-cursor",
        encode_cursor("claims", 1, 2),  # another list's cursor
        encode_cursor("changes", 1),
        encode_cursor("changes", -1, 0),
        encode_cursor("changes", 2**64, 0),
        encode_cursor("changes", 0, 2**63),
        base64.urlsafe_b64encode(json.dumps(["changes", "x", 1]).encode()).decode().rstrip("="),
    ]
    for cursor in forged:
        body = problem(await reader.get("/v1/changes", params={"after": cursor}), 422)
        assert fields(body) == {"after"}, cursor


async def test_a_cursor_ahead_of_the_feed_is_refused(writer, reader, conn):
    """A cursor past any transaction this database has had (from another database, or kept
    across a restore from an older backup) read nothing, until the server's transaction ids
    caught up, then skipped every change made meanwhile. Now a 422 saying what to do."""
    await helpers.actor(writer)
    head = int(await conn.fetchval("SELECT pg_snapshot_xmax(pg_current_snapshot())::text"))
    for cursor in (encode_cursor("changes", head + 1000, 0), encode_cursor("changes", 2**62, 5)):
        body = problem(await reader.get("/v1/changes", params={"after": cursor}), 422)
        assert fields(body) == {"after"}
        assert "ahead of this feed" in body["errors"][0]["message"]
    # every cursor the feed hands out is taken, the last one at the head included
    body = await poll(reader, "now")
    assert (
        await reader.get("/v1/changes", params={"after": body["next_cursor"]})
    ).status_code == 200
    events, last = await drain(reader, None)
    assert events and (await reader.get("/v1/changes", params={"after": last})).status_code == 200


async def test_a_cursor_walk_sees_each_event_once_in_order(writer, reader, conn):
    actors = [await helpers.actor(writer, name=f"Actor {i}") for i in range(7)]
    for a in actors[:4]:
        await writer.patch(f"/v1/actors/{a['id']}", json={"country": "TR"})
    for a in actors[4:]:
        await writer.delete(f"/v1/actors/{a['id']}")

    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        response = await reader.get(
            "/v1/changes", params={"limit": 3, **({"after": cursor} if cursor else {})}
        )
        body = response.json()
        pages += 1
        seen += [e["id"] for e in body["data"]]
        assert len(body["data"]) <= 3
        # the Link header is the next poll, with the same filters
        assert response.headers["link"] == (
            f'</v1/changes?after={body["next_cursor"]}&limit=3>; rel="next"'
        )
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    assert pages == 5  # 14 events, 3 a page
    assert seen == await table_ids(conn)

    # Up to date: an empty page that keeps the place; new changes come after it.
    empty = await poll(reader, cursor)
    assert empty == {"data": [], "next_cursor": empty["next_cursor"], "has_more": False}
    again = await poll(reader, empty["next_cursor"])
    assert again["data"] == []
    await writer.patch(f"/v1/actors/{actors[0]['id']}", json={"country": "SY"})
    new = await poll(reader, again["next_cursor"])
    assert [(e["resource_id"], e["version"]) for e in new["data"]] == [(actors[0]["id"], 3)]
    assert (await poll(reader, new["next_cursor"]))["data"] == []

    # A filtered client that skipped other types' events moves on too, and misses none.
    _, claims_cursor = await drain(reader, types="claim")
    assert (await poll(reader, claims_cursor, types="claim"))["data"] == []
    akar = actors[0]
    src = await helpers.source(writer)
    claim = await helpers.claim(writer, akar["id"], src["id"])
    page = await poll(reader, claims_cursor, types="claim")
    assert [e["resource_id"] for e in page["data"]] == [claim["id"]]


@pytest.mark.parametrize("order", ["ids-in-start-order", "ids-against-start-order"])
async def test_a_transaction_committing_late_is_delivered_once(reader, conn, database_url, order):
    """The trap: A writes its event, B writes one and commits, a reader passes B, then A
    commits. Reading "id > last id seen" loses A. The feed holds B back until A is over,
    and a client that kept its cursor then gets A (and B) exactly once."""
    first, _ = await drain(reader)
    assert first == []
    cursor = (await poll(reader))["next_cursor"]
    a = await connect(database_url)
    b = await connect(database_url)
    try:
        a_tx = a.transaction()
        await a_tx.start()
        if order == "ids-in-start-order":
            a_id = await record(a)  # A's event gets the lower id
        else:
            await a.fetchval("SELECT pg_current_xact_id()")  # A starts first...
        async with b.transaction():
            b_id = await record(b)
        if order == "ids-against-start-order":
            a_id = await record(a)  # ...but its event gets the higher id
            assert a_id > b_id
        else:
            assert a_id < b_id
        # B is committed and visible; A is not.
        assert await conn.fetchval("SELECT array_agg(id) FROM change_events") == [b_id]

        held = await poll(reader, cursor)
        assert held["data"] == [] and held["has_more"] is False
        cursor = held["next_cursor"]
        assert (await poll(reader, cursor))["data"] == []

        if order == "ids-in-start-order":
            # What reading by id would have done: pass B's id, never to see A's.
            naive_last = max(r["id"] for r in await conn.fetch("SELECT id FROM change_events"))
            assert naive_last == b_id > a_id

        await a_tx.commit()
        # A restarted client: only the stored cursor string survives.
        delivered, cursor = await drain(reader, cursor)
        assert [e["id"] for e in delivered] == [a_id, b_id]  # transaction order
        assert (await poll(reader, cursor))["data"] == []
        assert [e["id"] for e in delivered] == await table_ids(conn)
    finally:
        await a.close()
        await b.close()


async def test_a_rolled_back_transaction_never_shows_and_does_not_stall(reader, conn, database_url):
    other = await connect(database_url)
    try:
        tx = other.transaction()
        await tx.start()
        lost = await record(other)
        cursor = (await poll(reader))["next_cursor"]
        await tx.rollback()
        async with other.transaction():
            kept = await record(other)
        events, _ = await drain(reader, cursor)
        assert [e["id"] for e in events] == [kept] and lost != kept
        assert await table_ids(conn) == [kept]
    finally:
        await other.close()


async def test_a_long_read_does_not_hold_the_feed_back(reader, database_url):
    """Only transactions that have written hold the horizon, not a long report."""
    long_read = await connect(database_url)
    other = await connect(database_url)
    try:
        tx = long_read.transaction(isolation="repeatable_read")
        await tx.start()
        await long_read.fetchval("SELECT count(*) FROM change_events")
        cursor = (await poll(reader, "now"))["next_cursor"]
        async with other.transaction():
            written = await record(other)
        events, _ = await drain(reader, cursor)
        assert [e["id"] for e in events] == [written]
        await tx.rollback()
    finally:
        await long_read.close()
        await other.close()


async def test_transactions_are_ordered_by_number_not_by_spelling(reader, conn):
    """Transaction ids cross digit boundaries (9, 10; 99, 100): the feed orders them as
    numbers, and a cursor holds them exactly. Events here are inserted with the ids of old,
    finished transactions, in an order that is not theirs."""
    horizon = int(await conn.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())::text"))
    txids = [t for t in (100, 9, 11, 3, 99, 10, horizon - 1) if t < horizon]
    for txid in txids:
        await conn.execute(
            """INSERT INTO change_events (resource, resource_id, action, version, changed_by, txid)
               VALUES ('claim', gen_random_uuid(), 'create', 1, 'old', $1::text::xid8)""",
            str(txid),
        )
    ids = {
        int(r["txid"]): r["id"]
        for r in await conn.fetch("SELECT id, txid::text AS txid FROM change_events")
    }
    walked: list[int] = []
    cursor = None
    while True:  # one event a page: every cursor is a position between two of them
        body = await poll(reader, cursor, limit=1)
        walked += [e["id"] for e in body["data"]]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    assert walked == [ids[t] for t in sorted(txids)]


async def test_read_scope_is_enough_and_a_key_is_needed(anonymous, reader):
    assert (await reader.get("/v1/changes")).status_code == 200
    assert (await anonymous.get("/v1/changes")).status_code == 401


async def test_feed_under_concurrent_writers(live_url, auth, database_url, conn):
    """Writers through a real server and through SQL (holding transactions open a random while,
    some rolled back) race a reader that polls with its cursor, reconnecting now and then:
    it sees every committed change exactly once, in the feed's order."""
    read_key = await make_key(database_url, "read", name="poller")
    done = asyncio.Event()

    async def http_writer(seed: int, operations: int) -> None:
        rng = random.Random(seed)  # noqa: S311  (a reproducible schedule, not a secret)
        alive: list[str] = []
        async with httpx.AsyncClient(base_url=live_url, headers=auth, timeout=60) as http:
            for i in range(operations):
                roll = rng.random()
                if alive and roll < 0.35:
                    r = await http.patch(
                        f"/v1/actors/{rng.choice(alive)}", json={"description": f"v{i}"}
                    )
                    assert r.status_code == 200, r.text
                elif alive and roll < 0.5:
                    r = await http.delete(f"/v1/actors/{alive.pop(rng.randrange(len(alive)))}")
                    assert r.status_code == 204, r.text
                else:
                    r = await http.post(
                        "/v1/actors", json={"kind": "person", "name": f"Writer {seed} #{i}"}
                    )
                    assert r.status_code == 201, r.text
                    alive.append(r.json()["id"])

    async def sql_writer(seed: int, transactions: int) -> None:
        rng = random.Random(seed)  # noqa: S311  (a reproducible schedule, not a secret)
        connection = await connect(database_url)
        try:
            for _ in range(transactions):
                tx = connection.transaction()
                await tx.start()
                if rng.random() < 0.5:
                    await connection.fetchval("SELECT pg_current_xact_id()")
                await asyncio.sleep(rng.uniform(0, 0.03))
                for _ in range(rng.randint(1, 3)):
                    await record(connection, rng.choice(["claim", "dispute", "review"]))
                await asyncio.sleep(rng.uniform(0, 0.06))
                if rng.random() < 0.15:
                    await tx.rollback()
                else:
                    await tx.commit()
        finally:
            await connection.close()

    async def reader() -> list[int]:
        seen: list[int] = []
        cursor: str | None = None
        polls = 0
        deadline = None
        while True:
            finished = done.is_set()
            # a new connection every few polls: only the cursor survives a restart
            async with httpx.AsyncClient(
                base_url=live_url, headers={"Authorization": f"Bearer {read_key}"}, timeout=60
            ) as http:
                for _ in range(5):
                    params: dict[str, Any] = {"limit": 7}
                    if cursor:
                        params["after"] = cursor
                    r = await http.get("/v1/changes", params=params)
                    assert r.status_code == 200, r.text
                    body = r.json()
                    polls += 1
                    seen += [e["id"] for e in body["data"]]
                    cursor = body["next_cursor"]
                    if not body["has_more"]:
                        break
            if finished and not body["has_more"]:
                # Everything written is over; unrelated short transactions (a key's
                # last use) may hold the horizon a moment: poll until caught up.
                total = await conn.fetchval("SELECT count(*) FROM change_events")
                if len(seen) >= total:
                    return seen
                deadline = deadline or time.monotonic() + 30
                assert time.monotonic() < deadline, (len(seen), total)
            await asyncio.sleep(0.01)

    reading = asyncio.create_task(reader())
    await asyncio.gather(
        *(http_writer(seed, 25) for seed in range(4)),
        *(sql_writer(100 + seed, 15) for seed in range(2)),
    )
    done.set()
    seen = await reading

    assert len(seen) == len(set(seen)), "an event was delivered twice"
    expected = await table_ids(conn)
    assert seen == expected
    assert len(expected) > 100
    # The trap was really there: the feed's order is not the id order.
    assert expected != sorted(expected)


@pytest.fixture
async def many_events(conn):
    """Twenty thousand events of finished transactions, and fresh statistics."""
    await conn.execute(
        """INSERT INTO change_events
               (resource, resource_id, action, version, changed_by, txid)
           SELECT (ARRAY['actor', 'source', 'claim', 'dispute', 'review'])[1 + g % 5],
                  gen_random_uuid(), 'update', 1 + g / 5, 'bulk',
                  greatest(3, h - 1 - g / 5)::text::xid8
           FROM generate_series(1, 20000) AS g,
                (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS h) AS horizon"""
    )
    await conn.execute("ANALYZE change_events")


@pytest.mark.parametrize("types", [["claim"], ["claim", "dispute"], list(queries.TYPES)])
async def test_a_page_reads_its_rows_from_the_feed_index(conn, many_events, types):
    """Each type's next rows come from one ordered index range after the cursor: no full
    read of change_events, no sort of more than the page's candidates."""
    text = await plan(conn, queries.FEED, types, "3", 0, 51)
    assert "change_events__feed_idx" in text, text
    assert "Seq Scan on change_events" not in text, text
    assert "Bitmap" not in text, text
    # each type's rows come in index order, cut at the page size: what is sorted is only
    # the types' candidates (a Limit right above the index scan, no Sort between them)
    lines = [line.strip() for line in text.splitlines()]
    scan = next(i for i, line in enumerate(lines) if "change_events__feed_idx" in line)
    assert lines[scan - 1].startswith("->  Limit"), text


async def test_one_resources_events_come_from_its_index(conn, many_events):
    resource_id = await conn.fetchval("SELECT resource_id FROM change_events LIMIT 1")
    text = await plan(conn, queries.FEED_OF_ONE, list(queries.TYPES), "0", 0, 51, resource_id)
    assert "change_events__resource_idx" in text, text
    assert "Seq Scan on change_events" not in text, text
