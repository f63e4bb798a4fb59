"""What fuzzing the live service (tests/fuzz/run.py, schemathesis) found, kept found."""

from __future__ import annotations

import http.client
import json
import re
from urllib.parse import urlsplit

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from service import etag
from service.errors import Invalid
from tests.conftest import serving
from tests.helpers import COMMITTED, create, problem

SOME_ID = "01937a5e-0000-7000-8000-000000000001"


def documented_allow(methods: set[str]) -> str:
    methods = {m.upper() for m in methods} | {"OPTIONS"}
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


async def test_options_lists_every_method_the_document_gives_the_path(client):
    # Litestar answered OPTIONS with the methods of one handler of the path:
    # `Allow: OPTIONS, POST` on /v1/actors, `Allow: DELETE, OPTIONS` on /v1/actors/{id}.
    document = json.loads(COMMITTED.read_text())
    for path, item in document["paths"].items():
        url = path.replace("{slug}", "not-found")
        for name in ("actor_id", "source_id", "claim_id", "dispute_id", "review_id"):
            url = url.replace("{" + name + "}", SOME_ID)
        response = await client.options(url)
        assert response.status_code == 204, (path, response.text)
        assert response.headers["allow"] == documented_allow(set(item) - {"parameters"}), path
        assert response.content == b""


async def test_a_405_allows_head_where_get_is(client):
    body = problem(await client.put("/v1/actors"), 405)
    assert body["instance"] == "/v1/actors"
    # the detail says what the path takes (it repeated the title: a walkthrough's finding)
    assert body["detail"] == "/v1/actors takes GET, HEAD, OPTIONS and POST only."
    search = problem(await client.delete("/v1/search"), 405)
    assert search["detail"] == "/v1/search takes GET, HEAD and OPTIONS only."
    assert (await client.put("/v1/actors")).headers["allow"] == "GET, HEAD, OPTIONS, POST"
    positions = f"/v1/disputes/{SOME_ID}/positions"
    assert (await client.get(positions)).headers["allow"] == "OPTIONS, POST"


