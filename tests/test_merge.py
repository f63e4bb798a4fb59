"""Actor merge: POST /v1/actors/{id}/merge moves everything that refers to a duplicate actor
to the survivor in one transaction; the duplicate's URLs answer 308 to the survivor's."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from service import db as service_db
from service.actors import merge as actor_merge
from service.actors.merge import REFERENCES
from service.errors import AlreadyMerged, Invalid
from service.history import Who
from service.pool import Pool
from service.settings import Settings
from tests import helpers
from tests.helpers import fields, problem, snapshot
from tests.test_etag import waiting_on_locks

pytestmark = pytest.mark.compat


async def merge(client: Any, merged_id: str, into_id: str, **kwargs: Any) -> Any:
    return await client.post(f"/v1/actors/{merged_id}/merge", json={"into_id": into_id}, **kwargs)


async def merged_ok(client: Any, merged_id: str, into_id: str) -> dict[str, Any]:
    response = await merge(client, merged_id, into_id)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["id"] == into_id
    return body


async def revisions(conn: asyncpg.Connection, resource_id: str) -> list[tuple[int, str]]:
    rows = await conn.fetch(
        "SELECT version, action FROM revisions WHERE resource_id = $1 ORDER BY version",
        resource_id,
    )
    return [(r["version"], r["action"]) for r in rows]


async def last_revision(conn: asyncpg.Connection, resource_id: str) -> dict[str, Any]:
    row = await conn.fetchrow(
        "SELECT version, action, data, request_id FROM revisions WHERE resource_id = $1 "
        "ORDER BY version DESC LIMIT 1",
        resource_id,
    )
    return {**row, "data": json.loads(row["data"])}


async def references_to(conn: asyncpg.Connection, actor_id: str) -> dict[str, int]:
    """How many rows of each foreign key to actors name ``actor_id``."""
    counts = {}
    for table, column in REFERENCES:
        counts[f"{table}.{column}"] = await conn.fetchval(
            f"SELECT count(*) FROM {table} WHERE {column} = $1", actor_id
        )
    return counts


@pytest.fixture
async def world(client: Any) -> dict[str, Any]:
    """The SDF entered twice: the survivor (قسد, SDF) and a duplicate under its long name,
    each with claims, members, memberships, a source and a review pointing at it."""
    turkey = await helpers.create(client, "actors", {"kind": "state", "name": "Turkey"})
    admin = await helpers.create(
        client, "actors", {"kind": "organization", "name": "Autonomous Administration"}
    )
    sdf = await helpers.create(
        client,
        "actors",
        {
            "kind": "armed_group",
            "name": "Syrian Democratic Forces",
            "names": [
                {"value": "قسد", "lang": "ar", "kind": "abbreviation"},
                {"value": "SDF", "lang": "en", "kind": "abbreviation"},
            ],
            "country": "SY",
        },
    )
    dup = await helpers.create(
        client,
        "actors",
        {
            "kind": "armed_group",
            "name": "قوات سوريا الديمقراطية",
            "names": [
                {"value": "قوات سوريا الديمقراطية", "lang": "ar", "kind": "official"},
                {"value": "ميليشيات قسد", "lang": "ar"},
                {"value": "قَسَد", "lang": "ar"},  # قسد with harakat: the survivor has it
                {"value": "sdf", "lang": "en"},  # SDF in lower case: the same normalised
            ],
            "description": "Kurdish-led alliance in north-east Syria.",
            "wikidata_id": "Q22672519",
            "memberships": [
                {"organization_id": admin["id"], "role": "armed forces"},
            ],
        },
    )
    akar = await helpers.actor(
        client, memberships=[{"organization_id": turkey["id"], "role": "Minister"}]
    )
    # A fighter listed in both, in the same role (a repeat once merged), and one in the
    # duplicate only.
    fighter = await helpers.actor(
        client,
        "Mazloum Abdi",
        memberships=[
            {"organization_id": sdf["id"], "role": "Commander-in-chief"},
            {"organization_id": dup["id"], "role": "Commander-in-chief"},
        ],
    )
    spokesman = await helpers.actor(
        client, "Mustafa Bali", memberships=[{"organization_id": dup["id"], "role": "spokesman"}]
    )
    press = await helpers.source(
        client, kind="statement", title="بيان قسد", publisher_id=dup["id"], lang="ar"
    )
    article = await helpers.source(client, url="https://news.example/awtan-post/ain-issa/")
    spoken = await helpers.claim(client, dup["id"], press["id"], text="لم نعد في المنطقة")
    relayed = await helpers.claim(
        client, akar["id"], article["id"], relayed_by_id=dup["id"], text="قالت قسد إنها انسحبت"
    )
    both_targets = await helpers.claim(
        client,
        akar["id"],
        article["id"],
        targets=[
            {"actor_id": dup["id"], "role": "accused"},
            {"actor_id": sdf["id"], "role": "accused"},
            {"actor_id": turkey["id"], "role": "mentioned"},
        ],
    )
    targeted = await helpers.claim(
        client,
        akar["id"],
        article["id"],
        text="بعض عناصر قسد مازالوا",
        targets=[{"actor_id": dup["id"], "role": "criticized"}],
    )
    # Survivor speaking, relayed by the duplicate (and the other way round): once merged, the
    # survivor would relay itself.
    self_relayed = await helpers.claim(
        client, sdf["id"], article["id"], relayed_by_id=dup["id"], text="انسحبنا"
    )
    self_relayed_back = await helpers.claim(
        client, dup["id"], article["id"], relayed_by_id=sdf["id"], text="انسحبنا تماما"
    )
    untouched = await helpers.claim(client, akar["id"], article["id"], text="روسيا كانت قد أكدت")
    checker = await helpers.create(
        client, "actors", {"kind": "organization", "name": "Demo Fact-Check"}
    )
    review = await helpers.create(
        client,
        "reviews",
        {
            "claim_id": relayed["id"],
            "reviewer_id": dup["id"],
            "rating": {"label": "Disputed", "value": 2, "best": 5, "worst": 1},
        },
    )
    other_review = await helpers.create(
        client,
        "reviews",
        {
            "claim_id": relayed["id"],
            "reviewer_id": checker["id"],
            "rating": {"label": "False", "value": 1, "best": 5, "worst": 1},
        },
    )
    dispute = await helpers.create(
        client,
        "disputes",
        {
            "title": "SDF withdrawal from the safe zone",
            "question": "Has the SDF fully withdrawn from the safe zone?",
            "positions": [
                {"claim_id": spoken["id"], "stance": "affirms"},
                {"claim_id": targeted["id"], "stance": "denies"},
            ],
        },
    )
    return {
        "turkey": turkey,
        "admin": admin,
        "sdf": sdf,
        "dup": dup,
        "akar": akar,
        "fighter": fighter,
        "spokesman": spokesman,
        "press": press,
        "article": article,
        "spoken": spoken,
        "relayed": relayed,
        "both_targets": both_targets,
        "targeted": targeted,
        "self_relayed": self_relayed,
        "self_relayed_back": self_relayed_back,
        "untouched": untouched,
        "checker": checker,
        "review": review,
        "other_review": other_review,
        "dispute": dispute,
    }


async def test_the_merge_knows_every_foreign_key_to_actors(conn):
    rows = await conn.fetch(
        """
        SELECT c.conrelid::regclass::text AS tbl, a.attname AS col
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
        WHERE c.contype = 'f' AND c.confrelid = 'actors'::regclass
        """
    )
    assert {(r["tbl"], r["col"]) for r in rows} == set(REFERENCES), (
        "a foreign key to actors that service/actors/merge.py does not move"
    )


@pytest.mark.parametrize(
    "statement",
    [
        "_LOCK_CLAIMS",
        "_LOCK_SOURCES",
        "_LOCK_REVIEWS",
        "_LOCK_MEMBERS",
        "_LOCK_PAIR",
        "_CLAIMS_OF",
        "_DROP_REPEATED_TARGETS",
        "_MOVE_TARGETS",
        "_MOVE_SOURCES",
        "_MOVE_REVIEWS",
        "_DROP_REPEATED_MEMBERS",
        "_MOVE_MEMBERS",
        "_REPOINT_MERGES",
    ],
)
async def test_the_merge_finds_what_names_an_actor_through_indexes(conn, statement):
    """A merge of an actor with a handful of claims must not read a million of them: every
    lookup by actor goes through an index (sequential scans priced out, as in test_explain)."""
    from tests.test_explain import plan

    sql = getattr(actor_merge, statement)
    ids = ["01937a5e-0000-7000-8000-000000000001", "01937a5e-0000-7000-8000-000000000002"]
    args = [ids] if "ANY($1" in sql else ids[: 2 if "$2" in sql else 1]
    text = await plan(conn, sql, *args)
    # every scan of a table looks rows up by a condition (a full index scan with a filter
    # would read every row as surely as a sequential scan)
    for node in re.split(r"\n\s*->\s*", text):
        head = node.split("\n", 1)[0]
        if re.search(r"\b(Seq|Index|Index Only|Bitmap Heap|Bitmap Index) Scan\b", head):
            assert "Cond:" in node, (head, text)


async def test_merge_moves_every_reference_to_the_survivor(client, conn, world):
    w = world
    sdf, dup = w["sdf"]["id"], w["dup"]["id"]
    before_refs = await references_to(conn, dup)
    assert all(before_refs[k] for k in before_refs if k != "actor_merges.into_id")

    response = await merge(client, dup, sdf, headers={"X-Request-ID": "merge-sdf-1"})
    assert response.status_code == 200, response.text
    survivor = response.json()
    assert response.headers["etag"]
    assert survivor["version"] == w["sdf"]["version"] + 1

    # Nothing names the duplicate any more; the row is gone with its own names/memberships.
    assert set((await references_to(conn, dup)).values()) == {0}
    assert await conn.fetchval("SELECT count(*) FROM actors WHERE id = $1", dup) == 0

    # claims: speaker, relayed-by, targets
    row = await conn.fetchrow(
        "SELECT speaker_id, relayed_by_id FROM claims WHERE id = $1", w["spoken"]["id"]
    )
    assert (str(row["speaker_id"]), row["relayed_by_id"]) == (sdf, None)
    row = await conn.fetchrow(
        "SELECT speaker_id, relayed_by_id FROM claims WHERE id = $1", w["relayed"]["id"]
    )
    assert (str(row["speaker_id"]), str(row["relayed_by_id"])) == (w["akar"]["id"], sdf)
    for self_relayed in ("self_relayed", "self_relayed_back"):
        row = await conn.fetchrow(
            "SELECT speaker_id, relayed_by_id FROM claims WHERE id = $1", w[self_relayed]["id"]
        )
        # the survivor's own statement now, relayed by nobody
        assert (str(row["speaker_id"]), row["relayed_by_id"]) == (sdf, None), self_relayed
    targets = await conn.fetch(
        "SELECT actor_id::text, role FROM claim_targets WHERE claim_id = $1 ORDER BY position",
        w["both_targets"]["id"],
    )
    # the same role held by both: once
    assert [tuple(t) for t in targets] == [(sdf, "accused"), (w["turkey"]["id"], "mentioned")]
    targets = await conn.fetch(
        "SELECT actor_id::text, role FROM claim_targets WHERE claim_id = $1",
        w["targeted"]["id"],
    )
    assert [tuple(t) for t in targets] == [(sdf, "criticized")]

    # sources and reviews
    assert (
        str(await conn.fetchval("SELECT publisher_id FROM sources WHERE id = $1", w["press"]["id"]))
        == sdf
    )
    assert (
        str(await conn.fetchval("SELECT reviewer_id FROM reviews WHERE id = $1", w["review"]["id"]))
        == sdf
    )

    # members of the duplicate are members of the survivor, a repeat once
    fighter = await conn.fetch(
        "SELECT organization_id::text, role FROM actor_memberships WHERE actor_id = $1",
        w["fighter"]["id"],
    )
    assert [tuple(m) for m in fighter] == [(sdf, "Commander-in-chief")]
    spokesman = await conn.fetch(
        "SELECT organization_id::text, role FROM actor_memberships WHERE actor_id = $1",
        w["spokesman"]["id"],
    )
    assert [tuple(m) for m in spokesman] == [(sdf, "spokesman")]
    # the duplicate's own membership is the survivor's
    assert [(m["organization_id"], m["role"]) for m in survivor["memberships"]] == [
        (w["admin"]["id"], "armed forces")
    ]

    # names: the survivor's first, then the duplicate's display name and names it lacked
    # (قَسَد and sdf normalise to names the survivor has)
    assert [(n["value"], n["lang"], n["kind"]) for n in survivor["names"]] == [
        ("قسد", "ar", "abbreviation"),
        ("SDF", "en", "abbreviation"),
        ("قوات سوريا الديمقراطية", "ar", "official"),
        ("ميليشيات قسد", "ar", "common"),
    ]
    # empty fields filled from the duplicate, the survivor's own kept
    assert survivor["description"] == "Kurdish-led alliance in north-east Syria."
    assert survivor["wikidata_id"] == "Q22672519"
    assert (survivor["name"], survivor["country"]) == ("Syrian Democratic Forces", "SY")

    # the merge is recorded with the request that made it
    record = await conn.fetchrow("SELECT * FROM actor_merges WHERE merged_id = $1", dup)
    key = await conn.fetchrow("SELECT id, name FROM api_keys")
    assert (
        str(record["into_id"]),
        record["request_id"],
        record["changed_by"],
        record["key_id"],
    ) == (sdf, "merge-sdf-1", key["name"], key["id"])

    # untouched rows stay as they were
    assert (await client.get(f"/v1/claims/{w['untouched']['id']}")).json() == w["untouched"]
    assert (await client.get(f"/v1/reviews/{w['other_review']['id']}")).json() == w["other_review"]


async def test_merge_writes_revisions_and_change_events(client, conn, world):
    w = world
    sdf, dup = w["sdf"]["id"], w["dup"]["id"]
    survivor = await merged_ok(client, dup, sdf)

    # the duplicate's last revision: a merge, what it was, and where it went
    merged = await last_revision(conn, dup)
    assert (merged["version"], merged["action"]) == (w["dup"]["version"] + 1, "merge")
    assert merged["data"]["merged_into_id"] == sdf
    assert merged["data"]["name"] == "قوات سوريا الديمقراطية"
    assert {k: v for k, v in merged["data"].items() if k != "merged_into_id"} == w["dup"]
    page = (await client.get(f"/v1/actors/{dup}/revisions", follow_redirects=False)).json()
    assert [(r["version"], r["action"]) for r in page["data"]] == [(2, "merge"), (1, "create")]

    # the survivor: an update revision holding its new representation
    assert (await revisions(conn, sdf))[-1] == (survivor["version"], "update")
    assert (await last_revision(conn, sdf))["data"] == survivor

    # every moved row: a new version, and a revision equal to what GET answers now
    moved = [
        ("claims", w["spoken"]),
        ("claims", w["relayed"]),
        ("claims", w["both_targets"]),
        ("claims", w["targeted"]),
        ("claims", w["self_relayed"]),
        ("claims", w["self_relayed_back"]),
        ("sources", w["press"]),
        ("reviews", w["review"]),
        ("actors", w["fighter"]),
        ("actors", w["spokesman"]),
    ]
    for collection, before in moved:
        now = (await client.get(f"/v1/{collection}/{before['id']}")).json()
        assert now["version"] == before["version"] + 1, (collection, before["id"])
        revision = await last_revision(conn, before["id"])
        assert (revision["version"], revision["action"]) == (now["version"], "update")
        assert revision["data"] == now

    # rows the merge did not change keep their versions: the untouched claim, the dispute
    # (which embeds moved claims, as it does when a claim is edited), unrelated actors
    for collection, before in [
        ("claims", w["untouched"]),
        ("disputes", w["dispute"]),
        ("actors", w["akar"]),
        ("actors", w["turkey"]),
        ("reviews", w["other_review"]),
    ]:
        now = (await client.get(f"/v1/{collection}/{before['id']}")).json()
        assert now["version"] == before["version"], (collection, before["id"])

    # change events: one merge, the updates, all in the merge's transaction
    events = await conn.fetch(
        "SELECT resource, resource_id::text, action, txid FROM change_events "
        "WHERE id > (SELECT max(id) FROM change_events WHERE resource = 'dispute') ORDER BY id"
    )
    assert len({e["txid"] for e in events}) == 1
    assert [(e["resource_id"], e["action"]) for e in events if e["action"] == "merge"] == [
        (dup, "merge")
    ]
    assert {e["resource_id"] for e in events} == {dup, sdf} | {b["id"] for _, b in moved}


async def test_merged_actor_redirects_to_the_survivor(client, conn, world):
    sdf, dup = world["sdf"]["id"], world["dup"]["id"]
    await merged_ok(client, dup, sdf)

    response = await client.get(f"/v1/actors/{dup}", follow_redirects=False)
    body = problem(response, 308)
    assert response.headers["location"] == f"/v1/actors/{sdf}"
    assert body["type"] == "/problems/merged"
    assert body["merged_into_id"] == sdf
    assert sdf in body["detail"]
    described = (await client.get("/problems/merged")).json()
    assert described["status"] == 308

    # the id as sent in another spelling of the same UUID: still the survivor's URL
    for spelling in (dup.upper(), dup.replace("-", "")):
        response = await client.get(f"/v1/actors/{spelling}", follow_redirects=False)
        assert problem(response, 308)["merged_into_id"] == sdf
        assert response.headers["location"] == f"/v1/actors/{sdf}"

    # a client following it reads the survivor
    followed = await client.get(f"/v1/actors/{dup}")
    assert followed.status_code == 200
    assert followed.json()["id"] == sdf

    # If-None-Match does not turn a redirect into a 304
    response = await client.get(
        f"/v1/actors/{dup}", headers={"If-None-Match": "*"}, follow_redirects=False
    )
    assert response.status_code == 308

    # gone from lists and filters
    listed = (await client.get("/v1/actors", params={"limit": 200})).json()["data"]
    assert dup not in {a["id"] for a in listed}
    assert sdf in {a["id"] for a in listed}


def lists_filtered_by(actor_id: str) -> list[tuple[str, dict[str, str]]]:
    """Every list an actor's id filters (in the spellings of a UUID a client may send)."""
    return [
        ("/v1/claims", {"speaker_id": actor_id}),
        ("/v1/claims", {"target_id": actor_id.upper(), "limit": "5"}),
        ("/v1/claims", {"relayed_by_id": actor_id.replace("-", "")}),
        ("/v1/disputes", {"actor_id": actor_id}),
        ("/v1/actors", {"member_of": actor_id}),
        ("/v1/actors", {"member_of": actor_id, "name": "Mustafa"}),  # typeahead too
        ("/v1/sources", {"publisher_id": actor_id}),
        ("/v1/reviews", {"reviewer_id": actor_id}),
        ("/v1/search", {"q": "انسحبنا", "speaker_id": actor_id}),
    ]


