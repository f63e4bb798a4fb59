"""Claim SQL. Every function takes a connection; a write records its revision and change
event in its own statement (``history.recording``), or through ``history.record``."""

from __future__ import annotations

import functools
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from service import etag, history, references
from service.claims.schemas import Claim, ClaimCreate, ClaimFilters, ClaimUpdate
from service.db import new_id, rfc3339
from service.errors import FieldError, Invalid, NotFound, held_back, invalid, repeats
from service.history import Who
from service.pagination import compact_json, keyset_pages, page_size
from service.reviews.queries import REVIEW_SUMMARY_FIELDS
from service.schemas import changed, sent
from service.text.lang import canonical_lang
from service.text.normalize import normalize
from service.text.stopwords import search_words


def claim_json() -> str:
    """The claim ``c`` with everything a client needs to show it: speaker (with the role they
    held on the claim's date), relayed-by, targets and sources, in one expression.

    Its keys come in the order of :class:`Claim`'s fields and its timestamps as msgspec writes
    them, so that the text, compacted, is what encoding the decoded claim gives: lists send it
    as PostgreSQL wrote it (:func:`service.pagination.json_page`).
    """
    return f"""json_build_object(
    'id', c.id, 'version', c.version, 'created_at', {rfc3339("c.created_at")},
    'updated_at', {rfc3339("c.updated_at")},
    'speaker_id', c.speaker_id,
    'speaker', (
        SELECT json_build_object('id', sp.id, 'name', sp.name, 'kind', sp.kind, 'role', (
            SELECT json_build_object('role', m.role, 'organization_id', m.organization_id,
                                     'organization_name', o.name)
            FROM actor_memberships m JOIN actors o ON o.id = m.organization_id
            WHERE m.actor_id = sp.id
              AND CASE WHEN c.stated_on IS NULL THEN m.end_date IS NULL
                       ELSE (m.start_date IS NULL OR m.start_date <= c.stated_on)
                        AND (m.end_date IS NULL OR m.end_date >= c.stated_until) END
            ORDER BY m.start_date DESC NULLS LAST, m.position
            LIMIT 1))
        FROM actors sp WHERE sp.id = c.speaker_id),
    'text', c.text, 'lang', c.lang, 'verbatim', c.verbatim, 'translations', c.translations,
    'kind', c.kind, 'stated_on', c.stated_on, 'stated_on_precision', c.stated_on_precision,
    'appearances', COALESCE((
        SELECT json_agg(json_build_object(
                   'source_id', ap.source_id, 'note', ap.note,
                   'source', json_build_object('id', s.id, 'title', s.title, 'url', s.url,
                                               'kind', s.kind))
               ORDER BY ap.position)
        FROM claim_appearances ap JOIN sources s ON s.id = ap.source_id
        WHERE ap.claim_id = c.id), '[]'),
    'relayed_by_id', c.relayed_by_id,
    'relayed_by', (SELECT json_build_object('id', r.id, 'name', r.name, 'kind', r.kind)
                   FROM actors r WHERE r.id = c.relayed_by_id),
    'targets', COALESCE((
        SELECT json_agg(json_build_object(
                   'actor_id', t.actor_id, 'role', t.role,
                   'actor', json_build_object('id', ta.id, 'name', ta.name, 'kind', ta.kind))
               ORDER BY t.position)
        FROM claim_targets t JOIN actors ta ON ta.id = t.actor_id
        WHERE t.claim_id = c.id), '[]'),
    'topics', c.topics,
    'disputes', COALESCE((
        SELECT json_agg(json_build_object('id', d.id, 'title', d.title, 'status', d.status,
                                          'stance', dp.stance) ORDER BY d.id)
        FROM dispute_positions dp JOIN disputes d ON d.id = dp.dispute_id
        WHERE dp.claim_id = c.id), '[]'),
    'reviews', COALESCE((
        SELECT json_agg(json_build_object({REVIEW_SUMMARY_FIELDS}) ORDER BY rv.id)
        FROM reviews rv WHERE rv.claim_id = c.id), '[]'))"""


CLAIM_JSON = claim_json()


