"""Merging a duplicate actor (قسد entered twice) into the actor that stays, in one transaction.

Everything that refers to the duplicate is moved to the survivor; each row that changes gets
a new version and revision, as any other write would give it:

- claims naming it as speaker, relayed-by or target (a claim now relayed by its own speaker
  loses its relayed-by; a target the survivor holds already in the same role is dropped),
- sources it publishes, reviews it wrote,
- memberships of other actors in it (a member's membership repeating one it has in the
  survivor is dropped; the survivor's own membership in the duplicate is dropped),
- its own memberships (those in the survivor, or repeating one of the survivor's, dropped),
- its display name and names, as names of the survivor unless the survivor has a name of
  the same normalised form already (so it is found by every old spelling),
- its description, country and wikidata_id where the survivor has none.

The duplicate's row is then deleted; its last revision (action ``merge``) is what it was,
plus ``merged_into_id``. ``actor_merges`` keeps where it went: its URL answers 308.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import structlog

from service import etag, history
from service.actors import queries
from service.actors.schemas import MAX_MEMBERSHIPS, MAX_NAMES, Actor, ActorName, Membership
from service.claims.queries import CLAIM_JSON
from service.claims.schemas import Claim
from service.errors import AlreadyMerged, NotFound, invalid
from service.history import Resource, Who
from service.reviews.queries import REVIEW_JSON
from service.reviews.schemas import Review
from service.sources.queries import SOURCE_JSON
from service.sources.schemas import Source
from service.text.normalize import normalize

log = structlog.get_logger("claimdesk.actors.merge")

# Every foreign key to actors, and what a merge does with it (a test compares this with the
# schema: a new reference to actors must be handled here before it can pass).
REFERENCES: dict[tuple[str, str], str] = {
    ("actor_names", "actor_id"): "become names of the survivor, by normalised form once",
    ("actor_memberships", "actor_id"): "become the survivor's memberships, repeats dropped",
    ("actor_memberships", "organization_id"): "members become the survivor's members",
    ("sources", "publisher_id"): "moved",
    ("claims", "speaker_id"): "moved",
    ("claims", "relayed_by_id"): "moved; cleared where the speaker is the survivor",
    ("claim_targets", "actor_id"): "moved; dropped where the survivor has the same role",
    ("reviews", "reviewer_id"): "moved",
    ("actor_merges", "into_id"): "repointed: earlier merges resolve to the survivor",
}

# Rows that will change are locked first, then the two actors in id order: writers lock their
# own row before the actors it names (a claim PATCH), so the same order here avoids deadlocks.
# The claims naming an actor, each part through its own index.
_CLAIMS_OF = """
SELECT id FROM claims WHERE speaker_id = $1
UNION
SELECT id FROM claims WHERE relayed_by_id = $1
UNION
SELECT claim_id FROM claim_targets WHERE actor_id = $1"""
_LOCK_CLAIMS = f"SELECT 1 FROM claims WHERE id IN ({_CLAIMS_OF}) ORDER BY id FOR UPDATE"
_LOCK_SOURCES = "SELECT 1 FROM sources WHERE publisher_id = $1 ORDER BY id FOR UPDATE"
_LOCK_REVIEWS = "SELECT 1 FROM reviews WHERE reviewer_id = $1 ORDER BY id FOR UPDATE"
_LOCK_MEMBERS = """
SELECT 1 FROM actors
WHERE id IN (SELECT actor_id FROM actor_memberships WHERE organization_id = $1) AND id <> $2
ORDER BY id FOR UPDATE"""
_LOCK_PAIR = "SELECT id FROM actors WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE"

_DROP_REPEATED_TARGETS = """
DELETE FROM claim_targets t
WHERE t.actor_id = $1
  AND EXISTS (SELECT 1 FROM claim_targets s
              WHERE s.claim_id = t.claim_id AND s.actor_id = $2 AND s.role = t.role)"""
_MOVE_TARGETS = "UPDATE claim_targets SET actor_id = $2 WHERE actor_id = $1"
# Speaker and relayed-by were two actors; when they were the duplicate and the survivor, the
# claim is now the survivor's own statement: relayed by nobody.
_MOVE_CLAIMS = """
UPDATE claims SET
    speaker_id = CASE WHEN speaker_id = $1 THEN $2 ELSE speaker_id END,
    relayed_by_id = CASE WHEN speaker_id IN ($1, $2) AND relayed_by_id IN ($1, $2) THEN NULL
                         WHEN relayed_by_id = $1 THEN $2
                         ELSE relayed_by_id END,
    version = version + 1, updated_at = now()
