"""Search across scripts: every spelling variant of the reference article finds the same thing."""

from __future__ import annotations

import pytest

from service.demo import load
from service.search import queries
from service.search.queries import (
    COMMON_MATCHES,
    READ_ON_MATCHES,
    READ_ON_WINDOW,
    RECENT_WINDOW,
    SEARCH_CANDIDATES,
)
from service.search.routes import ALL_TYPES
from service.search.schemas import SearchFilters
from service.text.stopwords import search_words
from tests import helpers
from tests.helpers import by, problem

MISSING = "01937a5e-0000-7000-8000-0000000000ff"

pytestmark = pytest.mark.compat


@pytest.fixture
async def demo(client, settings, database_url):
    await load(settings, database_url)

    async def first(path, **params):
        response = await client.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()["data"][0]

    return {
        "akar": await first("/v1/actors", q="Hulusi Akar"),
        "sdf": await first("/v1/actors", q="Syrian Democratic Forces"),
        "russia": await first("/v1/actors", q="Russia"),
    }


async def hits(client, q, **params):
    response = await client.get("/v1/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def every_page(client, q, **params):
    """The hits of ``q`` page after page, following each page's cursor to the last."""
    seen, cursor = [], None
    while True:
        page = params | ({"cursor": cursor} if cursor else {})
        body = (await client.get("/v1/search", params={"q": q, **page})).json()
        seen += body["data"]
        cursor = body["next_cursor"]
        if not cursor:
            return seen


@pytest.mark.parametrize(
    "spelling",
    [
        "خلوصي آكار",
        "خلوصي اكار",
        "آكار",
        "اكار",
        "Hulusi Akar",
        "hulusi akar",
        "HULUSI",
        "Hulusi Akr",
        "خلوصى آكـــار",
    ],
)
async def test_every_spelling_finds_akar_first(client, demo, spelling):
    found = await hits(client, spelling)
    assert found[0]["type"] == "actor" and found[0]["id"] == demo["akar"]["id"], found[:3]


@pytest.mark.parametrize(
    "spelling",
    [
        "قسد",
        "ميليشيات قسد",
        "SDF",
        "sdf",
        "قوات سوريا الديمقراطية",
        "Syrian Democratic Forces",
        "قسدٌ",
        "Syrian Democratic",
    ],
)
async def test_every_name_of_the_sdf_finds_it_first(client, demo, spelling):
    found = await hits(client, spelling)
    assert found[0]["id"] == demo["sdf"]["id"], found[:3]


async def test_an_exact_alias_ranks_above_a_fuzzy_match(client, demo):
    exact = (await hits(client, "قسد", type="actor"))[0]
    fuzzy = [h for h in await hits(client, "قسد", type="actor") if h["id"] != exact["id"]]
    assert exact["score"] == 1.0
    assert all(h["score"] < exact["score"] for h in fuzzy)


@pytest.mark.parametrize(
    "query",
    ["المنطقة الآمنة", "المنطقه الامنه", "منطقة آمنة", "safe zone", "Safe Zone", "the safe zones"],
)
async def test_claims_are_found_in_arabic_and_in_their_english_translation(client, demo, query):
    found = await hits(client, query, type="claim")
    speakers = {h["title"].split(":")[0] for h in found}
    assert {"Hulusi Akar", "Awtan Post"} <= speakers, found
    assert all("<mark>" in h["snippet"] for h in found)


async def test_snippets_mark_the_original_spelling_and_escape_html(client, demo):
    (hit,) = [h for h in await hits(client, "اكار", type="claim") if "Akar" in h["title"]][:1]
    assert "<mark>" in hit["snippet"]
    akars = await hits(client, "اكار", type="actor")
    assert "<mark>آكار</mark>" in akars[0]["snippet"]


async def test_filters_keep_the_search_to_the_types_they_concern(client, demo):
    found = await hits(client, "قسد", speaker_id=demo["akar"]["id"])
    assert found and {h["type"] for h in found} == {"claim"}
    disputes = await hits(client, "safe zone", status="open")
    assert [h["type"] for h in disputes] == ["dispute"]
    assert await hits(client, "safe zone", status="resolved") == []
    assert {h["type"] for h in await hits(client, "safe zone", topic="safe-zone")} <= {
        "claim",
        "dispute",
    }
    assert await hits(client, "قسد", lang="en") == []
    # a tag in any case, as the claims' own lang filter takes it (stored canonical: ar)
    arabic = await hits(client, "قسد", lang="ar")
    assert arabic and {h["type"] for h in arabic} == {"claim"}
    assert await hits(client, "قسد", lang="AR") == arabic


async def test_search_pages_see_every_hit_once(client, demo):
    everything = await hits(client, "روسيا", limit=200)
    seen = [(h["type"], h["id"]) for h in await every_page(client, "روسيا", limit=2)]
    assert seen == [(h["type"], h["id"]) for h in everything]
    assert len(seen) == len(set(seen)) > 2


async def test_a_common_query_ranks_and_pages_the_newest_200_disputes(client, conn):
    """Of 300 disputes that match, only the newest 200 are ranked, page after page: the
    oldest, which says the words most often and would rank first, is never a hit."""
    await conn.execute(
        """INSERT INTO disputes (id, title, question)
           SELECT ('01937a5e-' || lpad(to_hex(g), 4, '0') || '-7000-8000-000000000000')::uuid,
                  'Dispute ' || g,
                  CASE WHEN g = 1 THEN 'safe zone safe zone safe zone safe zone?'
                       ELSE 'Is there a safe zone in ' || g || '?' END
           FROM generate_series(1, 300) AS g"""
    )
    newest = [str(r[0]) for r in await conn.fetch("SELECT id FROM disputes ORDER BY id DESC")]
    seen = await every_page(client, "safe zone", type="dispute", limit=7)
    ids = [h["id"] for h in seen]
    assert len(ids) == len(set(ids)) == 200 and set(ids) == set(newest[:200])
    scores = [h["score"] for h in seen]
    assert scores == sorted(scores, reverse=True)


async def test_bad_search_input_is_422(client):
    for params, field in [
        ({"q": ""}, "q"),
        ({"q": "ـــ"}, "q"),
        ({"q": "x", "type": "person"}, "type"),
        ({}, "q"),
        ({"q": "x" * 201}, "q"),
        # filters that leave no type to search were an empty page (a new user's walkthrough)
        ({"q": "x", "type": "actor", "speaker_id": MISSING}, "speaker_id"),
        ({"q": "x", "speaker_id": MISSING, "status": "open"}, "status"),
        ({"q": "x", "stated_from": "2019-11-25", "stated_to": "2019-11-24"}, "stated_to"),
        ({"q": "!!!"}, "q"),  # no letter or digit: nothing to look for (it was an empty 200)
        ({"q": "-"}, "q"),
    ]:
        body = problem(await client.get("/v1/search", params=params), 422)
        assert field in {e["field"] for e in body["errors"]}, (params, body)
    # an empty q on the lists is a filter with nothing in it, not no filter (it listed all)
    for path in ("/v1/claims", "/v1/actors"):
        for q in ("", " ", "ـــ", "!!!", "\u200b"):
            body = problem(await client.get(path, params={"q": q}), 422)
            assert {e["field"] for e in body["errors"]} == {"q"}, (path, q)


async def test_typeahead_by_prefix_and_fuzzily(client, demo):
    async def names(prefix):
        response = await client.get("/v1/actors", params={"name": prefix})
        assert response.status_code == 200, response.text
        return [a["name"] for a in response.json()["data"]]

    assert (await names("Hul"))[0] == "Hulusi Akar"
    assert (await names("خلو"))[0] == "Hulusi Akar"
    assert (await names("Hulusi Akr"))[0] == "Hulusi Akar"
    # a letter of one word left out, changed or swapped (pg_trgm's default 0.6 missed them)
    for typo in ("Akr", "Hulsi", "خلوصى اكر"):
        assert (await names(typo))[:1] == ["Hulusi Akar"], typo
    assert (await names("قسد"))[0] == "Syrian Democratic Forces"
    assert await names("zzzz") == []
    listed = (await client.get("/v1/actors", params={"q": "قسد"})).json()["data"]
    assert [a["name"] for a in listed] == ["Syrian Democratic Forces"]
    assert (await client.get("/v1/actors", params={"q": "zzzz"})).json()["data"] == []


async def test_q_filters_the_claim_list(client, demo):
    response = await client.get(
        "/v1/claims", params={"q": "المنطقة الآمنة", "speaker_id": demo["akar"]["id"]}
    )
    claims = response.json()["data"]
    assert claims and all(c["speaker"]["name"] == "Hulusi Akar" for c in claims)
    assert all("الآمنة" in c["text"] for c in claims)
    everything = await client.get("/v1/claims", params={"speaker_id": demo["akar"]["id"]})
    assert len(claims) < len(everything.json()["data"])  # the filter took some away
    nothing = await client.get("/v1/claims", params={"q": "Sochi Qamishli Kobane Manbij"})
    assert nothing.json()["data"] == []
    sochi = (await client.get("/v1/claims", params={"q": "سوتشي"})).json()["data"]
    assert [c["speaker"]["name"] for c in sochi] == ["Awtan Post"]


async def test_similar_claims_by_other_speakers(client, demo):
    akars = (await client.get("/v1/claims", params={"speaker_id": demo["akar"]["id"]})).json()
    remain = next(c for c in akars["data"] if "مازالوا" in c["text"])
    similar = (await client.get(f"/v1/claims/{remain['id']}/similar")).json()["data"]
    assert similar and all(c["claim"]["speaker"]["id"] != demo["akar"]["id"] for c in similar)
    assert similar[0]["claim"]["speaker"]["id"] == demo["russia"]["id"]  # the other side
    assert [s["score"] for s in similar] == sorted((s["score"] for s in similar), reverse=True)


async def test_typeahead_tiers_and_a_cursor_walk_across_them(client):
    """Exact name, then name prefix, then each word typed starting a word; near misses only
    when nothing matches so: a walk with limit 1 sees each actor once, in that order."""
    exact = await helpers.actor(
        client, "Hulusi Akar", names=[{"value": "آكار", "lang": "ar", "kind": "common"}]
    )
    prefix = await helpers.actor(client, "Hulusi Akarsu")
    word = await helpers.actor(client, "Akar, Hulusi")
    near = await helpers.actor(client, "Hulusi Akkar")
    await helpers.actor(client, "Mehmet Yilmaz")  # no match at all

    async def walk(name):
        seen, cursor = [], None
        while True:
            params = {"name": name, "limit": 1} | ({"cursor": cursor} if cursor else {})
            body = (await client.get("/v1/actors", params=params)).json()
            seen += [a["id"] for a in body["data"]]
            cursor = body["next_cursor"]
            if not cursor:
                return seen

    assert await walk("HULUSI akar") == [exact["id"], prefix["id"], word["id"]]
    # a typo matches nothing strongly: near misses, the closest first, each once
    typo = await walk("hulusy akkar")
    assert typo[0] == near["id"]
    assert len(typo) == len(set(typo)) and set(typo) <= {
        exact["id"],
        prefix["id"],
        word["id"],
        near["id"],
    }
    # an alias typed exactly, in another spelling of the same script
    arabic = (await client.get("/v1/actors", params={"name": "اكار"})).json()["data"]
    assert [a["id"] for a in arabic] == [exact["id"]]
    # several words: each must start a word of one name, in any order
    both = (await client.get("/v1/actors", params={"name": "ak hul"})).json()["data"]
    assert {a["id"] for a in both} == {exact["id"], prefix["id"], word["id"], near["id"]}


@pytest.fixture
async def said(client):
    """Claims around قال and من, the Kurdish forces and the safe zone, in Arabic and English."""
    speaker = await helpers.actor(client, "Sergei Lavrov")
    src = await helpers.source(client)

    async def claim(text, lang="ar"):
        made = await helpers.claim(client, speaker["id"], src["id"], text=text, lang=lang)
        return made["id"]

    return {
        "qal_min": await claim("قال مِن جهته إن القوات انسحبت"),  # قال then من, adjacent
        "qal_far": await claim("قال المتحدث إن القوات انسحبت من المنطقة"),  # both, apart
        "qal": await claim("قال مسؤول إن الدوريات مستمرة"),  # قال, no من
        "min": await claim("وصل الوفد من أنقرة إلى موسكو"),  # من, no قال
        "kurdish": await claim("The Kurdish forces withdrew from the border", "en"),
        "forces": await claim("The forces of the Kurdish council met", "en"),
        "talks": await claim("The talks ended in the evening", "en"),
    }


async def claim_ids(client, q, **params):
    return {h["id"] for h in await hits(client, q, type="claim", limit=100, **params)}


async def test_stop_words_do_not_narrow_or_break_a_search(client, said):
    """من and the are left out of the full text: the other words find what they find alone."""
    assert await claim_ids(client, "قال من") == await claim_ids(client, "قال")
    assert await claim_ids(client, "قال") == {said["qal_min"], said["qal_far"], said["qal"]}
    assert await claim_ids(client, "the Kurdish") == await claim_ids(client, "Kurdish")
    assert await claim_ids(client, "Kurdish") == {said["kurdish"], said["forces"]}
    assert await claim_ids(client, "THE kurdish OF") == {said["kurdish"], said["forces"]}
    assert await claim_ids(client, "the or talks") == {said["talks"]}
    # stop words are not marked in snippets; the words searched for are
    (hit,) = [
        h for h in await hits(client, "the Kurdish", type="claim") if h["id"] == said["kurdish"]
    ]
    assert hit["snippet"] == "The <mark>Kurdish</mark> forces withdrew from the border"


async def test_a_phrase_s_snippet_marks_the_phrase_not_each_of_its_words(client):
    """A quoted phrase's snippet marked every word of it wherever it stood, and began at the
    first: now where the words are side by side, as the search matched them."""
    speaker = await helpers.actor(client, "Mazloum Abdi")
    src = await helpers.source(client)
    text = "The Kurdish council met. Later the Kurdish forces withdrew; forces elsewhere stayed."
    made = await helpers.claim(client, speaker["id"], src["id"], text=text, lang="en")
    (hit,) = await hits(client, '"Kurdish forces"', type="claim")
    assert hit["id"] == made["id"]
    assert hit["snippet"] == (
        "The Kurdish council met. Later the <mark>Kurdish</mark> <mark>forces</mark> withdrew; "
        "forces elsewhere stayed."
    )
    (loose,) = await hits(client, "Kurdish forces", type="claim")  # no phrase: every word
    assert loose["snippet"].count("<mark>") == 4


async def test_a_hyphenated_query_finds_the_words_written_either_way(client):
    """`safe-zone` found only texts that wrote the hyphen (PostgreSQL reads it as the
    compound, then its parts), though topics are written so and users type them (a
    walkthrough's finding): it is the phrase of its words, which finds `safe zone` and
    `safe-zone` alike, and marks them."""
    speaker = await helpers.actor(client, "Mazloum Abdi")
    src = await helpers.source(client)
    spaced = await helpers.claim(
        client, speaker["id"], src["id"], text="They left the safe zone.", lang="en"
    )
    joined = await helpers.claim(
        client, speaker["id"], src["id"], text="The safe-zone talks ended.", lang="en"
    )
    await helpers.claim(client, speaker["id"], src["id"], text="A safe road, a zone.", lang="en")
    found = {h["id"]: h["snippet"] for h in await hits(client, "safe-zone", type="claim")}
    assert found == {
        spaced["id"]: "They left the <mark>safe</mark> <mark>zone</mark>.",
        joined["id"]: "The <mark>safe</mark>-<mark>zone</mark> talks ended.",
    }
    assert await claim_ids(client, "-safe-zone talks") == set()
    assert await claim_ids(client, "COVID-19") == set()  # digits: as PostgreSQL reads them


async def test_phrases_keep_their_stop_words(client, said):
    """In quotes every word counts and must be next to the others, stop words included."""
    assert await claim_ids(client, '"قال من"') == {said["qal_min"]}
    assert await claim_ids(client, '"قال من" القوات') == {said["qal_min"]}
    assert await claim_ids(client, '"the Kurdish forces"') == {said["kurdish"]}
    assert await claim_ids(client, '"forces of the Kurdish"') == {said["forces"]}
    assert await claim_ids(client, '"Kurdish the forces"') == set()
    assert await claim_ids(client, '"قال" -"من جهته"') == {said["qal_far"], said["qal"]}
    listed = (await client.get("/v1/claims", params={"q": '"قال من"'})).json()["data"]
    assert [c["id"] for c in listed] == [said["qal_min"]]


async def test_a_query_of_stop_words_finds_names_but_no_text(client, said):
    """Nothing but stop words (or words to exclude) is nothing to look for in text: no claim
    or dispute, not every claim; names still match, stop words or not."""
    manbij = await helpers.actor(client, "مجلس منبج العسكري", kind="organization")
    ali = await helpers.actor(client, "علي باشا")
    for q in ["من", "the", "من في على", "THE OF and", '"من في"', "-قسد", "the -Kurdish"]:
        found = await hits(client, q)
        assert {h["type"] for h in found} <= {"actor"}, (q, found)
        listed = (await client.get("/v1/claims", params={"q": q})).json()
        assert listed["data"] == [] and listed["next_cursor"] is None, q
    assert manbij["id"] in {h["id"] for h in await hits(client, "من")}
    # على and the name Ali are one word once normalised: the name is found, not the text
    assert (await hits(client, "علي"))[0]["id"] == ali["id"]
    assert await claim_ids(client, "علي") == set()


async def test_a_common_query_ranks_the_newest_claims_that_match(client, conn):
    """When enough of the newest claims match, those are the candidates (the bitmap of every
    match in the table is not built); a rarer query still finds every match, however old."""
    speaker = await helpers.actor(client, "Sergei Lavrov")
    rare = await helpers.actor(client, "Hulusi Akar")
    common = COMMON_MATCHES + 10
    # the oldest 100 claims all say zebra, five of them okapi, three of them by a speaker
    # who says nothing else; of the RECENT_WINDOW newest, only `common` say zebra
    total = 100 + RECENT_WINDOW
    await helpers.insert_claims(
        conn,
        total,
        f"""CASE WHEN g <= 5 THEN 'zebra okapi ' || g
                 WHEN g <= 100 OR g > {total - common} THEN 'zebra crossing ' || g
                 ELSE 'crossing ' || g END""",
        f"CASE WHEN g BETWEEN 10 AND 12 THEN {by(rare)} ELSE {by(speaker)} END",
    )
    zebras = await hits(client, "zebra", type="claim", limit=100)
    assert len(zebras) == common
    assert all(int(h["title"].rsplit(" ", 1)[1]) > 100 for h in zebras), zebras
    okapis = await hits(client, "the okapi", type="claim", limit=100)
    assert sorted(int(h["title"].rsplit(" ", 1)[1]) for h in okapis) == [1, 2, 3, 4, 5]
    # a filter narrows the newest claims too: too few match, and the index finds the old ones
    akars = await hits(client, "zebra", type="claim", speaker_id=rare["id"])
    assert sorted(int(h["title"].rsplit(" ", 1)[1]) for h in akars) == [10, 11, 12]
    seen, cursor = [], None
    while True:
        params = {"q": "zebra", "type": "claim", "limit": 7} | (
            {"cursor": cursor} if cursor else {}
        )
        body = (await client.get("/v1/search", params=params)).json()
        seen += [h["id"] for h in body["data"]]
        # the newest claims were read, older ones were not: the page says so, every page
        assert body["incomplete_results"] is True
        if not (cursor := body["next_cursor"]):
            break
    assert seen == [h["id"] for h in zebras]
    # every match was ranked: the five okapis, the speaker's three
    for q, params in (("okapi", {}), ("zebra", {"speaker_id": rare["id"]})):
        body = (await client.get("/v1/search", params={"q": q, "type": "claim", **params})).json()
        assert body["incomplete_results"] is False, (q, body)


async def test_a_query_few_of_the_newest_claims_match_ranks_its_newest_matches(client, conn):
    """Ten of the newest claims say zebra (more than READ_ON_MATCHES, fewer than
    COMMON_MATCHES): the claims before them are read on to the twentieth match, and those
    twenty are the candidates, as a common query's newest matches are; older ones are left
    (the page says so). The claims read on pass the search's filters as the newest do (one
    older zebra in two is in Arabic). Okapi is in ten of the newest and three older claims:
    reading on does not reach twenty, and the index finds all thirteen."""
    speaker = await helpers.actor(client, "Sergei Lavrov")
    few = 10
    assert READ_ON_MATCHES <= few < COMMON_MATCHES
    total = 100 + 3000 + RECENT_WINDOW
    assert total < RECENT_WINDOW + READ_ON_WINDOW  # reading on reaches the oldest
    before = total - RECENT_WINDOW
    await helpers.insert_claims(
        conn,
        total,
        f"""CASE WHEN g <= 3 THEN 'zebra okapi ' || g
                 WHEN g <= 100 OR (g <= {before} AND g % 100 = 0) THEN 'zebra ' || g
                 WHEN g > {total - few} THEN 'zebra okapi ' || g
                 ELSE 'crossing ' || g END""",
        by(speaker),
        lang=f"CASE WHEN g % 200 = 100 AND g <= {before} THEN 'ar' ELSE 'en' END",
    )
    body = await search_body(client, "zebra", type="claim", limit=100)
    found = sorted(int(h["title"].rsplit(" ", 1)[1]) for h in body["data"])
    newest_before = [3100 - 100 * i for i in range(COMMON_MATCHES - few)]
    assert found == sorted([total - i for i in range(few)] + newest_before), found
    assert body["incomplete_results"] is True
    body = await search_body(client, "zebra", type="claim", lang="en", limit=100)
    found = sorted(int(h["title"].rsplit(" ", 1)[1]) for h in body["data"])
    english_before = [3000 - 200 * i for i in range(COMMON_MATCHES - few)]
    assert found == sorted([total - i for i in range(few)] + english_before), found
    body = await search_body(client, "okapi", type="claim", limit=100)
    found = sorted(int(h["title"].rsplit(" ", 1)[1]) for h in body["data"])
    assert found == [1, 2, 3] + [total - few + 1 + i for i in range(few)], found
    assert body["incomplete_results"] is False


async def test_the_newest_matches_are_candidates_when_the_index_finds_the_rest(client, conn):
    """Three of the newest claims say zebra (fewer than READ_ON_MATCHES) and 300 old ones do:
    the index finds the matches, more than SEARCH_CANDIDATES, and the first it yields are the
    oldest; the three newest, found already, are candidates with them (they were left out)."""
    speaker = await helpers.actor(client, "Sergei Lavrov")
    few, old = 3, 300
    assert few < READ_ON_MATCHES and old > SEARCH_CANDIDATES
    total = old + 100 + RECENT_WINDOW
    await helpers.insert_claims(
        conn,
        total,
        f"CASE WHEN g <= {old} OR g > {total - few} THEN 'zebra ' ELSE 'crossing ' END || g",
        by(speaker),
    )
    body = await search_body(client, "zebra", type="claim", limit=100)
    found = [int(h["title"].rsplit(" ", 1)[1]) for h in body["data"]]
    # ranked alike, newest first: the three newest, then the index's (the oldest claims)
    assert found[:few] == [total - i for i in range(few)], found
    assert all(g <= SEARCH_CANDIDATES for g in found[few:]), found
    assert body["incomplete_results"] is True


async def test_the_matches_read_on_are_candidates_when_the_index_finds_the_rest(client, conn):
    """Ten of the newest claims say zebra, six of the READ_ON_WINDOW before them, 300 old
    ones: reading on falls short of COMMON_MATCHES and the index finds the matches, the
    oldest first; the sixteen found already are candidates with the first 184 of them."""
    speaker = await helpers.actor(client, "Sergei Lavrov")
    few, read_on, old = 10, 6, 300
    assert READ_ON_MATCHES <= few and few + read_on < COMMON_MATCHES
    total = old + 100 + READ_ON_WINDOW + RECENT_WINDOW
    earlier = [total - RECENT_WINDOW - 500 * (i + 1) for i in range(read_on)]
    await helpers.insert_claims(
        conn,
        total,
        f"""CASE WHEN g <= {old} OR g > {total - few} OR g IN ({", ".join(map(str, earlier))})
                 THEN 'zebra ' ELSE 'crossing ' END || g""",
        by(speaker),
    )
    seen, cursor = [], None
    while True:
        params = {"q": "zebra", "type": "claim", "limit": 37} | (
            {"cursor": cursor} if cursor else {}
        )
        body = await search_body(client, **params)
        seen += [int(h["title"].rsplit(" ", 1)[1]) for h in body["data"]]
        assert body["incomplete_results"] is True
        if not (cursor := body["next_cursor"]):
            break
    newest = [total - i for i in range(few)] + earlier
    assert seen == newest + list(range(SEARCH_CANDIDATES - few - read_on, 0, -1)), seen


@pytest.mark.parametrize("oldest", [1, 2])
async def test_reading_on_to_the_oldest_claim_left_nothing_unread(client, conn, oldest):
    """Ten of the newest claims and ten of the oldest say zebra: reading on finds the
    twentieth match. When it is the oldest claim, nothing was left unread and the page says
    every match was ranked; with one claim older than it, one may have been left (a review
    found the page saying so either way)."""
    speaker = await helpers.actor(client, "Sergei Lavrov")
    total = RECENT_WINDOW + 20
    await helpers.insert_claims(
        conn,
        total,
        f"""CASE WHEN g > {total - 10} OR g BETWEEN {oldest} AND {oldest + 9} THEN 'zebra '
                 ELSE 'crossing ' END || g""",
        by(speaker),
    )
    body = await search_body(client, "zebra", type="claim", limit=100)
    assert len(body["data"]) == COMMON_MATCHES
    assert body["incomplete_results"] is (oldest > 1)


async def search_body(client, q, **params):
    response = await client.get("/v1/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_search_says_when_more_claims_match_than_it_ranked(client, conn):
    """A search ranks at most SEARCH_CANDIDATES claims: past them, `incomplete_results` says
    so, instead of a last page that looks like the end of every match (it ended silently
    before). Fewer, and a common word read in a table no larger than the newest claims
    read, are every match: false."""
    speaker = await helpers.actor(client, "Sergei Lavrov")
    await helpers.insert_claims(conn, SEARCH_CANDIDATES, "'giraffe ' || g", by(speaker))
    # as many as are ranked: more may match
    body = await search_body(client, "giraffe", type="claim", limit=200)
    assert (len(body["data"]), body["incomplete_results"]) == (SEARCH_CANDIDATES, True)
    await conn.execute("DELETE FROM claims WHERE text = 'giraffe 1'")
    body = await search_body(client, "giraffe", type="claim", limit=200)
    assert (len(body["data"]), body["incomplete_results"]) == (SEARCH_CANDIDATES - 1, False)
    # every claim in the table among the newest read: a common word's matches are all ranked
    assert RECENT_WINDOW > SEARCH_CANDIDATES
    body = await search_body(client, "giraffe", limit=5)
    assert (len(body["data"]), body["incomplete_results"]) == (5, False)
    # disputes: at most as many ranked too
    await conn.execute(
        """INSERT INTO disputes (id, title, question)
           SELECT ('01937a5f-' || lpad(to_hex(g), 4, '0') || '-7000-8000-'
                   || lpad(to_hex(g), 12, '0'))::uuid, 'Okapi ' || g, 'Did the okapi ' || g
           FROM generate_series(1, $1) AS g""",
        SEARCH_CANDIDATES,
    )
    body = await search_body(client, "okapi", type="dispute", limit=3)
    assert (len(body["data"]), body["incomplete_results"]) == (3, True)
    await conn.execute("DELETE FROM disputes WHERE title = 'Okapi 1'")
    assert (await search_body(client, "okapi", limit=3))["incomplete_results"] is False
    # nothing found, nothing left out
    assert (await search_body(client, "zebra"))["incomplete_results"] is False


async def test_statistics_of_an_emptier_table_do_not_say_every_match_was_ranked(client, conn):
    """Statistics taken when the table was empty say 0 claims until autovacuum comes round:
    a common word's newest matches were ranked and older ones left, which they must not
    hide (found by a review: `incomplete_results` was false, 100 of 200 matches reached)."""
    speaker = await helpers.actor(client, "Sergei Lavrov")
    await conn.execute("ANALYZE claims")
    await helpers.insert_claims(
        conn,
        2 * RECENT_WINDOW,
        "CASE WHEN g % 20 = 0 THEN 'okapi ' ELSE 'zebra ' END || g",
        by(speaker),
    )
    assert await conn.fetchval("SELECT reltuples FROM pg_class WHERE relname = 'claims'") == 0
    body = await search_body(client, "okapi", type="claim", limit=200)
    assert len(body["data"]) == RECENT_WINDOW // 20  # the newest claims' matches
    assert body["incomplete_results"] is True


async def test_near_misses_are_reached_by_paging_past_the_strong_matches(client):
    """Names that match strongly filled the first page, and near misses were looked for only
    when the strong matches of the whole search did not fill one: paging on ended with the
    strong ones, the near miss never shown (found by a review)."""
    for name in ("Lavrov Alpha", "Lavrov Beta", "Lavrov Gamma", "Lavrof"):
        await helpers.actor(client, name)
    everything = [h["title"] for h in await hits(client, "Lavrov", type="actor", limit=10)]
    assert everything[-1] == "Lavrof" and len(everything) == 4
    paged = [h["title"] for h in await every_page(client, "Lavrov", type="actor", limit=2)]
    assert paged == everything


@pytest.mark.parametrize(
    "normalised, raw, expected",
    [
        # as written, and the English stem; the Arabic configuration gives the written word
        ("patrols", "patrols", "'patrols' | 'patrol':D"),
        ("safe zone", "safe zone", "'safe' & 'zone'"),
        # as written (normalised) or without the article, and the Arabic stem; English gives
        # the written word
        ("الامنه", "الآمنة", "'الامنه' | 'امنه' | 'امن':D"),
        # the Arabic stem is the word without the article: once
        ("الانسحاب", "الانسحاب", "'الانسحاب' | 'انسحاب'"),
        # each word offered without the article, the phrase kept
        (
            '"المنطقه الامنه"',
            '"المنطقة الآمنة"',
            "( 'المنطقه' | 'منطقه' ) <-> ( 'امنه' | 'الامنه' ) | 'منطق':D <-> 'امن':D",
        ),
        # لل is ل and the article, or ل before a word's own ل: both
        ("للاجيين", "للاجئين", "'للاجيين' | 'اجيين' | 'لاجيين' | 'اجء':D"),
        # a word and its form with the article: each word's own alternatives, not a form of
        # a form (التزام is the first word's form, تزام the second's)
        ("الالتزام التزام", "الالتزام التزام", "( 'التزام' | 'تزام' ) & ( 'الالتزام' | 'التزام' )"),
        # no article to take off: a word that begins with ب is looked for as typed (and as
        # PostgreSQL's Arabic stemmer has it), not without the ب
        ("بيان", "بيان", "'بيان' | 'يان':D"),
        ("قسد", "قسد", "'قسد'"),
    ],
)
async def test_a_query_holds_each_alternative_once(conn, normalised, raw, expected):
    """The three configurations' readings of a query are joined with ``|``, each once: a copy
    matches nothing more, and ranking looked for the covers of every copy (migration 0012).
    A word with the Arabic article is also looked for without it, and the stems match words
    (weight D), not a word's forms without its prefix (migration 0024)."""
    assert await conn.fetchval("SELECT claimdesk_tsquery($1, $2)::text", normalised, raw) == (
        expected
    )


async def test_a_claim_hit_title_is_one_line(client):
    """A claim's title kept the text's line breaks and runs of spaces (a new user's
    walkthrough): white space is one space in it, none at its ends."""
    akar = await helpers.actor(client)
    src = await helpers.source(client)
    await helpers.claim(
        client, akar["id"], src["id"], text="  First line\nsecond  quokkabird\tline   ", lang="en"
    )
    (hit,) = await hits(client, "quokkabird", type="claim")
    assert hit["title"] == "Hulusi Akar: First line second quokkabird line"


async def test_persian_keyboard_letters_find_the_arabic_ones_and_back(client):
    """`آکار` (keheh) finds آكار and `عین عیسی` (Farsi yeh) finds عين عيسى: what a Persian
    keyboard types for kaf and yeh found nothing (a fact-checker's walkthrough; migration
    0023). Written as code points: the letters look alike and reorder on screen."""
    akar = await helpers.actor(client, "\u062e\u0644\u0648\u0635\u064a \u0622\u0643\u0627\u0631")
    src = await helpers.source(client)
    ain_issa = "\u0639\u064a\u0646 \u0639\u064a\u0633\u0649"  # عين عيسى
    claim = await helpers.claim(client, akar["id"], src["id"], text=f"دخلوا {ain_issa}")
    keheh = "\u0622\u06a9\u0627\u0631"  # آکار
    (exact,) = await hits(client, keheh, type="actor")
    assert exact["id"] == akar["id"]
    typed = (await client.get("/v1/actors", params={"name": keheh})).json()
    assert [a["id"] for a in typed["data"]] == [akar["id"]]
    (hit,) = await hits(client, "\u0639\u06cc\u0646 \u0639\u06cc\u0633\u06cc", type="claim")
    assert hit["id"] == claim["id"] and "<mark>" in hit["snippet"]
    # and a claim typed on a Persian keyboard is found by the Arabic spelling
    persian = await helpers.claim(
        client, akar["id"], src["id"], text="\u06a9\u0648\u0628\u0627\u0646\u06cc"
    )
    (hit,) = await hits(client, "\u0643\u0648\u0628\u0627\u0646\u064a", type="claim")
    assert hit["id"] == persian["id"]


async def test_latin_diacritics_are_folded_both_ways(client):
    """`Erdogan` finds Erdoğan and `Çavuşoğlu` finds Cavusoglu, names and claims alike, and
    the snippet marks the spelling the text used (migration 0021; a fact-checker typing a
    Turkish name without Turkish letters found neither)."""
    erdogan = await helpers.actor(client, "Recep Tayyip Erdoğan")
    src = await helpers.source(client)
    claim = await helpers.claim(
        client, erdogan["id"], src["id"], text="Mevlüt Cavusoglu ile görüştük", lang="tr"
    )
    # an exact match of the name, not a near miss
    (exact,) = await hits(client, "recep tayyip erdogan", type="actor")
    assert (exact["id"], exact["score"]) == (erdogan["id"], 1.0)
    typed = (await client.get("/v1/actors", params={"name": "Erdogan"})).json()
    assert [a["id"] for a in typed["data"]] == [erdogan["id"]]
    (hit,) = await hits(client, "Çavuşoğlu görüştük", type="claim")
    assert hit["id"] == claim["id"]
    assert "<mark>Cavusoglu</mark>" in hit["snippet"] and "<mark>görüştük</mark>" in hit["snippet"]
    (hit,) = await hits(client, "gorustuk", type="claim")
    assert "<mark>görüştük</mark>" in hit["snippet"]


async def test_arabic_words_find_each_other_with_and_without_their_prefixes(client, demo):
    """`صعوبات` finds Akar's `الصعوبات`, `انسحاب` and `الانسحاب` the Sochi claim's `بانسحاب`,
    `ضامن` Awtan Post's `كضامن`: the article and the particles Arabic writes onto a word
    kept them apart (a fact-checker's walkthrough; migration 0024). The snippet marks the
    word after its prefix."""

    async def found(q):
        return {h["title"]: h["snippet"] for h in await hits(client, q, type="claim", limit=100)}

    difficulties = await found("صعوبات")
    assert any(t.startswith("Hulusi Akar: وأعرب آكار") for t in difficulties), difficulties
    assert all("ال<mark>صعوبات</mark>" in s for s in difficulties.values()), difficulties
    assert (await found("الصعوبات")).keys() == difficulties.keys()
    for q in ["انسحاب", "الانسحاب", "بالانسحاب"]:
        (withdrawal,) = (await found(q)).values()
        assert "ب<mark>انسحاب</mark> ميليشيات" in withdrawal, (q, withdrawal)
    guarantor = await found("ضامن")
    assert len(guarantor) == 2 and all("ك<mark>ضامن</mark>" in s for s in guarantor.values())
    # in a phrase too: each word with or without its prefix, next to each other
    assert (await found('"انسحاب ميليشيات"')).keys() == (await found("بانسحاب")).keys()
    assert (await found('"صعوبات في خلال"')).keys() < difficulties.keys()


async def test_an_exclusion_leaves_out_every_form_of_the_word(client):
    """`-word` leaves out a claim that holds the word in any form the search would find it by:
    as written, without its prefix, through its Arabic or English stem. A query was its
    readings joined with "or", each excluding its own form of the word, and another reading
    found what one left out (`مجلس -الصعوبات` found "مجلس بصعوبات" through the Arabic stems,
    `council -patrol` "patrols" through the words as written). Wherever the exclusion stands
    (after `or` too), in search and in the claims list; an excluded phrase by the readings
    that keep all its words (`-"the regime"` does not leave out every claim saying regime)."""
    speaker = await helpers.actor(client, "Sergei Lavrov")
    src = await helpers.source(client)

    async def claim(text):
        return (await helpers.claim(client, speaker["id"], src["id"], text=text))["id"]

    assert [h["type"] for h in await hits(client, "Lavrov")] == ["actor"]
    hard = await claim("اجتمع مجلس الامن بصعوبات كبيرة")
    plain = await claim("اجتمع مجلس الامن امس")
    patrols = await claim("The council discussed joint patrols")
    envoy = await claim("The council met the regime envoy")
    forces = await claim("The council criticised regime forces")
    assert await claim_ids(client, "مجلس") == {hard, plain}
    for q in ["مجلس -الصعوبات", "مجلس -صعوبات", "-الصعوبات مجلس", "مجلس or -الصعوبات"]:
        assert await claim_ids(client, q) == {plain}, q
        listed = (await client.get("/v1/claims", params={"q": q})).json()["data"]
        assert [c["id"] for c in listed] == [plain], q
    assert await claim_ids(client, "مجلس -بصعوبات") == {plain}
    assert await claim_ids(client, "council") == {patrols, envoy, forces}
    assert await claim_ids(client, "council -patrol") == {envoy, forces}
    assert await claim_ids(client, "council -PATROLLING") == {envoy, forces}  # one stem
    assert await claim_ids(client, 'council -"the regime"') == {patrols, forces}
    assert await claim_ids(client, 'council -"regimes envoy"') == {patrols, forces}
    assert await claim_ids(client, "council (-regime)") == {patrols}
    # what normalises to a space before a minus (a review's finding: every claim was found)
    assert await claim_ids(client, "council \u00b4-patrol") == {envoy, forces}
    assert await hits(client, "\u00b4-\u0642\u0633\u062f") == []  # ´-قسد
    # an excluded word is no name to look for, nor marked
    assert await hits(client, "-Lavrov") == []
    assert await hits(client, "5 -Lavrov") == []  # was Lavrov, marked in his names


async def test_a_query_with_nothing_to_look_for_parses_nothing(conn):
    """Stop words or exclusions alone look for no text: the search's full-text parameters
    are NULL and nothing is parsed (PostgreSQL sent five "text-search query doesn't contain
    lexemes" notices a search)."""
    notices = []
    conn.add_log_listener(lambda _, message: notices.append(message))
    filters = SearchFilters(types=ALL_TYPES)
    for q in ["the", "-قسد", "من -the"]:
        assert await queries.search(conn, search_words(q), filters, 21, None) == []
    await conn.execute("DO $$ BEGIN RAISE NOTICE 'heard'; END $$")  # notices are heard
    assert [n.message for n in notices] == ["heard"]


async def test_or_finds_either_actor(client, demo):
    """`روسيا or قسد` looks for either in names too, as in text: it found neither actor; and
    names are looked for without the query's exclusions, in search and the actors list (a
    walkthrough's finding: `-Russia` listed Russia, `قسد or -روسيا` found no SDF)."""
    russia, sdf = demo["russia"]["id"], demo["sdf"]["id"]
    for q in ["روسيا or قسد", "Russia OR SDF"]:
        assert {russia, sdf} <= {h["id"] for h in await hits(client, q, type="actor")}, q
        listed = (await client.get("/v1/actors", params={"q": q})).json()["data"]
        assert {russia, sdf} <= {a["id"] for a in listed}, q
    for q, found in [("-Russia", set()), ("SDF -Russia", {sdf}), ("قسد or -روسيا", {sdf})]:
        assert {h["id"] for h in await hits(client, q, type="actor")} == found, q
        listed = (await client.get("/v1/actors", params={"q": q})).json()["data"]
        assert {a["id"] for a in listed} == found, q


async def test_a_word_beginning_with_a_prefix_letter_is_not_another_word(client):
    """A word searched for loses only its article: `بيان` (a statement) does not find
    `كيان` (an entity), nor `بلدية` (a municipality) `لديه` (he has), whose letters after
    the first are the same. A stored word loses any prefix where three letters are left, so
    that `غزة` and `قسد` find `لغزة` and `لقسد`; `للاجئين` typed is ل and `اللاجئين`.
    Excluding a word with or without its article excludes a text that writes it with it
    (migration 0024)."""
    speaker = await helpers.actor(client, "Sergei Lavrov")
    src = await helpers.source(client)

    async def claim(text):
        return (await helpers.claim(client, speaker["id"], src["id"], text=text))["id"]

    statement = await claim("أصدرت الحكومة بيانا")
    entity = await claim("قيام كيان جديد")
    has = await claim("ليس لديه علم")
    municipality = await claim("اجتمع مجلس البلدية")
    gaza = await claim("وصلت المساعدات لغزة")
    sdf = await claim("قدمت واشنطن دعما لقسد")
    refugees = await claim("عاد اللاجئون الى المخيم")
    assert await claim_ids(client, "بيان") == await claim_ids(client, "البيان") == set()
    assert await claim_ids(client, "بيانا") == {statement}
    assert await claim_ids(client, "كيان") == {entity}
    assert await claim_ids(client, "بلدية") == {municipality}
    assert await claim_ids(client, "لديه") == {has}
    assert await claim_ids(client, "غزة") == {gaza}
    assert await claim_ids(client, "قسد") == {sdf}
    assert await claim_ids(client, "للاجئون") == {refugees}
    assert await claim_ids(client, "مجلس -البلدية") == set()
    assert await claim_ids(client, "مجلس -بلدية") == set()
    # a text that says the word as searched ranks above one that says it with a prefix (made
    # first, so that the newer is not first by its id alone), whose form counts half a word
    # as written: 0.05 (weight C), not ts_rank_cd's default 0.2
    written = await claim("وصلت المساعدات غزة امس")
    prefixed = await claim("وصلت المساعدات بغزة امس")
    found = await hits(client, "غزة", type="claim")
    assert [h["id"] for h in found].index(written) < [h["id"] for h in found].index(prefixed)
    assert {h["id"] for h in found} == {gaza, prefixed, written}
    (score,) = [h["score"] for h in found if h["id"] == prefixed]
    assert score == pytest.approx(0.05, rel=1e-3)


async def test_a_snippet_opens_no_bidirectional_override(client):
    """A snippet is HTML a page inserts as it is: an override or embedding it left open (the
    text cut anywhere) turned the page's text after it backwards (a CMS developer's
    walkthrough). They are left out of every snippet of the page; an RLM stays."""
    speaker = await helpers.actor(client, "Zebra Reporter")
    src = await helpers.source(client)
    text = "A zebrafish report \u202eunbalanced override here and \u2067an isolate\u200f."
    await helpers.claim(client, speaker["id"], src["id"], text=text, lang="en")
    await helpers.claim(client, speaker["id"], src["id"], text="Zebrafish, plainly.", lang="en")
    found = await hits(client, "zebrafish", type="claim")
    snippets = sorted(h["snippet"] for h in found)
    assert snippets == [
        "<mark>Zebrafish</mark>, plainly.",
        "A <mark>zebrafish</mark> report unbalanced override here and an isolate\u200f.",
    ], snippets


async def test_a_long_claim_keeps_its_search_vector_in_its_row(client, conn):
    """A claim with translations has a search vector of 2 to 3 kB; PostgreSQL moved it out
    of the row (to the TOAST table) and a search looked it up there twice a candidate, some
    6% of its work (migration 0028). A row of up to 8 kB now stays whole; a larger one is
    still moved out."""
    speaker = await helpers.actor(client, "Zebra Reporter")
    src = await helpers.source(client)
    toast = await conn.fetchval(
        "SELECT reltoastrelid::regclass::text FROM pg_class WHERE oid = 'claims'::regclass"
    )

    async def toasted() -> int:
        return await conn.fetchval(f"SELECT count(DISTINCT chunk_id) FROM {toast}")

    words = " ".join(f"zebra{i} crossing{i} stripes{i}" for i in range(60))
    made = await helpers.claim(
        client,
        speaker["id"],
        src["id"],
        text=f"{words} ends here.",
        lang="en",
        translations=[{"lang": "ar", "text": f"الحمار الوحشي {words}"}],
    )
    row = await conn.fetchval("SELECT pg_column_size(c.*) FROM claims c WHERE id = $1", made["id"])
    assert 2_500 < row < 8_000, row  # over the 2 kB that moved a value out before
    assert await toasted() == 0
    assert [h["id"] for h in await hits(client, "zebra59", type="claim")] == [made["id"]]
    # a row over 8 kB is still toasted
    longer = " ".join(f"okapi{i} forest{i} giraffe{i}" for i in range(400))
    await helpers.claim(client, speaker["id"], src["id"], text=longer, lang="en")
    assert await toasted() > 0
