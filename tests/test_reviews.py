"""Reviews: rating bounds, refused deletes, ClaimReview JSON-LD."""

from __future__ import annotations

import json
from uuid import UUID

import pytest

from tests import helpers
from tests.helpers import fields, problem, snapshot

pytestmark = pytest.mark.compat


@pytest.fixture
async def world(client):
    russia = await helpers.create(client, "actors", {"kind": "state", "name": "Russia"})
    akar = await helpers.actor(client)
    checker = await helpers.create(
        client, "actors", {"kind": "organization", "name": "Demo Fact-Check"}
    )
    src = await helpers.source(
        client, title="Awtan Post on Ain Issa", url="https://www.awtanpost.com/2019/11/24/ain-issa/"
    )
    claim = await helpers.claim(
        client,
        russia["id"],
        src["id"],
        relayed_by_id=akar["id"],
        text="أخلوا تماماً",
        translations=[{"lang": "en", "text": "They fully left."}],
        stated_on="2019-11-01",
        stated_on_precision="month",
    )
    return {"russia": russia, "akar": akar, "checker": checker, "source": src, "claim": claim}


def review_body(world, **extra):
    return {
        "claim_id": world["claim"]["id"],
        "reviewer_id": world["checker"]["id"],
        "rating": {"label": "Disputed", "value": 2, "best": 5, "worst": 1},
        "summary": "Turkey's defence minister contradicts it.",
        "published_at": "2019-11-25",
        "lang": "en",
        **extra,
    }


async def test_crud_and_embedding_in_the_claim(client, world):
    review = await helpers.create(client, "reviews", review_body(world))
    assert review["reviewer"] == {
        "id": world["checker"]["id"],
        "name": "Demo Fact-Check",
        "kind": "organization",
    }
    assert (await client.get(f"/v1/reviews/{review['id']}")).json() == review
    claim = (await client.get(f"/v1/claims/{world['claim']['id']}")).json()
    assert [r["id"] for r in claim["reviews"]] == [review["id"]]
    listed = (await client.get("/v1/reviews", params={"claim_id": world["claim"]["id"]})).json()
    assert [r["id"] for r in listed["data"]] == [review["id"]]
    assert (await client.get("/v1/reviews", params={"reviewer_id": world["akar"]["id"]})).json()[
        "data"
    ] == []

    patched = (
        await client.patch(
            f"/v1/reviews/{review['id']}",
            json={"rating": {"label": "Misleading", "value": 1, "best": 5, "worst": 1}},
        )
    ).json()
    assert patched["version"] == 2 and patched["rating"]["label"] == "Misleading"
    assert patched["summary"] == review["summary"]
    assert (await client.delete(f"/v1/reviews/{review['id']}")).status_code == 204
    revisions = (await client.get(f"/v1/reviews/{review['id']}/revisions")).json()["data"]
    assert [r["action"] for r in revisions] == ["delete", "update", "create"]


@pytest.mark.parametrize(
    "rating, field",
    [
        ({"label": "x", "value": 6, "best": 5, "worst": 1}, "rating.value"),
        ({"label": "x", "value": 0, "best": 5, "worst": 1}, "rating.value"),
        ({"label": "x", "value": 1, "best": 1, "worst": 1}, "rating.best"),
        ({"label": "x", "value": 3, "best": 1, "worst": 5}, "rating.best"),
        ({"label": "", "value": 3, "best": 5, "worst": 1}, "rating.label"),
        ({"label": "x", "value": 3, "best": 5}, "rating.worst"),
        ({"label": "x", "value": 2.5, "best": 5, "worst": 1}, "rating.value"),
    ],
)
async def test_rating_bounds(client, conn, world, rating, field):
    before = await snapshot(conn)
    body = problem(await client.post("/v1/reviews", json=review_body(world, rating=rating)), 422)
    assert fields(body) == {field}, body
    assert await snapshot(conn) == before


@pytest.mark.parametrize("summary", ["", "   ", "\u200b", "\n\t"])
async def test_a_summary_has_something_to_read(client, conn, world, summary):
    """A summary is shown to readers (the card, ClaimReview's reviewBody) as a dispute's
    notes are, and held to their rule: a visible character (``""`` and white space were
    stored, and ``"reviewBody": ""`` published); none is ``null``."""
    review = await helpers.create(client, "reviews", review_body(world))
    before = await snapshot(conn)
    body = problem(await client.post("/v1/reviews", json=review_body(world, summary=summary)), 422)
    assert fields(body) == {"summary"}, body
    patched = await client.patch(f"/v1/reviews/{review['id']}", json={"summary": summary})
    assert fields(problem(patched, 422)) == {"summary"}
    assert await snapshot(conn) == before
    cleared = await client.patch(f"/v1/reviews/{review['id']}", json={"summary": None})
    assert cleared.status_code == 200 and cleared.json()["summary"] is None, cleared.text