WHERE id = ANY($3::uuid[])"""
# A new version of a claim does not rebuild its document by trigger (migration 0015): the
# writer rebuilds it, here after the claims were locked (``_LOCK_CLAIMS``) and moved.
_REBUILD_DOCUMENTS = "SELECT claimdesk_claim_documents_refresh($1::uuid[])"
_MOVE_SOURCES = """
UPDATE sources SET publisher_id = $2, version = version + 1, updated_at = now()
WHERE publisher_id = $1 RETURNING id"""
_MOVE_REVIEWS = """
UPDATE reviews SET reviewer_id = $2, version = version + 1, updated_at = now()
WHERE reviewer_id = $1 RETURNING id"""
# A member's membership in the duplicate that it holds in the survivor already (same role and
# dates) goes, and so does the survivor's own membership in the duplicate.
_SAME_MEMBERSHIP = """
    o.role IS NOT DISTINCT FROM m.role AND o.start_date IS NOT DISTINCT FROM m.start_date
    AND o.end_date IS NOT DISTINCT FROM m.end_date"""
_DROP_REPEATED_MEMBERS = f"""
DELETE FROM actor_memberships m
WHERE m.organization_id = $1
  AND (m.actor_id = $2
       OR EXISTS (SELECT 1 FROM actor_memberships o
                  WHERE o.actor_id = m.actor_id AND o.organization_id = $2
                    AND {_SAME_MEMBERSHIP}))
RETURNING m.actor_id"""
_MOVE_MEMBERS = """
UPDATE actor_memberships SET organization_id = $2 WHERE organization_id = $1
RETURNING actor_id"""
_BUMP_ACTORS = """
UPDATE actors SET version = version + 1, updated_at = now() WHERE id = ANY($1::uuid[])"""
# Added after the survivor's own, in the duplicate's order.
_NEXT_NAME = "SELECT coalesce(max(position) + 1, 0) FROM actor_names WHERE actor_id = $1"
_ADD_NAMES = """
INSERT INTO actor_names (actor_id, position, value, lang, kind) VALUES ($1, $2, $3, $4, $5)"""
_NEXT_MEMBERSHIP = """
SELECT coalesce(max(position) + 1, 0) FROM actor_memberships WHERE actor_id = $1"""
_ADD_MEMBERSHIPS = """
INSERT INTO actor_memberships (actor_id, position, organization_id, role, start_date, end_date)
VALUES ($1, $2, $3, $4, $5, $6)"""
_REPOINT_MERGES = "UPDATE actor_merges SET into_id = $2 WHERE into_id = $1"
_RECORD_MERGE = """
INSERT INTO actor_merges (merged_id, into_id, changed_by, key_id, request_id)
VALUES ($1, $2, $3, $4, $5)"""
_UPDATE_SURVIVOR = """
UPDATE actors SET description = coalesce(description, $2), country = coalesce(country, $3),
                  wikidata_id = coalesce(wikidata_id, $4),
                  version = version + 1, updated_at = now()
