"""Every class of bad input gets a problem+json answer naming the field, and changes nothing."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from service import input_guard, openapi
from service.app import create_app
from service.errors import PROBLEM_DESCRIPTIONS, PROBLEMS, _readable
from service.settings import Settings
from service.text.lang import LANG_PATTERN, canonical_lang
from tests import helpers
from tests.helpers import COMMITTED, fields, problem, snapshot

MISSING = "01937a5e-0000-7000-8000-000000000000"


@pytest.fixture
async def world(client):
    akar = await helpers.actor(client)
    src = await helpers.source(client, url="https://www.awtanpost.com/2019/11/24/ain-issa/")
    claim = await helpers.claim(client, akar["id"], src["id"])
    return {"actor": akar, "source": src, "claim": claim}


async def test_malformed_json_is_400(client, conn, world):
    before = await snapshot(conn)
    response = await client.post(
        "/v1/actors",
        content=b'{"kind": "person", "name": ',
        headers={"content-type": "application/json"},
    )
    body = problem(response, 400)
    assert "not valid JSON" in body["detail"]
    assert await snapshot(conn) == before


async def test_a_body_starting_with_a_byte_order_mark_is_400_saying_so(client, conn, world):
    """It was "invalid character (byte 0)" (a new user's walkthrough): RFC 8259 has senders
    leave the mark out, so the problem says that is what is wrong."""
    before = await snapshot(conn)
    response = await client.post(
        "/v1/actors",
        content="\ufeff".encode() + b'{"kind": "person", "name": "Akar"}',
        headers={"content-type": "application/json"},
    )
    assert "byte order mark" in problem(response, 400)["detail"]
    assert await snapshot(conn) == before


async def test_half_a_surrogate_pair_is_400_saying_so(client, conn, world):
    """msgspec calls a lone ``\\ud800`` escape truncated input; the problem names it (a lone
    low half msgspec names itself). An escaped backslash before ``ud800`` is text, and a
    whole pair is a character."""
    before = await snapshot(conn)
    for name, detail in (
        (
            r"\ud800",
            r"\ud800 (byte 28) is half of a UTF-16 surrogate pair, without its other half.",
        ),
        (
            r"x\\\ud800y",
            r"\ud800 (byte 31) is half of a UTF-16 surrogate pair, without its other half.",
        ),
        (r"x\udc00y", "invalid utf-16 surrogate pair (byte 35)"),
    ):
        response = await client.post(
            "/v1/actors",
            content=b'{"kind": "person", "name": "' + name.encode() + b'"}',
            headers={"content-type": "application/json"},
        )
        body = problem(response, 400)
        assert body["detail"] == "The request body is not valid JSON: " + detail, name
    assert await snapshot(conn) == before
    for name, stored in ((r"\\ud800", "\\ud800"), (r"\ud83d\ude00", "\U0001f600")):
        created = await client.post(
            "/v1/actors",
            content=b'{"kind": "person", "name": "' + name.encode() + b'"}',
            headers={"content-type": "application/json"},
        )
        assert created.status_code == 201, created.text
        assert created.json()["name"] == stored


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "person", "name": 42}, "name"),  # wrong type
        ({"kind": "wizard", "name": "x"}, "kind"),  # unknown enum value
        ({"kind": "person"}, "name"),  # missing
        ({"kind": "person", "name": "x", "id": MISSING}, "id"),  # unknown field: cannot set id
        ({"kind": "person", "name": "x", "version": 7}, "version"),
        ({"kind": "person", "name": "x" * 301}, "name"),  # over-long
        ({"kind": "person", "name": ""}, "name"),
        ({"kind": "person", "name": "x", "country": "Turkey"}, "country"),
        ({"kind": "person", "name": "x", "wikidata_id": "43"}, "wikidata_id"),
        (
            {"kind": "person", "name": "x", "names": [{"value": "x", "lang": "not a tag"}]},
            "names[0].lang",
        ),
        (
            {
                "kind": "person",
                "name": "x",
                "names": [{"value": "x", "lang": "ar", "kind": "nick"}],
            },
            "names[0].kind",
        ),
        (
            {"kind": "person", "name": "x", "memberships": [{"organization_id": "not-a-uuid"}]},
            "memberships[0].organization_id",
        ),
        (
            {
                "kind": "person",
                "name": "x",
                "memberships": [{"organization_id": MISSING, "start_date": "2019-02-30"}],
            },
            "memberships[0].start_date",
        ),  # bad date
        ({"kind": "person", "name": "x", "names": [{"value": "x", "lang": "ar"}] * 51}, "names"),
    ],
)
async def test_invalid_actor_bodies_are_422(client, conn, world, body, field):
    before = await snapshot(conn)
    problem_body = problem(await client.post("/v1/actors", json=body), 422)
    assert field in fields(problem_body), problem_body
    assert await snapshot(conn) == before


async def test_body_that_is_not_an_object_is_422(client, conn, world):
    before = await snapshot(conn)
    problem(await client.post("/v1/actors", json=["kind", "person"]), 422)
    assert await snapshot(conn) == before


async def test_null_for_a_required_field_in_patch_is_422(client, conn, world):
    before = await snapshot(conn)
    body = problem(
        await client.patch(f"/v1/actors/{world['actor']['id']}", json={"name": None}), 422
    )
    assert fields(body) == {"name"}
    assert await snapshot(conn) == before


async def test_bad_uuid_in_path_is_404(client, world):
    for path in ("/v1/actors/not-a-uuid", "/v1/sources/123", "/v1/claims/x/revisions"):
        problem(await client.get(path), 404)
    problem(await client.delete("/v1/claims/not-a-uuid"), 404)


async def test_a_parameter_of_the_wrong_type_is_told_in_words(client):
    """`limit=1.5` was told "Expected `int`, got `str`" (a new user's walkthrough): every
    parameter arrives as text, so what it should be is what helps. `5.0` and `1e1` were
    taken (as 5 and 10) where `05` was told it is no whole number (a walkthrough): digits
    alone are a whole number, and a leading zero is told as such."""
    digits = "Expected a whole number, in digits (such as 20)"
    leading = "Expected a whole number without a leading zero (such as 5)"
    for path, field, message in (
        ("/v1/claims?limit=1.5", "limit", digits),
        ("/v1/search?q=x&limit=ten", "limit", digits),
        ("/v1/claims?limit=5.0", "limit", digits),
        ("/v1/actors?limit=1e1", "limit", digits),
        ("/v1/claims?limit=%2B5", "limit", digits),
        ("/v1/claims?limit=05", "limit", leading),
        ("/oembed?url=x&maxwidth=3e2", "maxwidth", digits),
    ):
        body = problem(await client.get(path), 422)
        assert body["errors"] == [{"field": field, "message": message, "location": "query"}], (
            path,
            body,
        )
    for i in range(6):
        await helpers.actor(client, f"Actor {i}")
    assert len((await client.get("/v1/actors?limit=5")).json()["data"]) == 5  # digits: taken


async def test_a_value_not_in_a_list_names_the_values_it_takes(client, conn, world):
    """`status=bogus` was told only "Invalid enum value 'bogus'" (a walkthrough), where
    `type=bogus` lists what it takes: every field of listed values, in a parameter, a body
    or nested in one, now names them."""
    listed = {
        ("GET", "/v1/search?q=x&status=bogus"): (
            "status",
            "Expected dismissed, open or resolved, not 'bogus'",
            "query",
        ),
        ("GET", "/v1/claims?kind=bogus"): (
            "kind",
            "Expected accusation, assertion, demand, denial, doubt, other, prediction or "
            "promise, not 'bogus'",
            "query",
        ),
    }
    for (method, path), (field, message, location) in listed.items():
        body = problem(await client.request(method, path), 422)
        assert body["errors"] == [{"field": field, "message": message, "location": location}], body
    before = await snapshot(conn)
    body = problem(await client.post("/v1/actors", json={"kind": "wizard", "name": "x"}), 422)
    assert body["errors"][0]["message"] == (
        "Expected armed_group, group, media, organization, person or state, not 'wizard'"
    )
    role = {"actor_id": world["actor"]["id"], "role": "boss"}
    body = problem(
        await client.patch(f"/v1/claims/{world['claim']['id']}", json={"targets": [role]}), 422
    )
    assert body["errors"] == [
        {
            "field": "targets[0].role",
            "message": "Expected accused, addressed, criticized, mentioned or supported, "
            "not 'boss'",
            "location": "body",
        }
    ], body
    assert await snapshot(conn) == before


async def test_a_length_is_told_in_what_it_counts(client, world):
    """msgspec says "Expected `str` of length <= 300": the JSON type's name, where a user
    counts characters or items (and an empty `q` was told "Expected `str` of length >= 1",
    a walkthrough's finding)."""
    too_long = {"kind": "person", "name": "x" * 301}
    too_many = {"kind": "person", "name": "x", "names": [{"value": "x", "lang": "ar"}] * 51}
    for body, field, message in (
        (too_long, "name", "Expected at most 300 characters"),
        (too_many, "names", "Expected at most 50 items"),
    ):
        problem_body = problem(await client.post("/v1/actors", json=body), 422)
        assert problem_body["errors"] == [
            {"field": field, "message": message, "location": "body"}
        ], problem_body
    problem_body = problem(await client.get("/v1/search", params={"q": ""}), 422)
    assert problem_body["errors"] == [
        {"field": "q", "message": "Expected at least 1 character", "location": "query"}
    ], problem_body


async def test_bad_uuid_in_query_is_422(client):
    body = problem(await client.get("/v1/claims", params={"speaker_id": "akar"}), 422)
    assert body["errors"][0] == {
        "field": "speaker_id",
        "message": body["errors"][0]["message"],
        "location": "query",
    }


async def test_bad_query_values_are_422(client):
    for params, field in [
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"stated_from": "2019-13-01"}, "stated_from"),
        ({"stated_from": "2019-11-24", "stated_to": "2019-11-01"}, "stated_to"),
        ({"cursor": "garbage"}, "cursor"),
        ({"lang": "not a tag"}, "lang"),
        ({"lang": "arabic-language-long"}, "lang"),  # subtags out of RFC 5646's order
    ]:
        body = problem(await client.get("/v1/claims", params=params), 422)
        assert field in fields(body), (params, body)


@pytest.mark.parametrize(
    "path, start, end, values",
    [
        ("/v1/claims", "stated_from", "stated_to", ("2019-11-24", "2019-11-01")),
        ("/v1/search", "stated_from", "stated_to", ("2019-11-24", "2019-11-01")),
        ("/v1/sources", "published_from", "published_to", ("2019-11-24", "2019-11-23")),
        (
            "/v1/disputes",
            "updated_from",
            "updated_to",
            ("2019-11-24T10:00:00+03:00", "2019-11-24T06:59:59Z"),
        ),
    ],
)
async def test_a_range_that_ends_before_it_starts_is_422(client, path, start, end, values):
    """Every list's range filter: an end before the start names the end (the sources' and
    the disputes' were an empty page, as if nothing matched); the same moment is a range."""
    q = {"q": "zone"} if path == "/v1/search" else {}
    body = problem(await client.get(path, params=q | {start: values[0], end: values[1]}), 422)
    assert body["errors"] == [{"field": end, "message": f"Before {start}.", "location": "query"}]
    same = await client.get(path, params=q | {start: values[0], end: values[0]})
    assert same.status_code == 200, same.text


async def test_a_date_time_s_plus_sent_as_it_is_gets_a_hint(client):
    """A + in a query string is a space: `updated_from=...T10:00:00+03:00` sent unencoded
    arrives as `...T10:00:00 03:00` and was told only "Expected an RFC 3339 date-time such as
    2019-11-24T10:00:00Z" (a walkthrough's finding); the message now shows an offset and how
    to send its +."""
    body = problem(await client.get("/v1/disputes?updated_from=2019-11-24T10:00:00+03:00"), 422)
    (error,) = body["errors"]
    assert error["field"] == "updated_from", body
    assert "+03:00" in error["message"] and "%2B" in error["message"], body
    sent = await client.get("/v1/disputes?updated_from=2019-11-24T10:00:00%2B03:00")
    assert sent.status_code == 200, sent.text


@pytest.mark.parametrize("idempotent", [False, True], ids=["plain", "idempotency-key"])
async def test_dangling_references_are_422_naming_the_field(client, conn, world, idempotent):
    """A claim's foreign keys catch a dangling id and the 422 then names each field; with an
    Idempotency-Key the ids are checked first, inside the request's transaction."""
    before = await snapshot(conn)
    body = problem(
        await client.post(
            "/v1/claims",
            headers={"Idempotency-Key": "dangling-1"} if idempotent else {},
            json={
                "speaker_id": world["actor"]["id"],
                "text": "x",
                "lang": "ar",
                "appearances": [{"source_id": world["source"]["id"]}, {"source_id": MISSING}],
                "targets": [
                    {"actor_id": world["actor"]["id"], "role": "mentioned"},
                    {"actor_id": MISSING, "role": "accused"},
                ],
                "relayed_by_id": MISSING,
            },
        ),
        422,
    )
    assert fields(body) == {"appearances[1].source_id", "targets[1].actor_id", "relayed_by_id"}
    body = problem(
        await client.post(
            "/v1/sources", json={"kind": "article", "title": "x", "publisher_id": MISSING}
        ),
        422,
    )
    assert fields(body) == {"publisher_id"}
    assert await snapshot(conn) == before


async def test_body_over_the_size_cap_is_413(client, conn, world):
    before = await snapshot(conn)
    huge = {"kind": "person", "name": "x", "description": "ض" * 600_000}
    body = problem(await client.post("/v1/actors", json=huge), 413)
    assert body["detail"].endswith("at most 1,048,576 bytes."), body  # the limit, to fit it
    assert await snapshot(conn) == before


async def test_an_invalid_host_header_is_said_to_be_one(client):
    """Any route, a GET's too, answered an invalid Host with "The request body is not valid
    JSON" (a CMS developer's walkthrough)."""
    for path in ("/health", "/v1/changes"):
        body = problem(await client.get(path, headers={"Host": "a b"}), 400)
        assert body["detail"] == "The Host header is not valid.", body


async def test_unknown_path_and_method(client):
    problem(await client.get("/v1/nothing"), 404)
    problem(await client.put("/v1/actors"), 405)
    # under /schema too, where Litestar would answer with an HTML page
    for path in ("/schema/nothing", "/schema/nothing.json"):
        assert problem(await client.get(path), 404)["detail"] == f"Nothing at {path}."


NUL = "\x00"


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/v1/actors", {"kind": "person", "name": f"Akar{NUL}"}, "name"),
        (
            "/v1/actors",
            {"kind": "person", "name": "x", "names": [{"value": f"آ{NUL}كار", "lang": "ar"}]},
            "names[0].value",
        ),
        ("/v1/actors", {"kind": "person", "name": "x", f"na{NUL}me": "y"}, "na\\u0000me"),
    ],
)
async def test_nul_characters_in_a_body_are_422(client, conn, world, path, body, field):
    """PostgreSQL text cannot hold U+0000: refused naming the field, before any write."""
    before = await snapshot(conn)
    body = problem(await client.post(path, json=body), 422)
    assert fields(body) == {field}
    assert "NUL" in body["detail"]
    assert await snapshot(conn) == before