def document(alias: str = "d", claim: str = "c.id") -> str:
    """The claim ``c``'s JSON as reads send it: the stored document, which triggers rebuild
    with every write that changes what it shows (migration 0010), so a read costs one index
    probe where building it took seven subqueries. ``claim_documents <alias>`` is to be joined
    to ``c`` (LEFT JOIN ... ON <alias>.claim_id = c.id); a claim without one, which the
    triggers do not leave, would still be built, by a function (migration 0013): written into
    the statement, the building SQL's subqueries were set up at every run, used or not."""
    return f"COALESCE({alias}.body, claimdesk_claim_json({claim}))"


DOCUMENT = document()

_decode = msgspec.json.Decoder(Claim).decode
_decode_list = msgspec.json.Decoder(list[Claim]).decode


# The document as UTF-8 bytes (bytea), which the service sends compacted without decoding
# them into a string to encode them again (about 20,000 instructions of a GET claim's 850,000).
_GET = f"""
SELECT c.version, convert_to({DOCUMENT}::text, 'UTF8')
FROM claims c LEFT JOIN claim_documents d ON d.claim_id = c.id WHERE c.id = $1"""
# The row and its document locked and read in one round trip, with the version the
# statement's snapshot saw. When the lock had to wait for a writer, PostgreSQL hands over the
# newest row and document (read committed: a rebuild may have changed the document alone),
# but the rest of the statement still reads the older snapshot; a mismatch of versions means
# that happened. A claim without a document (which the triggers do not leave) is locked and
# built instead.
_GET_FOR_UPDATE = """
SELECT c.version, convert_to(d.body::text, 'UTF8'), (SELECT s.version FROM claims s WHERE s.id = c.id)
FROM claims c JOIN claim_documents d ON d.claim_id = c.id
WHERE c.id = $1 FOR UPDATE OF c, d"""
_LOCK = "SELECT version FROM claims WHERE id = $1 FOR UPDATE"


async def get_json(
    conn: asyncpg.Connection, claim_id: UUID, *, lock: bool = False
) -> tuple[int, bytes]:
    """The claim's version and its JSON as PostgreSQL wrote it (UTF-8); with ``lock``, the row locked
    until the transaction ends and the JSON read after any writer it waited for."""
    row = await conn.fetchrow(_GET_FOR_UPDATE if lock else _GET, claim_id)
    if lock and (row is None or row[2] != row[0]):
        # read again, now that the lock is held (taken here when there was no document)
        row = await conn.fetchrow(_GET, claim_id) if await conn.fetchval(_LOCK, claim_id) else None
    if row is None:
        raise NotFound("claim", claim_id)
    return row[0], row[1]


async def get(conn: asyncpg.Connection, claim_id: UUID, *, lock: bool = False) -> Claim:
    return _decode((await get_json(conn, claim_id, lock=lock))[1])


# A claim page's filters, in the order their parameters take: SQL with ``{0}`` (``{1}``) for
# the parameter(s). A claim matches a date range when the period it was stated in overlaps
# the range; ``before`` is the cursor (the last id of the page before).
_FILTERS = {
    "speaker_id": "c.speaker_id = {0}",
    "target_id": "c.id IN (SELECT claim_id FROM claim_targets WHERE actor_id = {0})",
    "relayed_by_id": "c.relayed_by_id = {0}",
    "source_id": "c.id IN (SELECT claim_id FROM claim_appearances WHERE source_id = {0})",
    "topic": "c.topics @> ARRAY[{0}::text]",
    "lang": "(c.lang = {0} OR c.lang LIKE {0} || '-%')",
    "kind": "c.kind = {0}",
    "stated_from": "c.stated_until >= {0}",
    "stated_to": "c.stated_on <= {0}",
    "dispute_id": "c.id IN (SELECT claim_id FROM dispute_positions WHERE dispute_id = {0})",
    "before": "c.id < {0}",
    # parsed once (an InitPlan): the function is not inlined, and a plan made for any query
    # would otherwise parse it again for every row it checks
    "q": "c.search_vector @@ (SELECT claimdesk_tsquery({0}, {1}, {2}::text[], {3}::text[]))",
}


