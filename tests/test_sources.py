"""Sources: URL uniqueness after normalisation, dates or date-times, refused deletes."""

from __future__ import annotations

from uuid import UUID

import pytest

from service.sources.urls import url_key
from tests import helpers
from tests.helpers import fields, problem, snapshot

pytestmark = pytest.mark.compat

URL = "https://www.awtanpost.com/2019/11/24/ain-issa/"


@pytest.mark.parametrize(
    "other",
    [
        "http://awtanpost.com/2019/11/24/ain-issa",
        "https://WWW.AWTANPOST.COM:443/2019/11/24/ain-issa/#comments",
        "https://awtanpost.com/2019/11/24/ain-issa/?utm_source=twitter&fbclid=abc",
    ],
)
async def test_same_page_is_409_naming_the_first(client, conn, other):
    first = await helpers.source(client, url=URL)
    before = await snapshot(conn)
    body = problem(
        await client.post("/v1/sources", json={"kind": "article", "title": "again", "url": other}),
        409,
    )
    assert body["existing_id"] == first["id"]
    assert fields(body) == {"url"}
    assert await snapshot(conn) == before


async def test_a_create_racing_another_on_one_page_gets_the_same_409(
    live_url, conn, database_url, auth
):
    """The request's check in Python passes while another transaction holds an uncommitted
    source at that URL; the unique index decides, and the loser gets a 409 naming `url`."""
    import asyncio

    import asyncpg
    import httpx

    other = await asyncpg.connect(database_url)
    try:
        async with other.transaction():
            await other.execute(
                "INSERT INTO sources (id, kind, title, url, url_key) VALUES "
                "('01937a5e-0000-7000-8000-000000000001', 'article', 'first', $1, $2)",
                URL,
                url_key(URL),
            )
            client = httpx.AsyncClient(base_url=live_url, headers=auth)
            racing = asyncio.create_task(
                client.post(
                    "/v1/sources",
                    json={"kind": "article", "title": "second", "url": URL + "?utm_source=x"},
                )
            )
            await asyncio.sleep(0.5)  # the request now waits on the unique index
            assert not racing.done()
        response = await racing
        await client.aclose()
    finally:
        await other.close()
    body = problem(response, 409)
    assert fields(body) == {"url"}
    assert await conn.fetchval("SELECT count(*) FROM sources") == 1
    assert await conn.fetchval("SELECT count(*) FROM revisions") == 0  # the loser left none


@pytest.mark.parametrize(
    ("first", "again"),
    [
        ("https://مثال.إختبار/خبر", "https://xn--mgbh0fb.xn--kgbechtv/%D8%AE%D8%A8%D8%B1"),
        ("https://xn--mgbh0fb.xn--kgbechtv/a", "http://www.مثال.إختبار/a/"),
        ("https://Straße.de/a", "https://xn--strae-oqa.de/a"),
        ("https://عربي.example.com:8443/a", "https://xn--ngbrx4e.example.com:8443/a"),
    ],
)
async def test_a_host_in_unicode_or_in_ascii_is_one_page(client, conn, first, again):
    """An internationalised domain name in Unicode and in its xn-- form is one host (IDNA
    2008, as browsers): they were two sources, against the uniqueness the README states."""
    made = await helpers.source(client, url=first)
    assert made["url"] == first  # kept as given
    before = await snapshot(conn)
    body = problem(
        await client.post("/v1/sources", json={"kind": "article", "title": "again", "url": again}),
        409,
    )
    assert body["existing_id"] == made["id"]
    assert await snapshot(conn) == before


async def test_a_source_keyed_before_0019_beside_its_twin_stays_editable(client, conn):
    """Migration 0019 leaves a key in its Unicode form when another source holds its xn--
    form (the same page entered in both spellings before): a PATCH that keeps the URL keeps
    that key, rather than a 409 naming the twin (found in review)."""
    twin = await helpers.source(client, url="https://xn--strae-oqa.de/a")
    kept = await helpers.source(client, title="kept", url="https://example.org/placeholder")
    await conn.execute(
        "UPDATE sources SET url = 'https://straße.de/a', url_key = 'straße.de/a' WHERE id = $1",
        UUID(kept["id"]),
    )
    path = f"/v1/sources/{kept['id']}"
    for body in ({"title": "renamed"}, {"url": "https://straße.de/a", "lang": "de"}):
        response = await client.patch(path, json=body)
        assert response.status_code == 200, response.text
    assert (
        await conn.fetchval("SELECT url_key FROM sources WHERE id = $1", UUID(kept["id"]))
        == "straße.de/a"
    )
    # a URL changed is keyed anew, and then the twin is its duplicate
    body = problem(await client.patch(path, json={"url": "https://straße.de/a/"}), 409)
    assert body["existing_id"] == twin["id"]