async def test_nul_characters_in_a_patch_and_in_query_parameters_are_422(client, conn, world):
    before = await snapshot(conn)
    claim = world["claim"]
    body = problem(
        await client.patch(
            f"/v1/claims/{claim['id']}", json={"translations": [{"lang": "en", "text": NUL}]}
        ),
        422,
    )
    assert fields(body) == {"translations[0].text"}
    for path in ("/v1/search", "/v1/claims", "/v1/actors"):
        body = problem(await client.get(path, params={"q": f"قسد{NUL}"}), 422)
        assert body["errors"] == [
            {
                "field": "q",
                "message": "Text may not contain the NUL character (U+0000).",
                "location": "query",
            }
        ]
    problem(await client.get("/v1/actors", params={"name": NUL}), 422)
    assert await snapshot(conn) == before


async def test_a_body_nested_a_hundred_thousand_deep_is_refused_cleanly(client, conn, world):
    """Decoded against the resource's type, the nesting is refused where it first goes wrong
    (it was a RecursionError, a 500, before)."""
    before = await snapshot(conn)
    for nested, field in (
        ("[" * 100_000 + "]" * 100_000, "body"),
        ('{"a":' * 100_000 + "1" + "}" * 100_000, "a"),
        ('{"kind":"person","name":"x","names":' + "[" * 100_000 + "]" * 100_000 + "}", "names[0]"),
    ):
        response = await client.post(
            "/v1/actors", content=nested, headers={"content-type": "application/json"}
        )
        assert fields(problem(response, 422)) == {field}
    assert await snapshot(conn) == before


