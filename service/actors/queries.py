"""Actor SQL. Every function takes a connection; writes go through ``history.record``."""

from __future__ import annotations

import unicodedata
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from service import etag, history, references
from service.actors.countries import check_country
from service.actors.schemas import Actor, ActorCreate, ActorFilters, ActorUpdate, MembershipInput
from service.db import new_id
from service.errors import (
    AlreadyMerged,
    Duplicate,
    FieldError,
    Invalid,
    Merged,
    NotFound,
    held_back,
    repeats,
)
from service.history import Who
from service.schemas import sent, unchanged
from service.text.lang import canonical_lang
from service.text.normalize import WORD, has_letter_or_digit, normalize
from service.text.stopwords import SearchWords, search_words

# The full representation of actor ``a``, built in PostgreSQL: one query, whatever the page size.
ACTOR_JSON = """json_build_object(
    'id', a.id, 'kind', a.kind, 'name', a.name,
    'names', COALESCE((
        SELECT json_agg(json_build_object('value', n.value, 'lang', n.lang, 'kind', n.kind)
                        ORDER BY n.position)
        FROM actor_names n WHERE n.actor_id = a.id), '[]'),
    'description', a.description, 'country', a.country, 'wikidata_id', a.wikidata_id,
    'memberships', COALESCE((
        SELECT json_agg(json_build_object(
                   'organization_id', m.organization_id, 'organization_name', o.name,
                   'role', m.role, 'start_date', m.start_date, 'end_date', m.end_date)
               ORDER BY m.position)
        FROM actor_memberships m JOIN actors o ON o.id = m.organization_id
        WHERE m.actor_id = a.id), '[]'),
    'version', a.version, 'created_at', a.created_at, 'updated_at', a.updated_at)::text"""

_decode = msgspec.json.Decoder(Actor).decode


async def get(conn: asyncpg.Connection, actor_id: UUID, *, lock: bool = False) -> Actor:
    """The actor; 404, or :class:`Merged` (308 to the survivor) for an actor merged away."""
    sql = f"SELECT {ACTOR_JSON} FROM actors a WHERE a.id = $1"
    if lock:
        await conn.execute("SELECT 1 FROM actors WHERE id = $1 FOR UPDATE", actor_id)
    row = await conn.fetchval(sql, actor_id)
    if row is None:
        into = await merged_into(conn, actor_id)
        if into is not None:
            raise Merged(actor_id, into)
        raise NotFound("actor", actor_id)
    return _decode(row)


async def merged_into(conn: asyncpg.Connection, actor_id: UUID) -> UUID | None:
    """The actor a merged actor's claims and names went to (the last one of a chain: a
    merge repoints the rows naming the actor it merges away), or None."""
    into: UUID | None = await conn.fetchval(
        "SELECT into_id FROM actor_merges WHERE merged_id = $1", actor_id
    )
    return into


# Actor names match in two tiers. Strong: the whole name (score 1), the start of the name (0.9),
# or the start of any word of it for each word typed (0.85) — found through a btree and a GIN
# index of the names' words, fast enough for typeahead. Fuzzy: trigram word similarity
# (below 0.8, for actors with no strong match), so misspellings still match: an alias typed
# exactly ranks above a near miss. ``{q}`` is the normalised query's parameter, ``{words}`` its
# words as a prefix tsquery (see ``prefix_tsquery``).
_NAMES = """(SELECT a.id AS actor_id, a.name_norm AS norm, a.name AS value FROM actors a
           WHERE {name_norm}
           UNION ALL
           SELECT n.actor_id, n.value_norm, n.value FROM actor_names n
           WHERE {value_norm})"""
_STRONG_CONDITION = (
    "{col} = {q} OR to_tsvector('simple'::regconfig, {col}) @@ to_tsquery('simple', {words})"
)
_FUZZY_CONDITION = "{q} <% {col}"


def _names(condition: str, **params: str) -> str:
    return _NAMES.format(
        name_norm=condition.format(col="a.name_norm", **params),
        value_norm=condition.format(col="n.value_norm", **params),
    )


STRONG_MATCHES_TEMPLATE = """
    SELECT x.actor_id,
           max(CASE WHEN x.norm = {q} THEN 1.0
                    WHEN starts_with(x.norm, {q}) THEN 0.9
                    ELSE 0.85 END)::float8 AS score,
           array_agg(DISTINCT x.value) AS names
    FROM {names} AS x
    GROUP BY x.actor_id"""
