"""The single write path: version, revision and change event, in the write's transaction."""

from __future__ import annotations

import asyncpg
import pytest

from service import history
from tests import helpers
from tests.helpers import problem

MISSING = "01937a5e-0000-7000-8000-0000000000ff"

pytestmark = pytest.mark.compat


async def test_every_write_records_a_revision_and_a_change_event(client, conn):
    akar = await helpers.actor(client)
    await client.patch(f"/v1/actors/{akar['id']}", json={"country": "TR"})
    await client.patch(f"/v1/actors/{akar['id']}", json={"description": "Defence minister"})
    src = await helpers.source(client)
    claim = await helpers.claim(client, akar["id"], src["id"])
    await client.delete(f"/v1/claims/{claim['id']}")

    events = await conn.fetch(
        "SELECT resource, resource_id, action, version FROM change_events ORDER BY id"
    )
    assert [(e["resource"], e["action"], e["version"]) for e in events] == [
        ("actor", "create", 1),
        ("actor", "update", 2),
        ("actor", "update", 3),
        ("source", "create", 1),
        ("claim", "create", 1),
        ("claim", "delete", 2),
    ]
    revisions = await conn.fetch(
        "SELECT resource, resource_id, version, action, data, "
        "changed_by, key_id, request_id FROM revisions ORDER BY id"
    )
    key = await conn.fetchrow("SELECT id, name FROM api_keys")
    key_ids = await conn.fetch("SELECT key_id FROM change_events")
    assert [(r["resource"], r["resource_id"], r["version"], r["action"]) for r in revisions] == [
        (e["resource"], e["resource_id"], e["version"], e["action"]) for e in events
    ]
    # Each change names the API key that made it, by name and id, and its request.
    assert all(
        r["changed_by"] == key["name"] and r["key_id"] == key["id"] and r["request_id"]
        for r in revisions
    )
    assert {e["key_id"] for e in key_ids} == {key["id"]}

    listed = (await client.get(f"/v1/actors/{akar['id']}/revisions")).json()
    assert [r["version"] for r in listed["data"]] == [3, 2, 1]
    assert listed["data"][0]["data"]["description"] == "Defence minister"
    assert listed["data"][0]["key_id"] == str(key["id"])
    assert listed["data"][2]["data"] == akar  # the revision is the resource as GET returned it


async def test_request_id_of_the_change_is_the_one_echoed(client, conn):
    response = await client.post(
        "/v1/actors", json={"kind": "state", "name": "Russia"}, headers={"X-Request-ID": "cms-42"}
    )
    assert response.headers["x-request-id"] == "cms-42"
    assert await conn.fetchval("SELECT request_id FROM revisions") == "cms-42"


async def test_record_refuses_to_run_outside_a_transaction(conn):
    akar_id = "01937a5e-0000-7000-8000-000000000001"
    with pytest.raises(AssertionError):
        await history.record(conn, history.Who(changed_by="t"), "actor", akar_id, 1, "create", {})


async def test_a_failed_write_leaves_neither_row_nor_history(client, conn):
    """The revision insert fails (a version that exists): the actor change rolls back too."""
    akar = await helpers.actor(client)
    await conn.execute(
        "INSERT INTO revisions (resource, resource_id, version, action, changed_by, data) "
        "VALUES ('actor', $1, 2, 'update', 'test', '{}')",
        akar["id"],
    )
    before = await helpers.snapshot(conn)
    response = await client.patch(f"/v1/actors/{akar['id']}", json={"name": "Akar"})
    assert response.status_code == 409  # the unique (resource, id, version) backstop
    assert await helpers.snapshot(conn) == before
    assert (await client.get(f"/v1/actors/{akar['id']}")).json()["name"] == "Hulusi Akar"


