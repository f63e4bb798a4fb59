"""Search benchmark: a synthetic corpus of actors and claims, the service over HTTP, latencies.

    python bench/search.py                      # 1,000,000 claims, 20,000 actors, embedded PG
    python bench/search.py --claims 100000      # smaller
    python bench/search.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

It builds a database of its own (``claimdesk_bench`` on the given server, or an embedded server
in ``--data-dir``), loads the corpus with COPY (PostgreSQL computes the normalised and tsvector
columns as it would for API writes), starts ``claimdesk serve`` in a separate process, drives
it with concurrent HTTP requests from this process, and prints p50/p95/p99 per endpoint with
PASS/FAIL against the targets of the search issue. A loaded database is reused when its row
counts match (``--reload`` to rebuild).

The text is synthetic but shaped like the reference article: Arabic sentences from its
vocabulary (with and without hamza, ta marbuta, diacritics, tatweel) plus a long Zipf tail of
invented words, English translations for half the claims, names in both scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import UUID

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service import db, migrate
from service.demo_data import CLAIMS as DEMO_CLAIMS

TARGETS_MS = {"search": 50.0, "typeahead": 10.0, "similar": None}
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


class Corpus:
    def __init__(self, claims: int, actors: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.n_claims, self.n_actors = claims, actors
        self.tail = _invented(self.rng, 40_000)
        # Zipf-like weights over the tail: a few common invented words, many rare ones.
        self.tail_cum = list(
            __import__("itertools").accumulate(1 / (i + 1) for i in range(len(self.tail)))
        )
        self.actor_ids: list[UUID] = []
        self.actor_names: list[tuple[str, str]] = []

    def actors(self) -> Iterator[tuple[tuple[object, ...], list[tuple[object, ...]]]]:
        base = 1_600_000_000_000
        for i in range(self.n_actors):
            rng = self.rng
            aid = _uuid7(rng, base + i)
            if i % 4 == 0:
                k = rng.randrange(len(ORGS))
                ar = f"{ORGS[k]} {rng.choice(self.tail)}"
                en = f"{rng.choice(self.tail)} {ORGS_EN[k]}"
                kind = "armed_group"
            else:
                k = rng.randrange(len(FIRST))
                surname = rng.choice(self.tail)
                ar, en, kind = f"{FIRST[k]} {surname}", f"{FIRST_EN[k]} {surname}", "person"
            names = [(aid, 0, ar, "ar", "official"), (aid, 1, en, "en", "transliteration")]
            self.actor_ids.append(aid)
            self.actor_names.append((ar, en))
            yield (aid, kind, en, None), names

    def claims(self) -> Iterator[tuple[object, ...]]:
        import json

        base = 1_700_000_000_000
        rng = self.rng
        for i in range(self.n_claims):
            words = [_spelling(rng, rng.choice(ARABIC_VOCAB)) for _ in range(rng.randint(8, 22))]
            words += rng.choices(self.tail, cum_weights=self.tail_cum, k=rng.randint(2, 8))
            rng.shuffle(words)
            text = " ".join(words)
            translations = []
            if i % 2 == 0:
                en = " ".join(rng.choice(ENGLISH_VOCAB) for _ in range(rng.randint(8, 20)))
                translations = [{"lang": "en", "text": en}]
            year = rng.randint(2015, 2024)
            stated = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            yield (
                _uuid7(rng, base + i * 10),
                rng.choice(self.actor_ids),
                text,
                "ar",
                rng.random() < 0.4,
                rng.choice(["assertion", "denial", "accusation", "doubt"]),
                __import__("datetime").date.fromisoformat(stated),
                "day",
                json.dumps(translations),
                rng.sample(TOPICS, rng.randint(0, 2)),
            )


async def load(url: str, corpus: Corpus, reload: bool) -> None:
    conn = await asyncpg.connect(url)
    try:
        have = await conn.fetchval("SELECT count(*) FROM claims")
        actors = await conn.fetchval("SELECT count(*) FROM actors")
        if not reload and have == corpus.n_claims and actors == corpus.n_actors:
            print(f"reusing the loaded corpus: {have:,} claims, {actors:,} actors")
            list(corpus.actors())  # same seed: the same names, for typeahead queries
            return
        await conn.execute(
            "TRUNCATE claim_appearances, claim_targets, dispute_positions, reviews,"
            " disputes, claims, sources, actor_names, actor_memberships, actors,"
            " actor_merges, revisions, change_events"
        )
        started = time.perf_counter()
        actor_rows, name_rows = [], []
        for row, names in corpus.actors():
            actor_rows.append(row)
            name_rows += names
        await conn.copy_records_to_table(
            "actors", records=actor_rows, columns=["id", "kind", "name", "country"]
        )
        await conn.copy_records_to_table(
            "actor_names",
            records=name_rows,
            columns=["actor_id", "position", "value", "lang", "kind"],
        )
        source_id = UUID("01937a5e-0000-7000-8000-00000000b0b0")
        await conn.execute(
            "INSERT INTO sources (id, kind, title) VALUES ($1, 'article', $2)",
            source_id,
            "Synthetic source",
        )
        print(f"actors: {len(actor_rows):,} in {time.perf_counter() - started:.1f}s")
        # The GIN indexes are built once after the load rather than row by row.
        await conn.execute("DROP INDEX IF EXISTS claims__search_vector_idx")
        batch: list[tuple[object, ...]] = []
        loaded = 0
        columns = [
            "id",
            "speaker_id",
            "text",
            "lang",
            "verbatim",
            "kind",
            "stated_on",
            "stated_on_precision",
            "translations",
            "topics",
        ]
        await conn.set_type_codec(
            "jsonb",
            schema="pg_catalog",
            format="binary",
            encoder=lambda v: b"\x01" + v.encode(),
            decoder=lambda b: b[1:].decode(),
        )
        for row in corpus.claims():
            batch.append(row)
            if len(batch) == 50_000:
                await _copy_claims(conn, batch, columns, source_id)
                loaded += len(batch)
                batch = []
                rate = loaded / (time.perf_counter() - started)
                print(f"  claims: {loaded:,} ({rate:,.0f}/s)", flush=True)
        if batch:
            await _copy_claims(conn, batch, columns, source_id)
        await conn.execute("SET maintenance_work_mem = '512MB'")
        await conn.execute(
            "CREATE INDEX claims__search_vector_idx ON claims USING gin (search_vector)"
        )
        await conn.execute("VACUUM ANALYZE")
        print(f"loaded in {time.perf_counter() - started:.0f}s")
    finally:
        await conn.close()


async def _copy_claims(
    conn: asyncpg.Connection, batch: list[tuple[object, ...]], columns: list[str], source_id: UUID
) -> None:
    await conn.copy_records_to_table("claims", records=batch, columns=columns)
    await conn.copy_records_to_table(
        "claim_appearances",
        records=[(r[0], 0, source_id) for r in batch],
        columns=["claim_id", "position", "source_id"],
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def measure(
    name: str, client: httpx.AsyncClient, make: Callable[[], str], requests: int, concurrency: int
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    queue = [make() for _ in range(requests)]

    async def worker() -> None:
        nonlocal errors
        while queue:
            path = queue.pop()
            started = time.perf_counter()
            response = await client.get(path)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    elapsed = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100)
    return {
        "requests": requests,
        "rps": requests / elapsed,
        "p50": q[49],
        "p95": q[94],
        "p99": q[98],
        "errors": errors,
    }


async def drive(
    base: str, url: str, key: str, corpus: Corpus, requests: int, concurrency: int
) -> None:
    rng = random.Random(11)
    conn = await asyncpg.connect(url)
    try:
        claim_ids = [
            r[0]
            for r in await conn.fetch("SELECT id FROM claims TABLESAMPLE SYSTEM (1) LIMIT 2000")
        ]
    finally:
        await conn.close()
    queries = ARABIC_VOCAB + ENGLISH_VOCAB + corpus.tail[:2000]

    def search() -> str:
        q = " ".join(rng.choice(queries) for _ in range(rng.randint(1, 2)))
        return f"/v1/search?q={httpx.QueryParams({'q': q})['q']}&limit=20"

    def typeahead() -> str:
        ar, en = rng.choice(corpus.actor_names)
        name = rng.choice([ar, en])
        return "/v1/actors?" + str(
            httpx.QueryParams({"name": name[: rng.randint(3, 8)], "limit": 10})
        )

    def similar() -> str:
        return f"/v1/claims/{rng.choice(claim_ids)}/similar?limit=10"

    async with httpx.AsyncClient(
        base_url=base,
        timeout=30,
        limits=httpx.Limits(max_connections=concurrency),
        headers={"Authorization": f"Bearer {key}"},
    ) as client:
        for make in (search, typeahead, similar):  # warm caches and the pool
            await measure("warm", client, make, 50, concurrency)
        results = {
            name: await measure(name, client, make, requests, concurrency)
            for name, make in (("search", search), ("typeahead", typeahead), ("similar", similar))
        }
    print(
        f"\n{'endpoint':<10} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'errors':>6}  target"
    )
    for name, r in results.items():
        target = TARGETS_MS[name]
        verdict = (
            "-"
            if target is None
            else (
                f"p95 < {target:g} ms: {'PASS' if r['p95'] < target and not r['errors'] else 'FAIL'}"
            )
        )
        print(
            f"{name:<10} {r['requests']:>8.0f} {r['rps']:>8.1f} {r['p50']:>8.1f} "
            f"{r['p95']:>8.1f} {r['p99']:>8.1f} {r['errors']:>6.0f}  {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--actors", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=1000, help="per endpoint")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--database-url", help="a server to create claimdesk_bench on")
    parser.add_argument(
        "--data-dir",
        default=str(ROOT / "bench" / ".data"),
        help="embedded server's data, when no --database-url",
    )
    parser.add_argument("--reload", action="store_true", help="rebuild the corpus")
    args = parser.parse_args()

    server = None
    if args.database_url:
        admin = args.database_url
    else:
        server = db.start_embedded(args.data_dir)
        admin = server.get_uri()
    try:
        asyncio.run(db.ensure_database(admin, "claimdesk_bench"))
        url = db.with_database(admin, "claimdesk_bench")
        migrate.upgrade(url)
        corpus = Corpus(args.claims, args.actors)
        asyncio.run(load(url, corpus, args.reload))
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMDESK_")}
        env |= {
            "CLAIMDESK_DATABASE_URL": url,
            "CLAIMDESK_LOG_LEVEL": "warning",
            "CLAIMDESK_POOL_MAX_SIZE": str(max(4, args.concurrency)),
            # one client measuring as fast as it can: the per-client rate limit would answer 429
            "CLAIMDESK_RATE_LIMIT_PER_MINUTE": "0",
        }
        key = subprocess.run(
            [
                sys.executable,
                "-m",
                "service.cli",
                "keys",
                "create",
                "--name",
                "bench",
                "--scope",
                "read",
            ],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        proc = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--no-migrate", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    httpx.get(f"{base}/health")
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            print(
                f"\n{args.claims:,} claims, {args.actors:,} actors; {args.requests} requests "
                f"per endpoint, {args.concurrency} concurrent; {os.cpu_count()} CPUs"
            )
            asyncio.run(drive(base, url, key, corpus, args.requests, args.concurrency))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    finally:
        if server is not None:
            server.cleanup()


if __name__ == "__main__":
    main()
