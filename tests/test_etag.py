"""No lost updates: ETag on every single-resource answer, If-None-Match -> 304, If-Match -> 412.

The race tests run against a real server process (``live_url``) so that two requests really
wait on the same row lock; they assert what the database holds afterwards.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

from service import deps, etag
from service.app import create_app
from service.errors import PROBLEM_DESCRIPTIONS, Invalid
from service.webhooks.schemas import WebhookEvent, WebhookEventData
from tests import helpers
from tests.helpers import COMMITTED, fields, problem, snapshot

TAG = re.compile(r'^"(?P<version>[1-9][0-9]*)-(?P<digest>[0-9a-f]{16})"$')


@pytest.fixture
async def world(client: Any) -> dict[str, Any]:
    russia = await helpers.create(client, "actors", {"kind": "state", "name": "Russia"})
    akar = await helpers.actor(client)
    checker = await helpers.create(
        client, "actors", {"kind": "organization", "name": "Demo Fact-Check"}
    )
    src = await helpers.source(client, url="https://news.example/awtan-post/ain-issa/")
    left = await helpers.claim(client, russia["id"], src["id"], text="أخلوا تماماً تلك المناطق")
    remain = await helpers.claim(client, akar["id"], src["id"])
    third = await helpers.claim(client, akar["id"], src["id"], text="يثير الكثير من الشكوك")
    dispute = await helpers.create(
        client,
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
    review = await helpers.create(
        client,
        "reviews",
        {
            "claim_id": left["id"],
            "reviewer_id": checker["id"],
            "rating": {"label": "Disputed", "value": 2, "best": 5, "worst": 1},
        },
    )
    return {
        "actors": akar,
        "sources": src,
        "claims": remain,
        "disputes": dispute,
        "reviews": review,
        "russia": russia,
        "left": left,
        "third": third,
    }


# One harmless change per collection, and a second one (to make a tag stale).
CHANGES = {
    "actors": ({"description": "Turkey's defence minister"}, {"country": "TR"}),
    "sources": ({"title": "قسد تتهم روسيا"}, {"lang": "ar"}),
    "claims": ({"kind": "denial"}, {"verbatim": True}),
    "disputes": ({"title": "SDF in the safe zone"}, {"topics": ["safe-zone"]}),
    "reviews": ({"summary": "Contradicted."}, {"lang": "en"}),
}
COLLECTIONS = list(CHANGES)


def check_tag(response: httpx.Response) -> str:
    """The response's ETag, checked to be the version and digest of exactly this body."""
    tag = response.headers["etag"]
    match = TAG.match(tag)
    assert match, tag
    assert int(match["version"]) == response.json()["version"]
    assert match["digest"] == hashlib.sha256(response.content).hexdigest()[:16]
    return tag


async def tag_of(client: Any, collection: str, resource_id: str) -> str:
    response = await client.get(f"/v1/{collection}/{resource_id}")
    assert response.status_code == 200, response.text
    return check_tag(response)


async def stale_and_current(
    client: Any, world: dict[str, Any], collection: str
) -> tuple[str, str, str]:
    """The path of ``world``'s resource in ``collection``, its tag before a change, and after."""
    resource_id = world[collection]["id"]
    path = f"/v1/{collection}/{resource_id}"
    stale = await tag_of(client, collection, resource_id)
    assert (await client.patch(path, json=CHANGES[collection][0])).status_code == 200
    return path, stale, await tag_of(client, collection, resource_id)


async def revisions(conn: asyncpg.Connection, resource_id: str) -> list[int]:
    rows = await conn.fetch(
        "SELECT version FROM revisions WHERE resource_id = $1 ORDER BY version", resource_id
    )
    return [r["version"] for r in rows]


# ------------------------------------------------------------------------------ ETag


@pytest.mark.parametrize("collection", COLLECTIONS)
async def test_get_post_and_patch_answer_the_tag_of_the_body_they_send(client, world, collection):
    resource = world[collection]
    path = f"/v1/{collection}/{resource['id']}"
    got = await client.get(path)
    assert check_tag(got) == check_tag(await client.get(path))  # stable while nothing changes
    assert TAG.match(got.headers["etag"])["version"] == "1"
    patched = await client.patch(path, json=CHANGES[collection][0])
    assert patched.status_code == 200, patched.text
    new = check_tag(patched)
    assert new != got.headers["etag"]
    assert new == await tag_of(client, collection, resource["id"])


async def test_a_create_answers_the_tag_a_get_gives(client, world):
    created = await client.post("/v1/actors", json={"kind": "state", "name": "Turkey"})
    assert created.status_code == 201
    assert check_tag(created) == await tag_of(client, "actors", created.json()["id"])


