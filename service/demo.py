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
from service.demo_data import ACTORS, CLAIMS, SOURCE
from service.history import Who
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
    }
    ids: dict[str, UUID] = {}
    created: Counter[str] = Counter()
    pool = await db.create_pool(settings, url)
    try:
        # One transaction: the demo loads whole or not at all.
        async with db.transaction(pool) as conn:
            for item in _members_last(ACTORS):
                found = await actors.list_actors(conn, ActorFilters(name=item["name"]), 1, None)
                if found:
                    ids[item["key"]] = found[0].id
                    continue
                body = msgspec.convert(_body(item, refs, ids), ActorCreate)
                ids[item["key"]] = (await actors.create(conn, WHO, body)).id
                created["actors"] += 1

            found_sources = await sources.list_sources(
                conn, SourceFilters(url=SOURCE["url"]), 1, None
            )
            if found_sources:
                ids[SOURCE["key"]] = found_sources[0].id
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
    finally:
        await pool.close()
    return {k: created[k] for k in ("actors", "sources", "claims")}
