"""Keyset cursors: a walk sees every row once, whatever is inserted meanwhile."""

from __future__ import annotations

import base64
import json
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.errors import Invalid
from service.pagination import Int4, decode_cursor, encode_cursor
from tests import helpers
from tests.helpers import problem

pytestmark = pytest.mark.compat


@given(st.uuids(), st.text(min_size=1, max_size=20))
def test_cursor_roundtrip(value, kind):
    assert decode_cursor(encode_cursor(kind, value), kind, UUID) == (value,)


@given(st.text(max_size=60))
def test_any_string_is_a_cursor_or_a_422(text):
    try:
        decode_cursor(text, "claims", UUID)
    except Invalid as exc:
        assert exc.extensions["errors"][0].field == "cursor"


def test_a_cursor_of_another_list_is_refused():
    with pytest.raises(Invalid):
        decode_cursor(encode_cursor("actors", UUID(int=1)), "claims", UUID)


async def walk(client, path, limit, params=None, during=None):
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": limit, **(params or {})} | ({"cursor": cursor} if cursor else {})
        response = await client.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["data"]) <= limit
        seen += [row["id"] for row in body["data"]]
        pages += 1
        if during and pages == 1:
            await during()
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


async def test_walk_sees_every_row_once_with_inserts_meanwhile(client):
    akar = await helpers.actor(client)
    src = await helpers.source(client)
    made = [
        (await helpers.claim(client, akar["id"], src["id"], text=f"claim {i}"))["id"]
        for i in range(23)
    ]

    async def insert_more():
        for i in range(3):
            await helpers.claim(client, akar["id"], src["id"], text=f"late {i}")

    seen = await walk(client, "/v1/claims", 5, during=insert_more)
    assert len(seen) == len(set(seen))
    assert seen == sorted(made, reverse=True)  # newest first; later inserts sort before the walk
    assert len(await walk(client, "/v1/claims", 200)) == 26


async def test_walk_with_a_filter(client):
    akar = await helpers.actor(client)
    russia = await helpers.actor(client, name="Russia", kind="state")
    src = await helpers.source(client)
    mine = []
    for i in range(12):
        speaker = akar if i % 3 else russia
        claim = await helpers.claim(client, speaker["id"], src["id"], text=f"c{i}")
        if speaker is akar:
            mine.append(claim["id"])
    assert await walk(client, "/v1/claims", 3, {"speaker_id": akar["id"]}) == mine[::-1]


async def test_exact_page_has_no_next_cursor(client):
    for i in range(4):
        await helpers.actor(client, name=f"actor {i}")
    body = (await client.get("/v1/actors", params={"limit": 4})).json()
    assert len(body["data"]) == 4 and body["next_cursor"] is None
    assert (await client.get("/v1/actors")).json()["next_cursor"] is None


async def test_cursor_from_another_list_is_422(client):
    for i in range(3):
        await helpers.actor(client, name=f"actor {i}")
    cursor = (await client.get("/v1/actors", params={"limit": 1})).json()["next_cursor"]
    body = problem(await client.get("/v1/sources", params={"cursor": cursor}), 422)
    assert body["errors"][0]["field"] == "cursor"


def _cursor(*key):
    return encode_cursor(*key)


@pytest.mark.parametrize(
    ("key", "types"),
    [
        (("claims", 1), (UUID,)),  # UUID(1) raised AttributeError: a 500
        (("claims", {}), (UUID,)),
        (("claims", True), (UUID,)),
        (("claims", "not-a-uuid"), (UUID,)),
        (("actor-revisions", 2**31), (Int4,)),  # out of PostgreSQL's integer: a 500
        (("actor-revisions", 1e100), (Int4,)),
        (("actor-revisions", True), (Int4,)),
        (("actor-revisions", "7"), (Int4,)),
        (("changes", 785.5, 3), (int, int)),
        (("changes", 2**63, 3), (int, int)),
        (("search", "0.5", "claim", str(UUID(int=1))), (float, str, UUID)),
        (("search", 0.5, 7, str(UUID(int=1))), (float, str, UUID)),
    ],
)
def test_a_key_of_the_wrong_type_or_out_of_range_is_refused(key, types):
    with pytest.raises(Invalid):
        decode_cursor(_cursor(*key), key[0], *types)


def test_keys_of_the_right_type_and_range_are_taken():
    assert decode_cursor(_cursor("actor-revisions", 2**31 - 1), "actor-revisions", Int4) == (
        2**31 - 1,
    )
    assert decode_cursor(_cursor("changes", 2**63 - 1, 3), "changes", int, int) == (2**63 - 1, 3)
    uuid = UUID(int=1)
    assert decode_cursor(_cursor("search", 1, "claim", uuid), "search", float, str, UUID) == (
        1.0,
        "claim",
        uuid,
    )


@pytest.mark.parametrize(
    "path",
    [
        "/v1/claims",
        "/v1/actors",
        "/v1/sources",
        "/v1/disputes",
        "/v1/reviews",
        "/v1/webhooks",
        "/v1/api-keys",
        "/v1/changes",
        "/v1/search?q=akar",
        "/v1/actors?name=ak",
    ],
)
async def test_a_tampered_cursor_is_422_on_every_list(client, path):
    kind = path.split("?")[0].rsplit("/", 1)[1]
    for key in ([kind, 1], [kind, {}], [kind, True, 1, 2], ["x", 1]):
        raw = base64.urlsafe_b64encode(json.dumps(key).encode()).rstrip(b"=").decode()
        name = "after" if path == "/v1/changes" else "cursor"
        base, _, query = path.partition("?")
        extra = dict([query.split("=")]) if query else {}
        response = await client.get(base, params={**extra, name: raw})
        assert problem(response, 422)["errors"][0]["field"] == name, (path, key)


async def test_a_cursor_holding_a_nul_is_422_naming_the_cursor(client):
    """A search cursor (the one list whose key holds text) whose type held U+0000 went to
    PostgreSQL, which cannot take it, and came back a 422 that did not name the cursor (a
    new user's walkthrough)."""
    uuid = "01937a5e-0000-7000-8000-000000000001"
    raw = encode_cursor("search", 0.5, "claim\x00", uuid)
    response = await client.get("/v1/search", params={"q": "akar", "cursor": raw})
    assert problem(response, 422)["errors"][0]["field"] == "cursor"


async def test_a_search_cursor_of_no_type_of_hit_is_422(client):
    """A search cursor whose type was made up (`bogus`) was taken, and the page after it was
    whatever the comparison with it gave (a walkthrough's finding): only actor, claim and
    dispute are types of hit."""
    uuid = "01937a5e-0000-7000-8000-000000000001"
    for kind in ("bogus", "claims", ""):
        raw = encode_cursor("search", 0.5, kind, uuid)
        response = await client.get("/v1/search", params={"q": "akar", "cursor": raw})
        assert problem(response, 422)["errors"][0]["field"] == "cursor", kind
    ok = await client.get(
        "/v1/search", params={"q": "akar", "cursor": encode_cursor("search", 0.5, "claim", uuid)}
    )
    assert ok.status_code == 200, ok.text


async def test_a_revisions_cursor_past_postgresqls_integer_is_422(client):
    actor = await helpers.actor(client)
    for version in (2**31, 1e100, -(2**31) - 1):
        raw = encode_cursor("actor-revisions", version)
        response = await client.get(f"/v1/actors/{actor['id']}/revisions", params={"cursor": raw})
        assert problem(response, 422)["errors"][0]["field"] == "cursor", version