async def test_problem_types_resolve(client, world):
    body = problem(await client.get("/v1/actors/not-a-uuid"), 404)
    described = await client.get(body["type"])
    assert described.status_code == 200
    assert described.json() == {
        "type": body["type"],
        "title": "Not found",
        "status": 404,
        "description": PROBLEM_DESCRIPTIONS["not-found"],
    }
    problem(await client.get("/problems/no-such-problem"), 404)


async def test_every_problem_type_is_documented_for_clients_and_people(client):
    """A type URI led to three fields (a new user's walkthrough: nothing said what to do).
    Each now says what it means and what to do, as JSON and, for a browser, as a page (RFC
    9457: a type URI should lead to documentation for people)."""
    assert set(PROBLEM_DESCRIPTIONS) == set(PROBLEMS)
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    for slug, (status, title) in PROBLEMS.items():
        as_json = await client.get(f"/problems/{slug}", headers={"accept": "*/*"})
        assert as_json.headers["content-type"] == "application/json"
        assert as_json.json()["description"] == PROBLEM_DESCRIPTIONS[slug]
        page = await client.get(f"/problems/{slug}", headers={"accept": browser})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert f"<h1>{html.escape(title)}</h1>" in page.text and f"HTTP {status}" in page.text
    # `q=0` is "not this" (litestar's own matching took it as a yes: a walkthrough)
    for accept in (
        "text/html;q=0",
        "text/html;q=0.5, application/json",
        "*/*",
        "text/*;q=0",
        "text/html;q=inf, application/json;q=0.9",  # no qvalue: read as 0
    ):
        as_json = await client.get("/problems/not-found", headers={"accept": accept})
        assert as_json.headers["content-type"] == "application/json", accept
        assert as_json.headers["vary"] == "Accept"
    for accept in ("text/html", "text/*, application/json;q=0.9", "TEXT/HTML;Q=1"):
        page = await client.get("/problems/not-found", headers={"accept": accept})
        assert page.headers["content-type"].startswith("text/html"), accept
    page = (await client.get("/problems/precondition-failed", headers={"accept": browser})).text
    assert "<code>If-Match</code>" in page and "`" not in page.split("<body>")[1]