FUZZY_MATCHES_TEMPLATE = """
    SELECT x.actor_id, max(0.8 * word_similarity({q}, x.norm))::float8 AS score,
           array_agg(DISTINCT x.value) AS names
    FROM {names} AS x
    WHERE x.actor_id NOT IN (SELECT s.actor_id FROM ({strong}) AS s)
    GROUP BY x.actor_id"""
STRONG_FLOOR = 0.85  # the lowest strong score; fuzzy scores stay below 0.8


def strong_matches(q: str, words: str) -> str:
    """SQL for (actor_id, score, names) of actors a name of which matches strongly."""
    return STRONG_MATCHES_TEMPLATE.format(q=q, names=_names(_STRONG_CONDITION, q=q, words=words))


def fuzzy_matches(q: str, words: str, strong: str | None = None) -> str:
    """SQL for (actor_id, score, names) of actors with only near misses among their names.
    ``strong``: SQL of the strong matches when the statement has them already (a CTE)."""
    return FUZZY_MATCHES_TEMPLATE.format(
        q=q, names=_names(_FUZZY_CONDITION, q=q), strong=strong or strong_matches(q, words)
    )


def actor_matches(q: str, words: str) -> str:
    """SQL for (actor_id, score, names) of every actor that matches, strongly or not."""
    return f"{strong_matches(q, words)}\n    UNION ALL{fuzzy_matches(q, words)}"


def prefix_tsquery(normalised: str, alternatives: bool = False) -> str | None:
    """``'hulusi':* & 'ak':*`` for ``hulusi ak``: names with a word starting with each word typed.
    None when nothing in the query is a word (it then matches no name strongly but exactly).
    ``alternatives`` (search's ``q``, which takes ``or``): ``روسيا or قسد`` is either
    (``'روسيا':* | 'قسد':*``), as its full text is; an ``or`` at either end is a word."""
    words = WORD.findall(normalised)
    if not words:
        return None
    groups: list[list[str]] = [[]]
    for i, word in enumerate(words):
        if alternatives and word == "or" and 0 < i < len(words) - 1:
            if groups[-1]:
                groups.append([])
            continue
        groups[-1].append(f"'{word}':*")
    if len(groups) == 1:
        return " & ".join(groups[0])
    return " | ".join(f"({' & '.join(group)})" for group in groups if group)


def names_looked_for(words: SearchWords) -> tuple[str, str | None]:
    """What a query in search's syntax looks for among names (``/v1/search`` and the actors
    list's ``q``): its words without the exclusions, normalised, and their prefix tsquery
    with ``or`` between alternatives; the tsquery is None when they have no letter or digit
    (``-Russia``: no name to look for)."""
    named = normalize(words.named)
    if not has_letter_or_digit(named):
        return named, None
    return named, prefix_tsquery(named, alternatives=True)


# Filters are a fixed set of clauses; each reads its parameter and is a no-op when it is NULL.
_LIST = f"""
SELECT {ACTOR_JSON}
FROM actors a
WHERE ($1::text IS NULL OR a.kind = $1)
  AND ($2::text IS NULL OR a.country = $2)
  AND ($3::text IS NULL OR a.wikidata_id = $3)
  AND ($4::uuid IS NULL OR a.id IN (
        SELECT actor_id FROM actor_memberships WHERE organization_id = $4))
  AND ($5::text IS NULL OR a.id IN (SELECT actor_id FROM ({actor_matches("$5", "$8")}) AS m))
  AND ($6::uuid IS NULL OR a.id < $6)
ORDER BY a.id DESC
LIMIT $7
"""


async def list_actors(
    conn: asyncpg.Connection, filters: ActorFilters, limit: int, before: UUID | None
) -> list[Actor]:
    q = words = None
    if filters.q:
        q, words = names_looked_for(search_words(filters.q))
        if words is None:
            return []
    rows = await conn.fetch(
        _LIST,
        filters.kind,
        filters.country,
        filters.wikidata_id,
        filters.member_of,
        q,
        before,
        limit,
        words,
    )
    return [_decode(r[0]) for r in rows]