# A claim page's statement for a set of filters and a page size (``keyset_page_sql``).
list_sql = keyset_pages(
    _FILTERS,
    rows="claims c",
    key="c.id",
    document=document("d", "p.id"),
    join="LEFT JOIN claim_documents d ON d.claim_id = p.id",
)


def list_query(f: ClaimFilters, limit: int, before: UUID | None) -> tuple[str, list[Any]] | None:
    """The statement and parameters of the page of ``limit`` claims after ``before``; None
    when ``q`` is stop words alone, which match nothing (see /v1/search)."""
    given: dict[str, tuple[Any, ...]] = {
        "speaker_id": (f.speaker_id,),
        "target_id": (f.target_id,),
        "relayed_by_id": (f.relayed_by_id,),
        "source_id": (f.source_id,),
        "topic": (f.topic,),
        "lang": (canonical_lang(f.lang) if f.lang else None,),
        "kind": (f.kind,),
        "stated_from": (f.stated_from,),
        "stated_to": (f.stated_to,),
        "dispute_id": (f.dispute_id,),
        "before": (before,),
    }
    if f.q:
        words = search_words(f.q)
        if not words.words:
            return None
        given["q"] = (normalize(words.words), words.words, *words.exclusions())
    used = tuple(name for name, values in given.items() if values[0] is not None)
    args = [v for name in used for v in given[name]]
    return list_sql(used, page_size(limit)), [*args, limit]


async def list_claims(
    conn: asyncpg.Connection, f: ClaimFilters, limit: int, before: UUID | None
) -> list[Claim]:
    documents, _ = await list_claims_json(conn, f, limit, before)
    return _decode_list(b"[" + documents + b"]")


async def list_claims_json(
    conn: asyncpg.Connection, f: ClaimFilters, limit: int, before: UUID | None
) -> tuple[bytes, UUID | None]:
    """Up to ``limit`` claims, newest first, as their JSON documents (as PostgreSQL wrote them,
    comma-separated), and the id the next page starts after, if there is one."""
    query = list_query(f, limit, before)
    if query is None:
        return b"", None
    documents, last = await conn.fetchrow(query[0], *query[1])
    return documents or b"", last


# The earliest time zone is 14 hours ahead of UTC (Line Islands): "today" somewhere
_AHEAD_OF_UTC = timedelta(hours=14)


def latest_stated_on(now: datetime | None = None) -> date:
    """The latest date a claim may be stated on: today where it is latest (UTC+14), so that
    no one's today is refused."""
    return ((now or datetime.now(UTC)) + _AHEAD_OF_UTC).date()


def _validate(c: dict[str, Any], changing: Collection[str] | None = None) -> None:
    """Rules across fields, on the claim as it will be stored. The rules newer than the API
    (no translation in the claim's own language, no date after today) are checked on
    create, and on a PATCH when it changes (``changing`` names the fields it changes) one of
    the fields they read: claims stored before them keep what they had through a PATCH of
    other fields, one that sends the whole claim back with another field edited too."""
    langs = [canonical_lang(t.lang) for t in c["translations"]]
    errors = [
        *repeats("translations", langs, "same lang"),
        *repeats("appearances", [a.source_id for a in c["appearances"]], "same source"),
        *repeats("targets", [(t.actor_id, t.role) for t in c["targets"]], "same actor and role"),
        *repeats("topics", c["topics"], "same topic"),
    ]
    own = canonical_lang(c["lang"])
    if (changing is None or {"lang", "translations"} & set(changing)) and own in langs:
        errors.append(
            FieldError(
                field=f"translations[{langs.index(own)}].lang",
                message=f"The claim's own language ({own}): its text is that; "
                "a translation is in another language.",
            )
        )
    if c["relayed_by_id"] is not None and c["relayed_by_id"] == c["speaker_id"]:
        errors.append(
            FieldError(field="relayed_by_id", message="A claim is not relayed by its own speaker.")
        )
    stated_on, precision = c["stated_on"], c["stated_on_precision"]
    latest = latest_stated_on()
    if (
        stated_on is not None
        and stated_on > latest
        and (changing is None or "stated_on" in changing)
    ):
        errors.append(
            FieldError(
                field="stated_on",
                message=(
                    f"In the future: {stated_on} is after {latest}, today in the earliest "
                    "time zone. A claim is dated when it was stated."
                ),
            )
        )
    if stated_on is None and precision is not None:
        errors.append(
            FieldError(field="stated_on_precision", message="Set only together with stated_on.")
        )
    elif precision == "month" and stated_on.day != 1:
        errors.append(
            FieldError(
                field="stated_on",
                message=(
                    "With precision month, stated_on is the first day of the month "
                    f"({stated_on.replace(day=1)})."
                ),
            )
        )
    elif precision == "year" and (stated_on.month, stated_on.day) != (1, 1):
        errors.append(
            FieldError(
                field="stated_on",
                message=(f"With precision year, stated_on is 1 January ({stated_on.year}-01-01)."),
            )
        )
    if errors:
        raise Invalid(errors)


