"""Claims: embeds from one query, dates with precision, rules across fields, filters."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import pytest

from service import db, errors, etag
from service.actors import queries as actors
from service.actors.schemas import ActorUpdate
from service.claims import queries
from service.claims.schemas import Claim, ClaimCreate, ClaimUpdate
from service.db import rfc3339
from service.history import Who
from service.pagination import compact_json
from tests import helpers
from tests.helpers import fields, problem, snapshot

pytestmark = pytest.mark.compat


@pytest.fixture
async def world(client):
    turkey = await helpers.create(client, "actors", {"kind": "state", "name": "Turkey"})
    russia = await helpers.create(client, "actors", {"kind": "state", "name": "Russia"})
    sdf = await helpers.create(client, "actors", {"kind": "armed_group", "name": "SDF"})
    akar = await helpers.actor(
        client,
        memberships=[
            {
                "organization_id": turkey["id"],
                "role": "Chief of the General Staff",
                "start_date": "2015-08-18",
                "end_date": "2018-07-09",
            },
            {
                "organization_id": turkey["id"],
                "role": "Minister of National Defence",
                "start_date": "2018-07-10",
                "end_date": "2023-06-03",
            },
        ],
    )
    src = await helpers.source(
        client, title="Awtan Post on Ain Issa", url="https://www.awtanpost.com/2019/11/24/ain-issa/"
    )
    return {"turkey": turkey, "russia": russia, "sdf": sdf, "akar": akar, "source": src}


async def test_claim_embeds_what_a_client_shows(client, world):
    claim = await helpers.claim(
        client,
        world["russia"]["id"],
        world["source"]["id"],
        relayed_by_id=world["akar"]["id"],
        verbatim=False,
        kind="assertion",
        stated_on="2019-11-01",
        stated_on_precision="month",
        translations=[{"lang": "en", "text": "The terrorists fully left the safe zone."}],
        targets=[{"actor_id": world["sdf"]["id"], "role": "mentioned"}],
        topics=["safe-zone", "ain-issa"],
    )
    read = (await client.get(f"/v1/claims/{claim['id']}")).json()
    assert read == claim
    assert read["speaker"] == {
        "id": world["russia"]["id"],
        "name": "Russia",
        "kind": "state",
        "role": None,
    }
    assert read["relayed_by"]["name"] == "Hulusi Akar"
    assert read["targets"] == [
        {
            "actor_id": world["sdf"]["id"],
            "role": "mentioned",
            "actor": {"id": world["sdf"]["id"], "name": "SDF", "kind": "armed_group"},
        }
    ]
    assert read["appearances"][0]["source"] == {
        "id": world["source"]["id"],
        "title": "Awtan Post on Ain Issa",
        "url": "https://www.awtanpost.com/2019/11/24/ain-issa/",
        "kind": "article",
    }
    assert read["topics"] == ["safe-zone", "ain-issa"]


@pytest.mark.parametrize(
    "stated_on, precision, role",
    [
        ("2019-11-24", "day", "Minister of National Defence"),
        ("2016-03-01", "day", "Chief of the General Staff"),
        ("2025-01-01", "day", None),  # after his last role ended (2023)
        ("2019-11-01", "month", "Minister of National Defence"),
        ("2019-01-01", "year", "Minister of National Defence"),
        # a period the roles change in: neither held through it (it took the later one,
        # which he may not have held yet; found in a new user's walkthrough)
        ("2018-07-01", "month", None),
        ("2018-01-01", "year", None),
        ("2023-01-01", "year", None),
    ],
)
async def test_speaker_role_covers_the_claims_period(client, world, stated_on, precision, role):
    claim = await helpers.claim(
        client,
        world["akar"]["id"],
        world["source"]["id"],
        stated_on=stated_on,
        stated_on_precision=precision,
    )
    speaker_role = claim["speaker"]["role"]
    assert (speaker_role and speaker_role["role"]) == role
    if role:
        assert speaker_role["organization_name"] == "Turkey"


async def test_stated_on_defaults_to_day_precision_and_checks_alignment(client, conn, world):
    claim = await helpers.claim(
        client, world["akar"]["id"], world["source"]["id"], stated_on="2019-11-24"
    )
    assert claim["stated_on_precision"] == "day"
    before = await snapshot(conn)
    for extra, field in [
        ({"stated_on": "2019-11-24", "stated_on_precision": "month"}, "stated_on"),
        ({"stated_on": "2019-11-01", "stated_on_precision": "year"}, "stated_on"),
        ({"stated_on_precision": "day"}, "stated_on_precision"),
        ({"stated_on": "2019-11-31"}, "stated_on"),
        ({"stated_on_precision": "week", "stated_on": "2019-11-24"}, "stated_on_precision"),
    ]:
        response = await client.post(
            "/v1/claims",
            json={
                "speaker_id": world["akar"]["id"],
                "text": "x",
                "lang": "ar",
                "appearances": [{"source_id": world["source"]["id"]}],
                **extra,
            },
        )
        assert field in fields(problem(response, 422)), extra
    # PATCH checks the claim as it would be stored
    response = await client.patch(f"/v1/claims/{claim['id']}", json={"stated_on_precision": "year"})
    assert fields(problem(response, 422)) == {"stated_on"}
    # clearing the precision of a date kept would make a month its 1st day: refused (it was
    # taken as "day", found in a new user's walkthrough)
    month = await helpers.claim(
        client,
        world["akar"]["id"],
        world["source"]["id"],
        stated_on="2019-11-01",
        stated_on_precision="month",
    )
    before = await snapshot(conn)
    response = await client.patch(f"/v1/claims/{month['id']}", json={"stated_on_precision": None})
    assert fields(problem(response, 422)) == {"stated_on_precision"}
    assert await snapshot(conn) == before
    both = await client.patch(
        f"/v1/claims/{month['id']}", json={"stated_on": None, "stated_on_precision": None}
    )
    assert (both.json()["stated_on"], both.json()["stated_on_precision"]) == (None, None)
    before = await snapshot(conn)

    year = (
        await client.patch(
            f"/v1/claims/{claim['id']}",
            json={"stated_on": "2019-01-01", "stated_on_precision": "year"},
        )
    ).json()
    assert (year["stated_on"], year["stated_on_precision"]) == ("2019-01-01", "year")
    day = (await client.patch(f"/v1/claims/{claim['id']}", json={"stated_on": "2019-11-25"})).json()
    assert (day["stated_on"], day["stated_on_precision"]) == ("2019-11-25", "day")
    cleared = (await client.patch(f"/v1/claims/{claim['id']}", json={"stated_on": None})).json()
    assert (cleared["stated_on"], cleared["stated_on_precision"]) == (None, None)
    # the stored date of a claim of a month, sent alone, is that day (it changed nothing, the
    # date being the same: a new user's walkthrough); sent with its precision, nothing
    again = await helpers.claim(
        client,
        world["akar"]["id"],
        world["source"]["id"],
        stated_on="2019-11-01",
        stated_on_precision="month",
    )
    same = await client.patch(
        f"/v1/claims/{again['id']}",
        json={"stated_on": "2019-11-01", "stated_on_precision": "month"},
    )
    assert same.json()["version"] == again["version"]
    first = (
        await client.patch(f"/v1/claims/{again['id']}", json={"stated_on": "2019-11-01"})
    ).json()
    assert (first["stated_on_precision"], first["version"]) == ("day", again["version"] + 1)


async def test_rules_across_fields(client, conn, world):
    speaker, src = world["akar"]["id"], world["source"]["id"]
    base = {"speaker_id": speaker, "text": "x", "lang": "ar", "appearances": [{"source_id": src}]}
    before = await snapshot(conn)
    for extra, field in [
        ({"appearances": []}, "appearances"),  # no claim without provenance
        ({"appearances": [{"source_id": src}, {"source_id": src}]}, "appearances[1]"),
        ({"relayed_by_id": speaker}, "relayed_by_id"),
        ({"targets": [{"actor_id": speaker, "role": "accused"}] * 2}, "targets[1]"),
        (
            {"translations": [{"lang": "en", "text": "a"}, {"lang": "EN", "text": "b"}]},
            "translations[1]",
        ),
        ({"topics": ["safe-zone", "safe-zone"]}, "topics[1]"),
        ({"topics": ["Safe Zone"]}, "topics[0]"),
        ({"text": "ق" * 20_001}, "text"),
        ({"verbatim": "yes"}, "verbatim"),
        ({"kind": "rumour"}, "kind"),
        ({"targets": [{"actor_id": speaker, "role": "blamed"}]}, "targets[0].role"),
    ]:
        body = problem(await client.post("/v1/claims", json={**base, **extra}), 422)
        assert field in fields(body), (extra, body)
    claim = await helpers.claim(client, speaker, src)
    body = problem(await client.patch(f"/v1/claims/{claim['id']}", json={"appearances": []}), 422)
    assert fields(body) == {"appearances"}
    before = await snapshot(conn)
    body = problem(await client.patch(f"/v1/claims/{claim['id']}", json={"appearances": None}), 422)
    assert await snapshot(conn) == before


async def test_no_translation_in_the_claims_own_language(client, conn, world):
    speaker, src = world["akar"]["id"], world["source"]["id"]
    base = {"speaker_id": speaker, "text": "x", "lang": "ar", "appearances": [{"source_id": src}]}
    before = await snapshot(conn)
    own = [{"lang": "en", "text": "a"}, {"lang": "AR", "text": "x"}]
    body = problem(await client.post("/v1/claims", json={**base, "translations": own}), 422)
    assert fields(body) == {"translations[1].lang"} and "(ar)" in body["detail"]
    assert await snapshot(conn) == before
    # ar-SY is another language tag than ar: a dialect's rendering is a translation
    claim = await helpers.claim(
        client,
        speaker,
        src,
        translations=[{"lang": "en", "text": "a"}, {"lang": "ar-SY", "text": "b"}],
    )
    url = f"/v1/claims/{claim['id']}"
    before = await snapshot(conn)
    for change in ({"translations": own}, {"lang": "en"}, {"lang": "EN", "text": "y"}):
        body = problem(await client.patch(url, json=change), 422)
        assert fields(body) == {"translations[0].lang"} or fields(body) == {"translations[1].lang"}
    assert await snapshot(conn) == before
    # one stored before the rule: a PATCH of other fields keeps it, one of the list checks it
    await conn.execute(
        "UPDATE claims SET translations = $2::jsonb WHERE id = $1",
        claim["id"],
        '[{"lang": "ar", "text": "x"}]',
    )
    kept = (await client.patch(url, json={"topics": ["safe-zone"]})).json()
    assert kept["topics"] == ["safe-zone"] and kept["translations"] == [{"lang": "ar", "text": "x"}]
    # sent back as stored, alone or with another change, it is not checked
    stored = [{"lang": "ar", "text": "x"}]
    same = (await client.patch(url, json={"translations": stored})).json()
    assert same["version"] == kept["version"]
    edited = await client.patch(url, json={"translations": stored, "lang": "ar", "kind": "denial"})
    assert edited.status_code == 200 and edited.json()["kind"] == "denial"
    # changed, it is
    problem(await client.patch(url, json={"translations": [{"lang": "ar", "text": "y"}]}), 422)


async def test_no_date_after_today(client, conn, world):
    speaker, src = world["akar"]["id"], world["source"]["id"]
    base = {"speaker_id": speaker, "text": "x", "lang": "ar", "appearances": [{"source_id": src}]}
    ahead = datetime.now(UTC) + timedelta(hours=14)  # today in the earliest time zone
    before = await snapshot(conn)
    for dated in (
        {"stated_on": "2091-11-24"},  # 2019 mistyped
        {"stated_on": (ahead + timedelta(days=1)).date().isoformat()},
        {"stated_on": f"{ahead.year + 1}-01-01", "stated_on_precision": "year"},
    ):
        body = problem(await client.post("/v1/claims", json={**base, **dated}), 422)
        assert fields(body) == {"stated_on"} and "In the future" in body["detail"], body
    assert await snapshot(conn) == before
    # and with a year, a future date says both what is wrong with it
    dated = {"stated_on": "2099-06-05", "stated_on_precision": "year"}
    body = problem(await client.post("/v1/claims", json={**base, **dated}), 422)
    assert [e["field"] for e in body["errors"]] == ["stated_on", "stated_on"]
    today = await helpers.claim(client, speaker, src, stated_on=ahead.date().isoformat())
    this_year = {"stated_on": f"{ahead.year}-01-01", "stated_on_precision": "year"}
    claim = await helpers.claim(client, speaker, src, **this_year)
    url = f"/v1/claims/{claim['id']}"
    problem(await client.patch(url, json={"stated_on": "2091-01-01"}), 422)
    # one stored before the rule: kept through a PATCH of other fields
    await conn.execute("UPDATE claims SET stated_on = '2091-01-01' WHERE id = $1", claim["id"])
    kept = (await client.patch(url, json={"topics": ["safe-zone"]})).json()
    assert (kept["stated_on"], kept["topics"]) == ("2091-01-01", ["safe-zone"])
    # a CMS sending the claim back whole with one field edited: the date is not changed
    whole = {k: kept[k] for k in ("stated_on", "stated_on_precision", "text", "lang")}
    edited = (await client.patch(url, json={**whole, "topics": ["ceasefire"]})).json()
    assert (edited["stated_on"], edited["topics"]) == ("2091-01-01", ["ceasefire"])
    assert today["stated_on"] == ahead.date().isoformat()


def test_the_latest_date_is_today_in_the_earliest_time_zone():
    """UTC+14: at 09:59 UTC it is still the same day there, at 10:00 the next."""
    assert queries.latest_stated_on(datetime(2026, 11, 28, 9, 59, tzinfo=UTC)).isoformat() == (
        "2026-11-28"
    )
    assert queries.latest_stated_on(datetime(2026, 11, 28, 10, 0, tzinfo=UTC)).isoformat() == (
        "2026-11-29"
    )


async def test_patch_replaces_sent_lists_only(client, conn, world):
    claim = await helpers.claim(
        client,
        world["akar"]["id"],
        world["source"]["id"],
        targets=[{"actor_id": world["sdf"]["id"], "role": "accused"}],
    )
    other = await helpers.source(client, title="another")
    patched = (
        await client.patch(
            f"/v1/claims/{claim['id']}",
            json={
                "appearances": [{"source_id": other["id"], "note": "syndicated"}],
                "kind": "denial",
            },
        )
    ).json()
    assert patched["version"] == 2
    assert [a["source_id"] for a in patched["appearances"]] == [other["id"]]
    assert patched["targets"] == claim["targets"]
    assert patched["kind"] == "denial"
    assert await conn.fetchval("SELECT count(*) FROM claim_appearances") == 1


async def test_filters(client, world):
    akar, russia, sdf, src = (world[k]["id"] for k in ("akar", "russia", "sdf", "source"))
    other_src = (await helpers.source(client, title="other"))["id"]
    remain = await helpers.claim(
        client,
        akar,
        src,
        stated_on="2019-11-24",
        kind="assertion",
        targets=[{"actor_id": sdf, "role": "accused"}],
        topics=["safe-zone"],
    )
    left = await helpers.claim(
        client,
        russia,
        src,
        relayed_by_id=akar,
        stated_on="2019-11-01",
        stated_on_precision="month",
        topics=["safe-zone"],
    )
    sochi = await helpers.claim(
        client,
        russia,
        other_src,
        lang="en",
        text="Sochi",
        kind="promise",
        stated_on="2019-01-01",
        stated_on_precision="year",
    )

    async def ids(**params):
        response = await client.get("/v1/claims", params=params)
        assert response.status_code == 200, response.text
        return {c["id"] for c in response.json()["data"]}

    assert await ids(speaker_id=russia) == {left["id"], sochi["id"]}
    assert await ids(target_id=sdf) == {remain["id"]}
    assert await ids(relayed_by_id=akar) == {left["id"]}
    assert await ids(source_id=other_src) == {sochi["id"]}
    assert await ids(topic="safe-zone") == {remain["id"], left["id"]}
    assert await ids(lang="en") == {sochi["id"]}
    assert await ids(kind="promise") == {sochi["id"]}
    # periods overlap the range: November 2019 and the year 2019 include 20 Nov
    assert await ids(stated_from="2019-11-20", stated_to="2019-11-20") == {left["id"], sochi["id"]}
    assert await ids(stated_from="2019-11-24") == {remain["id"], left["id"], sochi["id"]}
    assert await ids(stated_to="2019-10-31") == {sochi["id"]}
    assert await ids(speaker_id=russia, topic="safe-zone") == {left["id"]}


async def test_delete_keeps_history(client, conn, world):
    claim = await helpers.claim(client, world["akar"]["id"], world["source"]["id"])
    assert (await client.delete(f"/v1/claims/{claim['id']}")).status_code == 204
    problem(await client.get(f"/v1/claims/{claim['id']}"), 404)
    revisions = (await client.get(f"/v1/claims/{claim['id']}/revisions")).json()["data"]
    assert [(r["version"], r["action"]) for r in revisions] == [(2, "delete"), (1, "create")]
    assert revisions[0]["data"]["text"] == claim["text"]
    assert await conn.fetchval("SELECT count(*) FROM claim_targets") == 0


async def test_writes_answer_and_record_what_get_answers(client, conn, world):
    """POST is one statement, and PATCH's update of the row too: what each answers is what
    GET answers, what the revision keeps and what the change feed announces."""
    claim = await helpers.claim(
        client,
        world["akar"]["id"],
        world["source"]["id"],
        relayed_by_id=world["russia"]["id"],
        stated_on="2019-11-24",
        translations=[{"lang": "en", "text": "The terrorists fully left the safe zone."}],
        targets=[
            {"actor_id": world["sdf"]["id"], "role": "accused"},
            {"actor_id": world["turkey"]["id"], "role": "mentioned"},
        ],
    )
    assert [t["actor"]["name"] for t in claim["targets"]] == ["SDF", "Turkey"]
    assert claim["appearances"][0]["source"]["title"] == "Awtan Post on Ain Issa"
    assert claim["speaker"]["role"]["role"] == "Minister of National Defence"
    assert (await client.get(f"/v1/claims/{claim['id']}")).json() == claim
    revisions = (await client.get(f"/v1/claims/{claim['id']}/revisions")).json()["data"]
    assert [(r["version"], r["action"], r["data"]) for r in revisions] == [(1, "create", claim)]
    body = {"speaker_id": world["sdf"]["id"], "text": "لم ننسحب", "lang": "ar"}
    body["appearances"] = [{"source_id": world["source"]["id"]}]
    answer = await client.post("/v1/claims", json=body)
    read = await client.get(answer.headers["location"])
    assert (answer.content, answer.headers["etag"]) == (read.content, read.headers["etag"])
    events = await conn.fetch(
        "SELECT resource, action, version FROM change_events WHERE resource_id = $1",
        UUID(claim["id"]),
    )
    assert [tuple(e.values()) for e in events] == [("claim", "create", 1)]

    # PATCH: a field, then a list; each answer is the next GET and the revision of its version
    url = f"/v1/claims/{claim['id']}"
    answer = await client.patch(url, json={"kind": "accusation"})
    read = await client.get(url)
    assert (answer.content, answer.headers["etag"]) == (read.content, read.headers["etag"])
    kind = answer.json()
    targets = (
        await client.patch(
            url, json={"targets": [{"actor_id": world["turkey"]["id"], "role": "accused"}]}
        )
    ).json()
    assert (kind["version"], kind["kind"], len(kind["targets"])) == (2, "accusation", 2)
    assert [t["actor"]["name"] for t in targets["targets"]] == ["Turkey"]
    assert (await client.get(url)).json() == targets
    revisions = (await client.get(f"{url}/revisions")).json()["data"]
    assert [r["data"] for r in revisions] == [targets, kind, claim]
    events = await conn.fetch(
        "SELECT action, version FROM change_events WHERE resource_id = $1 ORDER BY id",
        UUID(claim["id"]),
    )
    assert [tuple(e.values()) for e in events] == [("create", 1), ("update", 2), ("update", 3)]

    # a PATCH sets only the columns it changes; the text's search columns follow the text
    async def found(q):
        return [c["id"] for c in (await client.get("/v1/claims", params={"q": q})).json()["data"]]

    assert await found("ceasefire") == []
    await client.patch(url, json={"translations": [{"lang": "en", "text": "A ceasefire."}]})
    assert await found("ceasefire") == [claim["id"]]
    await client.patch(url, json={"kind": "denial"})
    assert await found("ceasefire") == [claim["id"]]


async def test_timestamps_written_in_sql_as_msgspec_writes_them(conn):
    """The JSON PostgreSQL builds for a revision holds the same timestamp text the API sends."""
    rng = random.Random(7)  # noqa: S311  (reproducible instants, not a secret)
    base = datetime(2026, 11, 27, 2, 7, 59, tzinfo=UTC)
    values = [
        base,
        base.replace(microsecond=1),
        base.replace(microsecond=120),
        base.replace(microsecond=500000),
        base.replace(microsecond=999999),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),
        *(base + timedelta(microseconds=rng.randrange(-(10**15), 10**15)) for _ in range(200)),
    ]
    # sent as text: asyncpg's binary codec would send the first instant as -infinity
    sql = f"SELECT {rfc3339('t::timestamptz')} FROM unnest($1::text[]) AS t"
    written = [r[0] for r in await conn.fetch(sql, [v.isoformat() for v in values])]
    assert written == [msgspec.json.encode(v).decode().strip('"') for v in values]


async def test_a_page_sends_each_claim_as_get_encodes_it(client, world):
    """GET and lists send PostgreSQL's JSON compacted, without decoding it (pagination);
    byte for byte, that is what encoding the decoded claim gives, with every embed
    filled: speaker role, relayed-by, targets, sources, translations, disputes and reviews."""
    akar, russia, src = world["akar"]["id"], world["russia"]["id"], world["source"]["id"]
    text = 'قال "أكار":\n\tالإرهابيون لم يغادروا \\ المنطقة الآمنة'
    denial = await helpers.claim(
        client,
        akar,
        src,
        text=text,
        stated_on="2019-11-24",
        relayed_by_id=russia,
        translations=[{"lang": "en", "text": "The terrorists have not left the safe zone."}],
        targets=[{"actor_id": world["sdf"]["id"], "role": "accused"}],
        topics=["safe-zone"],
    )
    assertion = await helpers.claim(client, russia, src, text="غادر الإرهابيون", kind="assertion")
    dispute = await client.post(
        "/v1/disputes",
        json={
            "title": "Did the SDF leave the safe zone?",
            "question": "Did they leave?",
            "positions": [
                {"claim_id": denial["id"], "stance": "affirms"},
                {"claim_id": assertion["id"], "stance": "denies"},
            ],
        },
    )
    assert dispute.status_code == 201, dispute.text
    review = await client.post(
        "/v1/reviews",
        json={
            "claim_id": denial["id"],
            "reviewer_id": world["turkey"]["id"],
            "rating": {"label": "Disputed", "value": 2, "best": 5, "worst": 1},
            "published_at": "2019-11-25",
            "lang": "en",
        },
    )
    assert review.status_code == 201, review.text

    listed = await client.get("/v1/claims", params={"limit": 1})
    first = (await client.get(f"/v1/claims/{assertion['id']}")).content
    got = await client.get(f"/v1/claims/{denial['id']}")
    second, decoded = got.content, msgspec.json.decode(got.content, type=Claim)
    assert second == msgspec.json.encode(decoded)  # GET sends PostgreSQL's JSON too
    assert got.headers["etag"] == etag.tag_of(decoded)  # what If-Match is checked against
    cursor = listed.json()["next_cursor"]
    assert listed.content == b'{"data":[' + first + b'],"next_cursor":"' + cursor.encode() + b'"}'
    rest = await client.get("/v1/claims", params={"cursor": cursor, "topic": "safe-zone"})
    assert rest.content == b'{"data":[' + second + b'],"next_cursor":null}'
    assert rest.json()["data"][0]["reviews"][0]["rating"]["value"] == 2
    assert rest.json()["data"][0]["disputes"][0]["stance"] == "affirms"


async def test_a_locked_read_that_waited_for_a_writer_sees_its_lists(client, world, database_url):
    """PATCH and DELETE lock and read a claim in one statement. When the lock waits for another
    writer, PostgreSQL hands over that writer's row but the statement's other reads keep their
    older snapshot: the JSON then paired version 2 with version 1's targets (an If-Match for
    neither, a PATCH found "unchanged" that was not). The read is made again then."""
    claim = await helpers.claim(
        client,
        world["akar"]["id"],
        world["source"]["id"],
        targets=[{"actor_id": world["sdf"]["id"], "role": "accused"}],
    )
    claim_id = UUID(claim["id"])
    writer, reader = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
    try:
        for conn in (writer, reader):
            await db._init_connection(conn)
        change = msgspec.convert(
            {"targets": [{"actor_id": world["turkey"]["id"], "role": "mentioned"}]}, ClaimUpdate
        )
        async with writer.transaction():
            await queries.update_json(writer, Who(changed_by="test"), claim_id, change)
            read = asyncio.create_task(_locked_read(reader, claim_id))
            for _ in range(100):  # until the reader waits for the writer's lock
                waiting = await writer.fetchval(
                    "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1",
                    reader.get_server_pid(),
                )
                if waiting:
                    break
                await asyncio.sleep(0.05)
            assert waiting
        version, text = await read
    finally:
        await writer.close()
        await reader.close()
    got = msgspec.json.decode(text)
    assert (version, [t["actor"]["name"] for t in got["targets"]]) == (2, ["Turkey"])


async def _locked_read(conn, claim_id):
    async with conn.transaction():
        return await queries.get_json(conn, claim_id, lock=True)


async def test_a_claim_without_a_stored_document_is_still_read_whole(client, conn, world):
    """The triggers leave no claim without its stored document; should one be missing, every
    read builds the claim's JSON instead (``claimdesk_claim_json``, migration 0013): GET, the
    list, the dispute's sides and the ETag are what they were."""
    akar, src = world["akar"]["id"], world["source"]["id"]
    made = await helpers.claim(client, akar, src, stated_on="2019-11-24")
    other = await helpers.claim(client, akar, src, text="غادر الإرهابيون", kind="assertion")
    dispute = await helpers.dispute(client, made["id"], other["id"])

    async def reads() -> tuple[object, ...]:
        got = await client.get(f"/v1/claims/{made['id']}")
        listed = await client.get("/v1/claims", params={"speaker_id": akar})
        sides = await client.get(f"/v1/disputes/{dispute['id']}")
        return got.content, got.headers["etag"], listed.content, sides.content

    stored = await reads()
    await conn.execute("DELETE FROM claim_documents WHERE claim_id = $1", UUID(made["id"]))
    assert await reads() == stored
    assert msgspec.json.decode(stored[0])["disputes"][0]["id"] == dispute["id"]
    # as the triggers would have left it, for the check after every test
    await conn.execute("SELECT claimdesk_claim_documents_refresh(ARRAY[$1::uuid])", made["id"])