async def test_a_list_filtered_by_a_merged_actor_redirects_to_the_survivor_s(client, world):
    """A list filtered by a merged actor's id came back empty, its claims, members and
    disputes moved to the survivor: a client holding the old id saw them vanish (found in a
    new user's walkthrough). Such a list answers 308 to the same list with the survivor's
    id, as the merged actor's own URL does."""
    sdf, dup = world["sdf"]["id"], world["dup"]["id"]
    await merged_ok(client, dup, sdf)
    for path, params in lists_filtered_by(dup):
        response = await client.get(path, params=params, follow_redirects=False)
        body = problem(response, 308)
        assert body["merged_into_id"] == sdf, (path, params)
        location = httpx.URL(response.headers["location"])
        assert location.path == path
        expected = {k: (sdf if k not in ("limit", "q", "name") else v) for k, v in params.items()}
        assert dict(location.params) == expected, (path, params)
        followed = await client.get(path, params=params)
        assert followed.status_code == 200, followed.text
        assert followed.json()["data"], (path, params)  # the survivor has them now
    # a filter by an actor that was never merged still gives an empty page
    empty = await client.get("/v1/claims", params={"relayed_by_id": world["turkey"]["id"]})
    assert empty.status_code == 200 and empty.json()["data"] == []


async def test_a_list_filtered_by_an_id_nothing_has_says_so(client, conn, world):
    """A list filtered by an id no actor has (mistyped, or a deleted actor's) was an empty
    page, as if the actor had said nothing, and so for a source, a claim or a dispute (a
    walkthrough's finding): a 422 naming each such parameter. Checked only for an empty
    page, as the merges are."""
    nobody, other = "01937a5e-0000-7000-8000-00000000dead", "01937a5e-0000-7000-8000-00000000beef"
    for path, params, noun in (
        ("/v1/claims", {"source_id": nobody}, "source"),
        ("/v1/claims", {"dispute_id": nobody}, "dispute"),
        ("/v1/disputes", {"claim_id": nobody}, "claim"),
        ("/v1/reviews", {"claim_id": nobody}, "claim"),
    ):
        body = problem(await client.get(path, params=params), 422)
        (name,) = params
        assert body["errors"] == [
            {"field": name, "message": f"No {noun} with id '{nobody}'.", "location": "query"}
        ], (path, params)
    for path, params in lists_filtered_by(nobody):
        body = problem(await client.get(path, params=params), 422)
        (name,) = (k for k in params if k not in ("limit", "name", "q"))
        assert body["errors"] == [
            {"field": name, "message": f"No actor with id '{nobody}'.", "location": "query"}
        ], (path, params)
    both = problem(await client.get("/v1/claims?speaker_id=" + nobody + "&target_id=" + other), 422)
    assert fields(both) == {"speaker_id", "target_id"}
    # every parameter that names nothing, whatever its table, in one answer
    every = problem(
        await client.get(
            "/v1/claims",
            params={"speaker_id": nobody, "source_id": other, "dispute_id": nobody},
        ),
        422,
    )
    assert fields(every) == {"speaker_id", "source_id", "dispute_id"}
    # an actor, a source or a claim of that id that nothing matches: an empty page, as before
    turkey = world["turkey"]["id"]
    bare = (await helpers.source(client))["id"]
    claim = (await helpers.claim(client, world["akar"]["id"], world["press"]["id"]))["id"]
    for path, params in (
        ("/v1/claims", {"relayed_by_id": turkey}),
        ("/v1/claims", {"speaker_id": turkey, "target_id": turkey}),
        ("/v1/claims", {"source_id": bare}),
        ("/v1/reviews", {"claim_id": claim}),
        ("/v1/disputes", {"claim_id": claim}),
    ):
        empty = await client.get(path, params=params)
        assert empty.status_code == 200 and empty.json()["data"] == [], (path, params)


