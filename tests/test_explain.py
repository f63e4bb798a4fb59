"""Index use: each search and list filter's SQL can use its index (EXPLAIN, with sequential
scans priced out so that a tiny test table does not hide a missing index)."""

from __future__ import annotations

import re
from datetime import date
from uuid import UUID

import pytest

from service import db
from service.actors.queries import actor_matches, prefix_tsquery
from service.claims import queries as claims
from service.claims.schemas import ClaimFilters
from service.disputes import queries as disputes
from service.disputes.schemas import DisputeFilters
from service.pagination import MAX_LIMIT, page_size
from service.search import queries as search
from service.search.routes import ALL_TYPES
from service.search.schemas import SearchFilters
from service.text.stopwords import search_words
from tests import helpers

pytestmark = pytest.mark.compat


def actual_rows(plan_node: str) -> float:
    """The actual row count of a plan node's first line: PostgreSQL 18 writes ``rows=51.00``,
    15 ``rows=51`` (the compatibility run in CI reads the plans of a PostgreSQL 15)."""
    match = re.search(r"\(actual time=[^ ]+ rows=([0-9.]+)", plan_node)
    assert match, plan_node
    return float(match.group(1))


async def plan(conn, sql: str, *args, bitmap: bool = False) -> str:
    async with conn.transaction():
        await conn.execute("SET LOCAL enable_seqscan = off")
        if bitmap:  # no ordered index scan to stand in for the bitmap an OR of matches needs
            await conn.execute("SET LOCAL enable_indexscan = off")
        rows = await conn.fetch("EXPLAIN " + sql, *args)
    return "\n".join(r[0] for r in rows)


async def test_claim_full_text_uses_the_gin_index(conn):
    text = await plan(
        conn,
        "SELECT id FROM claims WHERE search_vector @@ claimdesk_tsquery($1, $2)",
        "المنطقه الامنه",
        "المنطقة الآمنة",
    )
    assert "claims__search_vector_idx" in text, text


async def test_actor_name_matching_uses_the_name_indexes(conn):
    """Strong matches through the btree (whole name) and the GIN of names' words (prefixes),
    near misses through the trigram indexes: no name table is read in full."""
    q = "خلوصي اكار"
    text = await plan(conn, actor_matches("$1", "$2"), q, prefix_tsquery(q), bitmap=True)
    for index in (
        "actors__name_norm",
        "actor_names__value_norm",
        "actors__name_norm_words",
        "actor_names__value_norm_words",
        "actors__name_norm_trgm",
        "actor_names__value_norm_trgm",
    ):
        assert f" {index} " in text or f" {index}\n" in text or text.endswith(index), (
            index,
            text,
        )
    assert "Seq Scan" not in text, text


async def test_dispute_full_text_uses_the_gin_index(conn):
    text = await plan(
        conn,
        "SELECT id FROM disputes WHERE search_vector @@ claimdesk_tsquery($1, $2)",
        "safe zone",
        "safe zone",
    )
    assert "disputes__search_vector_idx" in text, text


@pytest.mark.parametrize(
    "column, index",
    [
        ("speaker_id", "claims__speaker_idx"),
        ("relayed_by_id", "claims__relayed_by_idx"),
    ],
)
async def test_claim_list_filters_use_their_index(conn, column, index):
    text = await plan(
        conn,
        f"SELECT id FROM claims WHERE {column} = $1 ORDER BY id DESC LIMIT 51",
        "01937a5e-0000-7000-8000-000000000001",
    )
    assert index in text, text


# One speaker's claims, made in SQL (a table worth indexing, quickly): see ``insert_claims``.
CLAIM = "01937a5e-0001-7000-8000-000000000001"
SPEAKER = "01937a5e-0000-7000-8000-0000000000a1"