async def test_a_claim_shows_every_change_to_the_rows_it_embeds(client, conn, world):
    """A claim's JSON is stored, and triggers rebuild it (migration 0010): each write to a
    row the claim embeds shows on the claim's next GET, and in its page and its dispute."""
    akar, turkey, russia, sdf = (world[k]["id"] for k in ("akar", "turkey", "russia", "sdf"))
    src = world["source"]["id"]
    made = await helpers.claim(
        client,
        akar,
        src,
        stated_on="2019-11-24",
        relayed_by_id=russia,
        targets=[{"actor_id": sdf, "role": "accused"}],
    )
    other = await helpers.claim(client, russia, src, text="غادر الإرهابيون", kind="assertion")

    async def shown() -> dict:
        got = await client.get(f"/v1/claims/{made['id']}")
        listed = await client.get("/v1/claims", params={"speaker_id": akar})
        assert listed.json()["data"] == [got.json()]
        return got.json()

    async def ok(response) -> dict:
        assert response.status_code in (200, 201, 204), response.text
        return response.json() if response.status_code != 204 else {}

    await ok(await client.patch(f"/v1/actors/{turkey}", json={"name": "Türkiye"}))
    assert (await shown())["speaker"]["role"]["organization_name"] == "Türkiye"
    await ok(await client.patch(f"/v1/actors/{akar}", json={"name": "H. Akar"}))
    assert (await shown())["speaker"]["name"] == "H. Akar"
    await ok(await client.patch(f"/v1/actors/{russia}", json={"kind": "organization"}))
    assert (await shown())["relayed_by"]["kind"] == "organization"
    await ok(await client.patch(f"/v1/actors/{sdf}", json={"name": "Syrian Democratic Forces"}))
    assert (await shown())["targets"][0]["actor"]["name"] == "Syrian Democratic Forces"
    memberships = [{"organization_id": turkey, "role": "Adviser", "start_date": "2023-06-04"}]
    await ok(await client.patch(f"/v1/actors/{akar}", json={"memberships": memberships}))
    assert (await shown())["speaker"]["role"] is None  # not held on the claim's date
    await ok(await client.patch(f"/v1/sources/{src}", json={"title": "Awtan Post"}))
    assert (await shown())["appearances"][0]["source"]["title"] == "Awtan Post"

    dispute = await helpers.dispute(client, made["id"], other["id"])
    d = f"/v1/disputes/{dispute['id']}"
    assert (await shown())["disputes"] == [
        {"id": dispute["id"], "title": "Did they leave?", "status": "open", "stance": "affirms"}
    ]
    await ok(await client.patch(d, json={"title": "Did the SDF leave?"}))
    assert (await shown())["disputes"][0]["title"] == "Did the SDF leave?"
    await ok(
        await client.patch(d, json={"status": "dismissed", "dismissal": {"note": "Duplicate."}})
    )
    assert (await shown())["disputes"][0]["status"] == "dismissed"
    await ok(await client.patch(f"{d}/positions/{made['id']}", json={"stance": "questions"}))
    assert (await shown())["disputes"][0]["stance"] == "questions"
    sides = (await client.get(d)).json()["sides"]
    assert sides["questions"][0]["claim"] == await shown()  # the dispute embeds the same

    review = await ok(
        await client.post(
            "/v1/reviews",
            json={
                "claim_id": made["id"],
                "reviewer_id": turkey,
                "rating": {"label": "Disputed", "value": 2, "best": 5, "worst": 1},
                "lang": "en",
            },
        )
    )
    assert (await shown())["reviews"][0]["reviewer"]["name"] == "Türkiye"
    await ok(await client.patch(f"/v1/actors/{turkey}", json={"name": "Turkey"}))
    shows = await shown()
    assert shows["reviews"][0]["reviewer"]["name"] == "Turkey"
    assert shows["speaker"]["role"] is None
    await ok(await client.patch(f"/v1/reviews/{review['id']}", json={"summary": "Unproven."}))
    assert (await shown())["reviews"][0]["summary"] == "Unproven."
    await ok(await client.delete(f"/v1/reviews/{review['id']}"))
    assert (await shown())["reviews"] == []
    await ok(await client.delete(d))
    assert (await shown())["disputes"] == []
    # reads send the stored document: altered behind the triggers' back, it is what GET sends
    claim_id = UUID(made["id"])
    await conn.execute(
        """UPDATE claim_documents SET body = json_build_object('altered', true)
           WHERE claim_id = $1""",
        claim_id,
    )
    assert (await client.get(f"/v1/claims/{made['id']}")).content == b'{"altered":true}'
    await conn.execute("SELECT claimdesk_claim_documents_refresh(ARRAY[$1::uuid])", claim_id)
    assert (await client.get(f"/v1/claims/{made['id']}")).json() == shows | {
        "reviews": [],
        "disputes": [],
    }