async def test_a_url_with_credentials_is_refused_where_readers_see_it(client, conn):
    """A source's URL (and archive URL) and a review's are shown to readers, on the public
    card and in ClaimReview: a user name and password in one was stored and published (a
    new user's walkthrough). A 422 that says why, in words rather than the pattern."""
    src = await helpers.source(client)
    before = await snapshot(conn)
    for path, body, field in (
        ("/v1/sources", {"kind": "article", "title": "t", "url": "https://u:pw@a.org/x"}, "url"),
        (
            "/v1/sources",
            {"kind": "article", "title": "t", "archive_url": "http://u@a.org/"},
            "archive_url",
        ),
        (f"/v1/sources/{src['id']}", {"url": "https://u:pw@a.org/x"}, "url"),
    ):
        method = "POST" if path == "/v1/sources" else "PATCH"
        response = problem(await client.request(method, path, json=body), 422)
        assert fields(response) == {field}
        message = response["errors"][0]["message"]
        assert "without a user name or password" in message and "regex" not in message
    assert await snapshot(conn) == before
    # an @ in the path or the query is not a credential
    made = await helpers.source(client, url="https://x.example/@awtanpost?ref=a@b")
    assert made["url"] == "https://x.example/@awtanpost?ref=a@b"


@pytest.mark.parametrize("broken", ["https://[::1/", "https://example.com:99999/", "https://./"])
async def test_an_archive_url_is_one_a_browser_can_follow(client, conn, broken):
    """The pattern lets through URLs no browser can follow (an unclosed IP literal, a port
    past 65535, a host of dots): a source's url was checked further, its archive_url, shown
    to readers as well, was stored as sent (a walkthrough's finding). Checked when sent: one
    stored before stays editable."""
    src = await helpers.source(client)
    before = await snapshot(conn)
    for method, path, field, body in (
        ("POST", "/v1/sources", "archive_url", {"kind": "article", "title": "t"}),
        ("PATCH", f"/v1/sources/{src['id']}", "archive_url", {}),
        ("POST", "/v1/sources", "url", {"kind": "article", "title": "t"}),
    ):
        response = problem(await client.request(method, path, json=body | {field: broken}), 422)
        assert fields(response) == {field}
    assert await snapshot(conn) == before
    await conn.execute("UPDATE sources SET archive_url = $1 WHERE id = $2", broken, src["id"])
    kept = await client.patch(f"/v1/sources/{src['id']}", json={"title": "renamed"})
    assert kept.status_code == 200 and kept.json()["archive_url"] == broken, kept.text


@pytest.mark.parametrize(
    ("broken", "says"),
    [
        ("https://1.2.3.4.5/", "four numbers from 0 to 255"),  # ends in a number: an address
        ("https://999.1.1.1/x", "four numbers from 0 to 255"),
        ("https://xn--/", "xn-- label"),  # an A-label of nothing
        ("https://xn--abc-.org/", "xn-- label"),  # of plain ASCII
        ("https://a%00.org/", "neither a domain name nor an IP address"),
        ("https://a..b.org/", "neither a domain name nor an IP address"),
        ("https://exa!mple.org/", "neither a domain name nor an IP address"),
        ("https://" + "a" * 64 + ".org/", "neither a domain name nor an IP address"),
        ("https://[fe80::1%25eth0]/", "with a zone"),
        ("https://[::1]x/", "neither a domain name nor an IP address"),
        ("https://example.org../", "neither a domain name nor an IP address"),
        ("https://[v1.x]/", "neither a domain name nor an IP address"),
        ("https://a.org:0/", "Port 0"),
        ("https://a.org:99999/", "a number from 1 to 65535"),  # each cause its own words
        ("https://[::1/", "closed brackets"),
        ("https://./", "neither a domain name nor an IP address"),
    ],
)
async def test_a_url_whose_host_no_browser_could_reach_is_refused(client, conn, broken, says):
    """Hosts that no DNS has and no browser opens were stored as sent (a walkthrough's
    finding): a broken IPv4 address, an empty or undecodable xn-- label, an encoded NUL, an
    empty label, a label of 64 characters, an IPv6 zone, port 0. A 422 naming the field that
    says what is wrong with the host; nothing stored. The same check guards a source's
    archive_url and a review's url (``checked_key``)."""
    src = await helpers.source(client)
    before = await snapshot(conn)
    for method, path, field, body in (
        ("POST", "/v1/sources", "url", {"kind": "article", "title": "t"}),
        ("PATCH", f"/v1/sources/{src['id']}", "url", {}),
        ("PATCH", f"/v1/sources/{src['id']}", "archive_url", {}),
    ):
        response = problem(await client.request(method, path, json=body | {field: broken}), 422)
        assert fields(response) == {field}
        assert says in response["errors"][0]["message"]
    assert await snapshot(conn) == before