async def test_lists_revisions_and_missing_resources_carry_no_tag(client, world):
    assert "etag" not in (await client.get("/v1/claims")).headers
    assert "etag" not in (await client.get(f"/v1/claims/{world['claims']['id']}/revisions")).headers
    missing = await client.get("/v1/claims/01937a5e-0000-7000-8000-000000000000")
    assert missing.status_code == 404 and "etag" not in missing.headers


# ------------------------------------------------------------------------------ If-None-Match


@pytest.mark.parametrize("collection", COLLECTIONS)
async def test_if_none_match_answers_304_until_the_resource_changes(client, world, collection):
    path = f"/v1/{collection}/{world[collection]['id']}"
    tag = await tag_of(client, collection, world[collection]["id"])
    cached = await client.get(path, headers={"If-None-Match": tag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == tag
    assert "content-type" not in cached.headers

    assert (await client.patch(path, json=CHANGES[collection][0])).status_code == 200
    fresh = await client.get(path, headers={"If-None-Match": tag})
    assert fresh.status_code == 200
    assert check_tag(fresh) != tag


async def test_if_none_match_takes_a_list_star_and_weak_tags(client, world):
    path = f"/v1/actors/{world['actors']['id']}"
    tag = await tag_of(client, "actors", world["actors"]["id"])
    for header in (
        f'"1-0000000000000000", {tag}',
        f'"1-0000000000000000",{tag},',  # no spaces, an empty element
        "*",
        f"W/{tag}",  # If-None-Match compares weakly
    ):
        assert (await client.get(path, headers={"If-None-Match": header})).status_code == 304
    other = await client.get(path, headers={"If-None-Match": '"1-0000000000000000"'})
    assert other.status_code == 200
    # several field lines are one list
    lines = [("If-None-Match", '"1-0000000000000000"'), ("If-None-Match", tag)]
    assert (await client.get(path, headers=lines)).status_code == 304


async def test_a_claims_tag_changes_when_its_speaker_is_renamed(client, world, conn):
    """The claim's own version does not move; its representation, and so its tag, do."""
    claim = world["claims"]
    path = f"/v1/claims/{claim['id']}"
    tag = await tag_of(client, "claims", claim["id"])
    assert (await client.get(path, headers={"If-None-Match": tag})).status_code == 304

    renamed = await client.patch(f"/v1/actors/{world['actors']['id']}", json={"name": "H. Akar"})
    assert renamed.status_code == 200

    fresh = await client.get(path, headers={"If-None-Match": tag})
    assert fresh.status_code == 200
    assert fresh.json()["speaker"]["name"] == "H. Akar"
    assert fresh.json()["version"] == claim["version"] == 1
    assert check_tag(fresh) != tag

    # and a write holding the tag from before the rename is refused
    before = await snapshot(conn)
    stale = await client.patch(path, json={"kind": "denial"}, headers={"If-Match": tag})
    assert problem(stale, 412)["type"] == "/problems/precondition-failed"
    assert await snapshot(conn) == before


async def test_a_disputes_tag_changes_when_a_member_claim_changes(client, world):
    dispute = world["disputes"]
    tag = await tag_of(client, "disputes", dispute["id"])
    patched = await client.patch(f"/v1/claims/{world['left']['id']}", json={"kind": "denial"})
    assert patched.status_code == 200
    fresh = await client.get(f"/v1/disputes/{dispute['id']}", headers={"If-None-Match": tag})
    assert fresh.status_code == 200
    assert fresh.json()["version"] == 1
    assert check_tag(fresh) != tag


# ------------------------------------------------------------------------------ If-Match


@pytest.mark.parametrize("collection", COLLECTIONS)
async def test_a_stale_if_match_is_412_and_changes_nothing(client, conn, world, collection):
    path, stale, current = await stale_and_current(client, world, collection)

    before = await snapshot(conn)
    refused = await client.patch(path, json=CHANGES[collection][1], headers={"If-Match": stale})
    body = problem(refused, 412)
    assert body["type"] == "/problems/precondition-failed"
    assert body["title"] == "Precondition failed"
    assert collection.rstrip("s") in body["detail"]
    assert current not in refused.text  # a 412 does not hand out the tag to blindly retry with
    assert await snapshot(conn) == before

    described = (await client.get("/problems/precondition-failed")).json()
    assert described == {
        "type": "/problems/precondition-failed",
        "title": "Precondition failed",
        "status": 412,
        "description": PROBLEM_DESCRIPTIONS["precondition-failed"],
    }

    refused = await client.delete(path, headers={"If-Match": stale})
    problem(refused, 412)
    assert await snapshot(conn) == before
    assert await tag_of(client, collection, world[collection]["id"]) == current


@pytest.mark.parametrize("collection", COLLECTIONS)
async def test_the_current_if_match_writes_and_answers_the_new_tag(client, conn, world, collection):
    resource_id = world[collection]["id"]
    path = f"/v1/{collection}/{resource_id}"
    current = await tag_of(client, collection, resource_id)
    patched = await client.patch(
        path,
        json=CHANGES[collection][0],
        headers={"If-Match": f'"1-0000000000000000", {current}'},  # any listed tag may match
    )
    assert patched.status_code == 200, patched.text
    new = check_tag(patched)
    assert new != current
    assert TAG.match(new)["version"] == "2"
    assert await revisions(conn, resource_id) == [1, 2]

    if collection in ("actors", "sources", "claims"):
        return  # other resources hold them; deleting is tested on the unheld ones below
    deleted = await client.delete(path, headers={"If-Match": new})
    assert deleted.status_code == 204, deleted.text
    assert (await client.get(path)).status_code == 404
    assert await revisions(conn, resource_id) == [1, 2, 3]


async def test_delete_with_the_current_tag_of_an_unheld_actor(client, conn):
    turkey = await helpers.create(client, "actors", {"kind": "state", "name": "Turkey"})
    path = f"/v1/actors/{turkey['id']}"
    tag = await tag_of(client, "actors", turkey["id"])
    assert (await client.delete(path, headers={"If-Match": tag})).status_code == 204
    assert (await client.get(path)).status_code == 404


async def test_if_match_star_matches_any_existing_resource(client, conn, world):
    path = f"/v1/reviews/{world['reviews']['id']}"
    patched = await client.patch(path, json={"summary": "x"}, headers={"If-Match": "*"})
    assert patched.status_code == 200
    check_tag(patched)
    assert (await client.delete(path, headers={"If-Match": "*"})).status_code == 204
    # Nothing exists to match: the answer a request without the condition gets (RFC 9110 13.2.1)
    problem(await client.patch(path, json={"summary": "y"}, headers={"If-Match": "*"}), 404)
    problem(await client.delete(path, headers={"If-Match": "*"}), 404)


@pytest.mark.parametrize("collection", COLLECTIONS)
async def test_if_none_match_on_a_write_refuses_the_current_resource(
    client, conn, world, collection
):
    """If-None-Match on a write is evaluated (RFC 9110 section 13.1.2): `*`, or a list holding
    the current tag (compared weakly), is a 412 and changes nothing; a stale tag lets the
    write through. It was ignored."""
    path, stale, current = await stale_and_current(client, world, collection)

    before = await snapshot(conn)
    for value in ("*", current, f"W/{current}", f'"1-0000000000000000", {current}'):
        for method, body in (("PATCH", CHANGES[collection][1]), ("DELETE", None)):
            refused = await client.request(
                method, path, json=body, headers={"If-None-Match": value}
            )
            detail = problem(refused, 412)["detail"]
            assert "If-None-Match" in detail and collection.rstrip("s") in detail, detail
    # both sent: If-Match is evaluated first, and names itself
    both = await client.patch(
        path, json=CHANGES[collection][1], headers={"If-Match": stale, "If-None-Match": "*"}
    )
    assert problem(both, 412)["detail"].startswith("If-Match")
    malformed = await client.patch(
        path, json=CHANGES[collection][1], headers={"If-None-Match": "garbage"}
    )
    assert fields(problem(malformed, 422)) == {"If-None-Match"}
    assert await snapshot(conn) == before

    patched = await client.patch(
        path,
        json=CHANGES[collection][1],
        headers={"If-None-Match": stale, "If-Match": current},
    )
    assert patched.status_code == 200, patched.text
    assert check_tag(patched) != current


async def test_if_none_match_star_on_a_missing_resource_is_its_404(client, conn, world):
    path = f"/v1/reviews/{world['reviews']['id']}"
    assert (await client.delete(path)).status_code == 204
    before = await snapshot(conn)
    problem(await client.patch(path, json={"summary": "y"}, headers={"If-None-Match": "*"}), 404)
    problem(await client.delete(path, headers={"If-None-Match": "*"}), 404)
    assert await snapshot(conn) == before


async def test_if_none_match_on_a_dispute_s_positions(client, conn, world):
    dispute = world["disputes"]
    url = f"/v1/disputes/{dispute['id']}/positions"
    current = await tag_of(client, "disputes", dispute["id"])
    before = await snapshot(conn)
    for method, path, body in (
        ("POST", url, {"claim_id": world["third"]["id"], "stance": "questions"}),
        ("PATCH", f"{url}/{world['left']['id']}", {"stance": "questions"}),
        ("DELETE", f"{url}/{world['left']['id']}", None),
    ):
        for value in ("*", current):
            refused = await client.request(
                method, path, json=body, headers={"If-None-Match": value}
            )
            problem(refused, 412)
    assert await snapshot(conn) == before


async def test_a_weak_tag_never_matches_if_match(client, conn, world):
    path = f"/v1/sources/{world['sources']['id']}"
    current = await tag_of(client, "sources", world["sources"]["id"])
    before = await snapshot(conn)
    for header in (f"W/{current}", f'W/{current}, W/"1-0000000000000000"'):
        patched = await client.patch(path, json={"lang": "ar"}, headers={"If-Match": header})
        # it says why: the tag is current but weak (not "it changed: GET it again", which
        # would send a client round in circles; found in a new user's walkthrough)
        assert "weak tag" in problem(patched, 412)["detail"]
        problem(await client.delete(path, headers={"If-Match": header}), 412)
    stale = await client.patch(path, json={"lang": "ar"}, headers={"If-Match": 'W/"1-0"'})
    assert "changed since it was read" in problem(stale, 412)["detail"]
    assert await snapshot(conn) == before
    # the same tag, strong, does
    ok = await client.patch(
        path, json={"lang": "ar"}, headers={"If-Match": f"W/{current}, {current}"}
    )
    assert ok.status_code == 200


async def test_if_match_on_several_field_lines_is_one_list(client, world):
    path = f"/v1/actors/{world['actors']['id']}"
    current = await tag_of(client, "actors", world["actors"]["id"])
    lines = [("If-Match", '"1-0000000000000000"'), ("If-Match", current)]
    assert (await client.patch(path, json={"country": "TR"}, headers=lines)).status_code == 200


async def test_without_if_match_writes_behave_as_before(client, world):
    path = f"/v1/claims/{world['claims']['id']}"
    assert (await client.patch(path, json={"kind": "denial"})).status_code == 200
    assert (await client.patch(path, json={"kind": "assertion"})).status_code == 200


# ------------------------------------------------------------------------------ positions


async def test_position_writes_honour_the_disputes_tag(client, conn, world):
    dispute_id = world["disputes"]["id"]
    base = f"/v1/disputes/{dispute_id}"
    third, left = world["third"]["id"], world["left"]["id"]
    stale = await tag_of(client, "disputes", dispute_id)
    assert (await client.patch(base, json={"title": "SDF in the zone"})).status_code == 200
    current = await tag_of(client, "disputes", dispute_id)

    before = await snapshot(conn)
    stale_header = {"If-Match": stale}
    problem(
        await client.post(
            f"{base}/positions",
            json={"claim_id": third, "stance": "questions"},
            headers=stale_header,
        ),
        412,
    )
    problem(
        await client.patch(
            f"{base}/positions/{left}", json={"stance": "questions"}, headers=stale_header
        ),
        412,
    )
    problem(await client.delete(f"{base}/positions/{left}", headers=stale_header), 412)
    assert await snapshot(conn) == before

    added = await client.post(
        f"{base}/positions",
        json={"claim_id": third, "stance": "questions"},
        headers={"If-Match": current},
    )
    assert added.status_code == 201, added.text
    after_add = check_tag(added)
    assert after_add == await tag_of(client, "disputes", dispute_id)

    # the position write moved the dispute's tag: the tag read before it is now stale
    problem(await client.patch(base, json={"title": "x"}, headers={"If-Match": current}), 412)

    changed = await client.patch(
        f"{base}/positions/{third}", json={"stance": "denies"}, headers={"If-Match": after_add}
    )
    assert changed.status_code == 200, changed.text
    after_change = check_tag(changed)
    removed = await client.delete(f"{base}/positions/{third}", headers={"If-Match": after_change})
    assert removed.status_code == 200, removed.text
    assert check_tag(removed) == await tag_of(client, "disputes", dispute_id)
    assert await revisions(conn, dispute_id) == [1, 2, 3, 4, 5]


# ------------------------------------------------------------------------------ malformed


MALFORMED = [
    "abc",  # not quoted
    '"1-abc',  # no closing quote
    '*, "1-abc"',  # * stands alone
    'w/"1-abc"',  # the weak prefix is W/, case-sensitive
    '"1-abc" "2-def"',  # no comma between
    '"1 abc"',  # space inside
    "",  # nothing
    " , ",  # only empty elements
]


@pytest.mark.parametrize("value", MALFORMED)
async def test_a_malformed_if_match_is_a_422_naming_the_header(client, conn, world, value):
    path = f"/v1/actors/{world['actors']['id']}"
    before = await snapshot(conn)
    for response in (
        await client.patch(path, json={"country": "TR"}, headers={"If-Match": value}),
        await client.delete(path, headers={"If-Match": value}),
        await client.post(
            f"/v1/disputes/{world['disputes']['id']}/positions",
            json={"claim_id": world["third"]["id"], "stance": "questions"},
            headers={"If-Match": value},
        ),
    ):
        body = problem(response, 422)
        assert body["errors"] == [
            {"field": "If-Match", "message": body["errors"][0]["message"], "location": "header"}
        ]
    assert await snapshot(conn) == before


@pytest.mark.parametrize("value", MALFORMED)
async def test_a_malformed_if_none_match_is_a_422_naming_the_header(client, world, value):
    response = await client.get(
        f"/v1/claims/{world['claims']['id']}", headers={"If-None-Match": value}
    )
    assert fields(problem(response, 422)) == {"If-None-Match"}


def test_the_parser_follows_rfc_9110():
    def parse(*values: str) -> etag.Condition | None:
        return etag.parse("If-Match", list(values))

    assert parse() is None
    assert parse("*") == etag.Condition(any=True)
    assert parse(' "a" ,W/"b",, "c,d" ') == etag.Condition(
        strong=frozenset({'"a"', '"c,d"'}), weak=frozenset({'"b"'})
    )  # a comma may sit inside an opaque tag
    assert parse('""') == etag.Condition(strong=frozenset({'""'}))  # the empty tag is valid
    assert parse('"a"', 'W/"b"') == parse('"a", W/"b"')
    assert parse('"\xe9"') == etag.Condition(strong=frozenset({'"\xe9"'}))  # obs-text
    condition = parse('"a", W/"b"')
    assert condition is not None
    assert condition.matches_strongly('"a"') and not condition.matches_strongly('"b"')
    assert condition.matches_weakly('"a"') and condition.matches_weakly('"b"')
    for bad in (*MALFORMED, '"a"\x7f', '"\x01"', "*, *", '"a"*', 'W/ "a"', "W/"):
        with pytest.raises(Invalid):
            parse(bad)


# ------------------------------------------------------------------------------ the race


async def waiting_on_locks(conn: asyncpg.Connection, count: int) -> None:
    """Until ``count`` other sessions of this database wait on a lock."""
    for _ in range(200):
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if waiting >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} requests never queued on the row lock")


async def test_two_patches_with_the_same_if_match_one_wins(live_url, conn, database_url, auth):
    """Both requests read the same tag and queue on the row; the loser, let in second,
    finds the winner's version and answers 412. Forced: the test holds the row lock until
    both wait, so the two really overlap."""
    async with httpx.AsyncClient(base_url=live_url, headers=auth) as setup:
        actor = (await setup.post("/v1/actors", json={"kind": "person", "name": "Akar"})).json()
        path = f"/v1/actors/{actor['id']}"
        tag = (await setup.get(path)).headers["etag"]

    holder = await asyncpg.connect(database_url)
    first, second = (
        httpx.AsyncClient(base_url=live_url, headers=auth),
        httpx.AsyncClient(base_url=live_url, headers=auth),
    )
    try:
        async with holder.transaction():
            await holder.execute("SELECT 1 FROM actors WHERE id = $1 FOR UPDATE", actor["id"])
            racing = asyncio.gather(
                first.patch(path, json={"name": "Hulusi Akar"}, headers={"If-Match": tag}),
                second.patch(path, json={"name": "خلوصي آكار"}, headers={"If-Match": tag}),
            )
            await waiting_on_locks(conn, 2)
        # the holder's transaction (which changed nothing) has ended: the two go in turn
        responses = await racing
    finally:
        await first.aclose()
        await second.aclose()
        await holder.close()

    assert sorted(r.status_code for r in responses) == [200, 412], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 200)
    loser = next(r for r in responses if r.status_code == 412)
    assert problem(loser, 412)["type"] == "/problems/precondition-failed"
    assert await revisions(conn, actor["id"]) == [1, 2]  # exactly one new revision
    stored = await conn.fetchrow("SELECT name, version FROM actors WHERE id = $1", actor["id"])
    assert (stored["name"], stored["version"]) == (winner.json()["name"], 2)
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM change_events WHERE resource_id = $1", actor["id"]
        )
        == 2
    )