Run = Callable[[asyncpg.Connection], Awaitable[Any]]


def sql(statement: str, *args: object) -> Run:
    return lambda conn: conn.execute(statement, *args)


async def race(database_url: str, first: Run, second: Run, *, alone: bool = False) -> Any:
    """``first`` in a transaction; while it is open, ``second`` in another (``alone``: in
    none, as the service runs a write of one statement), which must wait for it; then
    ``first`` commits, and ``second`` finishes and commits. ``second``'s result."""
    a, b = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
    try:
        await db._init_connection(a)
        await db._init_connection(b)
        ta, tb = a.transaction(), b.transaction()
        await ta.start()
        await first(a)
        if not alone:
            await tb.start()
        waiting = asyncio.create_task(second(b))
        await asyncio.sleep(0.5)
        assert not waiting.done()  # it waits for the first transaction's locks
        await ta.commit()
        result = await asyncio.wait_for(waiting, 10)
        if not alone:
            await tb.commit()
        return result
    finally:
        await a.close()
        await b.close()


async def race_paused(
    database_url: str,
    pause_after: Callable[[str, tuple[object, ...]], bool],
    first: Run,
    second: Run,
) -> None:
    """``first`` runs in a transaction until its connection has run a statement for which
    ``pause_after(sql, args)`` holds; then ``second`` starts in another transaction (and must
    wait for the first); then both go on, ``first`` committing first. Neither may deadlock."""
    paused, go_on = asyncio.Event(), asyncio.Event()
    a, b = await asyncpg.connect(database_url), await asyncpg.connect(database_url)

    class Pausing:
        """``first``'s connection, stopping after the statement ``pause_after`` picks."""

        def __getattr__(self, name: str) -> object:
            return getattr(a, name)

        async def _ran(self, sql: str, args: tuple[object, ...], result: Any) -> Any:
            if not paused.is_set() and pause_after(sql, args):
                paused.set()
                await go_on.wait()
            return result

        async def execute(self, sql: str, *args: object) -> Any:
            return await self._ran(sql, args, await a.execute(sql, *args))

        async def fetchrow(self, sql: str, *args: object) -> Any:
            return await self._ran(sql, args, await a.fetchrow(sql, *args))

    try:
        await db._init_connection(a)
        await db._init_connection(b)
        ta, tb = a.transaction(), b.transaction()
        await ta.start()
        running = asyncio.create_task(first(Pausing()))  # type: ignore[arg-type]
        await asyncio.wait_for(paused.wait(), 5)
        await tb.start()
        waiting = asyncio.create_task(second(b))
        await asyncio.sleep(0.5)
        go_on.set()
        await asyncio.wait_for(running, 10)
        await ta.commit()
        await asyncio.wait_for(waiting, 10)
        await tb.commit()
    finally:
        await a.close()
        await b.close()