@pytest.mark.parametrize("broken", ["https://[::1/", "https://example.com:99999/"])
async def test_a_review_url_is_one_a_browser_can_follow(client, conn, world, broken):
    """A review's url is published (the card, ClaimReview's url) and was stored as long as it
    matched the pattern; now checked as a source's url is, when sent."""
    review = await helpers.create(client, "reviews", review_body(world))
    before = await snapshot(conn)
    made = await client.post("/v1/reviews", json=review_body(world, url=broken))
    assert fields(problem(made, 422)) == {"url"}
    patched = await client.patch(f"/v1/reviews/{review['id']}", json={"url": broken})
    assert fields(problem(patched, 422)) == {"url"}
    assert await snapshot(conn) == before
    await conn.execute("UPDATE reviews SET url = $1 WHERE id = $2", broken, review["id"])
    kept = await client.patch(f"/v1/reviews/{review['id']}", json={"summary": "Mended."})
    assert kept.status_code == 200 and kept.json()["url"] == broken, kept.text


async def test_rating_bounds_hold_on_patch_and_in_the_database(client, conn, world):
    review = await helpers.create(client, "reviews", review_body(world))
    before = await snapshot(conn)
    problem(
        await client.patch(
            f"/v1/reviews/{review['id']}",
            json={"rating": {"label": "x", "value": 9, "best": 5, "worst": 1}},
        ),
        422,
    )
    assert await snapshot(conn) == before
    with pytest.raises(Exception, match="reviews__rating_value"):
        await conn.execute("UPDATE reviews SET rating_value = 9")


async def test_dangling_and_refused_deletes(client, conn, world):
    missing = "01937a5e-0000-7000-8000-000000000000"
    before = await snapshot(conn)
    body = problem(
        await client.post(
            "/v1/reviews", json=review_body(world, claim_id=missing, reviewer_id=missing)
        ),
        422,
    )
    assert fields(body) == {"claim_id", "reviewer_id"}
    assert await snapshot(conn) == before

    review = await helpers.create(client, "reviews", review_body(world))
    before = await snapshot(conn)
    body = problem(await client.delete(f"/v1/actors/{world['checker']['id']}"), 409)
    assert body["held_by"] == [
        {"resource": "reviews", "field": "reviewer_id", "count": 1, "ids": [review["id"]]}
    ]
    body = problem(await client.delete(f"/v1/claims/{world['claim']['id']}"), 409)
    assert [h["resource"] for h in body["held_by"]] == ["reviews"]
    assert await snapshot(conn) == before


async def test_claim_review_json_ld(client, world):
    url = f"/v1/claims/{world['claim']['id']}/claim-review"
    empty = await client.get(url)
    assert empty.status_code == 200 and empty.json() == []
    await helpers.create(client, "reviews", review_body(world, url="https://check.example/1"))

    response = await client.get(url)
    assert response.headers["content-type"].startswith("application/ld+json")
    (review,) = json.loads(response.content)
    assert review["@context"] == "https://schema.org"
    assert review["@type"] == "ClaimReview"
    assert review["claimReviewed"] == "They fully left."  # the review's language
    assert review["itemReviewed"] == {
        "@type": "Claim",
        "author": {"@type": "Organization", "name": "Russia"},
        "datePublished": "2019-11",
        "appearance": [
            {
                "@type": "CreativeWork",
                "headline": "Awtan Post on Ain Issa",
                "url": "https://www.awtanpost.com/2019/11/24/ain-issa/",
            }
        ],
        "firstAppearance": {
            "@type": "CreativeWork",
            "headline": "Awtan Post on Ain Issa",
            "url": "https://www.awtanpost.com/2019/11/24/ain-issa/",
        },
    }
    assert review["reviewRating"] == {
        "@type": "Rating",
        "ratingValue": 2,
        "bestRating": 5,
        "worstRating": 1,
        "alternateName": "Disputed",
    }
    assert review["author"] == {"@type": "Organization", "name": "Demo Fact-Check"}
    assert review["url"] == "https://check.example/1"
    assert review["datePublished"] == "2019-11-25"
    assert review["inLanguage"] == "en"
    problem(await client.get("/v1/claims/01937a5e-0000-7000-8000-000000000000/claim-review"), 404)


async def test_a_review_url_no_browser_could_reach_is_refused_and_a_stored_one_kept(
    client, conn, world
):
    """A review's url is shown to readers (ClaimReview): one whose host no browser could
    reach is a 422 naming it; one stored before that check stays, also when a PATCH sends
    it back unchanged with other fields."""
    body = problem(
        await client.post("/v1/reviews", json=review_body(world, url="https://1.2.3.4.5/r")), 422
    )
    assert fields(body) == {"url"} and "IPv4" in body["errors"][0]["message"]
    review = await helpers.create(client, "reviews", review_body(world))
    await conn.execute(
        "UPDATE reviews SET url = $1 WHERE id = $2", "https://1.2.3.4.5/r", UUID(review["id"])
    )
    kept = await client.patch(
        f"/v1/reviews/{review['id']}",
        json={"summary": "Still disputed.", "url": "https://1.2.3.4.5/r"},
    )
    assert kept.status_code == 200, kept.text
    assert kept.json()["url"] == "https://1.2.3.4.5/r"
    moved = await client.patch(f"/v1/reviews/{review['id']}", json={"url": "https://a..b/r"})
    assert fields(problem(moved, 422)) == {"url"}
