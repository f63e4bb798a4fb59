"""The public dispute card, oEmbed and ClaimReview JSON-LD (/embed, /oembed): the HTML's
structure (read back with the standard library's parser), escaping of hostile text, no
external resources, caching, the embeds setting, and the card in a real headless Chromium."""

from __future__ import annotations

import json
import os
import re
import uuid
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.demo import load
from service.embed import i18n
from tests import helpers
from tests.browser import Chromium, chromium_binary
from tests.helpers import actor, claim, create, problem, source

RLO = "\u202e"
HOSTILE = f'<script>alert("x")</script> \' " {RLO}evil'

# ------------------------------------------------------------------ reading the HTML back

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self) -> Any:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def all(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        return [
            n
            for n in self.iter()
            if (tag is None or n.tag == tag)
            and (cls is None or cls in (n.attrs.get("class") or "").split())
        ]

    def one(self, tag: str | None = None, cls: str | None = None) -> Node:
        found = self.all(tag, cls)
        assert len(found) == 1, (tag, cls, len(found))
        return found[0]

    def ancestors(self) -> list[Node]:
        out, node = [], self.parent
        while node is not None:
            out.append(node)
            node = node.parent
        return out


class TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root
        self.declarations: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.declarations.append(decl)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = [name for name, _ in attrs]
        assert len(names) == len(set(names)), f"repeated attribute in <{tag}>: {names}"
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(Node(tag, dict(attrs), self.current))

    def handle_endtag(self, tag: str) -> None:
        assert self.current.tag == tag, f"</{tag}> closes <{self.current.tag}>"
        assert self.current.parent is not None
        self.current = self.current.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(html: str) -> Node:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    assert builder.current is builder.root, "unclosed elements"
    assert builder.declarations == ["DOCTYPE html"]
    return builder.root


def direction_of(node: Node) -> tuple[str | None, str | None]:
    """The (lang, dir) in force at ``node``: its own or its nearest ancestor's."""
    lang = direction = None
    for n in [node, *node.ancestors()]:
        lang = lang if lang is not None else n.attrs.get("lang")
        direction = direction if direction is not None else n.attrs.get("dir")
    return lang, direction


def assert_self_contained(page: Node, origin: str, allowed_links: set[str]) -> None:
    """Nothing is loaded: no src anywhere, no stylesheet, no script but JSON-LD, and the only
    hrefs are the sources' (and reviews') links and our own card and oEmbed URLs."""
    for node in page.iter():
        assert "src" not in node.attrs and "srcset" not in node.attrs, node.tag
        assert not any(name.startswith("on") for name in node.attrs), node.attrs
        assert node.tag not in {"img", "iframe", "object", "embed", "form", "base", "video"}
        if node.tag == "script":
            assert node.attrs == {"type": "application/ld+json"}
        if node.tag == "link":
            assert node.attrs.get("rel") in {"canonical", "alternate"}
            assert (node.attrs.get("href") or "").startswith(origin + "/")
        elif "href" in node.attrs:
            assert node.tag == "a"
            assert node.attrs["href"] in allowed_links, node.attrs["href"]
            assert node.attrs.get("target") == "_blank"
            assert node.attrs.get("rel") == "noopener noreferrer"
    (style,) = page.all("style")
    assert "url(" not in style.text() and "@import" not in style.text()


# ------------------------------------------------------------------ data


async def demo_dispute(client: AsyncTestClient, settings: Any, database_url: str) -> dict:  # type: ignore[type-arg]
    await load(settings, database_url)
    (dispute,) = (await client.get("/v1/disputes")).json()["data"]
    return dispute  # type: ignore[no-any-return]


async def hostile_dispute(client: AsyncTestClient) -> dict[str, Any]:  # type: ignore[type-arg]
    org = await create(client, "actors", {"kind": "state", "name": f"Org {HOSTILE}"})
    speaker = await actor(
        client,
        f'"><img src=x onerror=alert(1)> {RLO}',
        names=[{"value": f"<b>{RLO}اسم</b>", "lang": "ar", "kind": "official"}],
        memberships=[{"organization_id": org["id"], "role": f"Role {HOSTILE}"}],
    )
    other = await actor(client, "{label} {reviewer}")
    publisher = await create(client, "actors", {"kind": "media", "name": f"Pub {HOSTILE}"})
    evil = await source(
        client,
        title=f"Title {HOSTILE}",
        url='https://evil.example/a?q="><script>alert(1)</script>',
        publisher_id=publisher["id"],
        lang="ar",
    )
    offline = await source(client, title="javascript:alert(1)")
    one = await claim(
        client,
        speaker["id"],
        evil["id"],
        text=f"</blockquote><script>alert(1)</script>\n\n{RLO}ثانية",
        translations=[{"lang": "en", "text": f"Translation {HOSTILE}"}],
    )
    two = await claim(client, other["id"], offline["id"], lang="en", text=f"Text {HOSTILE}")
    reviewer = await create(client, "actors", {"kind": "organization", "name": "{label}"})
    await create(
        client,
        "reviews",
        {
            "claim_id": one["id"],
            "reviewer_id": reviewer["id"],
            "rating": {"label": f"</script><!-- {HOSTILE}", "value": 1, "best": 5, "worst": 1},
            "summary": "</script><script>alert(1)</script>",
            "url": "https://factcheck.example/1",
            "lang": "en",
        },
    )
    return await create(
        client,
        "disputes",
        {
            "title": f"Title {HOSTILE}",
            "question": f"Question {RLO}{HOSTILE}",
            "positions": [
                {"claim_id": one["id"], "stance": "affirms"},
                {"claim_id": two["id"], "stance": "denies"},
            ],
        },
    )


async def card(client: AsyncTestClient, dispute_id: str, **params: str) -> tuple[Any, Node]:  # type: ignore[type-arg]
    response = await client.get(f"/embed/disputes/{dispute_id}", params=params)
    assert response.status_code == 200, response.text
    return response, parse(response.text)


def claim_node(page: Node, side: str, index: int = 0) -> Node:
    return page.one("section", side).all("li", "claim")[index]


# ------------------------------------------------------------------ the card


async def test_the_demo_dispute_as_a_card(client, anonymous, settings, database_url):
    dispute = await demo_dispute(client, settings, database_url)
    response, page = await card(anonymous, dispute["id"])

    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "public, max-age=60"
    assert response.headers["vary"] == "Accept-Language"
    assert re.fullmatch(r'"\d+-[0-9a-f]{16}"', response.headers["etag"])
    policy = dict(
        d.strip().split(" ", 1) for d in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'" and policy["frame-ancestors"] == "*"
    assert policy["style-src"] == "'unsafe-inline'" and "script-src" not in policy
    assert "x-frame-options" not in response.headers  # any page may frame it

    html = page.one("html")
    assert (html.attrs["lang"], html.attrs["dir"]) == ("en", "ltr")
    assert page.one("h1").text() == "SDF withdrawal from the safe zone"
    assert page.one("h1").attrs["dir"] == "auto"
    assert page.one("p", "question").text() == "Has the SDF fully withdrawn from the safe zone?"
    assert page.one("span", "status").text() == "Open"
    assert [s.one("h2").text() for s in page.all("section", "side")] == [
        "Affirms",
        "Denies",
        "Questions",
    ]

    # Russia's assurance, known only through Akar, dated by its year
    russia = claim_node(page, "affirms")
    text = russia.one("blockquote")
    assert (text.attrs["lang"], text.attrs["dir"]) == ("ar", "rtl")
    assert text.text().startswith("روسيا كانت قد أكدت شفوياً وكتابياً")
    assert "paraphrase" in text.attrs["class"].split()
    translation = russia.one("div", "tl-text")
    assert (translation.attrs["lang"], translation.attrs["dir"]) == ("en", "ltr")
    assert translation.text().startswith("Russia had previously confirmed")
    speaker = russia.one("bdi", "speaker")
    assert speaker.text() == "Russia" and speaker.attrs["lang"] == "en"
    assert "Hulusi Akar" in russia.one("span", "via").text()
    (stated,) = russia.one("p", "meta").all("time")
    assert (stated.attrs["datetime"], stated.text()) == ("2019", "2019")

    # Akar's own words: a quote, month-precise, with the office he held then
    akar = claim_node(page, "denies")
    assert "verbatim" in akar.one("blockquote").attrs["class"].split()
    assert akar.one("blockquote").attrs["lang"] == "ar"
    assert akar.one("bdi", "speaker").text() == "Hulusi Akar"
    role = akar.one("span", "role")
    assert "Minister of National Defence" in role.text() and "Turkey" in role.text()
    (stated,) = akar.one("p", "meta").all("time")
    assert (stated.attrs["datetime"], stated.text()) == ("2019-11", "November 2019")

    # the article: an offline source (no URL, so no link), in Arabic, with its publisher
    title = akar.one("cite", "source-title")
    assert (title.attrs["lang"], title.attrs["dir"]) == ("ar", "rtl")
    assert title.text().startswith("قسد تتهم روسيا")
    publisher = akar.one("span", "pub")
    assert publisher.one("bdi", "publisher").text() == "Awtan Post"
    assert publisher.one("time").attrs["datetime"] == "2019-11-24"
    assert publisher.one("time").text() == "24 November 2019"

    assert claim_node(page, "questions").one("bdi", "speaker").text() == "Hulusi Akar"
    assert page.all("section", "outcome") == []  # open: no verdict yet

    # the sample review, as a fact-check line and as ClaimReview JSON-LD in the head
    assert "Disputed" in russia.one("p", "review").text()
    (ld,) = page.all("script")
    assert ld.parent is not None and ld.parent.tag == "head"
    reviews = json.loads(ld.text())
    api = await client.get(f"/v1/claims/{russia_id(dispute)}/claim-review")
    assert reviews == api.json() and reviews[0]["@type"] == "ClaimReview"

    origin = "http://testserver.local"
    discovery = [n for n in page.all("link") if n.attrs.get("rel") == "alternate"]
    assert discovery[0].attrs["type"] == "application/json+oembed"
    query = parse_qs(urlsplit(discovery[0].attrs["href"]).query)
    assert query == {"url": [f"{origin}/embed/disputes/{dispute['id']}"], "format": ["json"]}
    assert_self_contained(page, origin, allowed_links=set())


def russia_id(dispute: dict[str, Any]) -> str:
    return dispute["sides"]["affirms"][0]["claim_id"]  # type: ignore[no-any-return]


async def test_the_card_in_arabic(client, anonymous, settings, database_url):
    dispute = await demo_dispute(client, settings, database_url)
    response, page = await card(anonymous, dispute["id"], lang="ar")
    assert "vary" not in response.headers  # ?lang= decides, not the reader's browser
    html = page.one("html")
    assert (html.attrs["lang"], html.attrs["dir"]) == ("ar", "rtl")
    assert [s.one("h2").text() for s in page.all("section", "side")] == ["يؤكّد", "ينفي", "يشكّك"]
    # names in Arabic where the actor has one; no translation of Arabic into Arabic
    russia = claim_node(page, "affirms")
    assert russia.one("bdi", "speaker").text() == "روسيا"
    assert russia.one("bdi", "speaker").attrs == {"class": "speaker", "lang": "ar", "dir": "rtl"}
    assert russia.all("div", "translation") == []
    akar = claim_node(page, "denies")
    assert akar.one("bdi", "speaker").text() == "خلوصي آكار"
    assert "تركيا" in akar.one("span", "role").text()
    assert akar.one("p", "meta").one("time").text() == "نوفمبر 2019"
    # the publisher too ("Awtan Post" on the Arabic card until a walkthrough read it)
    publisher = akar.one("span", "pub").one("bdi", "publisher")
    assert (publisher.text(), publisher.attrs["lang"]) == ("أوطان بوست", "ar")
    # the dispute's title has no language of its own: its direction comes from its text
    h1 = page.one("h1")
    assert h1.attrs["dir"] == "auto" and direction_of(h1) == ("ar", "auto")

    # the reader's Accept-Language picks it too; languages the card does not speak: English
    negotiated = await anonymous.get(
        f"/embed/disputes/{dispute['id']}", headers={"Accept-Language": "fr-FR, ar;q=0.8"}
    )
    assert parse(negotiated.text).one("html").attrs["lang"] == "ar"
    assert negotiated.headers["vary"] == "Accept-Language"
    _, french = await card(anonymous, dispute["id"], lang="fr")
    assert french.one("html").attrs["lang"] == "en"


async def test_hostile_text_is_escaped_and_isolated(client, anonymous):
    dispute = await hostile_dispute(client)
    response, page = await card(anonymous, dispute["id"])
    raw = response.text

    # no markup got through: one script (the JSON-LD), no img, no event handler
    assert len(page.all("script")) == 1
    assert page.all("img") == [] and page.all("b") == []
    assert page.one("h1").text() == f"Title {HOSTILE}"
    assert f"Question {RLO}{HOSTILE}" == page.one("p", "question").text()
    affirms = claim_node(page, "affirms")
    assert [p.text() for p in affirms.one("blockquote").all("p")] == [
        "</blockquote><script>alert(1)</script>",
        f"{RLO}ثانية",
    ]
    speaker = affirms.one("bdi", "speaker")
    assert speaker.text() == f'"><img src=x onerror=alert(1)> {RLO}'
    assert speaker.attrs == {"class": "speaker", "dir": "auto"}  # a name of no known language
    assert f"Role {HOSTILE}" in affirms.one("span", "role").text()
    assert f"Org {HOSTILE}" in affirms.one("span", "role").text()
    link = affirms.one("a", "source-title")
    assert link.attrs["href"] == 'https://evil.example/a?q="><script>alert(1)</script>'
    assert link.text() == f"Title {HOSTILE}"
    assert f"Pub {HOSTILE}" in affirms.one("span", "pub").text()
    # a placeholder in a name stays a name
    denies = claim_node(page, "denies")
    assert denies.one("bdi", "speaker").text() == "{label} {reviewer}"
    assert "{label}:" in affirms.one("p", "review").text()
    # an offline source's title that looks like a URL is text, never a link
    assert denies.one("cite").text() == "javascript:alert(1)"

    # every U+202E sits in an element that isolates it (one with dir, or a bdi); none in the
    # title or an attribute, where nothing can isolate it
    for node in page.iter():
        for child in node.children:
            if isinstance(child, str) and RLO in child:
                holders = [node, *node.ancestors()]
                assert any("dir" in n.attrs or n.tag == "bdi" for n in holders[:3]), node.tag
        assert all(RLO not in (v or "") for v in node.attrs.values())
    assert RLO not in page.one("title").text()

    # the JSON-LD cannot close its element, and says the same as the API
    ld = page.one("script")
    assert "</" not in ld.text() and "<!--" not in ld.text()
    reviewed = dispute["sides"]["affirms"][0]["claim_id"]
    assert json.loads(ld.text()) == (await client.get(f"/v1/claims/{reviewed}/claim-review")).json()
    assert raw.count("<script") == 1

    # in Arabic, the speaker's Arabic name, as text
    _, arabic = await card(anonymous, dispute["id"], lang="ar")
    speaker = claim_node(arabic, "affirms").one("bdi", "speaker")
    assert speaker.text() == f"<b>{RLO}اسم</b>" and speaker.attrs["lang"] == "ar"
    assert arabic.all("b") == []

    assert_self_contained(
        page,
        "http://testserver.local",
        allowed_links={
            'https://evil.example/a?q="><script>alert(1)</script>',
            "https://factcheck.example/1",
        },
    )


async def test_resolved_and_dismissed_cards_show_the_outcome(client, anonymous):
    dispute = await hostile_dispute(client)
    path = f"/v1/disputes/{dispute['id']}"
    resolved = await client.patch(
        path,
        json={"status": "resolved", "resolution": {"verdict": "denied", "note": "Seen inside."}},
    )
    assert resolved.status_code == 200
    _, page = await card(anonymous, dispute["id"])
    outcome = page.one("section", "outcome")
    assert page.one("span", "status").text() == "Resolved"
    assert outcome.one("h2").text() == "Verdict"
    assert outcome.one("p", "verdict").text().startswith("Denied")
    assert outcome.one("div", "note").text() == "Seen inside."
    assert outcome.one("div", "note").attrs["dir"] == "auto"
    day = resolved.json()["resolution"]["resolved_at"][:10]
    assert outcome.one("time").attrs["datetime"].startswith(day)

    dismissed = await client.patch(
        path, json={"status": "dismissed", "dismissal": {"note": "Not a real dispute."}}
    )
    assert dismissed.status_code == 200
    _, page = await card(anonymous, dispute["id"], lang="ar")
    outcome = page.one("section", "outcome")
    assert "dismissed" in outcome.attrs["class"].split()
    assert outcome.one("div", "note").text() == "Not a real dispute."
    assert page.one("span", "status").text() == "مستبعد"


async def test_the_card_dates_a_source_by_its_own_day(client, anonymous):
    """A source published at half past midnight in Damascus is dated by that day on the
    card, not by the UTC day before it (migration 0026)."""
    speaker = await actor(client)
    other = await actor(client, "Sergei Lavrov")
    late = await source(client, published_at="2019-11-24T00:30:00+03:00")
    utc = await source(client, published_at="2019-11-23T21:30:00Z")
    one = await claim(client, speaker["id"], late["id"])
    two = await claim(client, other["id"], utc["id"])
    made = await helpers.dispute(client, one["id"], two["id"])
    _, page = await card(anonymous, made["id"])
    (late_day,) = claim_node(page, "affirms").one("span", "pub").all("time")
    (utc_day,) = claim_node(page, "denies").one("span", "pub").all("time")
    assert (late_day.attrs["datetime"], late_day.text()) == ("2019-11-24", "24 November 2019")
    assert utc_day.attrs["datetime"] == "2019-11-23"


async def test_card_is_cacheable_and_public(client, anonymous):
    dispute = await hostile_dispute(client)
    path = f"/embed/disputes/{dispute['id']}"
    first = await anonymous.get(path)
    tag = first.headers["etag"]
    assert (await anonymous.get(path)).headers["etag"] == tag  # the same bytes, the same tag

    again = await anonymous.get(path, headers={"If-None-Match": f"W/{tag}"})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag
    assert again.headers["cache-control"] == "public, max-age=60"

    head = await anonymous.head(path)
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == tag

    # a key is not needed, and a key sent along changes nothing
    with_key = await client.get(path)
    assert with_key.status_code == 200 and with_key.headers["etag"] == tag

    # editing the dispute changes the card and its tag
    await client.patch(f"/v1/disputes/{dispute['id']}", json={"title": "Another title"})
    changed = await anonymous.get(path, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    assert parse(changed.text).one("h1").text() == "Another title"


async def test_unknown_disputes_and_claims_are_problem_404s(anonymous):
    for path in (
        f"/embed/disputes/{uuid.uuid4()}",
        "/embed/disputes/not-a-uuid",
        f"/embed/claims/{uuid.uuid4()}/claim-review.jsonld",
        "/embed/claims/nope/claim-review.jsonld",
    ):
        response = await anonymous.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "/problems/not-found"
    bad_lang = await anonymous.get(f"/embed/disputes/{uuid.uuid4()}", params={"lang": "<x>"})
    assert bad_lang.status_code == 422
    assert bad_lang.json()["errors"][0]["field"] == "lang"


# ------------------------------------------------------------------ ClaimReview JSON-LD


async def test_claim_review_jsonld_is_public_and_safe_to_paste(client, anonymous):
    dispute = await hostile_dispute(client)
    reviewed = dispute["sides"]["affirms"][0]["claim_id"]
    response = await anonymous.get(f"/embed/claims/{reviewed}/claim-review.jsonld")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/ld+json"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "public, max-age=60"
    assert response.headers["access-control-allow-origin"] == "*"
    # pasted into <script type="application/ld+json"> as it is, nothing can end the element
    assert b"<" not in response.content and b">" not in response.content
    assert b"\\u003c/script\\u003e" in response.content
    data = response.json()
    assert data == (await client.get(f"/v1/claims/{reviewed}/claim-review")).json()
    assert data[0]["reviewBody"] == "</script><script>alert(1)</script>"

    again = await anonymous.get(
        f"/embed/claims/{reviewed}/claim-review.jsonld",
        headers={"If-None-Match": response.headers["etag"]},
    )
    assert again.status_code == 304

    unreviewed = dispute["sides"]["denies"][0]["claim_id"]
    empty = await anonymous.get(f"/embed/claims/{unreviewed}/claim-review.jsonld")
    assert empty.status_code == 200 and empty.json() == []


async def test_a_review_scheduled_for_later_stays_off_the_public_surfaces(client, anonymous):
    """A review's published_at may be in the future, on purpose: a fact-check scheduled to
    appear. It was on the public card and in the public ClaimReview JSON-LD at once (a
    walkthrough's finding: an embargo leaked). Until its day (UTC) it is shown to API keys
    alone; one of today is public."""
    dispute = await hostile_dispute(client)
    reviewed = dispute["sides"]["affirms"][0]["claim_id"]
    checker = await create(client, "actors", {"kind": "organization", "name": "Verify Sy"})
    today = datetime.now(UTC).date()
    for label, day in (("Scheduled", today + timedelta(days=1)), ("Today", today)):
        await create(
            client,
            "reviews",
            {
                "claim_id": reviewed,
                "reviewer_id": checker["id"],
                "rating": {"label": label, "value": 2, "best": 5, "worst": 1},
                "published_at": day.isoformat(),
                "lang": "en",
            },
        )
    api = (await client.get(f"/v1/claims/{reviewed}/claim-review")).json()
    assert {r["reviewRating"]["alternateName"] for r in api} >= {"Scheduled", "Today"}
    public = (await anonymous.get(f"/embed/claims/{reviewed}/claim-review.jsonld")).json()
    labels = [r["reviewRating"]["alternateName"] for r in public]
    assert "Today" in labels and "Scheduled" not in labels
    assert len(public) == len(api) - 1
    card = await anonymous.get(f"/embed/disputes/{dispute['id']}")
    assert card.status_code == 200
    assert "Today" in card.text and "Scheduled" not in card.text


# ------------------------------------------------------------------ oEmbed


async def test_oembed_answers_a_rich_iframe(client, anonymous, settings, database_url):
    dispute = await demo_dispute(client, settings, database_url)
    card_url = f"http://testserver.local/embed/disputes/{dispute['id']}"
    response = await anonymous.get("/oembed", params={"url": card_url, "format": "json"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    body = response.json()
    assert {k: body[k] for k in ("version", "type", "title", "provider_name", "provider_url")} == {
        "version": "1.0",
        "type": "rich",
        "title": "SDF withdrawal from the safe zone",
        "provider_name": "claimdesk",
        "provider_url": "http://testserver.local/",
    }
    assert body["width"] == 640 and 400 < body["height"] < 3000
    assert body["cache_age"] > 0
    (iframe,) = parse("<!DOCTYPE html>" + body["html"]).all("iframe")
    assert iframe.attrs["src"] == card_url
    assert (iframe.attrs["width"], iframe.attrs["height"]) == (
        str(body["width"]),
        str(body["height"]),
    )
    assert iframe.attrs["title"] == "Dispute: SDF withdrawal from the safe zone"
    assert iframe.attrs["sandbox"] == "allow-popups allow-popups-to-escape-sandbox"

    # maxwidth and maxheight are upper bounds; a narrower card is taller
    small = (
        await anonymous.get(
            "/oembed", params={"url": card_url, "maxwidth": "300", "maxheight": "5000"}
        )
    ).json()
    assert small["width"] == 300 and small["height"] > body["height"]
    capped = (
        await anonymous.get("/oembed", params={"url": card_url, "maxwidth": 2000, "maxheight": 200})
    ).json()
    assert (capped["width"], capped["height"]) == (640, 200)

    # the card's language is kept; the API's URL of the dispute works too
    arabic = (await anonymous.get("/oembed", params={"url": card_url + "?lang=ar"})).json()
    assert f'src="{card_url}?lang=ar"' in arabic["html"]
    assert 'title="نزاع: SDF withdrawal from the safe zone"' in arabic["html"]
    api_url = f"http://testserver.local/v1/disputes/{dispute['id']}"
    assert (await anonymous.get("/oembed", params={"url": api_url})).json()["html"] == body["html"]
    # read as the card reads it: percent-encoded is decoded; a lang the card refuses (not a
    # tag, or sent twice) is a 422 naming url, not dropped or the last one kept
    syrian = (await anonymous.get("/oembed", params={"url": card_url + "?lang=ar%2DSY"})).json()
    assert f'src="{card_url}?lang=ar-SY"' in syrian["html"]
    for query in ("?lang=arabic-language-long", "?lang=ar&lang=en", "?lang="):
        assert (
            await anonymous.get(card_url.replace("http://testserver.local", "") + query)
        ).status_code == 422
        refused = await anonymous.get("/oembed", params={"url": card_url + query})
        assert [e["field"] for e in problem(refused, 422)["errors"]] == ["url"], query


@pytest.mark.parametrize(
    "url",
    [
        "https://elsewhere.example/embed/disputes/{id}",
        "http://testserver.local:8080/embed/disputes/{id}",
        "http://testserver.local/v1/claims/{id}",
        "http://testserver.local/embed/disputes/{id}/more",
        "http://testserver.local/embed/disputes/not-a-uuid",
        "http://testserver.local/embed/disputes/" + str(uuid.UUID(int=1)),
        "ftp://testserver.local/embed/disputes/{id}",
        "http://[::1/embed/disputes/{id}",
        "not a url at all",
    ],
)
async def test_oembed_404s_for_urls_that_are_not_our_disputes(client, anonymous, url):
    dispute = await hostile_dispute(client)
    response = await anonymous.get("/oembed", params={"url": url.format(id=dispute["id"])})
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_oembed_format_and_parameters(client, anonymous):
    dispute = await hostile_dispute(client)
    url = f"http://testserver.local/embed/disputes/{dispute['id']}"
    xml = await anonymous.get("/oembed", params={"url": url, "format": "xml"})
    assert xml.status_code == 501  # oEmbed 1.0, section 2.3.4: format not supported
    assert xml.json()["type"] == "/problems/not-implemented"
    for params, field in (
        ({"url": url, "format": "yaml"}, "format"),  # named as sent, not as the handler's
        ({"url": url, "maxwidth": "0"}, "maxwidth"),
        ({}, "url"),
    ):
        response = await anonymous.get("/oembed", params=params)
        assert response.status_code == 422, params
        assert [e["field"] for e in response.json()["errors"]] == [field], params
    # hostile titles stay text in the snippet
    body = (await anonymous.get("/oembed", params={"url": url})).json()
    assert body["title"] == f"Title {HOSTILE}"
    (iframe,) = parse("<!DOCTYPE html>" + body["html"]).all("iframe")
    assert "<script>" in iframe.attrs["title"] and RLO not in iframe.attrs["title"]
    assert parse("<!DOCTYPE html>" + body["html"]).all("script") == []


async def test_public_pages_ignore_parameters_they_do_not_take(client, anonymous):
    """A card's link shared with `?utm_source=...`, a monitor's cache buster: a web page
    ignores them (the API's operations answer 422, a typo being a filter not applied); they
    were a 422 problem where the card or the probe should have been (found by generating a
    client from the document)."""
    dispute = await hostile_dispute(client)
    card = f"/embed/disputes/{dispute['id']}"
    extra = {"utm_source": "twitter", "fbclid": "x"}
    page = await anonymous.get(card, params={**extra, "lang": "en"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'lang="en"' in page.text
    url = f"http://testserver.local{card}"
    oembed = await anonymous.get("/oembed", params={"url": url, "lang": "ar", **extra})
    assert oembed.status_code == 200 and oembed.json()["type"] == "rich"
    for path in ("/health", "/ready", "/problems/validation-error"):
        assert (await anonymous.get(path, params={"_": "1700000000"})).status_code == 200, path
    # what they take is still checked
    assert (await anonymous.get("/oembed", params={"url": url, "maxwidth": "0"})).status_code == 422
    assert (await anonymous.get(card, params=[("lang", "en"), ("lang", "ar")])).status_code == 422
    # the API's own operations stay strict
    problem = (await client.get(f"/v1/disputes/{dispute['id']}", params=extra)).json()
    assert problem["status"] == 422 and {e["field"] for e in problem["errors"]} == set(extra)


async def test_public_url_setting_names_the_service(settings, client):
    dispute = await hostile_dispute(client)
    public = msgspec.structs.replace(settings, public_url="https://news.example/claims/")
    async with AsyncTestClient(app=create_app(public)) as anonymous:
        url = f"https://news.example/claims/embed/disputes/{dispute['id']}"
        body = (await anonymous.get("/oembed", params={"url": url})).json()
        assert body["provider_url"] == "https://news.example/claims/"
        assert f'src="{url}"' in body["html"]
        # the request's own host is no longer ours
        own = f"http://testserver.local/embed/disputes/{dispute['id']}"
        assert (await anonymous.get("/oembed", params={"url": own})).status_code == 404
        page = parse((await anonymous.get(f"/embed/disputes/{dispute['id']}")).text)
        canonical = [n for n in page.all("link") if n.attrs["rel"] == "canonical"]
        assert canonical[0].attrs["href"] == url


async def test_embeds_off_is_a_404_everywhere(settings, client):
    dispute = await hostile_dispute(client)
    off = msgspec.structs.replace(settings, embeds=False)
    async with AsyncTestClient(app=create_app(off)) as anonymous:
        claim_id = dispute["sides"]["affirms"][0]["claim_id"]
        for path, params in (
            (f"/embed/disputes/{dispute['id']}", {}),
            (f"/embed/disputes/{dispute['id']}", {"lang": "<bad>"}),
            (f"/embed/claims/{claim_id}/claim-review.jsonld", {}),
            ("/oembed", {"url": f"http://testserver.local/embed/disputes/{dispute['id']}"}),
            ("/oembed", {"format": "xml"}),
        ):
            response = await anonymous.get(path, params=params)
            assert response.status_code == 404, (path, params)
            assert response.headers["content-type"] == "application/problem+json"
            assert "CLAIMDESK_EMBEDS" in response.json()["detail"]
        # the API itself is unaffected
        assert (await anonymous.get(f"/v1/disputes/{dispute['id']}")).status_code == 401


async def test_a_script_of_any_origin_may_fetch_revalidate_and_read_errors(client, anonymous):
    """A conditional fetch needs a preflight, which went unanswered (`Allow` alone); the
    ETag was hidden from scripts; a 404's problem had no Access-Control-Allow-Origin, so a
    script saw a network error (a CMS developer's walkthrough). The API sends no CORS."""
    dispute = await hostile_dispute(client)
    card = f"/embed/disputes/{dispute['id']}"
    preflight = await anonymous.options(
        card,
        headers={
            "Origin": "https://cms.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert preflight.status_code in (200, 204), preflight.text
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"].lower() == "if-none-match"
    read = await anonymous.get(card, headers={"Origin": "https://cms.example"})
    assert read.headers["access-control-expose-headers"] == "ETag"
    again = await anonymous.get(card, headers={"If-None-Match": read.headers["etag"]})
    assert again.status_code == 304 and again.headers["access-control-allow-origin"] == "*"
    for path, params in (
        (f"/embed/disputes/{uuid.uuid4()}", {}),
        ("/oembed", {"url": "https://elsewhere.example/x"}),
    ):
        error = await anonymous.get(path, params=params)
        assert error.status_code in (404, 422), (path, error.text)
        assert error.headers["access-control-allow-origin"] == "*", path
    api = await anonymous.options("/v1/disputes", headers={"Origin": "https://cms.example"})
    assert not any(h.startswith("access-control-") for h in api.headers), api.headers


def test_languages_directions_and_dates():
    from datetime import date

    assert [i18n.direction(t) for t in ("ar", "ar-SY", "he", "fa-IR", "en", "tr")] == [
        "rtl",
        "rtl",
        "rtl",
        "rtl",
        "ltr",
        "ltr",
    ]
    assert i18n.direction("az-Arab") == "rtl" and i18n.direction("ku-Latn") == "ltr"
    assert i18n.direction("und") == "auto" and i18n.direction(None) == "auto"
    day = date(2019, 11, 1)
    assert i18n.format_date(day, "month", "en") == "November 2019"
    assert i18n.format_date(date(2019, 11, 24), "day", "ar") == "24 نوفمبر 2019"
    assert i18n.format_date(date(2019, 1, 1), "year", "en") == "2019"
    assert i18n.machine_date(day, "month") == "2019-11"
    assert i18n.negotiate(None, "de, ar-EG;q=0.9, en;q=0.8") == "ar"
    assert i18n.negotiate(None, "en-GB, ar") == "en"
    assert i18n.negotiate(None, "ar;q=0, fr") == "en"
    assert i18n.negotiate(None, "ar;q=nonsense") == "en"
    assert i18n.negotiate("AR-sy", "en") == "ar"


# ------------------------------------------------------------------ in a real browser

ARTIFACTS = Path(os.environ.get("CLAIMDESK_TEST_ARTIFACTS") or Path(__file__).parent / "artifacts")


@pytest.fixture
def artifacts() -> Path:
    """Where the screenshots go: ``CLAIMDESK_TEST_ARTIFACTS``, else tests/artifacts/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def chromium():
    binary = chromium_binary()
    if binary is None:
        reason = (
            "chromium is not installed (Debian: apt-get install chromium); "
            "CLAIMDESK_TEST_REQUIRE_CHROMIUM=1 makes this a failure"
        )
        if os.environ.get("CLAIMDESK_TEST_REQUIRE_CHROMIUM") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    browser = Chromium(binary)
    try:
        yield browser
    finally:
        browser.close()


BOX = "(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })"


def box(browser: Chromium, selector: str) -> list[float]:
    value: list[float] = browser.evaluate(f"{BOX}(document.querySelector({json.dumps(selector)}))")
    return value


def style(browser: Chromium, selector: str, prop: str) -> str:
    value: str = browser.evaluate(
        f"getComputedStyle(document.querySelector({json.dumps(selector)}))[{json.dumps(prop)}]"
    )
    return value


async def test_the_demo_card_in_chromium(
    live_url, settings, database_url, auth, chromium, artifacts
):
    await load(settings, database_url)
    async with httpx.AsyncClient(base_url=live_url, headers=auth) as api:
        (dispute,) = (await api.get("/v1/disputes")).json()["data"]
        oembed = (
            await api.get("/oembed", params={"url": f"{live_url}/embed/disputes/{dispute['id']}"})
        ).json()
    chromium.open(f"{live_url}/embed/disputes/{dispute['id']}", oembed["width"], 900)
    assert chromium.evaluate("document.title") == "Dispute: SDF withdrawal from the safe zone"
    assert chromium.evaluate("document.documentElement.dir") == "ltr"
    # the Arabic claims read right to left, their English translations left to right
    quotes = ".side.affirms blockquote.text"
    assert style(chromium, quotes, "direction") == "rtl"
    assert style(chromium, ".side.denies blockquote.text", "direction") == "rtl"
    assert style(chromium, ".side.affirms .tl-text", "direction") == "ltr"
    assert style(chromium, ".side.affirms .source-title", "direction") == "rtl"
    assert style(chromium, ".speaker", "direction") == "ltr"
    # right to left means right aligned: the quote's first line ends at its right edge
    assert style(chromium, quotes, "text-align") in {"start", "right"}
    assert chromium.evaluate(
        f"""(() => {{
        const q = document.querySelector({json.dumps(quotes + " p")});
        const range = document.createRange(); range.selectNodeContents(q);
        const first = range.getClientRects()[0], box = q.getBoundingClientRect();
        return Math.abs(first.right - box.right) < 2 && first.left - box.left > -1;
    }})()"""
    )
    # both sides are on screen, side by side, with their claims; the questions below them
    affirms, denies = box(chromium, ".side.affirms"), box(chromium, ".side.denies")
    questions = box(chromium, ".side.questions")
    for left, _top, width, height in (affirms, denies, questions):
        assert width > 200 and height > 100 and left >= 0 and left + width <= oembed["width"]
    assert affirms[0] < denies[0] and abs(affirms[1] - denies[1]) < 1
    assert questions[1] >= max(affirms[1] + affirms[3], denies[1] + denies[3])
    assert chromium.evaluate("document.querySelectorAll('.claim').length") == 3
    for selector in (".side.affirms .claim", ".side.denies .claim"):
        assert (
            chromium.evaluate(
                f"getComputedStyle(document.querySelector({json.dumps(selector)})).visibility"
            )
            == "visible"
        )
    # nothing was fetched: no stylesheet, font, image or script, and no CSP violation
    assert chromium.evaluate("performance.getEntriesByType('resource').length") == 0
    assert not [e for e in chromium.events if "Content Security Policy" in json.dumps(e)]
    # the iframe oEmbed hands out is about as tall as the card is
    height = chromium.evaluate("document.documentElement.scrollHeight")
    assert 0.8 * height <= oembed["height"] <= 1.3 * height, (height, oembed["height"])
    chromium.screenshot(artifacts / "dispute-card-en.png")

    # the Arabic card mirrors: the affirming side on the right
    chromium.open(f"{live_url}/embed/disputes/{dispute['id']}?lang=ar", 640, 900)
    assert chromium.evaluate("document.documentElement.dir") == "rtl"
    assert style(chromium, "h1", "direction") == "ltr"  # an English title, dir=auto
    assert style(chromium, ".kicker", "direction") == "rtl"
    affirms, denies = box(chromium, ".side.affirms"), box(chromium, ".side.denies")
    assert affirms[0] > denies[0] and abs(affirms[1] - denies[1]) < 1
    chromium.screenshot(artifacts / "dispute-card-ar.png")

    # a narrow column stacks the sides, both still shown in full
    chromium.open(f"{live_url}/embed/disputes/{dispute['id']}", 360, 800)
    affirms, denies = box(chromium, ".side.affirms"), box(chromium, ".side.denies")
    assert denies[1] >= affirms[1] + affirms[3] and denies[2] > 300
    assert chromium.evaluate("document.documentElement.scrollWidth") <= 360
    chromium.screenshot(artifacts / "dispute-card-narrow.png")
    print(f"screenshots in {artifacts}")


async def test_forwarded_proto_from_a_local_proxy_is_honoured(live_url, client):
    dispute = await hostile_dispute(client)
    async with httpx.AsyncClient(base_url=live_url) as anonymous:
        host = urlsplit(live_url).netloc
        response = await anonymous.get(
            "/oembed",
            params={"url": f"https://{host}/embed/disputes/{dispute['id']}"},
            headers={"X-Forwarded-Proto": "https"},
        )
    assert response.status_code == 200, response.text
    assert response.json()["provider_url"] == f"https://{host}/"