async def test_a_patch_stores_the_document_its_statement_builds(conn, world):
    """A PATCH's statement stores the JSON it builds (migration 0015): the trigger on claims
    builds it no more. Nor for a new claim's (migration 0018): its statement stores the JSON
    it builds after holding what the claim names (see the next tests), and the triggers of
    the claim, its appearance and its target leave it alone. A row added to the claim by a
    later statement rebuilds it. (The check after the test compares every stored document
    with the JSON built from the rows.)"""
    await db._init_connection(conn)
    data = msgspec.convert(
        {
            "speaker_id": world["akar"]["id"],
            "text": "المنطقة الآمنة",
            "lang": "ar",
            "appearances": [{"source_id": world["source"]["id"]}],
            "targets": [{"actor_id": world["sdf"]["id"], "role": "accused"}],
        },
        ClaimCreate,
    )
    rebuilds = """SELECT coalesce(sum(calls), 0) FROM pg_stat_xact_user_functions
                  WHERE funcname = 'claimdesk_claim_documents_refresh'"""
    async with conn.transaction():
        await conn.execute("SET LOCAL track_functions = 'pl'")
        made = await queries.create(conn, Who(changed_by="test"), data)
        assert await conn.fetchval(rebuilds) == 0  # stored by the statement
        await queries.update(conn, Who(changed_by="test"), made.id, ClaimUpdate(kind="denial"))
        assert await conn.fetchval(rebuilds) == 0  # none for the PATCH
        await conn.execute(
            "INSERT INTO claim_targets (claim_id, position, actor_id, role) VALUES ($1, 1, $2, 'accused')",
            made.id,
            UUID(world["russia"]["id"]),
        )
        assert await conn.fetchval(rebuilds) == 1
    assert (await queries.get(conn, made.id)).kind == "denial"