async def test_edits_are_redirected_and_destructive_requests_refused(client, conn, world):
    sdf, dup = world["sdf"]["id"], world["dup"]["id"]
    old_tag = (await client.get(f"/v1/actors/{dup}")).headers["etag"]
    await merged_ok(client, dup, sdf)
    before = await snapshot(conn)

    response = await client.patch(
        f"/v1/actors/{dup}", json={"country": "SY"}, follow_redirects=False
    )
    assert problem(response, 308)["merged_into_id"] == sdf
    assert response.headers["location"] == f"/v1/actors/{sdf}"
    # a conditional edit following the redirect cannot hit the survivor by mistake
    response = await client.patch(
        f"/v1/actors/{dup}", json={"country": "TR"}, headers={"If-Match": old_tag}
    )
    assert problem(response, 412)["type"] == "/problems/precondition-failed"

    # a delete is not redirected: it would remove the survivor
    body = problem(await client.delete(f"/v1/actors/{dup}", follow_redirects=False), 409)
    assert (body["type"], body["merged_into_id"]) == ("/problems/already-merged", sdf)
    # nor is a second merge
    body = problem(await merge(client, dup, world["turkey"]["id"], follow_redirects=False), 409)
    assert (body["type"], body["merged_into_id"]) == ("/problems/already-merged", sdf)
    assert await snapshot(conn) == before

    # revisions of the merged actor stay readable where they were
    page = await client.get(f"/v1/actors/{dup}/revisions", follow_redirects=False)
    assert page.status_code == 200

    # a merged id named in a body says where to look
    response = await client.post(
        "/v1/claims",
        json={
            "speaker_id": dup,
            "text": "قسد",
            "lang": "ar",
            "appearances": [{"source_id": world["article"]["id"]}],
        },
    )
    body = problem(response, 422)
    assert fields(body) == {"speaker_id"}
    assert sdf in body["errors"][0]["message"]
    assert await snapshot(conn) == before