async def test_many_concurrent_writers_with_one_tag_exactly_one_wins(live_url, conn, auth):
    """Unforced: eight PATCHes and position writes of one dispute, sent at once, all holding
    the same tag of it."""
    async with httpx.AsyncClient(base_url=live_url, headers=auth) as setup:
        speaker = (await setup.post("/v1/actors", json={"kind": "state", "name": "Russia"})).json()
        src = (await setup.post("/v1/sources", json={"kind": "article", "title": "t"})).json()
        claims = []
        for text in ("أخلوا", "مازالوا", "يثير الشكوك"):
            body = {
                "speaker_id": speaker["id"],
                "text": text,
                "lang": "ar",
                "appearances": [{"source_id": src["id"]}],
            }
            claims.append((await setup.post("/v1/claims", json=body)).json()["id"])
        dispute = (
            await setup.post(
                "/v1/disputes",
                json={
                    "title": "t",
                    "question": "q?",
                    "positions": [
                        {"claim_id": claims[0], "stance": "affirms"},
                        {"claim_id": claims[1], "stance": "denies"},
                    ],
                },
            )
        ).json()
        base = f"/v1/disputes/{dispute['id']}"
        tag = (await setup.get(base)).headers["etag"]

    clients = [httpx.AsyncClient(base_url=live_url, headers=auth) for _ in range(8)]
    headers = {"If-Match": tag}
    try:
        requests = [
            c.patch(base, json={"title": f"title {i}"}, headers=headers)
            for i, c in enumerate(clients[:6])
        ]
        requests.append(
            clients[6].post(
                f"{base}/positions",
                json={"claim_id": claims[2], "stance": "questions"},
                headers=headers,
            )
        )
        requests.append(
            clients[7].patch(
                f"{base}/positions/{claims[0]}", json={"stance": "questions"}, headers=headers
            )
        )
        responses = await asyncio.gather(*requests)
    finally:
        for c in clients:
            await c.aclose()
    statuses = [r.status_code for r in responses]
    assert sum(s in (200, 201) for s in statuses) == 1, statuses
    assert statuses.count(412) == 7, statuses
    assert await revisions(conn, dispute["id"]) == [1, 2]


