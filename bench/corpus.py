"""The benchmark data set: actors, sources, claims, disputes and reviews, loaded with COPY.

Shared by ``bench/run.py`` (the endpoint benchmark) and ``bench/search.py``. The text is
synthetic but shaped like the reference article: Arabic sentences from its vocabulary (with
and without hamza, ta marbuta, diacritics, tatweel) plus a long Zipf tail of invented words,
English translations for half the claims, names in both scripts. Around the claims: persons
holding roles in organisations (so a claim's speaker has a role on its date), claims relayed
by someone else, targets, one or two appearances each, disputes of two to six claims (some
resolved or dismissed) and fact-check reviews.

PostgreSQL computes the generated columns (normalised names, search vectors) as it would for
API writes. The GIN index on claims' search vector is built once after the load. A database
keeps a note of what was loaded (``bench_corpus``), so a second run with the same sizes reuses
it; what a run wrote (claims created, revisions, change events) is removed first.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import re
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from service.demo_data import CLAIMS as DEMO_CLAIMS
from service.sources.urls import url_key

# The version of the generator: a database loaded by another version is rebuilt.
GENERATOR = 2

ARABIC_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
FIRST = [
    "محمد",
    "أحمد",
    "علي",
    "حسن",
    "خالد",
    "عمر",
    "يوسف",
    "إبراهيم",
    "مصطفى",
    "سليم",
    "جابر",
    "خلوصي",
    "رجب",
    "سيرغي",
    "فلاديمير",
    "مظلوم",
    "سعاد",
    "فاطمة",
    "مريم",
    "ليلى",
]
FIRST_EN = [
    "Mohammed",
    "Ahmad",
    "Ali",
    "Hasan",
    "Khaled",
    "Omar",
    "Youssef",
    "Ibrahim",
    "Mustafa",
    "Selim",
    "Jaber",
    "Hulusi",
    "Recep",
    "Sergei",
    "Vladimir",
    "Mazloum",
    "Souad",
    "Fatima",
    "Maryam",
    "Layla",
]
ORGS = ["الجيش", "الجبهة", "قوات", "حركة", "لواء", "مجلس", "هيئة", "تجمع"]
ORGS_EN = ["Army", "Front", "Forces", "Movement", "Brigade", "Council", "Authority", "Gathering"]
TOPICS = [
    "safe-zone",
    "ain-issa",
    "idlib",
    "sochi-agreement",
    "joint-patrols",
    "russia-guarantor",
    "ceasefire",
    "humanitarian",
    "elections",
    "economy",
    "refugees",
    "airstrikes",
]


def _words(texts: list[str]) -> list[str]:
    return [w for t in texts for w in re.findall(r"[\w\u0600-\u06FF]+", t) if len(w) > 1]


ARABIC_VOCAB = _words([c["text"] for c in DEMO_CLAIMS])
ENGLISH_VOCAB = _words([c["translations"][0]["text"] for c in DEMO_CLAIMS])


def _invented(rng: random.Random, n: int) -> list[str]:
    return ["".join(rng.choice(ARABIC_LETTERS) for _ in range(rng.randint(3, 7))) for _ in range(n)]


def _spelling(rng: random.Random, word: str) -> str:
    """Now and then written with tatweel or a harakah, as sources do."""
    roll = rng.random()
    if roll < 0.03 and len(word) > 3:
        return word[:2] + "ـ" + word[2:]
    if roll < 0.06:
        return word + "ُ"
    return word


def _uuid7(rng: random.Random, ms: int) -> UUID:
    rand = rng.getrandbits(74)
    value = (
        (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    )
    return UUID(int=value)


def _date(rng: random.Random) -> date:
    return date(rng.randint(2015, 2024), rng.randint(1, 12), rng.randint(1, 28))


class Corpus:
    """Deterministic for a seed: the same ids, names and texts on every run."""

    def __init__(self, claims: int, actors: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.n_claims, self.n_actors = claims, actors
        self.n_sources = max(10, claims // 100)
        self.n_disputes = max(10, claims // 100)
        self.n_reviews = max(10, claims // 50)
        self.tail = _invented(self.rng, 40_000)
        # Zipf-like weights over the tail: a few common invented words, many rare ones.
        self.tail_cum = list(itertools.accumulate(1 / (i + 1) for i in range(len(self.tail))))
        self.actor_ids: list[UUID] = []
        self.org_ids: list[UUID] = []
        self.orgs: set[UUID] = set()
        self.actor_names: list[tuple[str, str]] = []
        self.source_ids: list[UUID] = []

    @property
    def spec(self) -> str:
        return f"v{GENERATOR} claims={self.n_claims} actors={self.n_actors}"

    def actors(self) -> Iterator[tuple[tuple[object, ...], list[tuple[object, ...]]]]:
        base = 1_600_000_000_000
        rng = self.rng
        for i in range(self.n_actors):
            aid = _uuid7(rng, base + i)
            if i % 4 == 0:
                k = rng.randrange(len(ORGS))
                ar = f"{ORGS[k]} {rng.choice(self.tail)}"
                en = f"{rng.choice(self.tail)} {ORGS_EN[k]}"
                kind = rng.choice(["armed_group", "organization", "state", "media"])
                self.org_ids.append(aid)
                self.orgs.add(aid)
            else:
                k = rng.randrange(len(FIRST))
                surname = rng.choice(self.tail)
                ar, en, kind = f"{FIRST[k]} {surname}", f"{FIRST_EN[k]} {surname}", "person"
            names = [(aid, 0, ar, "ar", "official"), (aid, 1, en, "en", "transliteration")]
            self.actor_ids.append(aid)
            self.actor_names.append((ar, en))
            yield (aid, kind, en, None), names

    def memberships(self) -> Iterator[tuple[object, ...]]:
        """Half the persons hold a role in an organisation for a few years (some still)."""
        rng = self.rng
        for aid in self.actor_ids:
            if aid in self.orgs or rng.random() < 0.5:
                continue
            start = _date(rng)
            end = None if rng.random() < 0.3 else start + timedelta(days=rng.randint(200, 2000))
            role = rng.choice(["Spokesman", "Minister", "Commander", "Envoy", "Adviser"])
            yield (aid, 0, rng.choice(self.org_ids), role, start, end)

    def sources(self) -> Iterator[tuple[object, ...]]:
        base = 1_650_000_000_000
        rng = self.rng
        for i in range(self.n_sources):
            sid = _uuid7(rng, base + i)
            self.source_ids.append(sid)
            title = " ".join(rng.choice(ARABIC_VOCAB) for _ in range(rng.randint(5, 12)))
            url = f"https://news.example/{rng.choice(TOPICS)}/{i}/"
            yield (sid, "article", title, url, url_key(url), "ar")

    def parents(self) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
        """Actors, their names, memberships and sources, made in the order a load makes them."""
        actors, names = [], []
        for row, actor_names in self.actors():
            actors.append(row)
            names += actor_names
        return actors, names, list(self.memberships()), list(self.sources())

    def claims(self) -> Iterator[tuple[tuple[object, ...], list[tuple[object, ...]], list[Any]]]:
        """(claim row, appearance rows, target rows), newest last."""
        base = 1_700_000_000_000
        rng = self.rng
        for i in range(self.n_claims):
            words = [_spelling(rng, rng.choice(ARABIC_VOCAB)) for _ in range(rng.randint(8, 22))]
            words += rng.choices(self.tail, cum_weights=self.tail_cum, k=rng.randint(2, 8))
            rng.shuffle(words)
            translations = []
            if i % 2 == 0:
                en = " ".join(rng.choice(ENGLISH_VOCAB) for _ in range(rng.randint(8, 20)))
                translations = [{"lang": "en", "text": en}]
            cid = _uuid7(rng, base + i * 10)
            speaker = rng.choice(self.actor_ids)
            relayed = rng.choice(self.actor_ids) if rng.random() < 0.1 else None
            if relayed == speaker:
                relayed = None
            row = (
                cid,
                speaker,
                relayed,
                " ".join(words),
                "ar",
                rng.random() < 0.4,
                rng.choice(["assertion", "denial", "accusation", "doubt"]),
                _date(rng),
                "day",
                json.dumps(translations),
                rng.sample(TOPICS, rng.randint(0, 2)),
            )
            sources = rng.sample(self.source_ids, 1 if rng.random() < 0.8 else 2)
            appearances = [(cid, n, s, None) for n, s in enumerate(sources)]
            targets = []
            if rng.random() < 0.3:
                for n, actor in enumerate(rng.sample(self.actor_ids, rng.randint(1, 2))):
                    if actor != speaker:
                        targets.append((cid, n, actor, rng.choice(["accused", "mentioned"])))
            yield row, appearances, targets

    def disputes(
        self, claim_ids: list[UUID]
    ) -> Iterator[tuple[tuple[object, ...], list[tuple[object, ...]]]]:
        base = 1_750_000_000_000
        rng = self.rng
        for i in range(self.n_disputes):
            did = _uuid7(rng, base + i)
            members = rng.sample(claim_ids, rng.randint(2, 6))
            stances = ["affirms", "denies"] + [
                rng.choice(["affirms", "denies", "questions"]) for _ in members[2:]
            ]
            roll = rng.random()
            status = "open" if roll < 0.8 else "resolved" if roll < 0.95 else "dismissed"
            title = " ".join(rng.choice(ENGLISH_VOCAB) for _ in range(rng.randint(4, 8)))
            question = " ".join(rng.choice(ARABIC_VOCAB) for _ in range(rng.randint(6, 14)))
            now = datetime(2024, 6, 1, tzinfo=UTC)
            row = (
                did,
                title,
                question + "؟",
                status,
                "denied" if status == "resolved" else None,
                "Seen on the ground." if status == "resolved" else None,
                now if status == "resolved" else None,
                "Out of scope." if status == "dismissed" else None,
                now if status == "dismissed" else None,
                rng.sample(TOPICS, rng.randint(0, 2)),
            )
            yield row, [(did, c, s) for c, s in zip(members, stances, strict=True)]

    def reviews(self, claim_ids: list[UUID]) -> Iterator[tuple[object, ...]]:
        base = 1_760_000_000_000
        rng = self.rng
        checkers = self.org_ids[: max(1, len(self.org_ids) // 10)]
        for i in range(self.n_reviews):
            value = rng.randint(1, 5)
            yield (
                _uuid7(rng, base + i),
                rng.choice(claim_ids),
                rng.choice(checkers),
                ["False", "Misleading", "Disputed", "Mostly true", "True"][value - 1],
                value,
                5,
                1,
                " ".join(rng.choice(ENGLISH_VOCAB) for _ in range(rng.randint(10, 30))),
                f"https://check.example/{i}",
                _date(rng),
                "en",
            )


CLAIM_COLUMNS = [
    "id",
    "speaker_id",
    "relayed_by_id",
    "text",
    "lang",
    "verbatim",
    "kind",
    "stated_on",
    "stated_on_precision",
    "translations",
    "topics",
]
DISPUTE_COLUMNS = [
    "id",
    "title",
    "question",
    "status",
    "resolution_verdict",
    "resolution_note",
    "resolved_at",
    "dismissal_note",
    "dismissed_at",
    "topics",
]
REVIEW_COLUMNS = [
    "id",
    "claim_id",
    "reviewer_id",
    "rating_label",
    "rating_value",
    "rating_best",
    "rating_worst",
    "summary",
    "url",
    "published_at",
    "lang",
]
TABLES = (
    "claim_documents, claim_appearances, claim_targets, dispute_positions, reviews, disputes,"
    " claims, sources,"
    " actor_names, actor_memberships, actor_merges, actors, revisions, change_events,"
    " idempotency_keys, webhook_attempts, webhook_deliveries"
)

# The tables whose triggers keep claim documents (migration 0010), off during a bulk load.
DOCUMENT_TRIGGERS = (
    "claims",
    "claim_appearances",
    "claim_targets",
    "dispute_positions",
    "reviews",
    "disputes",
    "actors",
    "actor_memberships",
    "sources",
)


async def _loaded(conn: asyncpg.Connection) -> tuple[str, UUID] | None:
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS bench_corpus (spec text NOT NULL, last_claim uuid NOT NULL)"
    )
    row = await conn.fetchrow("SELECT spec, last_claim FROM bench_corpus")
    return (row["spec"], row["last_claim"]) if row else None


async def load(url: str, corpus: Corpus, reload: bool = False) -> None:
    """Load ``corpus`` into the (migrated) database at ``url``, or reuse what is there."""
    conn = await asyncpg.connect(url)
    try:
        loaded = await _loaded(conn)
        if not reload and loaded and loaded[0] == corpus.spec:
            # What earlier runs wrote goes: the claims they created, history, idempotency keys.
            await conn.execute("DELETE FROM claims WHERE id > $1", loaded[1])
            await conn.execute(
                "TRUNCATE revisions, change_events, idempotency_keys,"
                " webhook_attempts, webhook_deliveries"
            )
            # and so do the dead rows: a list reading newest first would wade through them, and
            # autovacuum would read the whole table for them in the middle of a run (the claims'
            # documents, rewritten by PATCH and deleted with the claims: a minute of reading 3 GB)
            await conn.execute(
                "VACUUM (ANALYZE) claims, claim_appearances, claim_targets, claim_documents"
            )
            corpus.parents()  # the same seed: the same ids and names, for requests to use
            print(f"reusing the loaded corpus ({corpus.spec})", flush=True)
        else:
            await _load(conn, corpus)
        await _checkpoint(conn)
    finally:
        await conn.close()


async def _checkpoint(conn: asyncpg.Connection) -> None:
    """Write out what the set-up changed (a load, or the clean-up above) before anything is
    measured. Left in the buffers, it was written by a checkpoint in the middle of a run: the
    clean-up after earlier runs left some 400 MB, and the endpoint measured then paid for it
    (the list's p99 went from 40-45 to 70 ms in such runs)."""
    try:
        await conn.execute("CHECKPOINT")
    except asyncpg.InsufficientPrivilegeError:
        print("(no CHECKPOINT: the bench's user may not; a run may pay for the set-up's writes)")


@contextlib.asynccontextmanager
async def _document_triggers_off(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """The triggers that keep claim documents off, and on again however the block ends (a
    load that fails leaves no table without them; its data set is loaded again next run)."""
    for table in DOCUMENT_TRIGGERS:
        await conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    try:
        yield
    finally:
        for table in DOCUMENT_TRIGGERS:
            await conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


async def _load(conn: asyncpg.Connection, corpus: Corpus) -> None:
    await conn.execute(f"TRUNCATE bench_corpus, {TABLES}")
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        format="binary",
        encoder=lambda v: b"\x01" + v.encode(),
        decoder=lambda b: b[1:].decode(),
    )
    started = time.perf_counter()
    # The claims' documents are built once at the end, not by the triggers row by row.
    async with _document_triggers_off(conn):
        actors, names, memberships, sources = corpus.parents()
        await conn.copy_records_to_table(
            "actors", records=actors, columns=["id", "kind", "name", "country"]
        )
        await conn.copy_records_to_table(
            "actor_names", records=names, columns=["actor_id", "position", "value", "lang", "kind"]
        )
        await conn.copy_records_to_table(
            "actor_memberships",
            records=memberships,
            columns=["actor_id", "position", "organization_id", "role", "start_date", "end_date"],
        )
        await conn.copy_records_to_table(
            "sources", records=sources, columns=["id", "kind", "title", "url", "url_key", "lang"]
        )
        print(f"actors and sources in {time.perf_counter() - started:.1f}s", flush=True)
        # The GIN index is built once after the load rather than row by row.
        await conn.execute("DROP INDEX IF EXISTS claims__search_vector_idx")
        claim_ids: list[UUID] = []
        batch: list[tuple[object, ...]] = []
        appearances: list[tuple[object, ...]] = []
        targets: list[tuple[object, ...]] = []

        async def flush() -> None:
            await conn.copy_records_to_table("claims", records=batch, columns=CLAIM_COLUMNS)
            await conn.copy_records_to_table(
                "claim_appearances",
                records=appearances,
                columns=["claim_id", "position", "source_id", "note"],
            )
            await conn.copy_records_to_table(
                "claim_targets",
                records=targets,
                columns=["claim_id", "position", "actor_id", "role"],
            )
            batch.clear()
            appearances.clear()
            targets.clear()
            rate = len(claim_ids) / (time.perf_counter() - started)
            print(f"  claims: {len(claim_ids):,} ({rate:,.0f}/s)", flush=True)

        for row, claim_appearances, claim_targets in corpus.claims():
            claim_ids.append(row[0])  # type: ignore[arg-type]
            batch.append(row)
            appearances += claim_appearances
            targets += claim_targets
            if len(batch) == 50_000:
                await flush()
        if batch:
            await flush()
        disputes, positions = [], []
        for row, members in corpus.disputes(claim_ids):
            disputes.append(row)
            positions += members
        await conn.copy_records_to_table("disputes", records=disputes, columns=DISPUTE_COLUMNS)
        await conn.copy_records_to_table(
            "dispute_positions", records=positions, columns=["dispute_id", "claim_id", "stance"]
        )
        await conn.copy_records_to_table(
            "reviews", records=list(corpus.reviews(claim_ids)), columns=REVIEW_COLUMNS
        )
        documents = time.perf_counter()
        await conn.execute("SELECT claimdesk_claim_documents_refresh(ARRAY(SELECT id FROM claims))")
    print(f"claim documents in {time.perf_counter() - documents:.0f}s", flush=True)
    await conn.execute("SET maintenance_work_mem = '512MB'")
    await conn.execute("CREATE INDEX claims__search_vector_idx ON claims USING gin (search_vector)")
    await conn.execute("VACUUM ANALYZE")
    await conn.execute(
        "INSERT INTO bench_corpus (spec, last_claim) VALUES ($1, $2)", corpus.spec, claim_ids[-1]
    )
    print(
        f"loaded {corpus.n_claims:,} claims, {len(disputes):,} disputes, "
        f"{corpus.n_reviews:,} reviews in {time.perf_counter() - started:.0f}s",
        flush=True,
    )