# The page is chosen from the matches alone, then only its rows are joined and built.
_TYPEAHEAD = """
SELECT {actor_json}, m.score
FROM (SELECT m.actor_id, m.score FROM ({matches}) AS m
      WHERE (($3::text IS NULL AND $7::text IS NULL AND $8::text IS NULL AND $9::uuid IS NULL)
             OR EXISTS (SELECT 1 FROM actors k
                        WHERE k.id = m.actor_id
                          AND ($3::text IS NULL OR k.kind = $3)
                          AND ($7::text IS NULL OR k.country = $7)
                          AND ($8::text IS NULL OR k.wikidata_id = $8)
                          AND ($9::uuid IS NULL OR k.id IN (
                                SELECT actor_id FROM actor_memberships
                                WHERE organization_id = $9))))
        AND ($4::float8 IS NULL OR (m.score, m.actor_id) < ($4, $5::uuid))
      ORDER BY m.score DESC, m.actor_id DESC
      LIMIT $6) AS m
JOIN actors a ON a.id = m.actor_id
ORDER BY m.score DESC, a.id DESC
"""
_TYPEAHEAD_STRONG = _TYPEAHEAD.format(actor_json=ACTOR_JSON, matches=strong_matches("$1", "$2"))
_TYPEAHEAD_FUZZY = _TYPEAHEAD.format(actor_json=ACTOR_JSON, matches=fuzzy_matches("$1", "$2"))


async def typeahead(
    conn: asyncpg.Connection,
    name: str,
    filters: ActorFilters,
    limit: int,
    after: tuple[float, UUID] | None,
) -> list[tuple[Actor, float]]:
    """Actors any of whose names is ``name``, starts with it, or nearly matches it: best first,
    among those ``filters`` leave (its ``q`` aside: the route refuses both).

    The strong tier comes from indexes in a few milliseconds. Near misses (the trigram tier,
    slower) are offered only when no name matches strongly: a name typed with a mistake."""
    q = normalize(name)
    words = prefix_tsquery(q)
    score, last = after or (None, None)
    given = (filters.country, filters.wikidata_id, filters.member_of)
    if score is None or score >= STRONG_FLOOR:
        rows = await conn.fetch(
            _TYPEAHEAD_STRONG, q, words, filters.kind, score, last, limit, *given
        )
        if rows or score is not None:
            return [(_decode(r[0]), r["score"]) for r in rows]
    rows = await conn.fetch(_TYPEAHEAD_FUZZY, q, words, filters.kind, score, last, limit, *given)
    return [(_decode(r[0]), r["score"]) for r in rows]


def _check_names(names: list[Any]) -> None:
    # one name in two Unicode spellings (precomposed or not), or with white space around it
    # or doubled inside (`SDF ` beside `SDF`: a walkthrough), is still one name
    keys = [
        (" ".join(unicodedata.normalize("NFC", n.value).split()), canonical_lang(n.lang))
        for n in names
    ]
    if errors := repeats("names", keys, "same value and lang"):
        raise Invalid(errors)


async def _check_memberships(
    conn: asyncpg.Connection, actor_id: UUID, memberships: list[MembershipInput]
) -> None:
    keys = [(m.organization_id, m.role, m.start_date, m.end_date) for m in memberships]
    errors = repeats("memberships", keys, "same organization, role and dates")
    for i, m in enumerate(memberships):
        if m.organization_id == actor_id:
            errors.append(
                FieldError(
                    field=f"memberships[{i}].organization_id",
                    message="An actor cannot be a member of itself.",
                )
            )
        if m.start_date and m.end_date and m.end_date < m.start_date:
            errors.append(
                FieldError(
                    field=f"memberships[{i}].end_date", message="end_date is before start_date."
                )
            )
    if errors:
        raise Invalid(errors)
    await references.require(
        conn,
        "actors",
        [
            (f"memberships[{i}].organization_id", m.organization_id)
            for i, m in enumerate(memberships)
        ],
    )


async def _check_wikidata(
    conn: asyncpg.Connection, wikidata_id: str | None, actor_id: UUID
) -> None:
    if wikidata_id is None:
        return
    other = await conn.fetchval(
        "SELECT id FROM actors WHERE wikidata_id = $1 AND id <> $2", wikidata_id, actor_id
    )
    if other is not None:
        raise Duplicate(
            f"Actor {other} has wikidata_id {wikidata_id} already.",
            field="wikidata_id",
            existing_id=other,
        )


