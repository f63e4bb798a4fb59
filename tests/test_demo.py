"""The reference article end to end: `claimdesk demo` loads it through the query layer,
idempotently, and the API then tells its story."""

from __future__ import annotations

import pytest

from service import demo_data
from service.demo import load
from tests.helpers import snapshot

pytestmark = pytest.mark.compat


async def test_demo_loads_the_article_once(client, conn, settings, database_url):
    counts = await load(settings, database_url)
    assert counts == {
        "actors": len(demo_data.ACTORS),
        "sources": 1,
        "claims": len(demo_data.CLAIMS),
        "disputes": len(demo_data.DISPUTES),
        "reviews": len(demo_data.REVIEWS),
    }
    before = await snapshot(conn)
    assert await load(settings, database_url) == dict.fromkeys(counts, 0)
    assert await snapshot(conn) == before  # running it twice adds nothing
    # every demo write went through the write path
    assert await conn.fetchval("SELECT count(*) FROM revisions WHERE changed_by = 'demo'") == (
        sum(counts.values())
    )


async def test_the_article_story_through_the_api(client, settings, database_url):
    await load(settings, database_url)

    async def one(path, **params):
        response = await client.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    # the SDF is found by its Arabic abbreviation and by its English name
    sdf = (await one("/v1/actors", name="قسد"))["data"]
    assert len(sdf) == 1
    assert (await one("/v1/actors", name="SDF"))["data"][0]["id"] == sdf[0]["id"]
    akar = (await one("/v1/actors", name="Hulusi Akar"))["data"][0]
    russia = (await one("/v1/actors", name="Russia"))["data"][0]

    # the source and every claim in it
    awtan = (await one("/v1/actors", name="أوطان بوست"))["data"][0]
    (source,) = (await one("/v1/sources", publisher_id=awtan["id"]))["data"]
    assert source["title"] == demo_data.TITLE and source["published_at"] == "2019-11-24"
    claims = (await one("/v1/claims", source_id=source["id"], limit=200))["data"]
    assert len(claims) == len(demo_data.CLAIMS)
    assert all(
        c["lang"] == "ar" and any(t["lang"] == "en" for t in c["translations"]) for c in claims
    )

    # Russia's withdrawal claim is known only through Akar
    relayed = (await one("/v1/claims", speaker_id=russia["id"], relayed_by_id=akar["id"]))["data"]
    assert len(relayed) == 1
    # Akar speaks as Turkey's Minister of National Defence on that date
    akars = (await one("/v1/claims", speaker_id=akar["id"]))["data"]
    assert akars and all(
        c["speaker"]["role"]["role"] == "Minister of National Defence"
        and c["speaker"]["role"]["organization_name"] == "Turkey"
        for c in akars
    )

    # the canonical dispute: Russia affirms, Akar denies
    (dispute,) = [
        d
        for d in (await one("/v1/disputes", claim_id=relayed[0]["id"]))["data"]
        if d["question"] == "Has the SDF fully withdrawn from the safe zone?"
    ]
    assert [p["claim"]["speaker"]["id"] for p in dispute["sides"]["affirms"]] == [russia["id"]]
    assert {p["claim"]["speaker"]["id"] for p in dispute["sides"]["denies"]} == {akar["id"]}
    contradictions = await one(f"/v1/claims/{relayed[0]['id']}/contradictions")
    assert {c["claim"]["speaker"]["id"] for c in contradictions["data"]} == {akar["id"]}

    # the sample review, as JSON-LD for a page
    (ld,) = await one(f"/v1/claims/{relayed[0]['id']}/claim-review")
    assert ld["@type"] == "ClaimReview" and ld["itemReviewed"]["author"]["name"] == "Russia"