async def test_head_is_get_without_content(client):
    actor = await create(client, "actors", {"kind": "person", "name": "Hulusi Akar"})
    for url in ("/health", "/v1/actors", f"/v1/actors/{actor['id']}", "/schema/openapi.json"):
        get, head = await client.get(url), await client.head(url)
        assert head.status_code == get.status_code == 200, url
        assert head.content == b"", url
        for name in ("content-type", "content-length", "etag"):
            assert head.headers.get(name) == get.headers.get(name), (url, name)

    url = f"/v1/actors/{actor['id']}"
    etag = (await client.get(url)).headers["etag"]
    unchanged = await client.head(url, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.headers["etag"] == etag


async def test_head_errors_are_problems_without_content(client):
    missing = await client.head(f"/v1/actors/{SOME_ID}")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.content == b""
    # a path without GET has no HEAD either
    refused = await client.head(f"/v1/disputes/{SOME_ID}/positions")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "OPTIONS, POST"
    assert refused.content == b""


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_head_keeps_the_connection_for_the_next_request(database_url, server):
    """Found by a new user, not the fuzzer: a HEAD was routed as a GET by rewriting the
    server's own scope, and uvicorn, told GET, waited for the content its Content-Length
    announced, logged an error and dropped the connection; the client's next request on it
    failed. Both servers, one keep-alive connection."""
    with serving(database_url, {"CLAIMDESK_SERVER": server}) as url:
        where = urlsplit(url)
        conn = http.client.HTTPConnection(where.hostname or "", where.port, timeout=10)
        try:
            for path in ("/health", f"/v1/actors/{SOME_ID}", "/health"):
                conn.request("HEAD", path)
                head = conn.getresponse()
                assert head.read() == b""
                conn.request("GET", path)
                got = conn.getresponse()
                body = got.read()
                assert head.status == got.status, path
                assert head.getheader("content-length") == str(len(body)), path
        finally:
            conn.close()


@pytest.mark.parametrize("value", ["0.5", "1700000000", "-1", "1e9"])
async def test_a_date_time_filter_is_an_rfc_3339_string_not_a_number(client, value):
    # Litestar converts query values leniently: `updated_to=0.5` was 1970-01-01T00:00:00.5Z.
    body = problem(await client.get("/v1/disputes", params={"updated_to": value}), 422)
    assert [(e["field"], e["location"]) for e in body["errors"]] == [("updated_to", "query")]
    assert "RFC 3339" in body["detail"]


async def test_rfc_3339_date_time_filters_still_work(client):
    for value in ("2019-11-24T10:00:00Z", "2019-11-24T13:00:00+03:00", "2019-11-24T10:00:00.5Z"):
        response = await client.get("/v1/disputes", params={"updated_from": value})
        assert response.status_code == 200, (value, response.text)
    naive = await client.get("/v1/disputes", params={"updated_from": "2019-11-24T10:00"})
    assert problem(naive, 422)["errors"][0]["field"] == "updated_from"


async def test_any_rfc_3339_offset_is_taken_and_the_ends_of_time_refused(client, conn):
    """RFC 3339 offsets reach ±23:59, PostgreSQL's ±15:59: the service compares instants in
    UTC (found by schemathesis: `updated_to=0123-12-27T02:54:11-23:56` was a 500)."""
    dispute = await client.get("/v1/disputes", params={"updated_to": "0123-12-27T02:54:11-23:56"})
    assert dispute.status_code == 200, dispute.text
    for value in ("0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01"):
        refused = problem(await client.get("/v1/disputes", params={"updated_from": value}), 422)
        assert refused["errors"][0]["field"] == "updated_from"
        body = {"name": "x", "scopes": ["read"], "expires_at": value}
        refused = problem(await client.post("/v1/api-keys", json=body), 422)
        assert refused["errors"][0]["field"] == "expires_at"
    far = {"name": "far", "scopes": ["read"], "expires_at": "9999-12-31T20:00:00-03:00"}
    created = await client.post("/v1/api-keys", json=far)
    assert created.status_code == 201, created.text
    assert created.json()["expires_at"] == "9999-12-31T23:00:00Z"


def conditional_header_patterns() -> dict[str, set[str]]:
    """Header name -> the patterns the document gives it, over every operation."""
    found: dict[str, set[str]] = {"If-Match": set(), "If-None-Match": set()}
    for item in json.loads(COMMITTED.read_text())["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "header" and parameter["name"] in found:
                    found[parameter["name"]].add(parameter["schema"].get("pattern"))
    return found


ETAG_CHARS = st.sampled_from(
    ['"', "W", "/", ",", " ", "\t", "*", "a", "3", "-", "\x7f", "é", "\x01"]
)


@settings(max_examples=400, deadline=None)
@given(value=st.text(ETAG_CHARS, max_size=12))
@example(value="")
@example(value='W/"a", , "3-a" ,')
@example(value='"a" "b"')
@example(value=" * ")
def test_the_document_states_the_conditional_headers_the_service_accepts(value):
    # The document said `type: string`; the service answers 422 to anything but `*` or a
    # list of entity tags (an empty If-Match included). The pattern says which.
    patterns = conditional_header_patterns()
    for header, found in patterns.items():
        assert len(found) == 1 and None not in found, (header, found)
        pattern = found.pop()
        try:
            etag.parse(header, [value])  # type: ignore[arg-type]
            accepted = True
        except Invalid:
            accepted = False
        assert (re.search(pattern, value) is not None) == accepted, (header, value)


# asyncpg sends date(1, 1, 1) and date(9999, 12, 31) as -infinity and infinity: a membership
# starting on 0001-01-01 was stored as -infinity and reading it back was a 500.
FIRST_DAY, LAST_DAY = "0001-01-01", "9999-12-31"


async def test_the_first_and_last_dates_are_dates(client, conn):
    org = await create(client, "actors", {"kind": "organization", "name": "Org"})
    membership = {"organization_id": org["id"], "start_date": FIRST_DAY, "end_date": LAST_DAY}
    actor = await create(
        client, "actors", {"kind": "person", "name": "P", "memberships": [membership]}
    )
    assert actor["memberships"][0]["start_date"] == FIRST_DAY
    assert actor["memberships"][0]["end_date"] == LAST_DAY
    got = await client.get(f"/v1/actors/{actor['id']}")
    assert got.status_code == 200, got.text
    assert got.json()["memberships"][0]["end_date"] == LAST_DAY

    source = await create(
        client, "sources", {"kind": "article", "title": "T", "published_at": LAST_DAY}
    )
    assert source["published_at"] == LAST_DAY
    body = {
        "speaker_id": actor["id"],
        "text": "x",
        "lang": "en",
        "appearances": [{"source_id": source["id"]}],
    }
    # a claim of the last day is in the future, a 422 since 2026-11-28; one stored before
    # that reads back and filters as the first day's does
    future = await client.post("/v1/claims", json={**body, "stated_on": LAST_DAY})
    assert future.status_code == 422, future.text
    for when in (FIRST_DAY, LAST_DAY):
        claim = await create(client, "claims", {**body, "stated_on": FIRST_DAY})
        if when == LAST_DAY:
            await conn.execute(
                "UPDATE claims SET stated_on = $2::text::date WHERE id = $1", claim["id"], LAST_DAY
            )
            claim = (await client.get(f"/v1/claims/{claim['id']}")).json()
        assert claim["stated_on"] == when
        found = await client.get("/v1/claims", params={"stated_from": when, "stated_to": when})
        assert [c["id"] for c in found.json()["data"]] == [claim["id"]], when
    review = await create(
        client,
        "reviews",
        {
            "claim_id": claim["id"],
            "reviewer_id": org["id"],
            "rating": {"label": "False", "value": 1, "best": 5, "worst": 1},
            "published_at": FIRST_DAY,
        },
    )
    assert review["published_at"] == FIRST_DAY
    patched = await client.patch(f"/v1/reviews/{review['id']}", json={"published_at": LAST_DAY})
    assert patched.status_code == 200, patched.text
    assert patched.json()["published_at"] == LAST_DAY


@pytest.mark.parametrize(
    "published_at", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", FIRST_DAY]
)
async def test_the_first_and_last_instants_are_instants(client, published_at):
    source = await create(
        client, "sources", {"kind": "article", "title": "T", "published_at": published_at}
    )
    got = await client.get(f"/v1/sources/{source['id']}")
    assert got.status_code == 200, got.text
    assert got.json()["published_at"] == source["published_at"]
    assert source["published_at"].startswith(published_at[:10])