async def test_chains_resolve_to_the_last_survivor(client, conn, world):
    """A into B, then B into C: A's URL points at C directly; B's too."""
    a, b = world["dup"]["id"], world["sdf"]["id"]
    c = (
        await helpers.create(
            client, "actors", {"kind": "armed_group", "name": "SDF (Syrian Democratic Forces)"}
        )
    )["id"]
    await merged_ok(client, a, b)
    final = await merged_ok(client, b, c)

    for gone in (a, b):
        response = await client.get(f"/v1/actors/{gone}", follow_redirects=False)
        assert problem(response, 308)["merged_into_id"] == c
        assert response.headers["location"] == f"/v1/actors/{c}"
    rows = await conn.fetch("SELECT merged_id::text, into_id::text FROM actor_merges")
    assert sorted(tuple(r) for r in rows) == sorted([(a, c), (b, c)])
    # the claims and names of both reached C
    assert (
        await conn.fetchval("SELECT count(*) FROM claims WHERE speaker_id = $1", c)
        == await conn.fetchval("SELECT count(*) FROM claims") - 4
    )  # Akar's four
    names = {n["value"] for n in final["names"]}
    assert {"Syrian Democratic Forces", "قسد", "قوات سوريا الديمقراطية", "ميليشيات قسد"} <= names
    # each merge left its revision on the actor merged away
    assert (await last_revision(conn, a))["data"]["merged_into_id"] == b
    assert (await last_revision(conn, b))["data"]["merged_into_id"] == c

    # an id merged earlier cannot be a target: the answer names where it went
    d = (await helpers.actor(client, "Someone"))["id"]
    body = problem(await merge(client, d, a), 422)
    assert fields(body) == {"into_id"}
    assert c in body["detail"]

    # deleting the survivor (once it holds nothing) drops the redirects: 404, not a dangling 308
    e = (await helpers.actor(client, "Empty one"))["id"]
    f = (await helpers.actor(client, "Empty two"))["id"]
    await merged_ok(client, e, f)
    assert (await client.delete(f"/v1/actors/{f}")).status_code == 204
    problem(await client.get(f"/v1/actors/{e}", follow_redirects=False), 404)