WHERE id = $1"""

_CLAIMS = f"SELECT {CLAIM_JSON}::text FROM claims c WHERE c.id = ANY($1::uuid[]) ORDER BY c.id"
_SOURCES = f"SELECT {SOURCE_JSON} FROM sources s WHERE s.id = ANY($1::uuid[]) ORDER BY s.id"
_REVIEWS = (
    f"SELECT {REVIEW_JSON}::text FROM reviews rv WHERE rv.id = ANY($1::uuid[]) ORDER BY rv.id"
)
_ACTORS = f"SELECT {queries.ACTOR_JSON} FROM actors a WHERE a.id = ANY($1::uuid[]) ORDER BY a.id"
_READ: dict[Resource, tuple[str, type[Any]]] = {
    "claim": (_CLAIMS, Claim),
    "source": (_SOURCES, Source),
    "review": (_REVIEWS, Review),
    "actor": (_ACTORS, Actor),
}


async def _record_updates(
    conn: asyncpg.Connection, who: Who, resource: Resource, ids: list[UUID]
) -> None:
    """An ``update`` revision of each row, as ``GET`` now returns it (one read for all)."""
    if not ids:
        return
    sql, struct = _READ[resource]
    decode = msgspec.json.Decoder(struct).decode
    rows = [decode(r[0]) for r in await conn.fetch(sql, ids)]
    await history.record_many(conn, who, resource, [(r.id, r.version, "update", r) for r in rows])


def _names_to_add(merged: Actor, survivor: Actor) -> list[ActorName]:
    """The duplicate's display name and names the survivor lacks, by normalised form: its
    display name first, in the language and kind of a name of it spelt the same way."""
    same = [n for n in merged.names if normalize(n.value) == normalize(merged.name)]
    display = ActorName(
        value=merged.name,
        lang=same[0].lang if same else "und",  # BCP 47: undetermined
        kind=same[0].kind if same else "common",
    )
    seen = {normalize(survivor.name), *(normalize(n.value) for n in survivor.names)}
    added = []
    for name in [display, *merged.names]:
        key = normalize(name.value)
        if key not in seen:
            seen.add(key)
            added.append(name)
    return added


def _membership_key(m: Membership) -> tuple[Any, ...]:
    return (m.organization_id, m.role, m.start_date, m.end_date)


def _memberships_to_add(merged: Actor, survivor: Actor) -> tuple[list[Membership], int]:
    """The duplicate's memberships the survivor can take, and how many the survivor keeps."""
    kept = [m for m in survivor.memberships if m.organization_id != merged.id]
    held = {_membership_key(m) for m in kept}
    added = []
    for m in merged.memberships:
        if m.organization_id != survivor.id and _membership_key(m) not in held:
            held.add(_membership_key(m))
            added.append(m)
    return added, len(kept)


async def _lock(conn: asyncpg.Connection, merged_id: UUID, into_id: UUID) -> None:
    for sql in (_LOCK_CLAIMS, _LOCK_SOURCES, _LOCK_REVIEWS):
        await conn.execute(sql, merged_id)
    await conn.execute(_LOCK_MEMBERS, merged_id, into_id)
    await conn.execute(_LOCK_PAIR, sorted([merged_id, into_id]))


async def _require_actors(
    conn: asyncpg.Connection, merged_id: UUID, into_id: UUID
) -> tuple[Actor, Actor]:
    if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM actors WHERE id = $1)", merged_id):
        into = await queries.merged_into(conn, merged_id)
        if into is not None:
            raise AlreadyMerged(merged_id, into)
        raise NotFound("actor", merged_id)
    if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM actors WHERE id = $1)", into_id):
        into = await queries.merged_into(conn, into_id)
        if into == merged_id:
            raise invalid(
                "into_id",
                f"Actor '{into_id}' was merged into this actor: they are one actor already.",
            )
        if into is not None:
            raise invalid(
                "into_id",
                f"Actor '{into_id}' was merged into actor '{into}'; merge into that one.",
            )
        raise invalid("into_id", f"No actor with id '{into_id}'.")
    return await queries.get(conn, merged_id), await queries.get(conn, into_id)