async def _check_references(
    conn: asyncpg.Connection, c: dict[str, Any], fields: set[str] | None = None
) -> None:
    """422 for every dangling id, in one statement; with ``fields``, only theirs (an update
    checks what it changes: the ids it keeps are rows already, held by the foreign keys)."""

    def wanted(field: str) -> bool:
        return fields is None or field in fields

    errors = await references.missing_in(
        conn,
        {
            "actors": [
                *[(f, c[f]) for f in ("speaker_id", "relayed_by_id") if wanted(f)],
                *[
                    (f"targets[{i}].actor_id", t.actor_id)
                    for i, t in enumerate(c["targets"] if wanted("targets") else [])
                ],
            ],
            "sources": [
                (f"appearances[{i}].source_id", a.source_id)
                for i, a in enumerate(c["appearances"] if wanted("appearances") else [])
            ],
        },
    )
    if errors:
        raise Invalid(errors)


_COLUMNS = """id, speaker_id, relayed_by_id, text, lang, verbatim, kind, stated_on,
              stated_on_precision, translations, topics"""

# The lists as rows: positions in the order sent.
_APPEARANCES = """
INSERT INTO claim_appearances (claim_id, position, source_id, note)
SELECT $1, a.n - 1, a.source_id, a.note
FROM unnest($12::uuid[], $13::text[]) WITH ORDINALITY AS a (source_id, note, n)"""
_TARGETS = """
INSERT INTO claim_targets (claim_id, position, actor_id, role)
SELECT $1, t.n - 1, t.actor_id, t.role
FROM unnest($14::uuid[], $15::text[]) WITH ORDINALITY AS t (actor_id, role, n)"""

# A new claim, its lists, its stored document, its revision and its change event in one
# statement, answering the claim as GET does (foreign keys are checked at its end): one round
# trip, atomic without a transaction around it. It first key-share locks the rows the claim
# names (``held``), as its foreign-key checks will at its end: a rename of one of them waits
# for it, or it for the rename. The JSON is then built by ``claimdesk_claim_json_now``
# (migration 0018), whose queries see what has committed by then and the rows this statement
# inserted (the statement's own reads see neither), once the lists are in (``a``, ``t``), and
# stored as the claim's document: the trigger on claims leaves a claim so stored alone.
_CREATE = f"""
WITH held AS MATERIALIZED (
    SELECT (SELECT count(*) FROM (SELECT FROM actors
                                  WHERE id = ANY (ARRAY[$2::uuid, $3::uuid] || $14::uuid[])
                                  ORDER BY id FOR KEY SHARE) AS a)
         + (SELECT count(*) FROM (SELECT FROM sources WHERE id = ANY ($12::uuid[])
                                  ORDER BY id FOR KEY SHARE) AS s) AS rows
), c AS (
    INSERT INTO claims ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
    RETURNING id, version
), new_appearances AS ({_APPEARANCES}
    RETURNING 1
), new_targets AS ({_TARGETS}
    RETURNING 1
), changed AS (
    SELECT c.id, c.version, claimdesk_claim_json_now(c.id) AS data
    FROM c, held, (SELECT count(*) FROM new_appearances) AS a,
         (SELECT count(*) FROM new_targets) AS t
), stored AS (
    INSERT INTO claim_documents (claim_id, body) SELECT id, data FROM changed
), {history.recording("'claim'", "'create'", "changed", 16)}
SELECT version, convert_to(data::text, 'UTF8') FROM changed
"""