async def _write_children(
    conn: asyncpg.Connection, actor_id: UUID, changes: dict[str, Any], replace: bool
) -> None:
    if "names" in changes:
        if replace:
            await conn.execute("DELETE FROM actor_names WHERE actor_id = $1", actor_id)
        names = changes["names"]
        if names:
            await conn.executemany(
                "INSERT INTO actor_names (actor_id, position, value, lang, kind) "
                "VALUES ($1, $2, $3, $4, $5)",
                [
                    (actor_id, i, n.value, canonical_lang(n.lang), n.kind)
                    for i, n in enumerate(names)
                ],
            )
    if "memberships" in changes:
        if replace:
            await conn.execute("DELETE FROM actor_memberships WHERE actor_id = $1", actor_id)
        memberships = changes["memberships"]
        if memberships:
            await conn.executemany(
                "INSERT INTO actor_memberships (actor_id, position, organization_id, role, "
                "start_date, end_date) VALUES ($1, $2, $3, $4, $5, $6)",
                [
                    (actor_id, i, m.organization_id, m.role, m.start_date, m.end_date)
                    for i, m in enumerate(memberships)
                ],
            )


async def create(conn: asyncpg.Connection, who: Who, data: ActorCreate) -> Actor:
    actor_id = new_id()
    check_country(data.country)
    _check_names(data.names)
    await _check_memberships(conn, actor_id, data.memberships)
    await _check_wikidata(conn, data.wikidata_id, actor_id)
    await conn.execute(
        "INSERT INTO actors (id, kind, name, description, country, wikidata_id) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        actor_id,
        data.kind,
        data.name,
        data.description,
        data.country,
        data.wikidata_id,
    )
    await _write_children(
        conn, actor_id, {"names": data.names, "memberships": data.memberships}, replace=False
    )
    actor = await get(conn, actor_id)
    await history.record(conn, who, "actor", actor_id, actor.version, "create", actor)
    return actor


async def update(
    conn: asyncpg.Connection,
    who: Who,
    actor_id: UUID,
    data: ActorUpdate,
    *,
    precondition: etag.Preconditions | None = None,
) -> Actor:
    changes = sent(data)
    invalid = None
    if "memberships" in changes:
        # The organizations are key-share locked before the actor is: renaming an organization
        # locks it, then its members (migration 0010), so the other order could deadlock.
        invalid = await held_back(_check_memberships(conn, actor_id, changes["memberships"]))
    current = await get(conn, actor_id, lock=True)
    etag.require(precondition, current)
    if invalid:
        raise invalid
    if unchanged(current, changes):
        return current
    if changes.get("country", current.country) != current.country:
        check_country(changes["country"])  # one stored before the check stays editable
    if "names" in changes:
        _check_names(changes["names"])
    if "wikidata_id" in changes:
        await _check_wikidata(conn, changes["wikidata_id"], actor_id)
    merged = msgspec.structs.replace(
        current, **{k: v for k, v in changes.items() if k not in ("names", "memberships")}
    )
    await conn.execute(
        "UPDATE actors SET kind = $2, name = $3, description = $4, country = $5, "
        "wikidata_id = $6, version = version + 1, updated_at = now() WHERE id = $1",
        actor_id,
        merged.kind,
        merged.name,
        merged.description,
        merged.country,
        merged.wikidata_id,
    )
    await _write_children(conn, actor_id, changes, replace=True)
    actor = await get(conn, actor_id)
    await history.record(conn, who, "actor", actor_id, actor.version, "update", actor)
    return actor


# Everything that may refer to an actor; deleting one that is referenced is refused.
HOLDERS: list[references.Holder] = [
    ("claims", "speaker_id", "SELECT id FROM claims WHERE speaker_id = $1"),
    ("claims", "relayed_by_id", "SELECT id FROM claims WHERE relayed_by_id = $1"),
    (
        "claims",
        "targets[].actor_id",
        "SELECT claim_id AS id FROM claim_targets WHERE actor_id = $1",
    ),
    ("sources", "publisher_id", "SELECT id FROM sources WHERE publisher_id = $1"),
    ("reviews", "reviewer_id", "SELECT id FROM reviews WHERE reviewer_id = $1"),
    (
        "actors",
        "memberships[].organization_id",
        "SELECT actor_id AS id FROM actor_memberships WHERE organization_id = $1",
    ),
]


async def delete(
    conn: asyncpg.Connection,
    who: Who,
    actor_id: UUID,
    *,
    precondition: etag.Preconditions | None = None,
) -> None:
    try:
        actor = await get(conn, actor_id, lock=True)
    except Merged as merged:
        # Never redirected: a delete following the redirect would remove the survivor.
        raise AlreadyMerged(actor_id, merged.into_id) from None
    etag.require(precondition, actor)
    await references.refuse_if_held(conn, "actor", actor_id, HOLDERS)
    await conn.execute("DELETE FROM actors WHERE id = $1", actor_id)
    await history.record(conn, who, "actor", actor_id, actor.version + 1, "delete", actor)