async def test_revision_pages(client):
    akar = await helpers.actor(client)
    for i in range(5):
        await client.patch(f"/v1/actors/{akar['id']}", json={"description": f"edit {i}"})
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(f"/v1/actors/{akar['id']}/revisions", params=params)).json()
        seen += [r["version"] for r in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [6, 5, 4, 3, 2, 1]


async def test_changes_commit_before_the_response(client, database_url):
    """What a 201 reports is visible to any other connection at once."""
    akar = await helpers.actor(client)
    other = await asyncpg.connect(database_url)
    try:
        assert (
            await other.fetchval("SELECT version FROM actors WHERE id = $1::uuid", akar["id"]) == 1
        )
    finally:
        await other.close()


async def test_one_revision_is_read_by_its_version(client, conn):
    """``.../revisions/{version}``: the resource as it was at that version, as the list has
    it, for every collection, kept after a delete; a version it never had is a 404 naming
    the ones it has, an id that never had any a plain 404, and so is a version that is no
    version (as a malformed id in a path is)."""
    akar = await helpers.actor(client)
    await client.patch(f"/v1/actors/{akar['id']}", json={"country": "TR"})
    src = await helpers.source(client)
    claim = await helpers.claim(client, akar["id"], src["id"])
    await client.delete(f"/v1/claims/{claim['id']}")
    for path, versions in ((f"/v1/actors/{akar['id']}", 2), (f"/v1/claims/{claim['id']}", 2)):
        listed = (await client.get(f"{path}/revisions")).json()["data"]
        for revision in listed:
            one = await client.get(f"{path}/revisions/{revision['version']}")
            assert one.status_code == 200, one.text
            assert one.json() == revision
        assert [r["version"] for r in listed] == list(range(versions, 0, -1))
        missing = problem(await client.get(f"{path}/revisions/{versions + 1}"), 404)
        assert f"versions are 1 to {versions}" in missing["detail"], missing
    deleted = (await client.get(f"/v1/claims/{claim['id']}/revisions/2")).json()
    assert (deleted["action"], deleted["data"]["id"]) == ("delete", claim["id"])
    assert (await client.get(f"/v1/actors/{akar['id']}/revisions/1")).json()["data"][
        "country"
    ] is None
    for collection in ("actors", "sources", "claims", "disputes", "reviews"):
        never = problem(await client.get(f"/v1/{collection}/{MISSING}/revisions/1"), 404)
        assert MISSING in never["detail"]
        for bad in ("0", "-1", "x", "2147483648", "1.5"):
            # as a malformed id in a path: no such revision can exist
            problem(await client.get(f"/v1/{collection}/{MISSING}/revisions/{bad}"), 404)
        # nor is another spelling of a version one (the document says integer)
        for spelling in ("1.0", "1e0", "+1", "01", " 1"):
            response = await client.get(f"/v1/claims/{claim['id']}/revisions/{spelling}")
            problem(response, 404)


async def test_a_patch_that_changes_nothing_writes_nothing(client, conn):
    """No version, revision or change event for a PATCH that changes nothing (found trying
    the service as a new user: each `{}` bumped the version, broke other clients' If-Match
    and sent a change to every CMS following the feed)."""
    akar = await helpers.actor(client)
    src = await helpers.source(client)
    claim = await helpers.claim(client, akar["id"], src["id"])
    before = await helpers.snapshot(conn)
    for path, same in (
        (f"/v1/actors/{akar['id']}", {"name": akar["name"]}),
        (f"/v1/sources/{src['id']}", {"title": src["title"]}),
        (f"/v1/claims/{claim['id']}", {"text": claim["text"], "lang": claim["lang"]}),
    ):
        tag = (await client.get(path)).headers["etag"]
        for body in ({}, same):
            response = await client.patch(path, json=body, headers={"If-Match": tag})
            assert response.status_code == 200, response.text
            assert response.headers["etag"] == tag
    assert await helpers.snapshot(conn) == before
    # a real change still is one
    changed = await client.patch(f"/v1/actors/{akar['id']}", json={"country": "TR"})
    assert changed.json()["version"] == akar["version"] + 1


async def test_a_language_tag_sent_in_another_case_changes_nothing(client, conn):
    """Tags are stored in canonical case; one sent back in another (`AR`, `EN-gb`) is the
    same tag, not a change (it wrote an identical version, revision and change event, found
    by a new user's walkthrough); another tag still is a change."""
    akar = await helpers.actor(client, names=[{"value": "آكار", "lang": "ar-SY"}])
    src = await helpers.source(client, lang="ar")
    claim = await helpers.claim(
        client, akar["id"], src["id"], translations=[{"lang": "en-GB", "text": "Some SDF"}]
    )
    review = await helpers.create(
        client,
        "reviews",
        {
            "claim_id": claim["id"],
            "reviewer_id": akar["id"],
            "rating": {"label": "Disputed", "value": 2, "best": 5, "worst": 1},
            "lang": "en",
        },
    )
    before = await helpers.snapshot(conn)
    for path, body in (
        (f"/v1/claims/{claim['id']}", {"lang": "AR"}),
        (f"/v1/claims/{claim['id']}", {"translations": [{"lang": "EN-gb", "text": "Some SDF"}]}),
        (f"/v1/actors/{akar['id']}", {"names": [{"value": "آكار", "lang": "AR-sy"}]}),
        (f"/v1/sources/{src['id']}", {"lang": "Ar"}),
        (f"/v1/reviews/{review['id']}", {"lang": "EN"}),
    ):
        tag = (await client.get(path)).headers["etag"]
        response = await client.patch(path, json=body, headers={"If-Match": tag})
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == tag, body
    assert await helpers.snapshot(conn) == before
    changed = await client.patch(f"/v1/claims/{claim['id']}", json={"lang": "ar-SY"})
    assert (changed.json()["lang"], changed.json()["version"]) == ("ar-SY", claim["version"] + 1)


async def test_a_list_sent_again_as_it_is_changes_nothing(client, conn):
    """A list sent back as it is stored (a claim's translations, appearances, targets and
    topics; an actor's names and memberships) changes nothing, like a field sent back; a list
    in another order, or with an item changed, is a change. Each of these lists bumped the
    version when sent back unchanged (found by a helper trying the API as a new user)."""
    org = await helpers.actor(client, "SDF", kind="organization")
    akar = await helpers.actor(
        client,
        names=[{"value": "آكار", "lang": "ar"}, {"value": "Akar", "lang": "en", "kind": "common"}],
        memberships=[{"organization_id": org["id"], "role": "Spokesman"}],
    )
    src = await helpers.source(client)
    other = await helpers.source(client, title="Second")
    claim = await helpers.claim(
        client,
        akar["id"],
        src["id"],
        translations=[{"lang": "en", "text": "Some SDF elements"}, {"lang": "tr", "text": "Bazı"}],
        appearances=[{"source_id": src["id"], "note": "p. 2"}, {"source_id": other["id"]}],
        targets=[{"actor_id": org["id"], "role": "accused"}],
        topics=["safe-zone", "sdf"],
    )
    claim_path, actor_path = f"/v1/claims/{claim['id']}", f"/v1/actors/{akar['id']}"
    before = await helpers.snapshot(conn)
    sent_back = [
        (claim_path, {"translations": claim["translations"]}),
        (
            claim_path,
            {
                "appearances": [
                    {"source_id": src["id"], "note": "p. 2"},
                    {"source_id": other["id"], "note": None},
                ]
            },
        ),
        (claim_path, {"targets": [{"actor_id": org["id"], "role": "accused"}]}),
        (claim_path, {"topics": ["safe-zone", "sdf"]}),
        (actor_path, {"names": [{"value": "آكار", "lang": "ar"}, {"value": "Akar", "lang": "en"}]}),
        (actor_path, {"memberships": [{"organization_id": org["id"], "role": "Spokesman"}]}),
    ]
    for path, body in sent_back:
        tag = (await client.get(path)).headers["etag"]
        response = await client.patch(path, json=body, headers={"If-Match": tag})
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == tag, body
    assert await helpers.snapshot(conn) == before
    for path, body in (
        (claim_path, {"translations": claim["translations"][::-1]}),
        (
            claim_path,
            {"appearances": [{"source_id": src["id"], "note": "p. 3"}, {"source_id": other["id"]}]},
        ),
        (claim_path, {"targets": [{"actor_id": org["id"], "role": "criticized"}]}),
        (actor_path, {"names": [{"value": "آكار", "lang": "ar"}]}),
    ):
        version = (await client.get(path)).json()["version"]
        response = await client.patch(path, json=body)
        assert response.json()["version"] == version + 1, body
