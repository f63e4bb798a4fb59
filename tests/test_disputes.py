"""Disputes: minimum stances, one claim once, status rules, sides, contradictions."""

from __future__ import annotations

from uuid import UUID

import msgspec
import pytest

from service import etag
from service.disputes.schemas import Dispute
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
                "role": "Minister of National Defence",
                "start_date": "2018-07-10",
                "end_date": "2023-06-03",
            }
        ],
    )
    src = await helpers.source(client, title="Awtan Post", url="https://awtanpost.com/a")
    left = await helpers.claim(
        client,
        russia["id"],
        src["id"],
        relayed_by_id=akar["id"],
        text="أخلوا تماماً تلك المناطق",
        stated_on="2019-11-01",
        stated_on_precision="month",
        targets=[{"actor_id": sdf["id"], "role": "mentioned"}],
    )
    remain = await helpers.claim(
        client,
        akar["id"],
        src["id"],
        stated_on="2019-11-24",
        targets=[{"actor_id": sdf["id"], "role": "accused"}],
    )
    doubt = await helpers.claim(
        client, sdf["id"], src["id"], text="يثير الكثير من الشكوك", kind="doubt"
    )
    return {
        "russia": russia,
        "akar": akar,
        "sdf": sdf,
        "turkey": turkey,
        "source": src,
        "left": left,
        "remain": remain,
        "doubt": doubt,
    }


async def canonical(client, world, **extra):
    return await helpers.create(
        client,
        "disputes",
        {
            "title": "SDF withdrawal from the safe zone",
            "question": "Has the SDF fully withdrawn from the safe zone?",
            "positions": [
                {"claim_id": world["left"]["id"], "stance": "affirms"},
                {"claim_id": world["remain"]["id"], "stance": "denies"},
            ],
            "topics": ["safe-zone"],
            **extra,
        },
    )


async def test_the_canonical_dispute_reads_as_its_sides(client, world):
    dispute = await canonical(client, world)
    assert dispute["status"] == "open" and dispute["version"] == 1
    assert dispute["resolution"] is None and dispute["dismissal"] is None
    read = (await client.get(f"/v1/disputes/{dispute['id']}")).json()
    assert read == dispute
    (affirms,), (denies,) = read["sides"]["affirms"], read["sides"]["denies"]
    assert read["sides"]["questions"] == []
    assert affirms["claim"]["speaker"]["name"] == "Russia"
    assert affirms["claim"]["relayed_by"]["name"] == "Hulusi Akar"
    assert (affirms["claim"]["stated_on"], affirms["claim"]["stated_on_precision"]) == (
        "2019-11-01",
        "month",
    )
    assert denies["claim"]["speaker"]["role"]["role"] == "Minister of National Defence"
    assert denies["claim"]["appearances"][0]["source"]["title"] == "Awtan Post"
    # a claim lists the disputes it stands in
    claim = (await client.get(f"/v1/claims/{world['remain']['id']}")).json()
    assert claim["disputes"] == [
        {"id": dispute["id"], "title": dispute["title"], "status": "open", "stance": "denies"}
    ]


@pytest.mark.parametrize(
    "positions, field",
    [
        ([("left", "affirms"), ("remain", "affirms")], "positions"),  # one stance
        ([("left", "affirms")], "positions"),  # one claim
        ([("left", "affirms"), ("left", "denies")], "positions[1].claim_id"),  # a claim once
        ([("left", "affirms"), ("missing", "denies")], "positions[1].claim_id"),  # dangling
        ([("left", "affirms"), ("remain", "refutes")], "positions[1].stance"),
    ],
)
async def test_creation_needs_two_claims_on_two_sides(client, conn, world, positions, field):
    world["missing"] = {"id": "01937a5e-0000-7000-8000-000000000000"}
    before = await snapshot(conn)
    body = problem(
        await client.post(
            "/v1/disputes",
            json={
                "title": "t",
                "question": "q?",
                "positions": [{"claim_id": world[k]["id"], "stance": s} for k, s in positions],
            },
        ),
        422,
    )
    assert field in fields(body), body
    assert await snapshot(conn) == before