async def insert_claims(conn, count: int, text: str, **columns: str) -> None:
    """``count`` claims by Akar (``SPEAKER``), as ``helpers.insert_claims`` makes them."""
    await conn.execute("INSERT INTO actors (id, kind, name) VALUES ($1, 'person', 'Akar')", SPEAKER)
    await helpers.insert_claims(conn, count, text, f"'{SPEAKER}'::uuid", **columns)


@pytest.fixture
async def many_claims(conn):
    """Five thousand claims and fresh statistics, so the planner sees a table worth indexing;
    vacuumed, as autovacuum leaves a table that is mostly read."""
    await insert_claims(
        conn,
        5000,
        # each group in one claim in 200: listed by ANALYZE, and rarer than 1 in 100
        "'claim ' || g || ' about the safe zone, group' || g % 200",
        lang="CASE WHEN g % 5 = 0 THEN 'ar' ELSE 'en' END",
        kind="(ARRAY['assertion', 'denial', 'accusation', 'doubt'])[g % 4 + 1]",
        stated_on="date '2015-01-01' + g % 3650",
        stated_on_precision="'day'",
        topics="CASE WHEN g % 12 = 0 THEN ARRAY['idlib'] ELSE ARRAY['economy'] END",
    )
    await conn.execute("VACUUM (ANALYZE) claims")


async def test_claim_list_page_reads_no_more_than_it_returns(conn, many_claims):
    """Keyset pages: the newest-first list walks the primary key backwards, no sort, no OFFSET."""
    rows = await conn.fetch(
        "EXPLAIN SELECT id FROM claims WHERE id < $1 ORDER BY id DESC LIMIT 51",
        "01937a5e-0fff-7000-8000-000000000fff",
    )
    text = "\n".join(r[0] for r in rows)
    assert "Index Only Scan Backward using claims_pkey" in text or (
        "Index Scan Backward using claims_pkey" in text
    ), text
    assert "Sort" not in text, text
    assert "OFFSET" not in claims.list_sql(tuple(claims._FILTERS), 50).upper()


async def analyze_search(
    conn,
    q: str,
    types: frozenset[str] = frozenset({"claim"}),
    settings: str = "SET LOCAL enable_seqscan = off",
    **filters,
) -> str:
    """The search statement's plan as run for ``q`` under ``settings``, with what each node
    actually did."""
    f = SearchFilters(types=types, **filters)
    common = await search.CommonLexemes().get(conn)  # as the service reads them
    args = search.search_args(search_words(q), f, 21, None, common)
    async with conn.transaction():
        await conn.execute(settings)
        rows = await conn.fetch("EXPLAIN (ANALYZE, COSTS OFF) " + search._SEARCH, *args)
    return "\n".join(r[0] for r in rows)


def node(plan: str, name: str) -> str:
    (line,) = [line for line in plan.splitlines() if name in line]
    return line


def ranked(plan: str) -> str:
    """The node that ranks the claims found (its rows: the candidates)."""
    lines = plan.splitlines()
    return lines[lines.index("  CTE ranked") + 1]


# The search's reads of the primary key: the newest claims, the claims before them read on,
# and the look past the newest for older claims left unread (``incomplete``).
NEWEST = "Index Scan Backward using claims_pkey on claims latest"
READ_ON = "Index Scan Backward using claims_pkey on claims earlier"
UNREAD = "Index Only Scan Backward using claims_pkey on claims unread"


async def test_a_common_query_reads_the_newest_claims_not_the_whole_index(conn, many_claims):
    """'safe zone' is in every claim: the newest claims through the primary key are the
    candidates, and the bitmap of all 5,000 matches is never built."""
    plan = await analyze_search(conn, "safe zone")
    assert "never executed" in node(plan, "Bitmap Index Scan on claims__search_vector_idx"), plan
    newest = node(plan, NEWEST)
    # every claim matches: the scan stops at as many candidates as are ranked
    assert actual_rows(newest) == search.SEARCH_CANDIDATES, plan


