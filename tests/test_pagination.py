"""Keyset cursors: a walk sees every row once, whatever is inserted meanwhile."""

from __future__ import annotations

from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.errors import Invalid
from service.pagination import decode_cursor, encode_cursor
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