async def test_a_claim_made_while_its_speaker_is_renamed_shows_the_new_name(
    client, world, database_url
):
    """A new claim's statement (the service's, outside a transaction) checks its speaker at
    its end, and waits there for a rename that holds the speaker; the JSON the statement
    built before is the old name's. Its stored document is built after that wait, by the
    trigger on claims, and shows the new name."""
    akar = UUID(world["akar"]["id"])
    data = msgspec.convert(
        {
            "speaker_id": str(akar),
            "text": "جديد",
            "lang": "ar",
            "appearances": [{"source_id": world["source"]["id"]}],
        },
        ClaimCreate,
    )
    rename = sql("UPDATE actors SET name = 'Renamed' WHERE id = $1", akar)
    new_claim: Run = lambda conn: queries.create_json(conn, Who(changed_by="test"), data)  # noqa: E731
    claim_id, _, _ = await race(database_url, rename, new_claim, alone=True)
    shown = (await client.get(f"/v1/claims/{claim_id}")).json()
    assert shown["speaker"]["name"] == "Renamed"


@pytest.mark.parametrize("renamed", ["source", "target"])
async def test_a_claim_made_while_its_source_or_target_is_renamed_shows_the_new_name(
    client, world, database_url, renamed
):
    """The foreign keys of a new claim's appearances and targets are checked after the
    claim's trigger has run; a rename holding that source or actor makes those checks wait,
    and the rename's rebuild cannot see the claim. The claim's trigger locks them itself
    before it builds (migration 0016), so its document is built after the rename committed,
    and the appearance's and target's triggers need not build it again."""
    sdf, src = UUID(world["sdf"]["id"]), UUID(world["source"]["id"])
    data = msgspec.convert(
        {
            "speaker_id": world["akar"]["id"],
            "text": "جديد",
            "lang": "ar",
            "appearances": [{"source_id": str(src)}],
            "targets": [{"actor_id": str(sdf), "role": "accused"}],
        },
        ClaimCreate,
    )
    rename = {
        "source": sql("UPDATE sources SET title = 'Renamed' WHERE id = $1", src),
        "target": sql("UPDATE actors SET name = 'Renamed' WHERE id = $1", sdf),
    }[renamed]
    new_claim: Run = lambda conn: queries.create_json(conn, Who(changed_by="test"), data)  # noqa: E731
    claim_id, _, _ = await race(database_url, rename, new_claim, alone=True)
    shown = (await client.get(f"/v1/claims/{claim_id}")).json()
    names = {
        "source": shown["appearances"][0]["source"]["title"],
        "target": shown["targets"][0]["actor"]["name"],
    }
    assert names[renamed] == "Renamed"