@pytest.mark.parametrize(
    "url",
    [
        "https://192.0.2.1/a",
        "https://[2001:db8::1]:8443/a",
        "https://_dmarc.example.org/",  # an underscore: DNS has them
        "https://-x-.blogspot.com/",  # hyphens at a label's ends, as browsers take them
        "https://xn--n3h.net/",  # a symbol's A-label
        "https://مثال.إختبار/",
        "https://123.example.org/",  # a number, but not the last label
        "https://example.org./",
        "https://[::1]:8080/",  # and not the same page as the next (they were one key)
        "https://[::1:8080]/",
    ],
)
async def test_a_url_with_an_unusual_but_reachable_host_is_taken(client, url):
    made = await helpers.source(client, url=url)
    assert made["url"] == url


async def test_an_ipv6_host_keeps_its_brackets_in_the_key(client):
    """`[::1]:8080` (port 8080) and `[::1:8080]` (another address) were keyed alike, and the
    second was refused as the first's duplicate (a review's finding)."""
    assert url_key("https://[::1]:8080/") == "[::1]:8080/"
    assert url_key("https://[::1:8080]/") == "[::1:8080]/"
    assert url_key("http://[2001:DB8::1]:80/a/") == "[2001:db8::1]/a"
    await helpers.source(client, url="https://[::1]:8080/")
    made = await client.post(
        "/v1/sources", json={"kind": "article", "title": "t", "url": "https://[::1:8080]/"}
    )
    assert made.status_code == 201, made.text


async def test_a_source_stored_with_a_host_now_refused_stays_editable(client, conn):
    """A source stored before the host check (or with a host of only dots, before the
    twenty-first session's check) can be renamed, and sent back whole as it was read (its
    url and archive_url with it); it keeps its key, and the url filter finds it (but for a
    host of only dots, which is no URL to look up). A new source at that URL is refused."""
    src = await helpers.source(client)
    for stored, key in (
        ("https://1.2.3.4.5/a", url_key("https://1.2.3.4.5/a")),
        ("https://./", "/"),
    ):
        await conn.execute(
            "UPDATE sources SET url = $1, url_key = $2, archive_url = $3 WHERE id = $4",
            stored,
            key,
            "https://999.1.1.1/old",
            src["id"],
        )
        renamed = await client.patch(f"/v1/sources/{src['id']}", json={"title": stored})
        assert renamed.status_code == 200, renamed.text
        read = renamed.json()
        sent_back = {k: read[k] for k in ("kind", "title", "url", "archive_url", "lang")}
        again = await client.patch(f"/v1/sources/{src['id']}", json=sent_back | {"title": "x"})
        assert again.status_code == 200, again.text
        assert (again.json()["url"], again.json()["archive_url"]) == (
            stored,
            "https://999.1.1.1/old",
        )
        assert await conn.fetchval("SELECT url_key FROM sources WHERE id = $1", src["id"]) == key
    await conn.execute(  # found by its url, in any spelling of it
        "UPDATE sources SET url = $1, url_key = $2 WHERE id = $3",
        "https://1.2.3.4.5/a",
        url_key("https://1.2.3.4.5/a"),
        src["id"],
    )
    found = await client.get("/v1/sources", params={"url": "http://1.2.3.4.5/a/"})
    assert [s["id"] for s in found.json()["data"]] == [src["id"]], found.text
    body = {"kind": "article", "title": "t", "url": "https://1.2.3.4.5/a"}
    assert fields(problem(await client.post("/v1/sources", json=body), 422)) == {"url"}
    # a new archive_url is checked
    refused = await client.patch(f"/v1/sources/{src['id']}", json={"archive_url": "https://a..b/"})
    assert fields(problem(refused, 422)) == {"archive_url"}