async def test_many_concurrent_patches_of_a_claim_with_one_tag_exactly_one_wins(
    live_url, conn, auth
):
    """Unforced: eight PATCHes of a claim's own fields, sent at once with the same tag. Each
    reads the claim without a lock and sends one statement that writes only at the version
    it read (migration 0017); the others find it moved, do the PATCH again the locked way and
    compare If-Match with what is there: 412."""
    async with httpx.AsyncClient(base_url=live_url, headers=auth) as setup:
        speaker = (await setup.post("/v1/actors", json={"kind": "state", "name": "Russia"})).json()
        src = (await setup.post("/v1/sources", json={"kind": "article", "title": "t"})).json()
        body = {
            "speaker_id": speaker["id"],
            "text": "أخلوا",
            "lang": "ar",
            "appearances": [{"source_id": src["id"]}],
        }
        claim = (await setup.post("/v1/claims", json=body)).json()
        base = f"/v1/claims/{claim['id']}"
        tag = (await setup.get(base)).headers["etag"]

    clients = [httpx.AsyncClient(base_url=live_url, headers=auth) for _ in range(8)]
    kinds = ["denial", "doubt", "accusation", "assertion"]
    try:
        responses = await asyncio.gather(
            *[
                c.patch(
                    base,
                    json={"kind": kinds[i % 4], "topics": [f"t{i}"]},
                    headers={"If-Match": tag},
                )
                for i, c in enumerate(clients)
            ]
        )
    finally:
        for c in clients:
            await c.aclose()
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 1, statuses
    assert statuses.count(412) == 7, statuses
    assert await revisions(conn, claim["id"]) == [1, 2]
    won = next(r for r in responses if r.status_code == 200)
    async with httpx.AsyncClient(base_url=live_url, headers=auth) as check:
        assert (await check.get(base)).content == won.content