_REPLACE_APPEARANCES = _APPEARANCES.replace("$12", "$2").replace("$13", "$3")
_REPLACE_TARGETS = _TARGETS.replace("$14", "$2").replace("$15", "$3")

_COLUMN_NAMES = tuple(name.strip() for name in _COLUMNS.split(","))


@functools.cache
def _update_sql(columns: tuple[str, ...]) -> str:
    """The row's changed ``columns`` (``$2``...), its new version, its new JSON (stored as the
    claim's document, see migration 0015), the revision and the change event, in one
    statement (the lists it reads are the tables': a changed list is replaced before it runs).
    The claim is locked before it runs (``_locked``), so its JSON is read after every other
    writer of the claim has committed.

    Only the columns a PATCH changes are set: PostgreSQL then recomputes only the generated
    columns that depend on them, so changing a claim's kind does not normalise its text and
    build its three tsvectors again.
    """
    sets = ", ".join((*columns, "version", "updated_at"))
    values = "".join(f"${i}, " for i in range(2, len(columns) + 2))
    return f"""
WITH c AS (
    UPDATE claims SET ({sets}) = ({values}version + 1, now())
    WHERE id = $1
    RETURNING *
), changed AS (
    SELECT c.id, c.version, {CLAIM_JSON} AS data FROM c
), stored AS (
    INSERT INTO claim_documents AS d (claim_id, body) SELECT id, data FROM changed
    ON CONFLICT (claim_id) DO UPDATE SET body = EXCLUDED.body
), {history.recording("'claim'", "'update'", "changed", len(columns) + 2)}
SELECT version, convert_to(data::text, 'UTF8') FROM changed
"""


@functools.cache
def _update_as_read_sql(columns: tuple[str, ...]) -> str:
    """``_update_sql`` for a claim read without a lock (``_update_as_read``): the row is updated
    only at the version read (``$<n+2>``), and the JSON is built by
    ``claimdesk_claim_json_as_read`` (migration 0017), after the update holds the row, from
    what has committed by then, once it has checked that the stored document is still the
    one read (``$<n+3>``; it raises ``CDCHG`` otherwise)."""
    n = len(columns)
    sets = ", ".join((*columns, "version", "updated_at"))
    values = "".join(f"${i}, " for i in range(2, n + 2))
    return f"""
WITH c AS (
    UPDATE claims SET ({sets}) = ({values}version + 1, now())
    WHERE id = $1 AND version = ${n + 2}
    RETURNING id, version
), changed AS (
    SELECT c.id, c.version, claimdesk_claim_json_as_read(c.id, ${n + 3}) AS data FROM c
), stored AS (
    INSERT INTO claim_documents AS d (claim_id, body) SELECT id, data FROM changed
    ON CONFLICT (claim_id) DO UPDATE SET body = EXCLUDED.body
), {history.recording("'claim'", "'update'", "changed", n + 4)}
SELECT version, convert_to(data::text, 'UTF8') FROM changed
"""


def _parameters(
    claim_id: UUID, c: dict[str, Any], changing: Collection[str] | None = None
) -> tuple[Any, ...]:
    """The claim as stored, validated: the row (``$1``-``$11``), then its appearances
    (``$12``, ``$13``) and targets (``$14``, ``$15``) as arrays, in the order sent."""
    if c["stated_on"] is not None and c["stated_on_precision"] is None:
        c["stated_on_precision"] = "day"
    _validate(c, changing)
    translations = [{"lang": canonical_lang(t.lang), "text": t.text} for t in c["translations"]]
    return (
        claim_id,
        c["speaker_id"],
        c["relayed_by_id"],
        c["text"],
        canonical_lang(c["lang"]),
        c["verbatim"],
        c["kind"],
        c["stated_on"],
        c["stated_on_precision"],
        translations,
        c["topics"],
        [a.source_id for a in c["appearances"]],
        [a.note for a in c["appearances"]],
        [t.actor_id for t in c["targets"]],
        [t.role for t in c["targets"]],
    )


