"""Search SQL: one statement ranks actors (names: exact, prefix, fuzzy trigram), claims and
disputes (full text over normalised text, Arabic and English stems) and pages them by score."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from service.actors.queries import fuzzy_matches, names_looked_for, strong_matches
from service.claims.queries import DOCUMENT
from service.claims.schemas import Claim
from service.errors import NotFound
from service.search.schemas import SearchFilters, SimilarClaim
from service.text.lang import canonical_lang
from service.text.normalize import normalize
from service.text.stopwords import SearchWords

# Claims are ranked among a bounded set of candidates, so that no query makes a search rank,
# or even fetch, a large part of the table (stop words are left out before it gets here:
# ``service.text.stopwords``). A GIN index cannot stop early: it builds a bitmap of every match
# before the first row is read, and for a word in a fifth of a million claims that alone takes
# tens of milliseconds. So the newest RECENT_WINDOW claims are read first, newest first
# through the primary key, a millisecond's work; when at least COMMON_MATCHES of them match the
# query and the filters (1 in 100: some ten thousand claims in a million), the query is a
# common one and its matches there, the newest claims that say it, are the candidates (at most
# SEARCH_CANDIDATES). The window counts claims read, not claims passing the filters: a filter
# as narrow as one speaker would otherwise walk the whole table to fill it. Otherwise the
# index finds the matches and the first SEARCH_CANDIDATES it yields are the candidates: every
# match, for any query or filters narrower than that. The matches found among the newest
# claims are candidates whichever way: the index, which yields the oldest claims first, looks
# for the others (SEARCH_CANDIDATES in all).
#
# Each candidate is fetched and ranked (``ts_rank_cd``, a few microseconds a claim), and a
# window of common words stops reading once it has SEARCH_CANDIDATES matches. Until the ninth
# session there were 1,000 candidates; with 200, PostgreSQL's CPU for the benchmark's searches,
# one after another at a million claims, went from 2.2-2.3 to 1.4-1.5 ms a search (mostly
# single words found in a few hundred to many thousand claims). A query's best hits are then
# the best among its newest 200 matches (a common query), or among those it found among the
# newest claims and the first the index yields besides them, 200 in all.
#
# Reading the newest claims costs about 1.7 ms at a million claims, wasted on a query of rare
# words. The table's statistics tell those apart first: ANALYZE keeps the most common lexemes
# of ``claims.search_vector`` (``pg_stats.most_common_elems``, up to ten for each unit of the
# statistics target, and none under a cutoff), so a lexeme missing from them is rarer than
# the least frequent of them. When that one is in fewer than 1 claim in 100 (the window's
# threshold), a query is rare if, in each of its readings that leaves any lexeme (its three
# configurations', and its words without the Arabic article, which it also looks for:
# migration 0024), one of its lexemes is missing or listed as rarer than that too (ANALYZE
# keeps each lexeme's frequency); it goes to the index at once. Each process reads
# the list once in COMMON_LEXEMES_SECONDS (``CommonLexemes``) and passes it to the statement,
# which parses the query in each configuration to check it (its words to look for: its
# exclusions only narrow it further). Without statistics that tell (a new table, a list of
# only very common words), and for queries with ``or`` (which does not narrow the match), the
# newest claims are read as before. The
# statistics are of the whole table: a word common among the newest claims but not in the
# table (one that has just become common) counts as rare, and ranks the first
# SEARCH_CANDIDATES matches the index yields rather than the newest.
#
# Whether matches may have been left out (``incomplete``, the page's ``incomplete_results``):
# as many claims or disputes ranked as SEARCH_CANDIDATES, or the newest claims read for a
# common query in a table that holds more than RECENT_WINDOW claims. Counting past the
# newest RECENT_WINDOW claims to know would cost as much again as reading them (2.8 ms at a
# million claims, in a slow hour); the table's size as its statistics last saw it
# (``pg_class.reltuples``, kept by VACUUM and ANALYZE) tells at once for a table of twice as
# many. Statistics of a smaller table are not trusted to say the opposite (a table analysed
# empty says 0 until autovacuum comes round, whatever was loaded since): there, and before
# the table has statistics, the primary key is walked past them (at most RECENT_WINDOW + 1
# of its entries, and only for a common query). After reading on (below), the claims read
# end at the COMMON_MATCHES-th match: any claim older than it was left unread.
#
# Disputes are a hundredth as many: their index finds every match, but only the newest
# SEARCH_CANDIDATES of them are ranked. Until the tenth session all were: a common word is in
# some 500 of the benchmark's 10,000 disputes, and ranking them took about 1 ms
# (``ts_rank_cd`` clears 32 kB for each item of the query, for every row it ranks).
#
# Between the two: a query with some matches among the newest claims but fewer than
# COMMON_MATCHES, such as two common words seldom together, made the index read both words'
# whole lists (some thousands of matches, 6 to 14 ms of a search at a million claims: the
# benchmark's slowest searches, about 1 in 100). With at least READ_ON_MATCHES of them (about
# 1 claim in 250 or more), the claims before the newest are read on, newest first, to the
# COMMON_MATCHES-th match, at most READ_ON_WINDOW of them (about 3,000 at 8 in 2,000, fewer
# the more of the newest match; a claim read costs about a microsecond, a match the index
# yields about one to three),
# and those matches are the candidates, as a common query's are. Fewer, or not found by then:
# the index as above. The newest are passed again (OFFSET, about 0.5 ms): reading on from the
# oldest of them, a bound the plan cannot know, let the planner sort every older claim of a
# table of some thousands instead of walking the primary key.
RECENT_WINDOW = 2000
COMMON_MATCHES = 20
READ_ON_MATCHES = 8
READ_ON_WINDOW = 6000
SEARCH_CANDIDATES = 200
# ``ts_rank_cd``'s weights, D to A: a word's form without its Arabic prefix (weight C, migration
# 0024: ``صعوبات`` in ``الصعوبات``) counts half what a word as written or a stem counts (D, the
# default 0.1), so that the text that says the word as searched ranks first.
RANK_WEIGHTS = "'{0.1, 0.05, 0.4, 1.0}'::float4[]"
_CLAIM_FILTERS = """($6::text IS NULL OR c.lang = $6 OR c.lang LIKE $6 || '-%')
                 AND ($7::uuid IS NULL OR c.speaker_id = $7)
                 AND ($8::uuid IS NULL
                      OR c.id IN (SELECT claim_id FROM claim_targets WHERE actor_id = $8))
                 AND ($9::text IS NULL OR c.topics @> ARRAY[$9::text])
                 AND ($10::date IS NULL OR c.stated_until >= $10)
                 AND ($11::date IS NULL OR c.stated_on <= $11)"""
# The lexemes in at least 1 claim in 100 (COMMON_MATCHES in RECENT_WINDOW) as the statistics
# count them, or NULL when they cannot tell (see above). ANALYZE lists rarer lexemes too, down
# to its cutoff; a query of one of those is rare as a query of an unlisted lexeme is: the
# newest RECENT_WINDOW claims would hold fewer than COMMON_MATCHES of its matches, and reading
# them first was mostly wasted.
_COMMON_LEXEMES = f"""
SELECT ' ' || coalesce((SELECT string_agg(u.lexeme, ' ') || ' '
                        FROM unnest(s.most_common_elems::text::text[],
                                    s.most_common_elem_freqs[1:cardinality(s.most_common_elems)])
                             AS u (lexeme, freq)
                        WHERE u.freq >= {COMMON_MATCHES / RECENT_WINDOW}),
                       '')
FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_stats s ON (s.schemaname, s.tablename) = (n.nspname, t.relname)
WHERE t.oid = 'claims'::regclass AND s.attname = 'search_vector'
  -- the least frequent lexeme listed (after it come the minimum and the maximum): one that
  -- is not listed is rarer still, whether ANALYZE's list is full or it fell below ANALYZE's
  -- cutoff
  AND s.most_common_elem_freqs[cardinality(s.most_common_elems) + 1]
      < {COMMON_MATCHES / RECENT_WINDOW}"""
# Reading them took about 0.45 ms of every search (the statistics view, and a thousand
# lexemes turned into an array); they change only when the table is analysed, so a process
# keeps them this long, as one text: each lexeme between spaces (a lexeme has none), given to
# the statement as one value, in which it looks up the query's few lexemes (asyncpg took 0.4
# ms of the service's CPU to send a list, and PostgreSQL 0.05 ms to read the text of an array
# of 900 lexemes, every search).
COMMON_LEXEMES_SECONDS = 300.0
# None to trust (a table not analysed yet, or too few claims for a cutoff) is kept for less:
# the first ANALYZE of a new table is worth using soon.
NO_LEXEMES_SECONDS = 30.0


class CommonLexemes:
    """The claims' most common lexemes as the rare-word check trusts them, read at most once
    every ``COMMON_LEXEMES_SECONDS`` (one for each app: its database's statistics), or every
    ``NO_LEXEMES_SECONDS`` while there are none."""

    def __init__(
        self, seconds: float = COMMON_LEXEMES_SECONDS, none_seconds: float = NO_LEXEMES_SECONDS
    ) -> None:
        self.seconds = seconds
        self.none_seconds = min(none_seconds, seconds)
        self.read_at = -seconds
        self.lexemes: str | None = None

    async def get(self, conn: asyncpg.Connection) -> str | None:
        kept_for = self.seconds if self.lexemes is not None else self.none_seconds
        if time.monotonic() - self.read_at >= kept_for:
            self.lexemes = await conn.fetchval(_COMMON_LEXEMES)
            self.read_at = time.monotonic()
        return self.lexemes


_SEARCH = f"""
WITH params AS (SELECT claimdesk_tsquery($18, $17, $20::text[], $21::text[]) AS q),
strong AS ({strong_matches("$1", "$2")}),
stats AS (SELECT $19::text AS common WHERE $4 AND $19::text IS NOT NULL),
rare AS MATERIALIZED (
    SELECT EXISTS (SELECT FROM stats) AND NOT EXISTS (
        SELECT FROM stats, (VALUES ('simple'::regconfig, $18),
                                   -- each word as written or without the article
                                   ('simple'::regconfig, claimdesk_without_article($18)),
                                   ('arabic'::regconfig, lower($17)),
                                   ('english'::regconfig, $18)) AS v (config, words),
        LATERAL (SELECT websearch_to_tsquery(v.config, v.words)::text AS query,
                        tsvector_to_array(to_tsvector(v.config, v.words)) AS lexemes) AS l
        -- an "or" does not narrow the match: not a rare query (exclusions are apart: $20)
        WHERE l.query ~ '[|]'
           OR (cardinality(l.lexemes) > 0
               AND NOT EXISTS (SELECT FROM unnest(l.lexemes) AS x (lexeme)
                               WHERE strpos(stats.common, ' ' || x.lexeme || ' ') = 0))
    ) AS yes),
recent AS MATERIALIZED (
    SELECT c.id, c.speaker_id, c.text, c.translations, c.search_vector
    FROM params p, (
        SELECT * FROM claims latest WHERE $4 AND NOT (SELECT yes FROM rare)
        ORDER BY latest.id DESC LIMIT {RECENT_WINDOW}) AS c
    WHERE c.search_vector @@ p.q AND {_CLAIM_FILTERS}
    LIMIT {SEARCH_CANDIDATES}),
-- some matches among the newest claims, but too few: the claims before them read on, newest
-- first, to the COMMON_MATCHES-th match (READ_ON_MATCHES)
read_on AS MATERIALIZED (
    SELECT c.id, c.speaker_id, c.text, c.translations, c.search_vector
    FROM params p, (
        SELECT * FROM claims earlier
        WHERE (SELECT count(*) FROM recent) BETWEEN {READ_ON_MATCHES} AND {COMMON_MATCHES - 1}
        ORDER BY earlier.id DESC OFFSET {RECENT_WINDOW} LIMIT {READ_ON_WINDOW}) AS c
    WHERE c.search_vector @@ p.q AND {_CLAIM_FILTERS}
    LIMIT greatest({COMMON_MATCHES} - (SELECT count(*) FROM recent), 0)),
newest AS (SELECT (SELECT count(*) FROM recent) + (SELECT count(*) FROM read_on) AS matches),
-- the newest matches found, and when they are too few, the index's first matches besides
candidates AS (
    SELECT * FROM recent
    UNION ALL
    SELECT * FROM read_on
    UNION ALL
    SELECT c.* FROM params p, LATERAL (
        SELECT c.id, c.speaker_id, c.text, c.translations, c.search_vector
        FROM claims c
        WHERE $4 AND c.search_vector @@ p.q AND {_CLAIM_FILTERS}
          AND c.id NOT IN (SELECT id FROM recent UNION ALL SELECT id FROM read_on)
        LIMIT greatest({SEARCH_CANDIDATES} - (SELECT matches FROM newest), 0)) AS c
    WHERE (SELECT matches FROM newest) < {COMMON_MATCHES}),
ranked AS MATERIALIZED (
    SELECT c.id, c.speaker_id, c.text, c.translations,
           ts_rank_cd({RANK_WEIGHTS}, c.search_vector, p.q)::float8 AS score
    FROM params p, candidates c),
ranked_disputes AS MATERIALIZED (
    SELECT d.id, d.title, d.question,
           ts_rank_cd({RANK_WEIGHTS}, d.search_vector, p.q)::float8 AS score
    FROM params p, LATERAL (
        SELECT d.id, d.title, d.question, d.search_vector
        FROM disputes d
        WHERE $5 AND d.search_vector @@ p.q
          AND ($9::text IS NULL OR d.topics @> ARRAY[$9::text])
          AND ($12::text IS NULL OR d.status = $12)
        ORDER BY d.id DESC
        LIMIT {SEARCH_CANDIDATES}) AS d),
-- more claims or disputes may match than were ranked: as many candidates as are ranked, or
-- the newest claims read (a common query) and older ones left unread (see above); after
-- reading on, any claim older than the last match read (one step into the primary key)
incomplete AS (
    SELECT (SELECT count(*) FROM ranked) >= {SEARCH_CANDIDATES}
        OR (SELECT count(*) FROM ranked_disputes) >= {SEARCH_CANDIDATES}
        OR ((SELECT matches FROM newest) >= {COMMON_MATCHES}
            AND CASE WHEN EXISTS (SELECT FROM read_on)
                     THEN EXISTS (SELECT FROM claims past
                                  -- no min(uuid) before PostgreSQL 18
                                  WHERE past.id < (SELECT r.id FROM read_on r
                                                   ORDER BY r.id LIMIT 1))
                     ELSE (SELECT CASE WHEN t.reltuples >= {2 * RECENT_WINDOW} THEN true
                                       ELSE EXISTS (SELECT FROM (SELECT FROM claims unread
                                                                 ORDER BY unread.id DESC
                                                                 OFFSET {RECENT_WINDOW}
                                                                 LIMIT 1) AS o)
                                  END
                           FROM pg_class t WHERE t.oid = 'claims'::regclass)
                END)
        AS yes)
SELECT type, id, score, title, body, translations, (SELECT yes FROM incomplete) AS incomplete
FROM (
    (SELECT 'actor' AS type, a.id, m.score, a.name AS title,
            array_to_string(m.names, ' · ') AS body, NULL::text[] AS translations
     FROM (SELECT * FROM strong
           UNION ALL
           -- near misses only when the strong matches left after the cursor do not fill a
           -- page (near misses score below every strong match): the trigram scan is the
           -- slow part, and typed names mostly match strongly
           SELECT * FROM ({fuzzy_matches("$1", "$2", strong="SELECT * FROM strong")}) AS f
           WHERE (SELECT count(*)
                  FROM (SELECT 1 FROM strong s
                        WHERE $13::float8 IS NULL
                           OR (s.score, 'actor', s.actor_id) < ($13, $14, $15::uuid)
                        LIMIT $16) AS s) < $16
          ) AS m JOIN actors a ON a.id = m.actor_id
     WHERE $3 AND ($13::float8 IS NULL OR (m.score, 'actor', a.id) < ($13, $14, $15::uuid))
     ORDER BY m.score DESC, a.id DESC
     LIMIT $16)
    UNION ALL
    -- the page is ranked first, the speakers' names looked up for it alone
    (SELECT 'claim', c.id, c.score, sp.name, c.text,
            -- their texts alone: what a snippet reads, without JSON to decode
            ARRAY(SELECT t.item ->> 'text'
                  FROM jsonb_array_elements(c.translations) WITH ORDINALITY AS t (item, n)
                  ORDER BY t.n)
     FROM (SELECT c.id, c.speaker_id, c.text, c.translations, c.score
           FROM ranked AS c
           WHERE $13::float8 IS NULL OR (c.score, 'claim', c.id) < ($13, $14, $15::uuid)
           ORDER BY c.score DESC, c.id DESC
           LIMIT $16) AS c
     JOIN actors sp ON sp.id = c.speaker_id)
    UNION ALL
    (SELECT 'dispute', d.id, d.score, d.title, d.question, NULL::text[]
     FROM ranked_disputes AS d
     WHERE $13::float8 IS NULL OR (d.score, 'dispute', d.id) < ($13, $14, $15::uuid)
     ORDER BY d.score DESC, d.id DESC
     LIMIT $16)
) AS hits
ORDER BY score DESC, type DESC, id DESC
LIMIT $16
"""


def search_args(
    words: SearchWords,
    f: SearchFilters,
    limit: int,
    after: tuple[float, str, UUID] | None,
    common: str | None = None,
) -> tuple[Any, ...]:
    """The parameters of ``_SEARCH`` for the query ``words`` (``search_words``). Names match
    its words without the exclusions (``names_looked_for``; none when they have no letter or
    digit, as ``-قسد`` alone); full text matches its words without the stop words, the
    exclusions apart, and finds no claim or dispute when nothing is left to look for
    (``the``, ``من``, ``-قسد``: the full-text parameters NULL, nothing parsed). ``common``:
    the common lexemes (``CommonLexemes``)."""
    score, kind, last_id = after or (None, None, None)
    looked_for = words.words or None
    named, prefixes = names_looked_for(words)
    return (
        named,
        prefixes,
        "actor" in f.types and prefixes is not None,
        "claim" in f.types and bool(looked_for),
        "dispute" in f.types and bool(looked_for),
        canonical_lang(f.lang) if f.lang else None,  # stored canonical, as the claims list
        f.speaker_id,
        f.target_id,
        f.topic,
        f.stated_from,
        f.stated_to,
        f.status,
        score,
        kind,
        last_id,
        limit,
        looked_for,
        normalize(looked_for) if looked_for else None,
        common,
        *words.exclusions(),
    )


async def search(
    conn: asyncpg.Connection,
    words: SearchWords,
    f: SearchFilters,
    limit: int,
    after: tuple[float, str, UUID] | None,
    common: CommonLexemes | None = None,
) -> list[asyncpg.Record]:
    """``_SEARCH`` on a connection of the search pool (``db.create_pool(search=True)``),
    whose session runs it with its generic plan and reads every table through an index (see
    ``db.SEARCH_SETTINGS``); ``common`` keeps the statistics' common lexemes between searches
    (without it, they are read for this one)."""
    lexemes = None
    if "claim" in f.types:
        lexemes = await (common or CommonLexemes()).get(conn)
    rows: list[asyncpg.Record] = await conn.fetch(
        _SEARCH, *search_args(words, f, limit, after, lexemes)
    )
    return rows


# Claims by other speakers that share a pair of neighbouring content words with this claim
# (Arabic and English stems, not the forms without a prefix: weight D; stop words left out by
# those configurations), in its text or its translations: selective enough for the GIN index to
# find few candidates. At most SIMILAR_CANDIDATES of them are ranked (text rank, plus 0.1 for
# every shared topic).
SIMILAR_CANDIDATES = 2000
_SIMILAR = f"""
WITH me AS (SELECT id, speaker_id, topics, search_norm,
                   claimdesk_claim_text(text, translations) AS raw
            FROM claims WHERE id = $1),
words AS (
    SELECT lexeme, positions[1] AS pos
    FROM me, unnest(to_tsvector('arabic'::regconfig, lower(me.raw)))
    WHERE lexeme !~ '[a-z0-9]'
    UNION ALL
    SELECT lexeme, positions[1] FROM me, unnest(to_tsvector('english'::regconfig, me.search_norm))
    WHERE lexeme ~ '[a-z]'
),
pairs AS (
    SELECT to_tsquery('simple'::regconfig, string_agg(
               format('(%s:D & %s:D)', quote_literal(previous), quote_literal(lexeme)), ' | '))
               AS q
    FROM (SELECT lexeme, lag(lexeme) OVER (ORDER BY pos, lexeme) AS previous FROM words) AS w
    WHERE previous IS NOT NULL AND previous <> lexeme
)
SELECT {DOCUMENT}::text, c.score FROM (
    SELECT c.*, (ts_rank_cd({RANK_WEIGHTS}, c.search_vector, pairs.q)
                 + 0.1 * cardinality(ARRAY(SELECT unnest(c.topics)
                                           INTERSECT SELECT unnest(me.topics))))::float8 AS score
    FROM me, pairs, LATERAL (
        SELECT * FROM claims c
        WHERE c.search_vector @@ pairs.q AND c.speaker_id <> me.speaker_id
        LIMIT {SIMILAR_CANDIDATES}) AS c
) AS c
LEFT JOIN claim_documents d ON d.claim_id = c.id
WHERE ($2::float8 IS NULL OR (c.score, c.id) < ($2, $3::uuid))
ORDER BY c.score DESC, c.id DESC
LIMIT $4
"""
_decode_claim = msgspec.json.Decoder(Claim).decode


async def similar(
    conn: asyncpg.Connection, claim_id: UUID, limit: int, after: tuple[float, UUID] | None
) -> list[SimilarClaim]:
    if not await conn.fetchval("SELECT true FROM claims WHERE id = $1", claim_id):
        raise NotFound("claim", claim_id)
    score, last = after or (None, None)
    rows = await conn.fetch(_SIMILAR, claim_id, score, last, limit)
    return [SimilarClaim(score=r["score"], claim=_decode_claim(r[0])) for r in rows]