async def test_the_survivor_is_found_by_every_old_spelling(client, world):
    sdf, dup = world["sdf"]["id"], world["dup"]["id"]
    await merged_ok(client, dup, sdf)

    for typed in ("ميليشيات قسد", "ميليشيات", "قوات سوريا الديمقراطيه", "قوات سوريا"):
        found = (await client.get("/v1/actors", params={"name": typed})).json()["data"]
        assert [a["id"] for a in found][:1] == [sdf], typed
        assert dup not in {a["id"] for a in found}
    filtered = (await client.get("/v1/actors", params={"q": "ميليشيات قسد"})).json()["data"]
    assert [a["id"] for a in filtered] == [sdf]
    hits = (
        await client.get("/v1/search", params={"q": "قوات سوريا الديمقراطية", "type": "actor"})
    ).json()["data"]
    assert [(h["type"], h["id"]) for h in hits] == [("actor", sdf)]
    # the duplicate's claims are the survivor's in search and filters
    claims = (await client.get("/v1/claims", params={"speaker_id": sdf})).json()["data"]
    assert world["spoken"]["id"] in {c["id"] for c in claims}
    disputes = (await client.get("/v1/disputes", params={"actor_id": sdf})).json()["data"]
    assert [d["id"] for d in disputes] == [world["dispute"]["id"]]
    dispute = (await client.get(f"/v1/disputes/{world['dispute']['id']}")).json()
    assert dispute["sides"]["affirms"][0]["claim"]["speaker"]["name"] == "Syrian Democratic Forces"