@pytest.mark.parametrize(
    "path, wrong, field",
    [
        # "null" is not null: the claim would silently lose who relayed it
        ("/v1/claims", {"relayed_by_id": "null"}, "relayed_by_id"),
        ("/v1/claims", {"verbatim": "true"}, "verbatim"),
        ("/v1/claims", {"stated_on_precision": 1}, "stated_on_precision"),
    ],
)
async def test_values_of_the_wrong_json_type_are_422_not_converted(
    client, conn, world, path, wrong, field
):
    claim = {
        "speaker_id": world["actor"]["id"],
        "text": "روسيا كانت قد أكدت شفوياً وكتابياً سابقاً",
        "lang": "ar",
        "appearances": [{"source_id": world["source"]["id"]}],
    }
    before = await snapshot(conn)
    created = problem(await client.post(path, json=claim | wrong), 422)
    assert fields(created) == {field}
    patched = problem(await client.patch(f"{path}/{world['claim']['id']}", json=wrong), 422)
    assert fields(patched) == {field}
    assert await snapshot(conn) == before


@pytest.mark.parametrize("blank", [" ", "\t\n", "\u00a0"])
async def test_blank_text_is_422(client, conn, world, blank):
    """Required text must hold more than white space: a name of spaces names no one."""
    before = await snapshot(conn)
    body = problem(await client.post("/v1/actors", json={"kind": "person", "name": blank}), 422)
    assert fields(body) == {"name"}
    body = problem(
        await client.patch(f"/v1/claims/{world['claim']['id']}", json={"text": blank}), 422
    )
    assert fields(body) == {"text"}
    assert await snapshot(conn) == before


def _patterns_checked(t: Any, path: str, seen: set[type]) -> list[str]:
    """Paths under the msgspec type ``t`` at which a string is checked against a pattern."""
    import msgspec.inspect as mi

    if isinstance(t, mi.Metadata):  # a description or examples around the type
        return _patterns_checked(t.type, path, seen)
    found = [path] if isinstance(t, mi.StrType) and t.pattern else []
    if isinstance(t, mi.UnionType):
        for member in t.types:
            found += _patterns_checked(member, path, seen)
    for attr in ("item_type", "key_type", "value_type"):
        if hasattr(t, attr):
            found += _patterns_checked(getattr(t, attr), path + "[]", seen)
    for item in getattr(t, "item_types", ()):
        found += _patterns_checked(item, path + "[]", seen)
    if isinstance(t, mi.StructType) and t.cls not in seen:
        seen.add(t.cls)
        for field in t.fields:
            found += _patterns_checked(field.type, f"{path}.{field.name}", seen)
    return found


def test_no_read_struct_checks_a_pattern():
    """What is read back from storage is decoded without the input rules' patterns: a rule
    tightened later (a language tag, a name's visible character) must not make what an older
    rule let in unreadable (a 500 on every read and write of it; a review's rating label was
    such a case). Every struct that is not a request body's (``Input``) is walked."""
    import importlib
    import pkgutil

    import msgspec
    import msgspec.inspect

    import service
    from service.schemas import Input

    checked: list[str] = []
    for module_info in pkgutil.walk_packages(service.__path__, "service."):
        module = importlib.import_module(module_info.name)
        for name, obj in vars(module).items():
            if (
                isinstance(obj, type)
                and issubclass(obj, msgspec.Struct)
                and not issubclass(obj, Input)
                and obj.__module__ == module.__name__
                and obj is not Settings  # settings are read from the environment, not stored
            ):
                info = msgspec.inspect.type_info(obj)
                checked += _patterns_checked(info, f"{module.__name__}.{name}", set())
    assert checked == []


@pytest.mark.parametrize("invisible", ["\u200b", "\u200f\u200e", "\u00ad", " \ufeff ", "\u2060"])
async def test_text_of_only_invisible_characters_is_422(client, conn, world, invisible):
    """Text of only zero-width or other invisible characters shows as nothing: it was
    accepted as a name (``\\S`` matches them); now a 422 that says so in words."""
    before = await snapshot(conn)
    body = problem(await client.post("/v1/actors", json={"kind": "person", "name": invisible}), 422)
    assert fields(body) == {"name"}
    assert "visible character" in body["errors"][0]["message"]
    assert "\\u200B" not in json.dumps(body)  # the pattern is not quoted
    body = problem(
        await client.patch(f"/v1/claims/{world['claim']['id']}", json={"text": invisible}), 422
    )
    assert fields(body) == {"text"}
    assert await snapshot(conn) == before


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/actors", {"kind": "person", "name": "Hulusi\nAkar"}, "name"),
        (
            "/v1/actors",
            {"kind": "person", "name": "A", "names": [{"value": "x\u2028y", "lang": "en"}]},
            "names[0].value",
        ),
        ("/v1/api-keys", {"name": "cms\x1b[31m", "scopes": ["read"]}, "name"),
        ("/v1/api-keys", {"name": "cms\x85", "scopes": ["read"]}, "name"),
        ("/v1/sources", {"kind": "article", "title": "a\tb"}, "title"),
    ],
)
async def test_a_name_is_one_line_without_control_characters(client, conn, path, body, field):
    """Names, titles, roles, labels and questions are one line: a control character (a
    terminal escape in an API key's name broke `claimdesk keys list`'s table) or a line break
    is a 422. Claim text and notes keep their line breaks."""
    before = await snapshot(conn)
    response = problem(await client.post(path, json=body), 422)
    assert fields(response) == {field}
    assert "one line of text" in response["errors"][0]["message"]
    assert await snapshot(conn) == before