async def test_a_topic_repeated_in_a_dispute_is_422_as_in_a_claim(client, conn, world):
    """Disputes stored `["safe-zone", "safe-zone"]` where claims refuse it (a new user's
    walkthrough); a repeated topic is told with the body's other errors."""
    dispute = await canonical(client, world)
    before = await snapshot(conn)
    body = problem(
        await client.post(
            "/v1/disputes",
            json={
                "title": "t",
                "question": "q?",
                "positions": [{"claim_id": world["left"]["id"], "stance": "affirms"}] * 2,
                "topics": ["safe-zone", "sdf", "safe-zone"],
            },
        ),
        422,
    )
    assert fields(body) == {"topics[2]", "positions[1].claim_id"}, body
    patched = await client.patch(
        f"/v1/disputes/{dispute['id']}", json={"topics": ["sdf", "sdf"], "status": "resolved"}
    )
    assert fields(problem(patched, 422)) == {"topics[1]", "resolution"}
    assert await snapshot(conn) == before


async def test_positions_add_change_remove(client, conn, world):
    dispute = await canonical(client, world)
    url = f"/v1/disputes/{dispute['id']}/positions"
    added = await client.post(url, json={"claim_id": world["doubt"]["id"], "stance": "questions"})
    assert added.status_code == 201, added.text
    assert added.json()["version"] == 2
    assert [p["claim_id"] for p in added.json()["sides"]["questions"]] == [world["doubt"]["id"]]

    before = await snapshot(conn)
    again = await client.post(url, json={"claim_id": world["doubt"]["id"], "stance": "denies"})
    assert fields(problem(again, 409)) == {"claim_id"}
    assert await snapshot(conn) == before

    changed = await client.patch(f"{url}/{world['doubt']['id']}", json={"stance": "denies"})
    assert changed.status_code == 200
    assert len(changed.json()["sides"]["denies"]) == 2
    removed = await client.delete(f"{url}/{world['doubt']['id']}")
    assert removed.status_code == 200 and removed.json()["version"] == 4

    before = await snapshot(conn)
    # now two claims, two stances: neither may go, nor may they agree, while open; a removal
    # names the claim of its path (it said "body", a request without one: a walkthrough)
    removal = problem(await client.delete(f"{url}/{world['left']['id']}"), 422)
    assert [(e["field"], e["location"]) for e in removal["errors"]] == [("claim_id", "path")]
    change = problem(
        await client.patch(f"{url}/{world['left']['id']}", json={"stance": "denies"}), 422
    )
    assert [(e["field"], e["location"]) for e in change["errors"]] == [("stance", "body")]
    problem(await client.delete(f"{url}/{world['doubt']['id']}"), 404)  # not in it
    assert await snapshot(conn) == before


async def test_status_rules(client, conn, world):
    dispute = await canonical(client, world)
    url = f"/v1/disputes/{dispute['id']}"
    before = await snapshot(conn)
    for body, field in [
        ({"status": "resolved"}, "resolution"),
        ({"status": "dismissed"}, "dismissal"),
        ({"resolution": {"verdict": "denied", "note": "n"}}, "resolution"),
        (
            {"status": "resolved", "resolution": {"verdict": "maybe", "note": "n"}},
            "resolution.verdict",
        ),
        (
            {"status": "resolved", "resolution": {"verdict": "denied", "note": ""}},
            "resolution.note",
        ),
        ({"status": "closed"}, "status"),
    ]:
        assert field in fields(problem(await client.patch(url, json=body), 422)), body
    assert await snapshot(conn) == before

    resolved = (
        await client.patch(
            url,
            json={
                "status": "resolved",
                "resolution": {"verdict": "denied", "note": "SDF members were seen inside."},
            },
        )
    ).json()
    assert resolved["status"] == "resolved"
    assert resolved["resolution"]["verdict"] == "denied" and resolved["resolution"]["resolved_at"]
    # a note mended keeps the day it was resolved; a verdict changed is resolved anew (the
    # card showed the first verdict's day beside the second: a walkthrough)
    await conn.execute(
        "UPDATE disputes SET resolved_at = resolved_at - interval '3 days' WHERE id = $1",
        UUID(dispute["id"]),
    )
    first = (await client.get(url)).json()["resolution"]["resolved_at"]
    mended = await client.patch(
        url, json={"resolution": {"verdict": "denied", "note": "SDF members seen inside."}}
    )
    assert mended.json()["resolution"]["resolved_at"] == first
    changed = await client.patch(url, json={"resolution": {"verdict": "mixed", "note": "Both."}})
    assert changed.json()["resolution"]["resolved_at"] > first

    # a resolved dispute keeps two claims on two sides, as an open one does: its verdict
    # weighs them (emptied, its card published a verdict above no claims: a walkthrough)
    positions = f"{url}/positions/{world['left']['id']}"
    before = await snapshot(conn)
    assert fields(problem(await client.delete(positions), 422)) == {"claim_id"}
    agreeing = await client.patch(positions, json={"stance": "denies"})
    assert fields(problem(agreeing, 422)) == {"stance"}
    assert await snapshot(conn) == before
    reopened = (await client.patch(url, json={"status": "open"})).json()
    assert reopened["status"] == "open" and reopened["resolution"] is None

    dismissed = (
        await client.patch(url, json={"status": "dismissed", "dismissal": {"note": "Duplicate."}})
    ).json()
    assert dismissed["dismissal"]["note"] == "Duplicate." and dismissed["resolution"] is None
    # a dismissed dispute disputes nothing: it may lose a side; reopening it then needs two
    # stances again
    assert (await client.delete(positions)).status_code == 200
    assert fields(problem(await client.patch(url, json={"status": "open"}), 422)) == {"status"}
    resolving = {"status": "resolved", "resolution": {"verdict": "denied", "note": "n"}}
    assert fields(problem(await client.patch(url, json=resolving), 422)) == {"status"}
    revisions = (await client.get(f"{url}/revisions")).json()["data"]
    assert [r["data"]["status"] for r in revisions][:4] == [
        "dismissed",
        "dismissed",
        "open",
        "resolved",
    ]
    assert any(r["data"]["resolution"] for r in revisions)  # the reopening kept it in history