async def test_a_rare_query_uses_the_full_text_index(conn, many_claims):
    """'4242' is in one claim: the table's statistics do not count it among the common
    lexemes, so the GIN index finds it, and the newest claims are not read first."""
    plan = await analyze_search(conn, "4242")
    assert "never executed" not in node(plan, "Bitmap Index Scan on claims__search_vector_idx")
    assert actual_rows(node(plan, "Bitmap Heap Scan on claims")) == 1, plan
    assert "never executed" in node(plan, NEWEST), plan


@pytest.mark.parametrize("q", ["zon", "afe"])
async def test_a_word_is_common_only_if_its_whole_lexeme_is_listed(conn, many_claims, q):
    """The kept lexemes are one text, each between spaces: 'zon' starts 'zone' and 'afe' ends
    'safe', both in every claim, yet neither is listed, so the query goes to the index."""
    common = await search.CommonLexemes().get(conn)
    assert common and q not in common.split() and q in common, common
    plan = await analyze_search(conn, q)
    assert "never executed" in node(plan, NEWEST), plan


async def test_a_word_listed_rarer_than_the_threshold_goes_to_the_index(conn, many_claims):
    """'group7' is in one claim in 200: ANALYZE lists it, with that frequency, under the one in
    100 a common query needs, so it is rare as an unlisted word is: the newest claims (where
    it would be expected ten times in 2,000) are not read first."""
    listed = await conn.fetchval(
        "SELECT most_common_elems::text::text[] FROM pg_stats"
        " WHERE tablename = 'claims' AND attname = 'search_vector'"
    )
    assert "group7" in listed, listed
    common = await search.CommonLexemes().get(conn)
    assert common and "group7" not in common.split(), common
    plan = await analyze_search(conn, "group7")
    assert "never executed" in node(plan, NEWEST), plan
    assert actual_rows(node(plan, "Bitmap Heap Scan on claims")) == 25, plan


async def test_the_common_lexemes_are_read_again_only_after_a_while(conn, many_claims):
    """A process keeps the statistics' common lexemes between searches (reading them cost
    each search about 0.45 ms) and reads them again once they are ``seconds`` old."""
    common = search.CommonLexemes(seconds=60)
    kept = await common.get(conn)
    assert kept and "safe" in kept.split(), kept  # in every claim
    await conn.execute("UPDATE claims SET text = 'other words'")
    await conn.execute("ANALYZE claims")
    assert await common.get(conn) == kept
    common.read_at -= 61
    now = await common.get(conn)
    assert now is None or "safe" not in now.split(), now


async def test_no_common_lexemes_are_read_again_sooner(conn):
    """Before the table's first ANALYZE there is nothing to trust: that is kept for
    ``none_seconds``, not as long as a list, so the rare-word check starts soon after."""
    # as many_claims: each group in one claim in 200, listed by ANALYZE and rarer than 1 in 100
    await insert_claims(conn, 5000, "'claim ' || g || ' about the safe zone, group' || g % 200")
    common = search.CommonLexemes(seconds=300, none_seconds=30)
    assert await common.get(conn) is None  # not analysed yet
    await conn.execute("ANALYZE claims")
    assert await common.get(conn) is None  # kept
    common.read_at -= 31
    found = await common.get(conn)
    assert found and "safe" in found.split(), found
    read_at = common.read_at - 31
    common.read_at = read_at  # a list found is kept the longer while: not read again
    assert await common.get(conn) == found and common.read_at == read_at


@pytest.mark.parametrize("q", ["4242 or 4243", "4242 or(4243"])
async def test_a_query_that_does_not_narrow_reads_the_newest_claims_first(conn, many_claims, q):
    """An ``or`` does not narrow what a rare word matches (``4242 or safe`` matches every
    claim), however PostgreSQL reads it (``or(``): such a query reads the newest claims first,
    as every query does without statistics, finds its two matches there and, as they are too
    few, looks through the index for others (none)."""
    plan = await analyze_search(conn, q)
    assert actual_rows(node(plan, NEWEST)) == search.RECENT_WINDOW
    assert "never executed" not in node(plan, "Bitmap Index Scan on claims__search_vector_idx")
    assert actual_rows(ranked(plan)) == 2, plan