async def test_memberships_between_the_two_are_dropped(client, conn):
    """The survivor a member of the duplicate, the duplicate of the survivor: neither can
    survive (an actor is no member of itself)."""
    parent = await helpers.create(client, "actors", {"kind": "organization", "name": "SDC"})
    survivor = await helpers.create(
        client, "actors", {"kind": "armed_group", "name": "SDF", "memberships": []}
    )
    dup = await helpers.create(
        client,
        "actors",
        {
            "kind": "armed_group",
            "name": "قسد",
            "memberships": [
                {"organization_id": survivor["id"]},
                {"organization_id": parent["id"], "role": "military wing"},
            ],
        },
    )
    patched = await client.patch(
        f"/v1/actors/{survivor['id']}",
        json={
            "memberships": [
                {"organization_id": dup["id"], "role": "part"},
                {"organization_id": parent["id"], "role": "military wing"},
            ]
        },
    )
    assert patched.status_code == 200, patched.text
    result = await merged_ok(client, dup["id"], survivor["id"])
    assert [(m["organization_id"], m["role"]) for m in result["memberships"]] == [
        (parent["id"], "military wing")
    ]
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM actor_memberships WHERE actor_id = organization_id"
        )
        == 0
    )
    assert [n["value"] for n in result["names"]] == ["قسد"]
    assert result["version"] == 3  # create, patch, merge: once


async def test_refusals_change_nothing(client, conn, world):
    sdf, dup = world["sdf"]["id"], world["dup"]["id"]
    nowhere = "01937a5e-0000-7000-8000-0000000000ff"
    before = await snapshot(conn)

    body = problem(await merge(client, dup, dup), 422)
    assert fields(body) == {"into_id"}
    assert "itself" in body["detail"]
    body = problem(await merge(client, dup, nowhere), 422)
    assert fields(body) == {"into_id"} and nowhere in body["detail"]
    body = problem(await merge(client, nowhere, sdf), 404)
    assert body["type"] == "/problems/not-found"
    problem(await client.post("/v1/actors/not-a-uuid/merge", json={"into_id": sdf}), 404)
    body = problem(await client.post(f"/v1/actors/{dup}/merge", json={}), 422)
    assert fields(body) == {"into_id"}
    body = problem(await client.post(f"/v1/actors/{dup}/merge", json={"into_id": "x"}), 422)
    assert fields(body) == {"into_id"}
    body = problem(
        await client.post(f"/v1/actors/{dup}/merge", json={"into_id": sdf, "force": True}), 422
    )
    assert fields(body) == {"force"}
    problem(
        await client.post(
            f"/v1/actors/{dup}/merge",
            content=b"{",
            headers={"content-type": "application/json"},
        ),
        400,
    )
    assert await snapshot(conn) == before