@pytest.mark.parametrize("first", ["rename", "patch"])
async def test_two_writers_of_one_claims_document_leave_both_changes(
    client, world, database_url, first
):
    """Renaming a claim's speaker rebuilds the claim's document, and so does a PATCH of the
    claim (its statement stores the JSON it builds). When both run at once, whichever waits
    for the other builds the document after the other committed, so it shows both changes
    (a rebuild locks the claim before reading, and so does a PATCH)."""
    akar, src = world["akar"]["id"], world["source"]["id"]
    made = await helpers.claim(client, akar, src, text="قبل")
    rename = sql("UPDATE actors SET name = 'Renamed' WHERE id = $1", UUID(akar))
    patch: Run = lambda conn: queries.update_json(  # noqa: E731
        conn, Who(changed_by="test"), UUID(made["id"]), ClaimUpdate(text="بعد")
    )
    await race(database_url, *((rename, patch) if first == "rename" else (patch, rename)))
    shown = (await client.get(f"/v1/claims/{made['id']}")).json()
    assert (shown["speaker"]["name"], shown["text"]) == ("Renamed", "بعد")


@pytest.mark.parametrize("first", ["rename", "patch"])
async def test_a_patch_to_an_actor_renamed_meanwhile_shows_the_new_name(
    client, world, database_url, first
):
    """A PATCH that makes another actor the speaker stores the JSON its statement builds; it
    holds that actor (key share) before its statement, so a rename of it either commits
    before the statement reads it or waits, and then rebuilds the claim it finds."""
    akar, russia, src = world["akar"]["id"], world["russia"]["id"], world["source"]["id"]
    made = await helpers.claim(client, akar, src, text="قبل")
    rename = sql("UPDATE actors SET name = 'Renamed' WHERE id = $1", UUID(russia))
    patch: Run = lambda conn: queries.update_json(  # noqa: E731
        conn, Who(changed_by="test"), UUID(made["id"]), ClaimUpdate(speaker_id=UUID(russia))
    )
    await race(database_url, *((rename, patch) if first == "rename" else (patch, rename)))
    shown = (await client.get(f"/v1/claims/{made['id']}")).json()
    assert (shown["speaker"]["id"], shown["speaker"]["name"]) == (russia, "Renamed")