# ------------------------------------------------------------------------------ the document


async def test_a_malformed_condition_is_a_422_before_anything_is_looked_up(client, conn):
    # the input guard parses the route's condition header before the handler runs: a missing
    # claim with a malformed If-None-Match is the 422, as for a malformed If-Match on a write
    missing = "01937a5e-0000-7000-8000-0000000000ff"
    before = await snapshot(conn)
    read = await client.get(f"/v1/claims/{missing}", headers={"If-None-Match": "abc"})
    assert fields(problem(read, 422)) == {"If-None-Match"}
    write = await client.delete(f"/v1/claims/{missing}", headers={"If-Match": "abc"})
    assert fields(problem(write, 422)) == {"If-Match"}
    assert await snapshot(conn) == before
    # well formed, the same requests reach the handler
    problem(await client.get(f"/v1/claims/{missing}", headers={"If-None-Match": '"1-a"'}), 404)
    problem(await client.delete(f"/v1/claims/{missing}", headers={"If-Match": '"1-a"'}), 404)


def test_a_handler_reads_only_the_condition_its_route_declares():
    @get("/declared", **etag.TAKES_IF_NONE_MATCH)
    async def declared(request: deps.Request) -> dict[str, Any]:
        condition = request.if_none_match()
        return {"any": condition.any if condition else None}

    @get("/undeclared")
    async def undeclared(request: deps.Request) -> dict[str, Any]:
        request.preconditions()
        return {}

    app = Litestar([declared, undeclared], request_class=deps.Request, debug=True)
    with TestClient(app) as test:
        assert test.get("/declared").json() == {"any": None}
        assert test.get("/declared", headers={"If-None-Match": "*"}).json() == {"any": True}
        refused = test.get("/undeclared", headers={"If-Match": "*"})
        assert refused.status_code == 500
        assert "undeclared reads If-Match but its route does not declare it" in refused.text