@pytest.mark.parametrize(
    "q, found",
    [("4242 -danger", 1), ("4242 (-danger)", 1), ("4242 \uff0ddanger", 1), ("4242 -group42", 0)],
)
async def test_a_rare_word_with_an_exclusion_is_rare(conn, many_claims, q, found):
    """An exclusion only narrows what the words to look for match (however it is written: a
    full-width minus is one once normalised): a rare word with one goes to the index at once,
    and what it excludes is left out there."""
    plan = await analyze_search(conn, q)
    assert "never executed" in node(plan, NEWEST), plan
    assert actual_rows(node(plan, "Bitmap Heap Scan on claims")) == found, plan


async def test_a_phrase_of_a_rare_word_is_rare(conn, many_claims):
    plan = await analyze_search(conn, '"4242 about"')
    assert "never executed" in node(plan, NEWEST), plan
    assert actual_rows(node(plan, "Bitmap Heap Scan on claims")) == 1, plan


async def test_statistics_crowded_with_common_words_are_not_trusted(conn):
    """With room for only ten lexemes, the statistics list ten of the twelve words every
    claim has and nothing rarer: a word missing from them may still be common, so the newest
    claims are read first (the one match is among them: the index finds no other)."""
    await insert_claims(
        conn,
        3000,
        "'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima ' || g",
    )
    await conn.execute("ALTER TABLE claims ALTER COLUMN search_vector SET STATISTICS 1")
    await conn.execute("ANALYZE claims")
    plan = await analyze_search(conn, "2424")
    assert actual_rows(node(plan, NEWEST)) == search.RECENT_WINDOW
    assert actual_rows(node(plan, "Bitmap Heap Scan on claims")) == 0, plan
    assert actual_rows(ranked(plan)) == 1, plan


async def test_statistics_of_only_very_common_words_are_not_trusted(conn):
    """ANALYZE leaves out a lexeme under its cutoff even when its list has room, and the
    cutoff grows with the lexemes a claim has: with ten places and some thirty lexemes a
    claim, a word in one claim in twenty is left out, yet it is common among the newest."""
    await insert_claims(
        conn,
        3000,
        "'alpha bravo charlie ' || CASE WHEN g % 20 = 0 THEN 'kilo ' ELSE '' END"
        " || (SELECT string_agg('x' || g || 'y' || i, ' ') FROM generate_series(1, 25) i)",
    )
    await conn.execute("ALTER TABLE claims ALTER COLUMN search_vector SET STATISTICS 1")
    await conn.execute("ANALYZE claims")
    listed = await conn.fetchval(
        "SELECT most_common_elems::text::text[] FROM pg_stats"
        " WHERE tablename = 'claims' AND attname = 'search_vector'"
    )
    assert "kilo" not in listed and len(listed) < 10, listed  # left out, with room to spare
    plan = await analyze_search(conn, "kilo")
    assert actual_rows(node(plan, NEWEST)) == search.RECENT_WINDOW