# What a write answers: the claim's id, its version and its JSON as PostgreSQL wrote it, as
# UTF-8 bytes (as GET reads it).
Written = tuple[UUID, int, bytes]


async def create(conn: asyncpg.Connection, who: Who, data: ClaimCreate) -> Claim:
    return _decode((await create_json(conn, who, data))[2])


async def create_json(conn: asyncpg.Connection, who: Who, data: ClaimCreate) -> Written:
    """One statement (see ``_CREATE``); the references are checked by its foreign keys, and
    only when one fails, named field by field.

    Inside a transaction (a request with an Idempotency-Key) they are checked first instead:
    a failed statement would leave nothing to ask them with.
    """
    claim_id = new_id()
    c = msgspec.structs.asdict(data)
    parameters = (*_parameters(claim_id, c), *history.who_params(who))
    if conn.is_in_transaction():
        await _check_references(conn, c)
        async with conn.transaction():  # a savepoint: an error here leaves the request's usable
            row = await conn.fetchrow(_CREATE, *parameters)
        return claim_id, row[0], row[1]
    try:
        row = await conn.fetchrow(_CREATE, *parameters)
    except asyncpg.ForeignKeyViolationError:
        await _check_references(conn, c)  # a 422 naming each id that is not there
        raise  # all there by now (made meanwhile): the generic 422 of a foreign key
    return claim_id, row[0], row[1]


async def _locked(
    conn: asyncpg.Connection, claim_id: UUID, precondition: etag.Preconditions | None
) -> tuple[int, bytes, Claim]:
    """What a PATCH or DELETE starts with: the claim locked and read (version, JSON, decoded),
    and ``If-Match`` compared with the tag of the bytes GET sends (412 otherwise)."""
    version, text = await get_json(conn, claim_id, lock=True)
    etag.require_json(precondition, version, compact_json(text), "claim")
    return version, text, _decode(text)


async def update(
    conn: asyncpg.Connection,
    who: Who,
    claim_id: UUID,
    data: ClaimUpdate,
    *,
    precondition: etag.Preconditions | None = None,
) -> Claim:
    return _decode((await update_json(conn, who, claim_id, data, precondition=precondition))[2])


# The fields that name other rows: a PATCH changing one of them goes the locked way.
_NAMING = frozenset({"speaker_id", "relayed_by_id", "appearances", "targets"})


async def update_json(
    conn: asyncpg.Connection,
    who: Who,
    claim_id: UUID,
    data: ClaimUpdate,
    *,
    precondition: etag.Preconditions | None = None,
) -> Written:
    """A PATCH. Outside a transaction, when it changes only the claim's own fields (not the
    rows it names): the claim read, then one statement (``_update_as_read``). Otherwise, or
    when the claim changed in between, in a transaction (opened here, or a savepoint of the
    caller's), the claim locked first."""
    changes = sent(data)
    if "stated_on" in changes and "stated_on_precision" not in changes:
        # A date without a precision is a day, as on create (so the stored date sent alone
        # makes a claim of a month one of that day); clearing the date clears both.
        changes["stated_on_precision"] = "day" if changes["stated_on"] is not None else None
    if not conn.is_in_transaction() and not changes.keys() & _NAMING:
        written = await _update_as_read(conn, who, claim_id, changes, precondition)
        if written is not None:
            return written
    async with conn.transaction():
        return await _update_locked(conn, who, claim_id, changes, precondition)


def _merged(
    claim_id: UUID, current: Claim, changes: dict[str, Any], changing: set[str]
) -> tuple[Any, ...]:
    """The parameters (``_parameters``) of the claim ``current`` with ``changes`` made, of
    which the fields ``changing`` differ from what is stored (``schemas.changed``)."""
    c: dict[str, Any] = {name: getattr(current, name) for name in ClaimUpdate.__struct_fields__}
    if (
        "stated_on" not in changes
        and "stated_on_precision" in changes
        and changes["stated_on_precision"] is None
        and current.stated_on is not None
    ):
        # "Clear the precision" of a date kept would make November 2019 the 1st of November
        raise invalid(
            "stated_on_precision",
            "A dated claim has a precision: send day, month or year, or clear stated_on too.",
        )
    c.update(changes)
    return _parameters(claim_id, c, changing)