async def merge(
    conn: asyncpg.Connection,
    who: Who,
    merged_id: UUID,
    into_id: UUID,
    *,
    precondition: etag.Preconditions | None = None,
) -> Actor:
    """Merge actor ``merged_id`` into ``into_id``; the survivor as it now is.

    ``precondition`` (If-Match) is compared with the merged actor, after both are locked."""
    if merged_id == into_id:
        raise invalid("into_id", "An actor cannot be merged into itself.")
    await _lock(conn, merged_id, into_id)
    merged, survivor = await _require_actors(conn, merged_id, into_id)
    etag.require(precondition, merged)

    names = _names_to_add(merged, survivor)
    if len(survivor.names) + len(names) > MAX_NAMES:
        raise invalid(
            "into_id",
            f"Merged, the actor would have {len(survivor.names) + len(names)} names; an actor "
            f"has at most {MAX_NAMES}. Remove names from either actor first.",
        )
    memberships, kept = _memberships_to_add(merged, survivor)
    if kept + len(memberships) > MAX_MEMBERSHIPS:
        raise invalid(
            "into_id",
            f"Merged, the actor would have {kept + len(memberships)} memberships; an actor "
            f"has at most {MAX_MEMBERSHIPS}. Remove memberships from either actor first.",
        )

    claim_ids = [r[0] for r in await conn.fetch(_CLAIMS_OF, merged_id)]
    await conn.execute(_DROP_REPEATED_TARGETS, merged_id, into_id)
    await conn.execute(_MOVE_TARGETS, merged_id, into_id)
    await conn.execute(_MOVE_CLAIMS, merged_id, into_id, claim_ids)
    await conn.execute(_REBUILD_DOCUMENTS, claim_ids)
    source_ids = [r[0] for r in await conn.fetch(_MOVE_SOURCES, merged_id, into_id)]
    review_ids = [r[0] for r in await conn.fetch(_MOVE_REVIEWS, merged_id, into_id)]
    members = {r[0] for r in await conn.fetch(_DROP_REPEATED_MEMBERS, merged_id, into_id)}
    members |= {r[0] for r in await conn.fetch(_MOVE_MEMBERS, merged_id, into_id)}
    member_ids = sorted(members - {into_id})
    await conn.execute(_BUMP_ACTORS, member_ids)

    await conn.execute(_REPOINT_MERGES, merged_id, into_id)
    await conn.execute(
        _RECORD_MERGE, merged_id, into_id, who.changed_by, who.key_id, who.request_id
    )
    # Its names and memberships go with the row; everything else was moved above.
    await conn.execute("DELETE FROM actors WHERE id = $1", merged_id)

    first: int = await conn.fetchval(_NEXT_NAME, into_id)
    await conn.executemany(
        _ADD_NAMES, [(into_id, first + i, n.value, n.lang, n.kind) for i, n in enumerate(names)]
    )
    first = await conn.fetchval(_NEXT_MEMBERSHIP, into_id)
    await conn.executemany(
        _ADD_MEMBERSHIPS,
        [
            (into_id, first + i, m.organization_id, m.role, m.start_date, m.end_date)
            for i, m in enumerate(memberships)
        ],
    )
    await conn.execute(
        _UPDATE_SURVIVOR, into_id, merged.description, merged.country, merged.wikidata_id
    )

    final = {**msgspec.to_builtins(merged), "merged_into_id": str(into_id)}
    await history.record(conn, who, "actor", merged_id, merged.version + 1, "merge", final)
    result = await queries.get(conn, into_id)
    await history.record(conn, who, "actor", into_id, result.version, "update", result)
    await _record_updates(conn, who, "claim", claim_ids)
    await _record_updates(conn, who, "source", source_ids)
    await _record_updates(conn, who, "review", review_ids)
    await _record_updates(conn, who, "actor", member_ids)
    log.info(
        "actors_merged",
        merged_id=str(merged_id),
        into_id=str(into_id),
        claims=len(claim_ids),
        sources=len(source_ids),
        reviews=len(review_ids),
        members=len(member_ids),
        names_added=len(names),
        memberships_added=len(memberships),
    )
    return result