@pytest.mark.parametrize("speaker", [None, UUID(SPEAKER)])
async def test_a_query_few_of_the_newest_claims_match_reads_on_not_the_whole_index(conn, speaker):
    """One claim in 200 says kilo: ten of the newest 2,000, more than READ_ON_MATCHES and
    fewer than COMMON_MATCHES. The claims before them are read on, newest first, to the
    twentieth match (claims 3,000 down to 1,200), and those are ranked: the bitmap of every
    match (thousands for two common words seldom together, 6-14 ms at a million claims) is
    not built (the plan the service's search sessions make). A filter every claim passes
    reads the same."""
    assert search.READ_ON_MATCHES <= 10 < search.COMMON_MATCHES
    await insert_claims(
        conn, 5000, "'alpha ' || g || CASE WHEN g % 200 = 0 THEN ' kilo' ELSE '' END"
    )
    await conn.execute("VACUUM claims")  # no statistics: the newest claims are read first
    plan = await analyze_search(conn, "kilo", settings=SEARCH_SESSION, speaker_id=speaker)
    assert actual_rows(node(plan, NEWEST)) == search.RECENT_WINDOW, plan
    # past the newest again (OFFSET), then on to claim 1,200
    assert actual_rows(node(plan, READ_ON)) == search.RECENT_WINDOW + 3000 - 1200 + 1, plan
    assert "never executed" in node(plan, "Bitmap Index Scan on claims__search_vector_idx"), plan
    assert actual_rows(node(plan, "CTE Scan on ranked c")) == search.COMMON_MATCHES, plan


async def test_too_few_read_on_go_to_the_index(conn):
    """Ten of the newest claims say kilo and one of the READ_ON_WINDOW before them: the claims
    read on do not reach COMMON_MATCHES, and the index finds the older one besides those."""
    total = search.RECENT_WINDOW + search.READ_ON_WINDOW + 100
    await insert_claims(
        conn,
        total,
        f"'alpha ' || g || CASE WHEN g > {total} - 10 OR g IN (50, 5000) THEN ' kilo' ELSE '' END",
    )
    await conn.execute("VACUUM claims")
    plan = await analyze_search(conn, "kilo", settings=SEARCH_SESSION)
    assert actual_rows(node(plan, READ_ON)) == search.RECENT_WINDOW + search.READ_ON_WINDOW, plan
    assert actual_rows(node(plan, "Bitmap Heap Scan on claims")) == 1, plan
    assert actual_rows(ranked(plan)) == 12, plan


async def test_the_newest_claims_are_a_bounded_read_whatever_the_filters(conn, many_claims):
    """A speaker none of the 5,000 claims is by: the newest claims read are RECENT_WINDOW, not
    the table walked back to its start looking for that many of theirs."""
    plan = await analyze_search(
        conn, "safe zone", speaker_id=UUID("01937a5e-0000-7000-8000-0000000000a2")
    )
    newest = node(plan, NEWEST)
    assert actual_rows(newest) == search.RECENT_WINDOW, plan


async def test_older_claims_left_unread_are_told_by_the_statistics(conn, many_claims):
    """A common query with a filter (one claim in twelve is about Idlib): some 160 of the
    newest claims match, fewer than are ranked, and older ones were left unread. The table's
    statistics say it holds far more claims than were read: the primary key is not walked
    past the newest to know it, and the search says matches may be left."""
    plan = await analyze_search(conn, "safe zone", topic="idlib")
    assert actual_rows(node(plan, NEWEST)) == search.RECENT_WINDOW
    assert actual_rows(node(plan, "CTE Scan on ranked c")) < search.SEARCH_CANDIDATES, plan
    assert "never executed" in node(plan, UNREAD), plan
    f = SearchFilters(types=frozenset({"claim"}), topic="idlib")
    rows = await search.search(conn, search_words("safe zone"), f, 21, None)
    assert rows[0]["incomplete"] is True


async def test_a_search_runs_one_plan_made_once(settings, database_url, many_claims):
    """Left to choose, PostgreSQL planned the search statement for every search's values
    (milliseconds), and that plan scanned every actor name for near misses; the service has it
    run the plan made once without the values, on connections of the search pool, and no
    other connection is set so."""
    search_pool = await db.create_pool(settings, database_url, search=True)
    pool = await db.create_pool(settings, database_url)
    try:
        async with search_pool.acquire() as conn:
            queries = ["safe zone", "4242", "Hulusi Akr", "zone", "the safe", "claim 12", "أكار"]
            for q in queries:
                await search.search(
                    conn,
                    search_words(q),
                    SearchFilters(types=frozenset(ALL_TYPES)),
                    21,
                    None,
                )
            row = await conn.fetchrow(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement = $1",
                search._SEARCH,
            )
            assert (row["generic_plans"], row["custom_plans"]) == (len(queries), 0)
        assert search_pool.get_max_size() == settings.search_pool_size
        async with pool.acquire() as conn:
            shown = [await conn.fetchval(f"SHOW {name}") for name in db.SEARCH_SETTINGS]
            assert shown == ["auto", "on"]
    finally:
        await search_pool.close()
        await pool.close()