@pytest.mark.parametrize("first", ["change", "reference"])
@pytest.mark.parametrize("what", ["speaker", "organization", "dispute", "source"])
async def test_a_row_that_comes_to_name_a_changed_row_meanwhile_shows_the_change(
    client, world, database_url, what, first
):
    """A rename rebuilds the documents of the claims it finds; a claim (or a position, an
    appearance) made at the same time in another transaction is not among them, and its own
    document is built from what that transaction saw. The changed row is locked against new
    references first, so one of the two waits for the other and builds after it committed.
    (The database's check after the test finds any stale document.)"""
    akar, russia, turkey = (world[k]["id"] for k in ("akar", "russia", "turkey"))
    other_source = await helpers.source(client, title="SANA", url="https://sana.sy/?p=1")
    held = await helpers.claim(client, russia, other_source["id"], text="غادروا")
    said = await helpers.claim(client, akar, world["source"]["id"], text="لم يغادروا")
    spare = await helpers.claim(client, russia, other_source["id"], text="ربما")
    dispute = await helpers.dispute(client, said["id"], held["id"])
    new_claim = sql(
        """INSERT INTO claims (id, speaker_id, text, lang, verbatim, kind, stated_on,
                               stated_on_precision)
           VALUES ($1, $2, 'جديد', 'ar', false, 'denial', '2019-11-24', 'day')""",
        db.new_id(),
        UUID(akar),
    )
    change, reference = {
        "speaker": (sql("UPDATE actors SET name = 'Renamed' WHERE id = $1", UUID(akar)), new_claim),
        # the claim's speaker role names the organization
        "organization": (
            sql("UPDATE actors SET name = 'Türkiye' WHERE id = $1", UUID(turkey)),
            new_claim,
        ),
        "dispute": (
            sql("UPDATE disputes SET title = 'Renamed' WHERE id = $1", UUID(dispute["id"])),
            sql(
                """INSERT INTO dispute_positions (dispute_id, claim_id, stance)
                   VALUES ($1, $2, 'questions')""",
                UUID(dispute["id"]),
                UUID(spare["id"]),
            ),
        ),
        "source": (
            sql("UPDATE sources SET title = 'Renamed' WHERE id = $1", UUID(world["source"]["id"])),
            sql(
                "INSERT INTO claim_appearances (claim_id, position, source_id) VALUES ($1, 1, $2)",
                UUID(held["id"]),
                UUID(world["source"]["id"]),
            ),
        ),
    }[what]
    await race(database_url, *((change, reference) if first == "change" else (reference, change)))


class AfterTheRead:
    """A connection outside any transaction that counts its statements and runs ``meanwhile``
    (on another connection) once, right after its first one: between a PATCH's read and its
    write."""

    def __init__(self, conn: asyncpg.Connection, meanwhile: Callable[[], Awaitable[Any]] | None):
        self.conn, self.meanwhile, self.statements = conn, meanwhile, 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.conn, name)

    async def _counted(self, result: Any) -> Any:
        self.statements += 1
        if self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            await meanwhile()
        return result

    async def fetchrow(self, statement: str, *args: object) -> Any:
        return await self._counted(await self.conn.fetchrow(statement, *args))

    async def fetchval(self, statement: str, *args: object) -> Any:
        return await self._counted(await self.conn.fetchval(statement, *args))

    async def execute(self, statement: str, *args: object) -> Any:
        return await self._counted(await self.conn.execute(statement, *args))


async def test_a_patch_of_the_claims_own_fields_is_one_read_and_one_statement(conn, client, world):
    """Outside a transaction, a PATCH of the claim's own fields reads the claim and sends one
    statement (migration 0017): no BEGIN, no lock, no COMMIT. Its answer is what GET sends
    next, at the next version, and the revision is recorded. A PATCH that names another row
    (a target) goes the locked way, in a transaction."""
    await db._init_connection(conn)
    made = await helpers.claim(client, world["akar"]["id"], world["source"]["id"])
    counted = AfterTheRead(conn, None)
    tag = (await client.get(f"/v1/claims/{made['id']}")).headers["etag"]
    claim_id, version, text = await queries.update_json(
        counted,  # type: ignore[arg-type]
        Who(changed_by="test"),
        UUID(made["id"]),
        ClaimUpdate(kind="denial", topics=["ceasefire"]),
        precondition=etag.Preconditions(if_match=etag.Condition(strong=frozenset({tag}))),
    )
    assert counted.statements == 2 and not conn.is_in_transaction()
    shown = await client.get(f"/v1/claims/{made['id']}")
    assert (version, compact_json(text)) == (made["version"] + 1, shown.content)
    assert (shown.json()["kind"], shown.json()["topics"]) == ("denial", ["ceasefire"])
    history = (await client.get(f"/v1/claims/{made['id']}/revisions")).json()["data"]
    assert [r["version"] for r in history][:2] == [version, made["version"]]

    counted = AfterTheRead(conn, None)
    targets = [{"actor_id": world["sdf"]["id"], "role": "accused"}]
    await queries.update_json(
        counted,  # type: ignore[arg-type]
        Who(changed_by="test"),
        claim_id,
        msgspec.convert({"targets": targets}, ClaimUpdate),
    )
    assert counted.statements > 2  # the locked read and the lists replaced, in a transaction