async def test_if_match_is_compared_with_the_merged_actor(client, conn, world):
    sdf, dup = world["sdf"]["id"], world["dup"]["id"]
    dup_tag = (await client.get(f"/v1/actors/{dup}")).headers["etag"]
    sdf_tag = (await client.get(f"/v1/actors/{sdf}")).headers["etag"]
    await client.patch(f"/v1/actors/{dup}", json={"country": "SY"})
    before = await snapshot(conn)

    # a tag read before the duplicate changed, or the survivor's tag: 412, nothing written
    for stale in (dup_tag, sdf_tag):
        response = await merge(client, dup, sdf, headers={"If-Match": stale})
        assert problem(response, 412)["type"] == "/problems/precondition-failed"
    problem(await merge(client, dup, sdf, headers={"If-Match": "garbage"}), 422)
    assert await snapshot(conn) == before

    current = (await client.get(f"/v1/actors/{dup}")).headers["etag"]
    response = await merge(client, dup, sdf, headers={"If-Match": current})
    assert response.status_code == 200, response.text


async def test_a_merge_over_the_name_limit_is_refused(client, conn):
    survivor = await helpers.actor(
        client, "Akar", names=[{"value": f"Akar {i}", "lang": "en"} for i in range(45)]
    )
    dup = await helpers.actor(
        client, "آكار", names=[{"value": f"آكار {i}", "lang": "ar"} for i in range(6)]
    )
    before = await snapshot(conn)
    body = problem(await merge(client, dup["id"], survivor["id"]), 422)
    assert fields(body) == {"into_id"}
    assert "52 names" in body["detail"]
    assert await snapshot(conn) == before


async def test_a_merge_failing_midway_changes_nothing(client, conn, world):
    """The last statements of the merge fail (a trigger refuses the merge record, written
    after claims, sources, reviews and memberships have moved): all of it is rolled back."""
    await conn.execute(
        """
        CREATE FUNCTION refuse_merge() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE check_violation USING MESSAGE = 'refused by the test',
                                          CONSTRAINT = 'actor_merges__test'; END $$;
        CREATE TRIGGER refuse_merge BEFORE INSERT ON actor_merges
            FOR EACH ROW EXECUTE FUNCTION refuse_merge();
        """
    )
    before = await snapshot(conn)
    response = await merge(client, world["dup"]["id"], world["sdf"]["id"])
    assert response.status_code == 422, response.text
    assert await snapshot(conn) == before
    assert await conn.fetchval("SELECT count(*) FROM actor_merges") == 0


@pytest.fixture
async def pool(settings: Settings) -> AsyncIterator[Pool]:
    """The service's own kind of pool, for merges run without the route's retry: a deadlock
    shows as DeadlockDetectedError instead of being retried away."""
    pool = await service_db.create_pool(settings, settings.database_url or "")
    try:
        yield pool
    finally:
        await pool.close()


async def merge_once(pool: Pool, merged_id: str, into_id: str) -> Any:
    async with service_db.transaction(pool) as c:
        return await actor_merge.merge(c, Who(changed_by="test"), UUID(merged_id), UUID(into_id))


async def test_merge_and_a_claim_edit_at_once_both_succeed(
    live_url, conn, database_url, pool, auth
):
    """A claim PATCH locks the claim, then the actors it names; the merge locks the claims it
    moves before the actors, so the two queue one after the other instead of deadlocking."""
    async with httpx.AsyncClient(base_url=live_url, timeout=30, headers=auth) as client:
        sdf = await helpers.create(client, "actors", {"kind": "armed_group", "name": "SDF"})
        dup = await helpers.create(client, "actors", {"kind": "armed_group", "name": "قسد"})
        src = await helpers.source(client)
        claim = await helpers.claim(client, dup["id"], src["id"], text="انسحبنا")

        holder = await asyncpg.connect(database_url)
        try:
            async with holder.transaction():
                await holder.execute("SELECT 1 FROM claims WHERE id = $1 FOR UPDATE", claim["id"])
                patching = asyncio.ensure_future(
                    client.patch(f"/v1/claims/{claim['id']}", json={"text": "لم ننسحب"})
                )
                await waiting_on_locks(conn, 1)  # the PATCH queues first
                merging = asyncio.ensure_future(merge_once(pool, dup["id"], sdf["id"]))
                await waiting_on_locks(conn, 2)
            patched = await patching
            survivor = await merging
        finally:
            await holder.close()

    assert patched.status_code == 200, patched.text
    assert str(survivor.id) == sdf["id"]
    row = await conn.fetchrow(
        "SELECT speaker_id::text, text, version FROM claims WHERE id = $1", claim["id"]
    )
    assert tuple(row) == (sdf["id"], "لم ننسحب", 3)
    assert await revisions(conn, claim["id"]) == [(1, "create"), (2, "update"), (3, "update")]