async def test_the_search_route_runs_on_the_search_pool(client, conn):
    """``/v1/search`` takes its connection from the search pool, which pg_stat_activity
    names apart: the last statement of one of those sessions is the search's (its first
    kilobyte: ``track_activity_query_size``)."""
    response = await client.get("/v1/search", params={"q": "Akar"})
    assert response.status_code == 200, response.text
    last = await conn.fetch(
        "SELECT application_name, query FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    ran = {r["application_name"] for r in last if search._SEARCH.startswith(r["query"] or "-")}
    assert ran == {"claimdesk search"}, [(r["application_name"], r["query"][:80]) for r in last]


SEARCH_SESSION = "; ".join(f"SET LOCAL {name} = {v}" for name, v in db.SEARCH_SETTINGS.items())


async def test_a_search_reads_names_through_their_indexes_however_few(conn, many_claims):
    """With the settings the service searches under (and no pricing out of our own), the
    near misses among a handful of names come from the trigram indexes: costed as cheap, the
    trigram comparison of every name looked cheaper to the planner, and took a millisecond
    a search at a thousand actors."""
    text = await analyze_search(conn, "Hulusi Akr", frozenset(ALL_TYPES), settings=SEARCH_SESSION)
    assert "actors__name_norm_trgm" in text, text
    assert "actor_names__value_norm_trgm" in text, text
    assert "Seq Scan on actors" not in text and "Seq Scan on actor_names" not in text, text


# The reads of the benchmark (bench/run.py), as the service sends them: a keyed read and a
# cursor page stay as fast at a million claims as at ten thousand only if every table they
# touch is reached through an index and no page skips rows with OFFSET.
def claims_page(before: str | None = None, **filters: object) -> tuple[str, list[object]]:
    """A claim page's statement and parameters, as ``list_claims`` makes them (50 a page)."""
    query = claims.list_query(ClaimFilters(**filters), 50, before)  # type: ignore[arg-type]
    assert query is not None
    return query


@pytest.mark.parametrize(
    "name, sql, args",
    [
        ("GET claim", claims._GET, (CLAIM,)),
        ("GET claim for update", claims._GET_FOR_UPDATE, (CLAIM,)),
        ("GET dispute", disputes._GET, (CLAIM,)),
        ("list claims", *claims_page()),
        ("list claims, a later page", *claims_page(before=CLAIM)),
        ("list claims by speaker", *claims_page(speaker_id=SPEAKER, before=CLAIM)),
        ("list claims by target", *claims_page(target_id=SPEAKER)),
        ("list claims by source", *claims_page(source_id=SPEAKER)),
        ("list claims by dispute", *claims_page(dispute_id=CLAIM)),
        ("list claims by topic and kind", *claims_page(topic="idlib", kind="denial")),
        (
            "list claims by stated period",
            *claims_page(lang="ar", stated_from=date(2019, 1, 1), stated_to=date(2019, 6, 30)),
        ),
        ("list disputes", *disputes.list_query(DisputeFilters(), 50, UUID(CLAIM))),
        (
            "list disputes by actor",
            *disputes.list_query(DisputeFilters(actor_id=UUID(SPEAKER)), 50, None),
        ),
    ],
)
async def test_benchmark_reads_use_indexes_and_no_offset(conn, many_claims, name, sql, args):
    text = await plan(conn, sql, *args)
    assert "Seq Scan" not in text, (name, text)
    assert "OFFSET" not in sql.upper(), name


@pytest.mark.parametrize(
    "name, sql, args",
    [
        ("GET claim", claims._GET, (CLAIM,)),
        ("a claim page", *claims_page(before=CLAIM)),
        ("GET dispute", disputes._GET, (CLAIM,)),
    ],
)
async def test_reads_of_stored_documents_hold_no_json_building(conn, name, sql, args):
    """A read of stored claim documents leaves the building of a missing one to a function
    (migration 0013): PostgreSQL sets up every subquery of a statement at each run, and the
    claim JSON's seven cost a GET claim more than the rest of its statement."""
    text = await plan(conn, sql, *args)
    for table in ("actor_memberships", "claim_appearances", "claim_targets", "reviews"):
        assert table not in text, (name, table, text)


@pytest.mark.parametrize(
    "filters, index",
    [
        ({"topic": "idlib", "kind": "denial"}, "claims__kind_topics_idx"),
        (
            {"lang": "ar", "stated_from": date(2019, 1, 1), "stated_to": date(2019, 6, 30)},
            "claims__list_filters_idx",
        ),
        (
            {"topic": "economy", "before": "01937a5e-0800-7000-8000-000000000800"},
            "claims__list_filters_idx",
        ),
    ],
)
async def test_a_filtered_claim_page_walks_an_index_not_the_table(
    conn, many_claims, filters, index
):
    """Topic, language and date filters are read from the list index (migration 0011) while
    it is walked newest first, and a topic with a kind from the kind's index, which holds
    the topics (migration 0014): the claims' wide rows are not fetched to drop them."""
    sql, args = claims_page(**filters)  # type: ignore[arg-type]
    text = await plan(conn, sql, *args)
    assert f"Index Only Scan Backward using {index}" in text, text
    assert "Sort Key: c." not in text, text  # (the page's own 51 ids are numbered in order)


async def test_a_full_text_page_sorts_only_the_newest_matches_and_parses_the_query_once(
    conn, many_claims
):
    """A page of the claims that match a full-text query, through the index's bitmap, as
    planned once for any query: the matches are sorted keeping only the newest page (the
    rows are numbered after the LIMIT), and the query is parsed once for the page, not for
    every match checked (``claimdesk_tsquery`` is not inlined)."""
    sql, _ = claims_page(q="zone")  # in every claim
    async with conn.transaction():
        await conn.execute(
            "SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_seqscan = off;"
            " SET LOCAL enable_indexscan = off"
        )
        await conn.execute(f"PREPARE page AS {sql}")
        rows = await conn.fetch(
            "EXPLAIN (ANALYZE, COSTS OFF) EXECUTE page ('zone', 'zone', NULL, NULL, 50)"
        )
    text = "\n".join(r[0] for r in rows)
    assert "Bitmap Index Scan on claims__search_vector_idx" in text, text
    # the sort feeds the LIMIT straight (a bounded sort), nothing numbers all the matches
    found = text[text.index("CTE found") : text.index("CTE page")]
    assert "Sort Key: c.id DESC" in found and "WindowAgg" not in found, text
    conditions = [line for line in text.splitlines() if "Cond:" in line or "Filter:" in line]
    assert not [line for line in conditions if "tsquery" in line], text


async def test_a_claim_page_runs_a_plan_made_once(conn, many_claims):
    """Each set of filters has its own statement, so PostgreSQL plans it once and reuses the
    plan (after its five first runs), rather than planning every page for its values."""
    await db._init_connection(conn)
    before = "01937a5e-0800-7000-8000-000000000800"
    for _ in range(8):
        await claims.list_claims(conn, ClaimFilters(speaker_id=UUID(SPEAKER)), 20, UUID(before))
    row = await conn.fetchrow(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
        claims.list_sql(("speaker_id", "before"), 20),
    )
    assert row is not None and row["generic_plans"] >= 3, row


async def test_pages_of_any_size_share_a_few_statements(conn, many_claims):
    """A client may ask for any page size: pages of 1 to 60 claims run four statements (those
    written for 10, 20, 50 and 100), not sixty, each cut to its size with the right next
    cursor; the page of 200 and one of 150 after a cursor run one each (200 without and with
    the cursor's filter)."""
    await db._init_connection(conn)
    f = ClaimFilters(speaker_id=UUID(SPEAKER))
    newest = [c.id for c in await claims.list_claims(conn, f, 200, None)]
    for limit in range(1, 61):
        documents, last = await claims.list_claims_json(conn, f, limit, None)
        page = [c.id for c in claims._decode_list(b"[" + documents + b"]")]
        assert page == newest[:limit] and last == newest[limit - 1], limit
    documents, last = await claims.list_claims_json(conn, f, 150, newest[9])
    page = [c.id for c in claims._decode_list(b"[" + documents + b"]")]
    assert page == newest[10:160] and last == newest[159]
    statements = await conn.fetchval(
        """SELECT count(*) FROM pg_prepared_statements
           WHERE statement LIKE '%WITH found%' AND statement NOT LIKE '%pg_prepared%'"""
    )
    assert statements == 6, statements
    with pytest.raises(ValueError):
        page_size(MAX_LIMIT + 1)


async def test_a_dispute_page_runs_a_plan_made_once(conn):
    """Dispute pages are written as claim pages are (``keyset_page_sql``): walked 9 at a
    time, 130 disputes come newest first, each once, by a statement planned once and reused
    (at 10,000 disputes, the one statement with every filter was planned anew for every
    page, half a millisecond each time; a table this small did not show it)."""
    await db._init_connection(conn)
    await conn.execute(
        """INSERT INTO disputes (id, title, question, topics)
           SELECT ('01937a5e-' || lpad(to_hex(g), 4, '0') || '-7000-8000-000000000000')::uuid,
                  'Dispute ' || g, 'Question ' || g,
                  CASE WHEN g % 2 = 0 THEN ARRAY['idlib'] ELSE '{}' END
           FROM generate_series(1, 130) AS g"""
    )
    await conn.execute("ANALYZE disputes")
    newest = [r[0] for r in await conn.fetch("SELECT id FROM disputes ORDER BY id DESC")]
    walked: list[UUID] = []
    before = None
    while True:
        documents, before = await disputes.list_disputes_json(conn, DisputeFilters(), 9, before)
        walked += [d.id for d in disputes._decode_list(b"[" + documents + b"]")]
        if before is None:
            break
    assert walked == newest
    row = await conn.fetchrow(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
        disputes.list_sql(("before",), 10),
    )
    assert row is not None and row["generic_plans"] >= 5 and row["custom_plans"] <= 5, row
    documents, last = await disputes.list_disputes_json(
        conn, DisputeFilters(topic="idlib"), 10, None
    )
    page = [d.id for d in disputes._decode_list(b"[" + documents + b"]")]
    assert page == newest[::2][:10] and last == page[-1]


async def test_a_claim_page_is_a_bounded_walk_of_the_primary_key(conn, many_claims):
    """The newest-first page (and its next pages) as the service runs it: a backward walk of
    the primary key that stops after the page, whatever the table's size."""
    for before in (None, "01937a5e-0800-7000-8000-000000000800"):
        async with conn.transaction():
            await conn.execute("SET LOCAL enable_seqscan = off")
            sql, args = claims_page(before)
            rows = await conn.fetch("EXPLAIN (ANALYZE, COSTS OFF) " + sql, *args)
        text = "\n".join(r[0] for r in rows)
        # the ids alone: an index-only scan, where the visibility map allows
        scan = node(text, "Scan Backward using claims_pkey on claims")
        assert actual_rows(scan) == 51, text
        assert "Sort Key: c.id" not in text, text  # (a speaker's few roles are sorted per row)