@pytest.mark.parametrize("if_match", [True, False])
@pytest.mark.parametrize("meanwhile", ["patch", "rename"])
async def test_a_claim_changed_between_a_patchs_read_and_write_is_patched_the_locked_way(
    conn, client, world, database_url, meanwhile, if_match
):
    """Between the PATCH's read and its statement, another PATCH moves the version (the
    statement finds no row at the version read), or a rename of the speaker rebuilds the
    document without moving it (``claimdesk_claim_json_as_read`` finds another document and
    undoes the statement). Either way nothing of the statement stays, and the PATCH is done
    again, locked: with the If-Match the client had, a 412 (what it matched is gone); without
    one, the PATCH on top of the other change, both shown."""
    await db._init_connection(conn)
    akar, src = world["akar"]["id"], world["source"]["id"]
    made = await helpers.claim(client, akar, src, text="قبل")
    tag = (await client.get(f"/v1/claims/{made['id']}")).headers["etag"]
    other: Run = {
        "patch": lambda b: queries.update_json(
            b, Who(changed_by="other"), UUID(made["id"]), ClaimUpdate(topics=["ceasefire"])
        ),
        "rename": sql("UPDATE actors SET name = 'Renamed' WHERE id = $1", UUID(akar)),
    }[meanwhile]

    async def run_other() -> None:
        b = await asyncpg.connect(database_url)
        try:
            await db._init_connection(b)
            await other(b)
        finally:
            await b.close()

    counted = AfterTheRead(conn, run_other)
    patching = queries.update_json(
        counted,  # type: ignore[arg-type]
        Who(changed_by="test"),
        UUID(made["id"]),
        ClaimUpdate(kind="denial"),
        precondition=(
            etag.Preconditions(if_match=etag.Condition(strong=frozenset({tag})))
            if if_match
            else None
        ),
    )
    if if_match:
        with pytest.raises(errors.PreconditionFailed):
            await patching
        shown = (await client.get(f"/v1/claims/{made['id']}")).json()
        assert shown["kind"] == made["kind"]
        return
    _, version, _ = await patching
    shown = (await client.get(f"/v1/claims/{made['id']}")).json()
    assert shown["kind"] == "denial" and shown["version"] == version
    if meanwhile == "patch":
        assert (shown["topics"], version) == (["ceasefire"], made["version"] + 2)
    else:
        assert (shown["speaker"]["name"], version) == ("Renamed", made["version"] + 1)
    # one revision for the PATCH: the statement undone left none
    history = (await client.get(f"/v1/claims/{made['id']}/revisions")).json()["data"]
    assert [r["version"] for r in history].count(version) == 1


async def test_a_one_statement_patch_that_waits_for_a_rename_builds_after_it(
    client, world, database_url
):
    """A rename of the speaker holds the claim (its rebuild locked it) while the PATCH's
    statement waits for the row; once the rename commits, the statement's document check sees
    the rebuilt document, not the one read, and the PATCH is done again, locked: the claim
    shows both the new name and the PATCH."""
    akar, src = world["akar"]["id"], world["source"]["id"]
    made = await helpers.claim(client, akar, src)
    rename = sql("UPDATE actors SET name = 'Renamed' WHERE id = $1", UUID(akar))
    patch: Run = lambda conn: queries.update_json(  # noqa: E731
        conn, Who(changed_by="test"), UUID(made["id"]), ClaimUpdate(kind="denial")
    )
    await race(database_url, rename, patch, alone=True)
    shown = (await client.get(f"/v1/claims/{made['id']}")).json()
    assert (shown["speaker"]["name"], shown["kind"]) == ("Renamed", "denial")


async def test_a_locked_read_that_waited_for_a_rebuild_sees_the_new_document(
    client, world, database_url
):
    """A rename rebuilds its claims' documents without changing their versions; a PATCH that
    waited for it to commit compares If-Match with, and answers, the rebuilt document."""
    akar, src = world["akar"]["id"], world["source"]["id"]
    made = await helpers.claim(client, akar, src)
    _, text = await race(
        database_url,
        sql("UPDATE actors SET name = 'Renamed' WHERE id = $1", UUID(akar)),
        lambda conn: queries.get_json(conn, UUID(made["id"]), lock=True),
    )
    assert msgspec.json.decode(text)["speaker"]["name"] == "Renamed"


async def test_a_claim_patch_naming_an_actor_being_renamed_does_not_deadlock(
    client, world, database_url
):
    """A PATCH that names an actor key-share locks it before it locks the claim: a rename of
    that actor (which locks the actor, then rebuilds its claims, this one among them) and the
    PATCH then wait for each other in one order, and both get through."""
    akar, sdf, src = world["akar"]["id"], world["sdf"]["id"], world["source"]["id"]
    turkey = world["turkey"]["id"]
    made = await helpers.claim(client, akar, src, targets=[{"actor_id": sdf, "role": "accused"}])
    targets = [{"actor_id": sdf, "role": "accused"}, {"actor_id": turkey, "role": "accused"}]
    who = Who(changed_by="tests")
    await race_paused(
        database_url,
        lambda statement, _: statement is queries._GET_FOR_UPDATE,  # the claim is locked
        lambda conn: queries.update_json(
            conn, who, UUID(made["id"]), msgspec.convert({"targets": targets}, ClaimUpdate)
        ),
        lambda conn: actors.update(conn, who, UUID(sdf), ActorUpdate(name="Renamed")),
    )
    shown = (await client.get(f"/v1/claims/{made['id']}")).json()
    assert [t["actor"]["name"] for t in shown["targets"]] == ["Renamed", "Turkey"]


async def test_a_members_patch_and_its_organizations_rename_do_not_deadlock(
    client, world, database_url
):
    """Renaming an organization locks it, then its members, to rebuild their claims; a PATCH
    of a member's memberships key-share locks the organizations it names before the member,
    so the two wait for each other in one order."""
    akar, turkey = UUID(world["akar"]["id"]), UUID(world["turkey"]["id"])
    await helpers.claim(client, str(akar), world["source"]["id"], stated_on="2019-11-24")
    memberships = [{"organization_id": str(turkey), "role": "Minister of National Defence"}]
    who = Who(changed_by="tests")
    await race_paused(
        database_url,
        lambda statement, args: "FOR UPDATE" in statement and args == (akar,),  # the member
        lambda conn: actors.update(
            conn, who, akar, msgspec.convert({"memberships": memberships}, ActorUpdate)
        ),
        lambda conn: actors.update(conn, who, turkey, ActorUpdate(name="Türkiye")),
    )
