"""What a card shows beyond the dispute as the API reads it: the sources' publishers, dates
and languages, and the actors' names in each language (to name a speaker in the reader's
language, and to mark the name's own). The dispute itself is ``disputes.queries.get``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

import asyncpg
import msgspec

from service.disputes import queries as disputes
from service.disputes.queries import STANCES
from service.disputes.schemas import Dispute
from service.reviews.jsonld import published
from service.sources.queries import SOURCE_DAY


class SourceInfo(msgspec.Struct, kw_only=True, frozen=True):
    lang: str | None
    published_on: date | None  # the source's own day (``SOURCE_DAY``)
    publisher: str | None  # its display name
    publisher_id: UUID | None  # named in the card's language as the other actors are


class Name(msgspec.Struct, kw_only=True, frozen=True):
    value: str
    lang: str
    kind: str


class ActorNames(msgspec.Struct, kw_only=True, frozen=True):
    name: str  # the display name
    names: list[Name]


class Card(msgspec.Struct, kw_only=True, frozen=True):
    dispute: Dispute
    sources: dict[UUID, SourceInfo]
    actors: dict[UUID, ActorNames]


_SOURCES = f"""
SELECT s.id, s.lang, {SOURCE_DAY}, p.name, p.id
FROM sources s LEFT JOIN actors p ON p.id = s.publisher_id
WHERE s.id = ANY($1::uuid[])
"""

_ACTORS = """
SELECT a.id, a.name, COALESCE((
    SELECT json_agg(json_build_object('value', n.value, 'lang', n.lang, 'kind', n.kind)
                    ORDER BY n.position)
    FROM actor_names n WHERE n.actor_id = a.id), '[]')::text
FROM actors a
WHERE a.id = ANY($1::uuid[])
"""

_names = msgspec.json.Decoder(list[Name]).decode


def _ids(dispute: Dispute) -> tuple[set[UUID], set[UUID]]:
    sources: set[UUID] = set()
    actors: set[UUID] = set()
    for stance in STANCES:
        for position in getattr(dispute.sides, stance):
            claim = position.claim
            sources.update(a.source_id for a in claim.appearances)
            actors.add(claim.speaker_id)
            if claim.relayed_by_id is not None:
                actors.add(claim.relayed_by_id)
            if claim.speaker.role is not None:
                actors.add(claim.speaker.role.organization_id)
            actors.update(r.reviewer.id for r in claim.reviews)
    return sources, actors


def _published(dispute: Dispute, today: date) -> Dispute:
    """``dispute`` with each claim's reviews published by ``today`` alone (``published``)."""
    sides = msgspec.structs.replace(
        dispute.sides,
        **{
            stance: [
                msgspec.structs.replace(p, claim=published(p.claim, today))
                for p in getattr(dispute.sides, stance)
            ]
            for stance in STANCES
        },
    )
    return msgspec.structs.replace(dispute, sides=sides)


async def card(conn: asyncpg.Connection, dispute_id: UUID) -> Card:
    """The dispute and what its card names, read from one snapshot (404 when there is none)."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        dispute = _published(await disputes.get(conn, dispute_id), datetime.now(UTC).date())
        source_ids, actor_ids = _ids(dispute)
        source_rows = await conn.fetch(_SOURCES, list(source_ids))
        actor_ids.update(r[4] for r in source_rows if r[4] is not None)  # the publishers
        actor_rows = await conn.fetch(_ACTORS, list(actor_ids))
    return Card(
        dispute=dispute,
        sources={
            r[0]: SourceInfo(lang=r[1], published_on=r[2], publisher=r[3], publisher_id=r[4])
            for r in source_rows
        },
        actors={r[0]: ActorNames(name=r[1], names=_names(r[2])) for r in actor_rows},
    )
