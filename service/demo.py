"""``claimdesk demo``: the reference article's actors, source and claims, loaded through the
same query functions and input Structs the API uses. Idempotent: what exists (matched by
name, URL, or speaker and text) is reused, never duplicated."""

from __future__ import annotations

from collections import Counter
from typing import Any
from uuid import UUID

import msgspec

from service import db
from service.actors import queries as actors
from service.actors.schemas import ActorCreate, ActorFilters
from service.claims import queries as claims
from service.claims.schemas import ClaimCreate, ClaimFilters
from service.demo_data import ACTORS, CLAIMS, DISPUTES, REVIEWS, SOURCE
from service.disputes import queries as disputes
from service.disputes.schemas import DisputeCreate, DisputeFilters
from service.history import Who
from service.reviews import queries as reviews
from service.reviews.schemas import ReviewCreate
from service.settings import Settings
from service.sources import queries as sources
from service.sources.schemas import SourceCreate, SourceFilters

WHO = Who(changed_by="demo")


def _members_last(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Actors ordered so every organization comes before its members."""
    by_key = {a["key"]: a for a in items}
    ordered: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(item: dict[str, Any]) -> None:
        if item["key"] in seen:
            return
        seen.add(item["key"])
        for m in item.get("memberships", []):
            visit(by_key[m["organization"]])
        ordered.append(item)

    for item in items:
        visit(item)
    return ordered


def _body(item: dict[str, Any], refs: dict[str, str], ids: dict[str, UUID]) -> dict[str, Any]:
    """The API body: ``{"speaker": "akar"}`` becomes ``{"speaker_id": <id>}``, recursively."""
    out: dict[str, Any] = {}
    for name, value in item.items():
        if name == "key":
            continue
        if name in refs:
            out[refs[name]] = None if value is None else ids[value]
        elif isinstance(value, list):
            out[name] = [_body(v, refs, ids) if isinstance(v, dict) else v for v in value]
        else:
            out[name] = value
    return out


async def load(settings: Settings, url: str) -> dict[str, int]:
    refs = {
        "organization": "organization_id",
        "publisher": "publisher_id",
        "speaker": "speaker_id",
        "relayed_by": "relayed_by_id",
        "actor": "actor_id",
        "source": "source_id",
        "claim": "claim_id",
        "reviewer": "reviewer_id",
    }
    ids: dict[str, UUID] = {}
    created: Counter[str] = Counter()
    pool = await db.create_pool(settings, url)
    try:
        # One transaction: the demo loads whole or not at all.
        async with db.transaction(pool) as conn:
            for item in _members_last(ACTORS):
                ranked = await actors.typeahead(
                    conn, item["name"], ActorFilters(kind=item["kind"]), 20, None
                )
                found = next((a for a, _ in ranked if a.name == item["name"]), None)
                if found is not None:
                    ids[item["key"]] = found.id
                    continue
                body = msgspec.convert(_body(item, refs, ids), ActorCreate)
                ids[item["key"]] = (await actors.create(conn, WHO, body)).id
                created["actors"] += 1

            # The article's URL is unknown (an offline source): matched by publisher and title.
            published = await sources.list_sources(
                conn, SourceFilters(publisher_id=ids[SOURCE["publisher"]]), 200, None
            )
            match_source = next((s for s in published if s.title == SOURCE["title"]), None)
            if match_source is not None:
                ids[SOURCE["key"]] = match_source.id
            else:
                body_s = msgspec.convert(_body(SOURCE, refs, ids), SourceCreate)
                ids[SOURCE["key"]] = (await sources.create(conn, WHO, body_s)).id
                created["sources"] += 1

            for item in CLAIMS:
                speaker = ids[item["speaker"]]
                said = await claims.list_claims(conn, ClaimFilters(speaker_id=speaker), 200, None)
                match = next((c for c in said if c.text == item["text"]), None)
                if match is not None:
                    ids[item["key"]] = match.id
                    continue
                body_c = msgspec.convert(_body(item, refs, ids), ClaimCreate)
                ids[item["key"]] = (await claims.create(conn, WHO, body_c)).id
                created["claims"] += 1

            for item in DISPUTES:
                first_claim = ids[item["positions"][0]["claim"]]
                held = await disputes.list_disputes(
                    conn, DisputeFilters(claim_id=first_claim), 200, None
                )
                if any(d.title == item["title"] for d in held):
                    continue
                body_d = {k: v for k, v in item.items() if k != "status"}
                await disputes.create(
                    conn, WHO, msgspec.convert(_body(body_d, refs, ids), DisputeCreate)
                )
                created["disputes"] += 1

            for item in REVIEWS:
                body_r = msgspec.convert(_body(item, refs, ids), ReviewCreate)
                if await reviews.list_reviews(conn, body_r.claim_id, body_r.reviewer_id, 1, None):
                    continue
                await reviews.create(conn, WHO, body_r)
                created["reviews"] += 1
    finally:
        await pool.close()
    return {k: created[k] for k in ("actors", "sources", "claims", "disputes", "reviews")}