def test_url_key_of_a_unicode_host():
    assert url_key("https://مثال.إختبار/") == "xn--mgbh0fb.xn--kgbechtv/"
    # IDNA 2008 keeps ß (IDNA 2003, Python's own codec, made it "ss": another domain)
    assert url_key("https://straße.de/") != url_key("https://strasse.de/")
    # a name IDNA refuses is still a key, as given
    assert url_key("https://é..example/p") == "é..example/p"
    # a symbol IDNA 2008 disallows, as browsers still take it (UTS #46 and Punycode), and
    # not folded as IDNA 2003 would (ß to ss: another host; found in review)
    assert url_key("https://☃.net/") == url_key("https://xn--n3h.net/") == "xn--n3h.net/"
    assert url_key("https://straße☃.de/") == "xn--strae-oqa1767d.de/"
    assert url_key("https://straße☃.de/") != url_key("https://strasse☃.de/")
    # a trailing dot is dropped before the name is converted, not after
    assert url_key("http://мир.рф../a") == url_key("http://мир.рф/a") == "xn--h1ahn.xn--p1ai/a"


def test_url_key_keeps_what_changes_the_page():
    assert url_key("https://a.org/p?id=1") != url_key("https://a.org/p?id=2")
    assert url_key("https://a.org/p?b=2&a=1") == url_key("https://a.org/p?a=1&b=2")
    assert url_key("https://a.org:8080/p") != url_key("https://a.org/p")
    assert url_key("https://a.org/%D8%B9%D9%8A%D9%86") == url_key("https://a.org/عين")
    for refused in ("ftp://a.org/x", "https://./", "https://../p"):  # a host of dots: none
        with pytest.raises(ValueError):
            url_key(refused)


async def test_published_at_is_a_date_or_a_datetime(client, conn):
    day = await helpers.source(client, published_at="2019-11-24")
    assert day["published_at"] == "2019-11-24"
    moment = await helpers.source(client, published_at="2019-11-24T09:30:00+03:00")
    # in UTC, written as every other timestamp is (Z, microseconds only when there are any)
    assert moment["published_at"] == "2019-11-24T06:30:00Z"
    precise = await helpers.source(client, published_at="2019-11-24T09:30:00.25+03:00")
    assert precise["published_at"] == "2019-11-24T06:30:00.250000Z"
    assert precise["created_at"].endswith("Z")
    # nanoseconds, as Go's RFC3339Nano writes them (a 422 until 2026-11-29), to the microsecond
    nano = await helpers.source(client, published_at="2019-11-24T09:30:00.123456789+03:00")
    assert nano["published_at"] == "2019-11-24T06:30:00.123456Z"
    # RFC 3339 (section 5.6) lets T and Z be written in lower case
    lower = await helpers.source(client, published_at="2019-11-24t06:30:00z")
    assert lower["published_at"] == "2019-11-24T06:30:00Z"
    before = await snapshot(conn)
    for bad in (
        "2019-02-30",
        "24/11/2019",
        "2019-11-24T09:30:00.1234567890Z",
        "2019-11-24T09:30:00",
    ):  # last: no offset
        body = problem(
            await client.post(
                "/v1/sources", json={"kind": "article", "title": "x", "published_at": bad}
            ),
            422,
        )
        assert fields(body) == {"published_at"}
    # in the year 10000 or 0 in UTC: a 500 once (a new user's walkthrough), on create and edit
    for outside in ("9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"):
        for write in (
            client.post(
                "/v1/sources", json={"kind": "article", "title": "x", "published_at": outside}
            ),
            client.patch(f"/v1/sources/{day['id']}", json={"published_at": outside}),
        ):
            body = problem(await write, 422)
            assert fields(body) == {"published_at"} and "years 1 to 9999" in body["detail"]
    assert await snapshot(conn) == before
    edge = await helpers.source(client, published_at="9999-12-31T23:59:59+00:00")
    assert edge["published_at"] == "9999-12-31T23:59:59Z"


async def test_update_and_filters(client):
    awtan = await helpers.create(client, "actors", {"kind": "media", "name": "Awtan Post"})
    src = await helpers.source(
        client, url=URL, publisher_id=awtan["id"], lang="ar", published_at="2019-11-24"
    )
    other = await helpers.source(client, kind="statement", lang="en")
    assert src["publisher"] == {"id": awtan["id"], "name": "Awtan Post", "kind": "media"}

    updated = (
        await client.patch(
            f"/v1/sources/{src['id']}",
            json={"archive_url": "https://web.archive.org/web/2019/" + URL, "lang": "ar-SY"},
        )
    ).json()
    assert updated["version"] == 2
    assert updated["lang"] == "ar-SY"
    assert updated["url"] == URL and updated["published_at"] == "2019-11-24"

    async def ids(**params):
        response = await client.get("/v1/sources", params=params)
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json()["data"]]

    assert await ids(publisher_id=awtan["id"]) == [src["id"]]
    assert await ids(kind="statement") == [other["id"]]
    assert await ids(lang="ar") == [src["id"]]  # ar matches ar-SY
    assert await ids(url="http://awtanpost.com/2019/11/24/ain-issa") == [src["id"]]
    assert await ids(published_from="2019-11-24", published_to="2019-11-24") == [src["id"]]
    assert await ids(published_from="2019-11-25") == []