async def test_line_breaks_and_joiners_stay_where_text_takes_them(client, world):
    # a zero-width non-joiner inside a Persian word, a bidi mark beside visible text
    actor = await helpers.create(
        client, "actors", {"kind": "person", "name": "\u200fمی\u200cخواهم"}
    )
    assert actor["name"] == "\u200fمی\u200cخواهم"
    patched = await client.patch(
        f"/v1/claims/{world['claim']['id']}", json={"text": "سطر أول\nسطر ثانٍ"}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["text"] == "سطر أول\nسطر ثانٍ"


# Found trying the service as a new user: each was a 500, a silent misreading, or a riddle.


@pytest.mark.parametrize(
    "path, method", [("/v1/actors", "POST"), ("/v1/api-keys", "POST"), ("actor", "PATCH")]
)
async def test_a_body_that_is_not_utf8_is_400_not_500(client, conn, world, path, method):
    before = await snapshot(conn)
    target = f"/v1/actors/{world['actor']['id']}" if path == "actor" else path
    response = await client.request(
        method,
        target,
        content=b'{"name":"Caf\xe9","scopes":["read"]}'
        if path == "/v1/api-keys"
        else b'{"kind":"state","name":"Caf\xe9"}',
        headers={"content-type": "application/json"}
        | ({"Idempotency-Key": "latin-1"} if path == "/v1/actors" else {}),
    )
    assert "UTF-8" in problem(response, 400)["detail"]
    assert await snapshot(conn) == before


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_an_empty_body_is_400_saying_so(client, conn, world, method):
    path = "/v1/actors" if method == "POST" else f"/v1/actors/{world['actor']['id']}"
    before = await snapshot(conn)
    for content in (b"", b"  \n"):
        response = await client.request(
            method, path, content=content, headers={"content-type": "application/json"}
        )
        assert "needs a JSON body" in problem(response, 400)["detail"]
    assert await snapshot(conn) == before


async def test_a_body_of_another_media_type_is_415(client, conn, world):
    before = await snapshot(conn)
    body = b'{"kind":"state","name":"Russia"}'
    form = await client.post(
        "/v1/actors", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert "Content-Type: application/json" in problem(form, 415)["detail"]
    assert "curl -d" in form.json()["detail"]
    plain = await client.post("/v1/actors", content=body, headers={"content-type": "text/plain"})
    assert problem(plain, 415)["type"] == "/problems/unsupported-media-type"
    assert await snapshot(conn) == before
    # JSON is UTF-8: a body said to be in another charset was read as UTF-8 all the same
    # (a Latin-1 é refused as bad UTF-8, or a declared charset silently ignored)
    for media_type, named in (
        ("application/json; charset=iso-8859-1", "iso-8859-1"),
        ('application/json;CHARSET="windows-1256"', "windows-1256"),
        ("application/json; charset=", "an empty charset"),
    ):
        other = await client.post("/v1/actors", content=body, headers={"content-type": media_type})
        detail = problem(other, 415)["detail"]
        assert f"not {named}:" in detail and "UTF-8" in detail, detail
    assert await snapshot(conn) == before
    for media_type in (
        "application/json; charset=utf-8",
        'application/json; charset="UTF-8"',
        "application/json; charset=us-ascii",
        "application/merge-patch+json",
    ):
        ok = await client.patch(
            f"/v1/actors/{world['actor']['id']}",
            content=b'{"country":"TR"}',
            headers={"content-type": media_type},
        )
        assert ok.status_code == 200, (media_type, ok.text)


async def test_unknown_and_repeated_query_parameters_are_422(client, world):
    typo = problem(await client.get("/v1/claims", params={"topics": "safe-zone"}), 422)
    assert typo["errors"] == [
        {
            "field": "topics",
            "message": typo["errors"][0]["message"],
            "location": "query",
        }
    ]
    assert "topic" in typo["errors"][0]["message"]  # the parameters it takes are listed
    # one that takes none says so (it said "this operation takes: none")
    none = problem(await client.get(f"/v1/actors/{world['actor']['id']}?expand=names"), 422)
    message = none["errors"][0]["message"]
    assert message == "Unknown parameter: this operation takes no query parameters.", none
    twice = await client.get("/v1/changes?types=claim,dispute&types=actor")
    assert problem(twice, 422)["errors"][0]["field"] == "types"
    assert (await client.get("/v1/claims", params={"topic": "safe-zone"})).status_code == 200


async def test_null_for_an_id_a_date_or_a_kind_is_no_value_but_a_422(client, world):
    """Litestar's lenient conversion read `?target_id=null` as no filter, and answered every
    claim (found by schemathesis once the document stopped calling the parameters nullable)."""
    for path, name in (
        ("/v1/claims", "target_id"),
        ("/v1/claims", "stated_from"),
        ("/v1/claims", "kind"),
        ("/v1/actors", "member_of"),
        ("/v1/disputes", "status"),
        ("/v1/sources", "publisher_id"),
        ("/v1/changes", "resource_id"),
        ("/v1/claims", "limit"),
    ):
        for null in ("null", "NULL"):
            body = problem(await client.get(path, params={name: null}), 422)
            assert body["errors"][0]["field"] == name, (path, name)
    # text is text: a claim may be searched for the word null, a topic may be called so
    for params in ({"q": "null"}, {"topic": "null"}):
        assert (await client.get("/v1/claims", params=params)).status_code == 200


async def test_a_value_with_a_newline_after_it_is_not_the_value(client, conn, world):
    """A pattern anchored at the end (``^[a-z0-9]+(-[a-z0-9]+)*$``) is the whole value: in
    Python's regular expressions, which check them, ``$`` also matches before a final
    newline, so ``"safe-zone\\n"`` passed for a topic and was stored, and a filter by it
    answered 200. The OpenAPI document's patterns (ECMA-262, where ``$`` is the end) said
    otherwise. Each case here passed before."""
    before = await snapshot(conn)
    akar, src = world["actor"], world["source"]
    for path, body, field in (
        ("/v1/sources", {"kind": "article", "title": "t", "url": "https://a.org/b\n"}, "url"),
        (
            "/v1/claims",
            {
                "speaker_id": akar["id"],
                "text": "نص",
                "lang": "ar\n",
                "appearances": [{"source_id": src["id"]}],
            },
            "lang",
        ),
        (
            "/v1/claims",
            {
                "speaker_id": akar["id"],
                "text": "نص",
                "lang": "ar",
                "topics": ["safe-zone\n"],
                "appearances": [{"source_id": src["id"]}],
            },
            "topics[0]",
        ),
    ):
        response = await client.post(path, json=body)
        assert fields(problem(response, 422)) == {field}, (path, body)
    for query, field in (
        ("/v1/claims?topic=safe-zone%0A", "topic"),
        ("/v1/claims?lang=ar%0A", "lang"),
        ("/v1/actors?country=TR%0A", "country"),
        ("/v1/search?q=akar&type=actor%0A", "type"),
        ("/v1/changes?types=claim%0A", "types"),
    ):
        response = await client.get(query)
        assert fields(problem(response, 422)) == {field}, query
    assert await snapshot(conn) == before


def test_patterns_anchored_at_the_end_say_so_as_python_reads_them():
    """Every pattern the service holds a value to (msgspec's, for bodies and parameters; the
    header patterns it documents) ends in ``\\Z`` where it means the end, and the OpenAPI
    document writes it ``$``, ECMA-262's end (the served document: the same bytes as
    openapi/openapi.json). Both the patterns in the document and those written in the code
    (the settings' are in no document)."""

    def patterns(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [v for k, v in node.items() if k == "pattern" and isinstance(v, str)]
            return found + [p for v in node.values() for p in patterns(v)]
        if isinstance(node, list):
            return [p for v in node for p in patterns(v)]
        return []

    app = create_app(Settings())
    held = patterns(app.openapi_schema.to_schema())
    written = [
        m.group(1)
        for path in sorted((Path(__file__).parents[1] / "service").rglob("*.py"))
        for m in re.finditer(
            r'(?:pattern=|_PATTERN = |in_words\(\s*)r?f?"([^"]*)"', path.read_text()
        )
    ]
    assert len(held) >= 20 and len(written) >= 10
    assert [p for p in held + written if p.endswith("$")] == []
    served = patterns(json.loads(openapi.document(app)))
    assert [p for p in served if "\\Z" in p] == []
    assert "^[a-z0-9]+(-[a-z0-9]+)*$" in served


WELL_FORMED = {
    "ar": "ar",
    "AR-sy": "ar-SY",
    "zh-hant-tw": "zh-Hant-TW",
    "sr-Latn-RS": "sr-Latn-RS",
    "es-419": "es-419",
    "de-CH-1996": "de-CH-1996",
    "zh-yue-HK": "zh-yue-HK",
    "en-US-u-ca-gregory": "en-US-u-ca-gregory",
    "en-a-bbb-x-A-CCC": "en-a-bbb-x-a-ccc",
    "X-Whatever-AB": "x-whatever-ab",
    "art-lojban": "art-lojban",
}
ILL_FORMED = [
    "arabic-language-long",  # a 4-letter subtag after a variant
    "arabic",  # a language of 4 to 8 letters: reserved, or registered (none is)
    "English",
    "Arab",
    "arabic-SY",
    "ar-SY-SY",  # two regions
    "a",
    "abcdefghi",
    "en-",
    "en--US",
    "en_US",
    "en-a",  # an extension without its subtags
    "en-US-x",  # private use without its subtags
    "ar-12",
    "i-klingon",  # grandfathered, irregular
    "en\n",
]


def test_language_tags_are_well_formed_as_rfc_5646_has_them():
    for tag, canonical in WELL_FORMED.items():
        assert re.search(LANG_PATTERN, tag), tag
        assert canonical_lang(tag) == canonical
    for tag in ILL_FORMED:
        assert not re.search(LANG_PATTERN, tag), tag


@pytest.mark.parametrize("bad", ["arabic-language-long", "arabic"])
async def test_an_ill_formed_language_tag_is_422_wherever_it_is_sent(client, conn, world, bad):
    before = await snapshot(conn)
    akar, src, claim = world["actor"], world["source"], world["claim"]
    for method, path, body, field in (
        (
            "POST",
            "/v1/actors",
            {"kind": "person", "name": "X", "names": [{"value": "X", "lang": bad}]},
            "names[0].lang",
        ),
        (
            "PATCH",
            f"/v1/actors/{akar['id']}",
            {"names": [{"value": "X", "lang": bad}]},
            "names[0].lang",
        ),
        ("POST", "/v1/sources", {"kind": "article", "title": "t", "lang": bad}, "lang"),
        ("PATCH", f"/v1/sources/{src['id']}", {"lang": bad}, "lang"),
        (
            "POST",
            "/v1/claims",
            {
                "speaker_id": akar["id"],
                "text": "نص",
                "lang": bad,
                "appearances": [{"source_id": src["id"]}],
            },
            "lang",
        ),
        (
            "PATCH",
            f"/v1/claims/{claim['id']}",
            {"translations": [{"lang": bad, "text": "t"}]},
            "translations[0].lang",
        ),
        (
            "POST",
            "/v1/reviews",
            {
                "claim_id": claim["id"],
                "reviewer_id": akar["id"],
                "rating": {"label": "False", "value": 1, "best": 5, "worst": 1},
                "lang": bad,
            },
            "lang",
        ),
    ):
        response = await client.request(method, path, json=body)
        assert fields(problem(response, 422)) == {field}, (method, path)
    assert await snapshot(conn) == before


async def test_a_tag_stored_under_the_looser_pattern_stays_readable_and_writable(
    client, conn, world
):
    """Before the RFC 5646 pattern, any letters-then-subtags were taken: such a stored tag is
    read back as it is (a 500 if reads checked it), and a write that keeps it keeps it."""
    akar, claim = world["actor"], world["claim"]
    old = "arabic-language-long"
    await conn.execute(
        "UPDATE claims SET translations = $2::jsonb WHERE id = $1",
        UUID(claim["id"]),
        json.dumps([{"lang": old, "text": "Some elements of the SDF militias"}]),
    )
    await conn.execute(
        "INSERT INTO actor_names (actor_id, position, value, lang, kind) "
        "VALUES ($1, 100, 'Akar', $2, 'common')",
        UUID(akar["id"]),
        old,
    )
    got = (await client.get(f"/v1/claims/{claim['id']}")).json()
    assert got["translations"] == [{"lang": old, "text": "Some elements of the SDF militias"}]
    patched = await client.patch(
        f"/v1/claims/{claim['id']}",
        json={"kind": "denial"},
        headers={"If-Match": (await client.get(f"/v1/claims/{claim['id']}")).headers["etag"]},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["translations"][0]["lang"] == old
    # search reads the claim's document to mark the words in its text and translations
    found = (await client.get("/v1/search", params={"q": "militias"})).json()
    assert [h["id"] for h in found["data"] if h["type"] == "claim"] == [claim["id"]]
    actor = await client.get(f"/v1/actors/{akar['id']}")
    assert actor.status_code == 200, actor.text
    assert old in [n["lang"] for n in actor.json()["names"]]
    patched = await client.patch(f"/v1/actors/{akar['id']}", json={"description": "Minister"})
    assert patched.status_code == 200, patched.text
    assert old in [n["lang"] for n in patched.json()["names"]]


async def test_names_stored_before_the_one_line_rule_stay_readable_and_writable(
    client, conn, world
):
    """A review's rating label, an actor's name or a source's title with a line break was
    taken before names had to be one line: the review, the claim that embeds it and the
    others stay readable, and a write that keeps the value keeps it (a rating label read
    through the input's pattern made them a 500, found in review)."""
    akar, src, claim = world["actor"], world["source"], world["claim"]
    checker = await helpers.actor(client, "Demo Fact-Check", kind="organization")
    review = await helpers.create(
        client,
        "reviews",
        {
            "claim_id": claim["id"],
            "reviewer_id": checker["id"],
            "rating": {"label": "Mostly false", "value": 2, "best": 5, "worst": 1},
        },
    )
    await conn.execute(
        "UPDATE reviews SET rating_label = 'Mostly\nfalse' WHERE id = $1", UUID(review["id"])
    )
    await conn.execute("UPDATE actors SET name = 'Hulusi\nAkar' WHERE id = $1", UUID(akar["id"]))
    await conn.execute("UPDATE sources SET title = 'عين\u200b' WHERE id = $1", UUID(src["id"]))
    for path in (
        f"/v1/reviews/{review['id']}",
        "/v1/reviews",
        f"/v1/claims/{claim['id']}/claim-review",
        f"/v1/actors/{akar['id']}",
        f"/v1/sources/{src['id']}",
    ):
        response = await client.get(path)
        assert response.status_code == 200, (path, response.text)
    for path, body in (
        (f"/v1/reviews/{review['id']}", {"summary": "Two reporters saw them."}),
        (f"/v1/claims/{claim['id']}", {"kind": "denial"}),
        (f"/v1/actors/{akar['id']}", {"description": "Minister"}),
        (f"/v1/sources/{src['id']}", {"lang": "ar"}),
    ):
        response = await client.patch(path, json=body)
        assert response.status_code == 200, (path, response.text)
    got = (await client.get(f"/v1/reviews/{review['id']}")).json()
    assert got["rating"]["label"] == "Mostly\nfalse"


def test_every_pattern_of_a_body_or_a_parameter_is_said_in_words():
    """Each pattern the document holds a body field or a query or path parameter to has its
    words (``errors.in_words``), before any app is made; the header patterns (If-Match,
    Idempotency-Key) are the service's own checks, which say them in words themselves."""
    import subprocess
    import sys

    # as importing the service leaves them, in a process that has made no app yet
    known = json.loads(
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import json, service.app, service.errors as e; print(json.dumps(list(e._IN_WORDS)))",
            ],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    )
    document = json.loads(COMMITTED.read_bytes())
    found: list[tuple[str, str]] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node.get("in") == "header":
                return
            if isinstance(node.get("pattern"), str):
                found.append((where, node["pattern"]))
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(document["paths"], "paths")
    walk(document["components"]["schemas"], "schemas")
    # the document writes an end ``$`` (and a pattern with none, as it is)
    said = {p[:-2] + "$" if p.endswith("\\Z") else p for p in known}
    assert len(found) > 30
    assert [(where, p) for where, p in found if p not in said] == []


async def test_a_pattern_in_a_problem_reads_as_the_document_writes_it(client, world):
    """The patterns end in Python's ``\\Z`` (above); every pattern of a body or a parameter
    is said in words (a topic's, a language tag's grammar), and one that is not would be
    quoted as the OpenAPI document writes it, ``$``."""
    akar, src = world["actor"], world["source"]
    claim = {"speaker_id": akar["id"], "text": "نص", "appearances": [{"source_id": src["id"]}]}
    for response, field in (
        (
            await client.post("/v1/claims", json={**claim, "lang": "ar", "topics": ["X"]}),
            "topics[0]",
        ),
        (await client.get("/v1/claims", params={"topic": "X"}), "topic"),
    ):
        body = problem(response, 422)
        assert body["errors"][0]["field"] == field
        assert body["errors"][0]["message"].startswith("Expected a topic: lower-case"), body
        assert "\\Z" not in response.text and "regex" not in response.text
    quoted = "Expected `str` matching regex '^[a-z]\\\\Z'"  # as msgspec doubles backslashes
    assert _readable(quoted) == "Expected `str` matching regex '^[a-z]$'"
    for response in (
        await client.post("/v1/claims", json={**claim, "lang": "arabic-language-long"}),
        await client.get("/v1/claims", params={"lang": "arabic-language-long"}),
    ):
        body = problem(response, 422)
        assert body["errors"][0]["field"] == "lang"
        assert body["errors"][0]["message"].startswith(
            "Expected a language tag well-formed as RFC 5646 has it"
        ), body
        assert "regex" not in response.text


async def test_a_body_not_utf8_names_the_byte_of_the_body(client, conn):
    """msgspec reports the offset inside the string it was reading; the problem names the
    byte of the body."""
    before = await snapshot(conn)
    body = b'{"kind": "person", "name": "ab\xff"}'
    response = await client.post(
        "/v1/actors", content=body, headers={"content-type": "application/json"}
    )
    at = body.index(b"\xff")  # msgspec said 2: its offset inside "ab\xff"
    assert problem(response, 400)["detail"] == (
        f"The request body is not valid UTF-8 (byte {at}): send JSON encoded as UTF-8."
    )
    assert await snapshot(conn) == before


async def test_a_database_that_cannot_be_reached_is_a_503_to_retry_not_a_500(
    client, conn, world, admin_url, settings
):
    """PostgreSQL restarting, down, or refusing connections: a request that needs a new
    connection and cannot get one is a 503 with Retry-After, as a statement timeout is (it
    was a 500, logged as a bug). Sessions ended under an idle pool are replaced; a request
    that starts on one before asyncpg has read of its end is a 503 too (it was a 500: an
    asyncpg InternalClientError), and the next has a new connection."""
    url = f"/v1/actors/{world['actor']['id']}"
    end_sessions = """SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                      WHERE datname = current_database() AND pid <> pg_backend_pid()"""
    for _ in range(5):
        await conn.fetchval(end_sessions)
        # Each idle connection of the pool may be handed out before asyncpg has read of its
        # end (a 503 each; two in a row were seen), never more than the pool holds; then
        # new ones answer.
        statuses = [(await client.get(url)).status_code for _ in range(settings.pool_max_size + 2)]
        failed = statuses.index(200)
        assert set(statuses[:failed]) <= {503} and set(statuses[failed:]) == {200}, statuses
    name = await conn.fetchval("SELECT current_database()")
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    try:
        await conn.fetchval(end_sessions)
        for path in (url, "/v1/claims", "/v1/search?q=safe"):
            response = await client.get(path)
            assert response.status_code == 503, (path, response.text)
            assert response.json()["type"] == "/problems/unavailable"
            assert response.headers["retry-after"].isdigit()
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()
    assert (await client.get(url)).status_code == 200


@pytest.mark.parametrize(
    "method, path, body, field, said",
    [
        (
            "POST",
            "/v1/sources",
            {"kind": "article", "title": "T", "published_at": "2019-11-24T10:00:00"},
            "published_at",
            "Expected a date (2019-11-24) or an RFC 3339 date-time with its offset",
        ),
        ("GET", "/v1/claims?topic=Safe-Zone", None, "topic", "such as safe-zone"),
        ("GET", "/v1/disputes?topic=safe_zone", None, "topic", "such as safe-zone"),
        ("GET", "/v1/search?q=akar&topic=Safe", None, "topic", "such as safe-zone"),
        ("GET", "/v1/actors?country=tr", None, "country", "alpha-2 code in capitals, such as TR"),
        ("GET", "/v1/actors?wikidata_id=43", None, "wikidata_id", "such as Q43"),
        (
            "POST",
            "/v1/actors",
            {"kind": "state", "name": "Turkey", "country": "Turkey"},
            "country",
            "such as TR",
        ),
        ("GET", "/v1/search?q=akar&type=claims", None, "type", "Expected actor, claim or"),
        ("GET", "/v1/changes?types=claims", None, "types", "Expected one or more of actor,"),
        ("GET", "/oembed?url=https://x.example/&maxwidth=abc", None, "maxwidth", "whole number"),
        (
            "POST",
            "/v1/claims",
            {"stated_on": "2019-11-24T10:00:00Z"},
            "stated_on",
            "Expected a real calendar date written YYYY-MM-DD, such as 2019-11-24, without a time",
        ),
        # msgspec's bounds, kinds of value, missing fields and offsets, in words (a new
        # user's walkthrough met "Expected `int` >= 1", "Expected `str`, got `int`",
        # "Object missing required field `name`")
        ("GET", "/v1/claims?limit=0", None, "limit", "Expected a whole number, at least 1"),
        ("GET", "/v1/actors?limit=500", None, "limit", "Expected a whole number, at most 200"),
        # past what Python converts ("Integer value out of range.", a CMS developer's walkthrough)
        (
            "GET",
            f"/v1/actors?limit={'9' * 5000}",
            None,
            "limit",
            "Expected a whole number, at most 200",
        ),
        (
            "GET",
            f"/v1/claims?limit=-{'9' * 19}",
            None,
            "limit",
            "Expected a whole number, at least 1",
        ),
        (
            "POST",
            "/v1/actors",
            {"kind": "person", "name": 7},
            "name",
            "Expected text (a JSON string), got a whole number",
        ),
        ("POST", "/v1/actors", {"kind": "person"}, "name", "Required."),
        (
            "POST",
            "/v1/actors",
            {"kind": "person", "name": "A", "names": {"value": "B"}},
            "names",
            "Expected a list (a JSON array), got an object",
        ),
        (
            "POST",
            "/v1/api-keys",
            {"name": "k", "scopes": ["read"], "expires_at": "2030-01-01T00:00:00"},
            "expires_at",
            "Expected a date-time with its offset (Z or +03:00)",
        ),
    ],
)
async def test_a_value_of_the_wrong_form_is_said_in_words_not_as_a_pattern(
    client, conn, method, path, body, field, said
):
    """A fact-checker's walkthrough met regular expressions (`topic=Safe-Zone`, `country=tr`,
    a date-time without its offset), msgspec's type names (`Expected `int | null`, got
    `str``) and "Invalid RFC3339 encoded date" for a date-time where a date goes."""
    before = await snapshot(conn)
    answered = problem(await client.request(method, path, json=body), 422)
    (error,) = [e for e in answered["errors"] if e["field"] == field]
    assert said in error["message"], error
    assert "regex" not in error["message"] and "`" not in error["message"]
    assert await snapshot(conn) == before


async def test_a_whole_number_too_long_for_a_parameter_without_that_bound(client, monkeypatch):
    """Every integer parameter has both bounds today; one without would have met a format of
    None (a 500) for a number of more digits than any bound has."""
    listed = input_guard._QUERY["list_actors"]
    monkeypatch.setitem(
        input_guard._QUERY, "list_actors", listed._replace(integers={"limit": (None, None)})
    )
    body = problem(await client.get("/v1/actors", params={"limit": "9" * 30}), 422)
    assert body["errors"][0]["message"] == "Expected a whole number of at most 18 digits"