async def test_contradictions_in_both_directions(client, world):
    dispute = await canonical(client, world)
    await client.post(
        f"/v1/disputes/{dispute['id']}/positions",
        json={"claim_id": world["doubt"]["id"], "stance": "denies"},
    )

    async def contradicting(claim):
        response = await client.get(f"/v1/claims/{world[claim]['id']}/contradictions")
        assert response.status_code == 200, response.text
        return {
            (c["claim"]["id"], c["stance"], c["against"], c["dispute"]["id"])
            for c in response.json()["data"]
        }

    assert await contradicting("left") == {
        (world["remain"]["id"], "denies", "affirms", dispute["id"]),
        (world["doubt"]["id"], "denies", "affirms", dispute["id"]),
    }
    assert await contradicting("remain") == {
        (world["left"]["id"], "affirms", "denies", dispute["id"])
    }  # not the other denial
    lonely = await helpers.claim(client, world["akar"]["id"], world["source"]["id"], text="x")
    assert (await client.get(f"/v1/claims/{lonely['id']}/contradictions")).json() == {
        "data": [],
        "next_cursor": None,
    }
    problem(await client.get("/v1/claims/01937a5e-0000-7000-8000-000000000000/contradictions"), 404)
    first = (
        await client.get(f"/v1/claims/{world['left']['id']}/contradictions", params={"limit": 1})
    ).json()
    second = (
        await client.get(
            f"/v1/claims/{world['left']['id']}/contradictions",
            params={"limit": 1, "cursor": first["next_cursor"]},
        )
    ).json()
    assert first["next_cursor"] and second["next_cursor"] is None
    assert first["data"][0]["claim"]["id"] != second["data"][0]["claim"]["id"]


async def test_list_filters(client, world):
    first = await canonical(client, world)
    second = await helpers.create(
        client,
        "disputes",
        {
            "title": "Russia as guarantor",
            "question": "Does Russia act as a guarantor?",
            "positions": [
                {"claim_id": world["doubt"]["id"], "stance": "denies"},
                {"claim_id": world["left"]["id"], "stance": "questions"},
            ],
            "topics": ["russia-guarantor"],
        },
    )
    await client.patch(
        f"/v1/disputes/{second['id']}",
        json={"status": "dismissed", "dismissal": {"note": "Out of scope."}},
    )

    async def ids(**params):
        response = await client.get("/v1/disputes", params=params)
        assert response.status_code == 200, response.text
        return [d["id"] for d in response.json()["data"]]

    assert await ids(status="open") == [first["id"]]
    assert await ids(status="dismissed") == [second["id"]]
    assert await ids(actor_id=world["akar"]["id"]) == [first["id"]]  # speaker
    assert await ids(actor_id=world["sdf"]["id"]) == [second["id"], first["id"]]  # target too
    assert await ids(claim_id=world["doubt"]["id"]) == [second["id"]]
    assert await ids(topic="safe-zone") == [first["id"]]
    later = (await client.get(f"/v1/disputes/{second['id']}")).json()["updated_at"]
    assert await ids(updated_from=later) == [second["id"]]
    assert await ids(updated_to=first["updated_at"]) == [first["id"]]
    problem(await client.get("/v1/disputes", params={"updated_from": "2019-11-24T00:00:00"}), 422)
    claims = (await client.get("/v1/claims", params={"dispute_id": first["id"]})).json()
    assert {c["id"] for c in claims["data"]} == {world["left"]["id"], world["remain"]["id"]}