def test_the_documented_conditions_are_those_the_handlers_declare(settings):
    # the document lists If-Match / If-None-Match where a handler declares it (it reads them
    # from the request, not as a Litestar parameter), and nowhere else
    document = json.loads(COMMITTED.read_text())
    documented: dict[str, set[str]] = {}
    for item in document["paths"].values():
        for op in item.values():
            for p in op.get("parameters", []):
                if p["in"] == "header" and p["name"] in ("If-Match", "If-None-Match"):
                    documented.setdefault(op["operationId"], set()).add(p["name"])
    declared = {
        handler.operation_id: set(handler.opt[etag.CONDITION])
        for route in create_app(settings).routes
        for handler in getattr(route, "route_handlers", [])
        if etag.CONDITION in handler.opt
    }
    assert documented == declared
    # a write takes both, a read If-None-Match
    assert {frozenset(headers) for headers in declared.values()} == {
        frozenset({"If-Match", "If-None-Match"}),
        frozenset({"If-None-Match"}),
    }
    assert len(declared) == 21


def test_the_document_states_the_conditions():
    document = json.loads(COMMITTED.read_text())
    operations = {
        op["operationId"]: op for item in document["paths"].values() for op in item.values()
    }

    def headers_in(op: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in op.get("parameters", []) if p["in"] == "header"}

    for name in ("actor", "source", "claim", "dispute", "review"):
        read = operations[f"get_{name}"]
        assert headers_in(read)["If-None-Match"]["required"] is False
        assert headers_in(read)["If-None-Match"]["schema"] == {
            "type": "string",
            # the document writes the pattern's end (\Z) as ECMA-262 does
            "pattern": etag.CONDITION_PATTERN.removesuffix("\\Z") + "$",
        }
        assert "ETag" in read["responses"]["200"]["headers"]
        assert "ETag" in read["responses"]["304"]["headers"]
        assert "content" not in read["responses"]["304"]
        assert "ETag" in operations[f"create_{name}"]["responses"]["201"]["headers"]
        for write in (f"update_{name}", f"delete_{name}"):
            assert headers_in(operations[write])["If-Match"]["required"] is False, write
            none_match = headers_in(operations[write])["If-None-Match"]
            assert none_match["required"] is False, write
            assert "412" in none_match["description"], write  # a write's, not a read's 304
            assert "412" in operations[write]["responses"], write
            assert "422" in operations[write]["responses"], write
        assert "ETag" in operations[f"update_{name}"]["responses"]["200"]["headers"]
    for write in ("add_dispute_position", "update_dispute_position", "remove_dispute_position"):
        op = operations[write]
        assert {"If-Match", "If-None-Match"} <= set(headers_in(op)), write
        assert "412" in op["responses"], write
        success = "201" if write.startswith("add") else "200"
        assert "ETag" in op["responses"][success]["headers"], write
    # every write may answer 412 (a condition false) and 422 (one malformed), those to what
    # has no entity tag too (they were answered and not documented)
    writes = [op for item in document["paths"].values() for m, op in item.items() if m != "get"]
    assert len(writes) >= 20
    for op in writes:
        assert {"412", "422"} <= set(op["responses"]), op["operationId"]
    # only these take the conditions
    assert "If-Match" not in headers_in(operations["list_claims"])
    assert "If-None-Match" not in headers_in(operations["list_claim_revisions"])