def _set(parameters: tuple[Any, ...], changes: dict[str, Any]) -> tuple[tuple[str, ...], list[Any]]:
    """The columns a PATCH sets, in the table's order, and their values among ``parameters``."""
    columns = tuple(name for name in _COLUMN_NAMES if name in changes)
    values = [v for name, v in zip(_COLUMN_NAMES, parameters, strict=False) if name in changes]
    return columns, values


async def _update_as_read(
    conn: asyncpg.Connection,
    who: Who,
    claim_id: UUID,
    changes: dict[str, Any],
    precondition: etag.Preconditions | None,
) -> Written | None:
    """Two round trips, no transaction: the claim read (If-Match compared with it), then one
    statement that writes it only as it was read (migration 0017). None when it was not: the
    version moved, or the stored document changed (a rename of its speaker, say), meanwhile."""
    version, text = await get_json(conn, claim_id)
    etag.require_json(precondition, version, compact_json(text), "claim")
    current = _decode(text)
    changing = changed(current, changes)
    if not changing:  # nothing written: same version, no revision (schemas.unchanged)
        return claim_id, version, text
    columns, values = _set(_merged(claim_id, current, changes, changing), changes)
    try:
        row = await conn.fetchrow(
            _update_as_read_sql(columns),
            claim_id,
            *values,
            version,
            text,
            *history.who_params(who),
        )
    except asyncpg.PostgresError as e:
        if e.sqlstate == CHANGED_SINCE_READ:
            return None
        raise
    return None if row is None else (claim_id, row[0], row[1])


# What claimdesk_claim_json_as_read raises (migration 0017).
CHANGED_SINCE_READ = "CDCHG"


async def _update_locked(
    conn: asyncpg.Connection,
    who: Who,
    claim_id: UUID,
    changes: dict[str, Any],
    precondition: etag.Preconditions | None,
) -> Written:
    """A PATCH in the caller's transaction: the claim locked and read, then one statement."""
    # The rows it will name are key-share locked before the claim is: a rename of one of them
    # locks it, then rebuilds its claims (migration 0010), so locking in the other order
    # could deadlock with it.
    # A 404 or 412 still comes before a 422 for a dangling id.
    dangling = await held_back(_check_references(conn, changes, set(changes)))
    version, text, current = await _locked(conn, claim_id, precondition)
    if dangling:
        raise dangling
    changing = changed(current, changes)
    if not changing:
        return claim_id, version, text
    parameters = _merged(claim_id, current, changes, changing)
    if "appearances" in changes:
        await conn.execute("DELETE FROM claim_appearances WHERE claim_id = $1", claim_id)
        await conn.execute(_REPLACE_APPEARANCES, claim_id, *parameters[11:13])
    if "targets" in changes:
        await conn.execute("DELETE FROM claim_targets WHERE claim_id = $1", claim_id)
        await conn.execute(_REPLACE_TARGETS, claim_id, *parameters[13:15])
    columns, values = _set(parameters, changes)
    row = await conn.fetchrow(_update_sql(columns), claim_id, *values, *history.who_params(who))
    return claim_id, row[0], row[1]


HOLDERS: list[references.Holder] = [
    (
        "disputes",
        "positions[].claim_id",
        "SELECT dispute_id AS id FROM dispute_positions WHERE claim_id = $1",
    ),
    ("reviews", "claim_id", "SELECT id FROM reviews WHERE claim_id = $1"),
]


async def delete(
    conn: asyncpg.Connection,
    who: Who,
    claim_id: UUID,
    *,
    precondition: etag.Preconditions | None = None,
) -> None:
    _, _, claim = await _locked(conn, claim_id, precondition)
    await references.refuse_if_held(conn, "claim", claim_id, HOLDERS)
    await conn.execute("DELETE FROM claims WHERE id = $1", claim_id)
    await history.record(conn, who, "claim", claim_id, claim.version + 1, "delete", claim)