async def test_a_claim_a_dispute_holds_cannot_be_deleted(client, conn, world):
    dispute = await canonical(client, world)
    before = await snapshot(conn)
    body = problem(await client.delete(f"/v1/claims/{world['left']['id']}"), 409)
    assert body["held_by"] == [
        {
            "resource": "disputes",
            "field": "positions[].claim_id",
            "count": 1,
            "ids": [dispute["id"]],
        }
    ]
    assert await snapshot(conn) == before
    assert (await client.delete(f"/v1/disputes/{dispute['id']}")).status_code == 204
    assert (await client.delete(f"/v1/claims/{world['left']['id']}")).status_code == 204
    events = await conn.fetch(
        "SELECT resource, action FROM change_events WHERE resource = 'dispute' ORDER BY id"
    )
    assert [(e["resource"], e["action"]) for e in events] == [
        ("dispute", "create"),
        ("dispute", "delete"),
    ]


@pytest.mark.parametrize(
    "change",
    [
        None,
        {"status": "resolved", "resolution": {"verdict": "denied", "note": "Both sides seen."}},
        {"status": "dismissed", "dismissal": {"note": "Out of scope."}},
    ],
    ids=["open", "resolved", "dismissed"],
)
async def test_get_and_list_send_the_dispute_as_its_struct_encodes(client, world, change):
    """GET and the list send PostgreSQL's JSON compacted, not decoded: byte for byte what
    encoding the decoded dispute gives (key order, every timestamp), and the tag names it."""
    dispute = await canonical(client, world)
    url = f"/v1/disputes/{dispute['id']}"
    if change:
        assert (await client.patch(url, json=change)).status_code == 200
    got = await client.get(url)
    decoded = msgspec.json.decode(got.content, type=Dispute)
    assert got.content == msgspec.json.encode(decoded)
    assert got.headers["etag"] == etag.tag_of(decoded)
    listed = await client.get("/v1/disputes")
    assert listed.content == b'{"data":[' + got.content + b'],"next_cursor":null}'


async def test_a_dispute_sent_back_as_it_is_changes_nothing(client, conn, world):
    """A status, resolution, dismissal or stance sent again as it stands changes nothing: no
    version, revision or change event, the ETag still current (a stance sent again made a
    new version, found in a new user's walkthrough)."""
    dispute = await canonical(client, world)
    url = f"/v1/disputes/{dispute['id']}"
    stance = f"{url}/positions/{world['left']['id']}"
    resolution = {"verdict": "denied", "note": "SDF members were seen inside."}
    resolved = await client.patch(url, json={"status": "resolved", "resolution": resolution})
    assert resolved.status_code == 200, resolved.text
    dismissed = await canonical(
        client,
        world,
        positions=[
            {"claim_id": world["left"]["id"], "stance": "affirms"},
            {"claim_id": world["doubt"]["id"], "stance": "questions"},
        ],
    )
    other = f"/v1/disputes/{dismissed['id']}"
    assert (
        await client.patch(other, json={"status": "dismissed", "dismissal": {"note": "Off topic."}})
    ).status_code == 200

    before = await snapshot(conn)
    for path, method, body in (
        (url, "PATCH", {"status": "resolved", "resolution": resolution}),
        (url, "PATCH", {"resolution": resolution}),
        (url, "PATCH", {"status": "resolved", "topics": ["safe-zone"]}),
        (stance, "PATCH", {"stance": "affirms"}),
        (other, "PATCH", {"status": "dismissed", "dismissal": {"note": "Off topic."}}),
    ):
        dispute_path = path.split("/positions")[0]
        tag = (await client.get(dispute_path)).headers["etag"]
        response = await client.request(method, path, json=body, headers={"If-Match": tag})
        assert response.status_code == 200, (body, response.text)
        assert response.headers["etag"] == tag, body
    assert await snapshot(conn) == before

    # a real change still is one
    version = (await client.get(url)).json()["version"]
    changed = await client.patch(stance, json={"stance": "questions"})
    assert changed.json()["version"] == version + 1
    note = {"verdict": "denied", "note": "Seen inside by two reporters."}
    renoted = await client.patch(url, json={"resolution": note})
    assert renoted.json()["version"] == version + 2
    assert renoted.json()["resolution"]["note"] == note["note"]