async def _untagged_state(conn: asyncpg.Connection) -> dict[str, Any]:
    """What the writes to resources without entity tags change: every table
    :func:`helpers.snapshot` reads, webhooks and their deliveries, API keys (not their use)."""
    state = await snapshot(conn)
    for table, columns in (
        ("webhooks", "*"),
        ("webhook_deliveries", "*"),
        ("api_keys", "id, name, scopes, revoked_at"),
    ):
        rows = await conn.fetch(f"SELECT {columns} FROM {table} ORDER BY id")
        state[table] = [tuple(r.values()) for r in rows]
    return state


async def test_conditions_on_a_resource_without_entity_tags(client, conn, settings):
    """Webhooks, API keys and the collections a POST adds to have no ETag, and RFC 9110
    section 13.1 has the server evaluate a condition sent to them: an If-Match listing tags
    cannot match and If-None-Match: * fails on what exists, so both are a 412 and change
    nothing; a malformed one is a 422; If-Match: * and an If-None-Match listing tags pass.
    Both headers were ignored (a DELETE with If-Match: "x" deleted the webhook), then
    If-None-Match was. A resource that does not exist is a 404 whatever the condition."""
    hook = (
        await client.post(
            "/v1/webhooks", json={"url": "https://93.184.216.34/hook", "event_types": ["*"]}
        )
    ).json()
    made = await client.post("/v1/api-keys", json={"name": "cms", "scopes": ["read"]})
    key = made.json()
    actor = await helpers.actor(client)  # a change event for a delivery to carry
    now = datetime.now(UTC)
    data = WebhookEventData(
        event_id=0,
        resource="actor",
        id=actor["id"],
        action="create",
        version=1,
        occurred_at=now,
        changed_by="test",
        key_id=None,
        path=f"/v1/actors/{actor['id']}",
        feed_cursor="x",
    )
    delivery = await conn.fetchval(
        """
        INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, payload, status,
                                        created_at, finished_at)
        SELECT gen_random_uuid(), $1::uuid, max(id), 'actor.create', $2, 'succeeded', now(),
               now()
        FROM change_events
        RETURNING id
        """,
        hook["id"],
        msgspec.json.encode(WebhookEvent(type="actor.create", timestamp=now, data=data)).decode(),
    )
    missing = "01937a5e-0000-7000-8000-0000000000ff"
    by_id = {
        "update_webhook": ("PATCH", "/v1/webhooks/{}", {"description": "x"}),
        "delete_webhook": ("DELETE", "/v1/webhooks/{}", None),
        "rotate_webhook_secret": ("POST", "/v1/webhooks/{}/rotate-secret", None),
        "redeliver_webhook_delivery": (
            "POST",
            f"/v1/webhooks/{hook['id']}/deliveries/{{}}/redeliver",
            None,
        ),
        "revoke_api_key": ("DELETE", "/v1/api-keys/{}", None),
    }
    ids = {name: hook["id"] for name in by_id} | {
        "redeliver_webhook_delivery": str(delivery),
        "revoke_api_key": key["id"],
    }
    # every write to one resource without conditions of its own is here
    writes_by_id = {
        handler.operation_id
        for route in create_app(settings).routes
        for handler in getattr(route, "route_handlers", [])
        if etag.CONDITION not in handler.opt
        and handler.http_methods & {"POST", "PATCH", "PUT", "DELETE"}
        and "{" in route.path
    }
    assert writes_by_id == set(by_id)
    writes = [
        (method, path.format(ids[name]), body) for name, (method, path, body) in by_id.items()
    ]
    writes.append(("POST", "/v1/actors", {"kind": "person", "name": "X"}))

    before = await _untagged_state(conn)
    refused = (
        ("If-Match", '"1-0123456789abcdef"', 412),
        ("If-None-Match", "*", 412),
        ("If-Match", "garbage", 422),
        ("If-None-Match", "garbage", 422),
    )
    for method, path, body in writes:
        for header, value, status in refused:
            for retry in ({}, {"Idempotency-Key": f"k-{method}-{path}-{header}-{value}"}):
                response = await client.request(
                    method, path, json=body, headers={header: value, **retry}
                )
                assert response.status_code == status, (method, path, header, response.text)
                assert response.headers["content-type"] == "application/problem+json"
                if status == 412:
                    assert header in response.json()["detail"], response.text
    assert await _untagged_state(conn) == before

    # what does not exist is a 404 first (RFC 9110 13.2.1), the condition unread
    for name, (method, path, body) in by_id.items():
        for header, value in (("If-Match", '"1-0123456789abcdef"'), ("If-None-Match", "*")):
            response = await client.request(
                method, path.format(missing), json=body, headers={header: value}
            )
            assert response.status_code == 404, (name, header, response.text)
    assert await _untagged_state(conn) == before

    # conditions true there let the write through
    path = f"/v1/webhooks/{hook['id']}"
    for header, value in (("If-Match", "*"), ("If-None-Match", '"1-0123456789abcdef"')):
        response = await client.patch(path, json={"description": header}, headers={header: value})
        assert response.status_code == 200, response.text
        assert response.json()["description"] == header
    created = await client.post(
        "/v1/actors",
        json={"kind": "person", "name": "Y"},
        headers={"If-None-Match": '"1-0123456789abcdef"'},
    )
    assert created.status_code == 201, created.text