async def test_crossing_merges_one_wins(client, conn, pool):
    """A into B and B into A at once: exactly one happens; the other is refused cleanly."""
    a = await helpers.create(client, "actors", {"kind": "state", "name": "Russia"})
    b = await helpers.create(client, "actors", {"kind": "state", "name": "روسيا"})
    src = await helpers.source(client)
    for speaker, relayed in ((a, b), (b, a)):
        await helpers.claim(client, speaker["id"], src["id"], relayed_by_id=relayed["id"])
    outcomes = await asyncio.gather(
        merge_once(pool, a["id"], b["id"]),
        merge_once(pool, b["id"], a["id"]),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(refused) == 1, outcomes
    assert isinstance(refused[0], AlreadyMerged | Invalid), refused
    assert await conn.fetchval("SELECT count(*) FROM actors") == 1
    assert await conn.fetchval("SELECT count(*) FROM actor_merges") == 1
    assert await conn.fetchval("SELECT count(DISTINCT speaker_id) FROM claims") == 1
    assert await conn.fetchval("SELECT count(*) FROM claims WHERE relayed_by_id IS NOT NULL") == 0


async def test_a_deadlock_victim_answers_503_and_writes_nothing(live_url, conn, database_url, auth):
    """PostgreSQL rolls back one transaction of a deadlock; the request it served answers 503
    with Retry-After (try again), not a 500. Forced: the test's transaction locks the actor a
    claim PATCH waits for (it sends the speaker, whose row the PATCH then checks under a KEY
    SHARE lock), then the claim the PATCH holds."""
    async with httpx.AsyncClient(base_url=live_url, timeout=30, headers=auth) as client:
        speaker = await helpers.create(client, "actors", {"kind": "state", "name": "Russia"})
        src = await helpers.source(client)
        claim = await helpers.claim(client, speaker["id"], src["id"])
        other = await asyncpg.connect(database_url)
        try:
            async with other.transaction():
                await other.execute("SELECT 1 FROM actors WHERE id = $1 FOR UPDATE", speaker["id"])
                patching = asyncio.ensure_future(
                    client.patch(
                        f"/v1/claims/{claim['id']}",
                        json={"kind": "denial", "speaker_id": speaker["id"]},
                    )
                )
                await waiting_on_locks(conn, 1)  # the PATCH holds the claim, waits on us
                # closing the cycle at once: the PATCH, waiting longer, finds the deadlock
                await other.execute("SELECT 1 FROM claims WHERE id = $1 FOR UPDATE", claim["id"])
                response = await patching
        finally:
            await other.close()
    body = problem(response, 503)
    assert body["type"] == "/problems/unavailable"
    assert response.headers["retry-after"] == "1"
    assert "Traceback" not in response.text
    assert await revisions(conn, claim["id"]) == [(1, "create")]
    assert await conn.fetchval("SELECT kind FROM claims WHERE id = $1", claim["id"]) == "assertion"


def test_migration_down_keeps_merge_revisions_as_deletes(admin_url):
    """0006 down: a merge revision becomes the delete it was for the duplicate's own row (the
    older CHECK allows no other action), the redirects go; up again restores the table."""
    from service import migrate

    async def run(sql: str) -> Any:
        c = await asyncpg.connect(url)
        try:
            if ";" in sql:  # a script: no rows
                return await c.execute(sql)
            return await c.fetch(sql)
        finally:
            await c.close()

    survivor, merged = (
        "01937a5e-0000-7000-8000-000000000001",
        "01937a5e-0000-7000-8000-000000000002",
    )
    with helpers.scratch_database(admin_url, "claimdesk_merge_migration_test") as url:
        migrate.upgrade(url, "0006")
        asyncio.run(
            run(
                f"""
                INSERT INTO actors (id, kind, name) VALUES ('{survivor}', 'state', 'Russia');
                INSERT INTO actor_merges (merged_id, into_id, changed_by)
                VALUES ('{merged}', '{survivor}', 'anonymous');
                INSERT INTO revisions (resource, resource_id, version, action, changed_by, data)
                VALUES ('actor', '{merged}', 2, 'merge', 'anonymous', '{{}}');
                INSERT INTO change_events (resource, resource_id, action, version, changed_by)
                VALUES ('actor', '{merged}', 'merge', 2, 'anonymous');
                """
            )
        )
        migrate.downgrade(url, "0006-1")
        assert [tuple(r) for r in asyncio.run(run("SELECT action FROM revisions"))] == [("delete",)]
        assert [tuple(r) for r in asyncio.run(run("SELECT action FROM change_events"))] == [
            ("delete",)
        ]
        assert not asyncio.run(run("SELECT 1 FROM pg_tables WHERE tablename = 'actor_merges'"))
        migrate.upgrade(url, "0006")
        assert asyncio.run(run("SELECT count(*) FROM actor_merges"))[0][0] == 0