async def test_a_source_s_own_day_is_in_the_offset_it_was_given_with(client, conn):
    """Half past midnight in Damascus is the day before in UTC: the sources list counts the
    source on its own day (migration 0026; the API returns the instant in UTC as ever).
    Sending the instant back as read (in UTC), or changing other fields, keeps the offset;
    another offset or a date replaces it. An offset beyond RFC 3339's minutes is a 422."""
    local = await helpers.source(client, published_at="2019-11-24T00:30:00+03:00")
    utc = await helpers.source(client, published_at="2019-11-23T21:30:00Z")
    day = await helpers.source(client, published_at="2019-11-24")
    assert local["published_at"] == utc["published_at"] == "2019-11-23T21:30:00Z"
    # the offset kept is shown, so that a change of it alone is seen (a walkthrough found a
    # new version and revision that read as the one before)
    offsets = [s["published_at_offset"] for s in (local, utc, day)]
    assert offsets == ["+03:00", "+00:00", None]

    async def on(date):
        response = await client.get(
            "/v1/sources", params={"published_from": date, "published_to": date}
        )
        assert response.status_code == 200, response.text
        return {s["id"] for s in response.json()["data"]}

    assert await on("2019-11-24") == {local["id"], day["id"]}
    assert await on("2019-11-23") == {utc["id"]}
    path = f"/v1/sources/{local['id']}"
    for change in ({"title": "renamed"}, {"published_at": "2019-11-23T21:30:00Z"}):
        response = await client.patch(path, json=change)
        assert response.status_code == 200, response.text
        assert await on("2019-11-24") == {local["id"], day["id"]}, change
    # the same moment written another way writes nothing (a CMS sending its local time on
    # every save made a version each time)
    version = (await client.get(path)).json()["version"]
    for same in ("2019-11-24T00:30:00+03:00", "2019-11-23T21:30:00.000Z", "2019-11-23T21:30Z"):
        response = await client.patch(path, json={"published_at": same})
        assert response.json()["version"] == version, same
    west = await client.patch(path, json={"published_at": "2019-11-23T16:30:00-05:00"})
    assert west.json()["published_at"] == "2019-11-23T21:30:00Z"
    assert (west.json()["published_at_offset"], west.json()["version"]) == ("-05:00", version + 1)
    revision = (await client.get(f"{path}/revisions/{version + 1}")).json()
    assert revision["data"]["published_at_offset"] == "-05:00", revision
    again = await client.patch(path, json={"published_at": "2019-11-23T16:30:00-05:00"})
    assert again.json()["version"] == version + 1  # the offset kept, west of UTC: the same
    assert await on("2019-11-23") == {utc["id"], local["id"]}
    await client.patch(path, json={"published_at": "2019-11-25"})
    assert await on("2019-11-25") == {local["id"]}
    before = await snapshot(conn)
    for bad in ("2019-11-24T00:30:00+03:75", "2019-11-24T00:30:00+24:00"):
        body = problem(await client.patch(path, json={"published_at": bad}), 422)
        assert fields(body) == {"published_at"}, bad
    assert await snapshot(conn) == before


async def test_clearing_the_url_allows_a_new_source_there(client):
    first = await helpers.source(client, url=URL)
    cleared = (await client.patch(f"/v1/sources/{first['id']}", json={"url": None})).json()
    assert cleared["url"] is None
    await helpers.source(client, url=URL)


async def test_delete_refused_while_claims_appear_in_it(client, conn):
    akar = await helpers.actor(client)
    src = await helpers.source(client)
    claim = await helpers.claim(client, akar["id"], src["id"])
    before = await snapshot(conn)
    body = problem(await client.delete(f"/v1/sources/{src['id']}"), 409)
    assert body["held_by"] == [
        {"resource": "claims", "field": "appearances[].source_id", "count": 1, "ids": [claim["id"]]}
    ]
    assert await snapshot(conn) == before
    assert (await client.delete(f"/v1/claims/{claim['id']}")).status_code == 204
    assert (await client.delete(f"/v1/sources/{src['id']}")).status_code == 204
