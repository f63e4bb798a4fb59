"""Endpoint benchmark: the service as production runs it, under wrk, beside its SQL's ceiling.

    python bench/run.py                           # 100,000 claims, 1,000 actors, embedded PG
    python bench/run.py --workers 2 --server granian --duration 10 --connections 32
    python bench/run.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
    python bench/run.py --scaling                 # the same at 10k, 100k and 1M claims

1. Builds (or reuses) the data set in ``claimdesk_bench_<claims>_<actors>`` with COPY
   (``bench/corpus.py``: actors with roles, sources, claims in Arabic and English with
   targets and appearances, disputes, reviews).
2. Makes an admin key (``claimdesk keys create``) and starts ``claimdesk serve`` with the
   chosen server and workers, rate limits off (``bench/server.py``).
3. Drives each endpoint for ``--duration`` seconds with wrk, ``--connections`` at once, in a
   separate process (``bench/load.py``), and reads the CPU time of the service's process tree
   (/proc utime + stime) before and after: server CPU microseconds per request.
4. Runs the service's own statements for the same requests through pgbench
   (``bench/ceiling.py``), the ceiling, and prints each endpoint's ratio to it.
5. Prints the targets with PASS or FAIL.

Needs ``pip install -e '.[bench]'`` (granian, httpx), ``wrk`` and ``pgbench`` (Debian:
``apt-get install wrk postgresql-client``). Server CPU is read from /proc: Linux only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import asyncpg
import ceiling
import load
import msgspec
from corpus import ARABIC_VOCAB, ENGLISH_VOCAB, TOPICS, Corpus
from corpus import load as load_corpus
from server import Service, admin_key, database, postgres_cpu_seconds, prewarm, server_url

from service import etag
from service.claims import queries as claims
from service.claims.schemas import ClaimCreate, ClaimFilters, ClaimUpdate
from service.db import SEARCH_SETTINGS
from service.disputes import queries as disputes
from service.history import Who
from service.pagination import encode_cursor
from service.search import queries as search
from service.search.routes import ALL_TYPES
from service.search.schemas import SearchFilters
from service.text.stopwords import search_words

# Server CPU per request (microseconds) at most, and p99 (ms) at the connections given.
CPU_TARGETS = {"GET claim": 250.0, "GET dispute": 400.0, "POST claim": 500.0}
P99_TARGET_MS = 50.0
P99_AT_CLAIMS = 1_000_000
WHO = Who(changed_by="bench")

Call = Callable[[Any], Awaitable[Any]]


@dataclass
class Endpoint:
    name: str
    method: str
    lines: list[str]  # what load.py reads: paths, bodies, or "<id> <etag>"
    calls: list[Call]  # the same requests, as the service's query functions
    transaction: bool = False  # replayed (and recorded) in a transaction by the ceiling
    session: dict[str, str] = field(default_factory=dict)  # the ceiling's sessions set so
    new_id: Callable[[Any], Any] | None = None
    read: bool = True


@dataclass
class Row:
    endpoint: Endpoint
    result: load.Result
    cpu_us: float
    pg_cpu_us: float
    ceiling: ceiling.Ceiling | None = None
    notes: list[str] = field(default_factory=list)


async def endpoints(url: str, corpus: Corpus, rng: random.Random) -> list[Endpoint]:
    conn = await asyncpg.connect(url)
    try:
        count = await conn.fetchval("SELECT count(*) FROM claims")
        percent = min(100.0, 100.0 * 20_000 / max(1, count))
        claim_ids: list[UUID] = [
            r[0]
            for r in await conn.fetch(
                f"SELECT id FROM claims TABLESAMPLE BERNOULLI ({percent}) LIMIT 20000"
            )
        ]
        rng.shuffle(claim_ids)
        dispute_ids = [r[0] for r in await conn.fetch("SELECT id FROM disputes LIMIT 20000")]
        rng.shuffle(dispute_ids)
        from service.db import _init_connection

        await _init_connection(conn)
        patch_ids = claim_ids[:2000]
        tags = [etag.tag_of(await claims.get(conn, cid)) for cid in patch_ids]
    finally:
        await conn.close()
    actors, sources = corpus.actor_ids, corpus.source_ids

    def get(path: str, qid: UUID, fn: Callable[..., Awaitable[Any]]) -> tuple[str, Call]:
        return path.format(qid), lambda conn, qid=qid: fn(conn, qid)

    gets = [get("/v1/claims/{}", c, claims.get) for c in claim_ids]
    dispute_gets = [get("/v1/disputes/{}", d, disputes.get) for d in dispute_ids]

    lists: list[tuple[str, Call]] = []
    for i in range(2000):
        params: dict[str, Any] = {}
        shape = i % 4
        if shape == 0:
            params["speaker_id"] = rng.choice(actors)
        elif shape == 1:
            params |= {"topic": rng.choice(TOPICS), "kind": rng.choice(["denial", "assertion"])}
        elif shape == 2:
            year = rng.randint(2015, 2024)
            params |= {"lang": "ar", "stated_from": f"{year}-01-01", "stated_to": f"{year}-06-30"}
        limit = rng.choice([20, 50])
        before = None
        if shape == 3 or rng.random() < 0.3:  # a later page: the cursor of a page's last row
            before = rng.choice(claim_ids)
            params["cursor"] = encode_cursor("claims", before)
        path = "/v1/claims?" + urlencode({**params, "limit": limit})
        f = msgspec.convert(
            {k: v for k, v in params.items() if k != "cursor"}, ClaimFilters, strict=False
        )
        lists.append(
            (
                path,
                lambda conn, f=f, limit=limit, before=before: claims.list_claims(
                    conn, f, limit, before
                ),
            )
        )

    queries = ARABIC_VOCAB + ENGLISH_VOCAB + corpus.tail[:2000]
    searches: list[tuple[str, Call]] = []
    common = search.CommonLexemes()  # kept between searches, as the service keeps them
    for _ in range(2000):
        q = " ".join(rng.choice(queries) for _ in range(rng.randint(1, 2)))
        filters = SearchFilters(types=ALL_TYPES)
        searches.append(
            (
                "/v1/search?" + urlencode({"q": q, "limit": 20}),
                lambda conn, q=q, filters=filters: search.search(
                    conn, search_words(q), filters, 21, None, common
                ),
            )
        )

    posts: list[tuple[str, Call]] = []
    for i in range(2000):
        speaker = rng.choice(actors)
        body: dict[str, Any] = {
            "speaker_id": str(speaker),
            "text": " ".join(rng.choice(ARABIC_VOCAB) for _ in range(rng.randint(8, 22))),
            "lang": "ar",
            "verbatim": rng.random() < 0.4,
            "kind": rng.choice(["assertion", "denial", "accusation"]),
            "stated_on": f"{rng.randint(2015, 2024)}-{rng.randint(1, 12):02d}-01",
            "appearances": [{"source_id": str(rng.choice(sources))}],
            "topics": rng.sample(TOPICS, rng.randint(0, 2)),
        }
        if i % 2 == 0:
            en = " ".join(rng.choice(ENGLISH_VOCAB) for _ in range(rng.randint(8, 20)))
            body["translations"] = [{"lang": "en", "text": en}]
        if i % 3 == 0:
            target = rng.choice(actors)
            if target != speaker:
                body["targets"] = [{"actor_id": str(target), "role": "accused"}]
        raw = msgspec.json.encode(body)
        data = msgspec.json.decode(raw, type=ClaimCreate)
        posts.append((raw.decode(), lambda conn, data=data: claims.create(conn, WHO, data)))

    patches = [
        (
            f"{cid} {tag}",
            lambda conn, cid=cid: claims.update(conn, WHO, cid, ClaimUpdate(kind="denial")),
        )
        for cid, tag in zip(patch_ids, tags, strict=True)
    ]

    def endpoint(name: str, method: str, pairs: list[tuple[str, Call]], **kw: Any) -> Endpoint:
        return Endpoint(name, method, [p for p, _ in pairs], [c for _, c in pairs], **kw)

    return [
        endpoint("GET claim", "GET", gets),
        endpoint("list claims", "GET", lists),
        endpoint("GET dispute", "GET", dispute_gets),
        # on sessions set as the service's search pool sets its own
        endpoint("search", "GET", searches, session=SEARCH_SETTINGS),
        endpoint("POST claim", "POST", posts, new_id=lambda c: c.id, read=False),  # one statement
        # The ceiling of PATCH replays its locked way in a transaction (BEGIN, the claim
        # locked and read, the statement, COMMIT), the one the service takes when the claim
        # changed since it read it. Its usual way (the claim read, then one statement that
        # writes only at the version read, migration 0017) would write once and then find
        # the version moved on every replay.
        endpoint("PATCH claim", "PATCH", patches, transaction=True, read=False),
    ]


def drive(
    svc: Service, key: str, eps: list[Endpoint], folder: Path, args: argparse.Namespace
) -> list[Row]:
    rows = []
    for ep in eps:
        data = folder / f"{ep.name.replace(' ', '-')}.txt"
        data.write_text("\n".join(ep.lines) + "\n")
        if ep.method != "PATCH":  # warm the workers' statement caches and the pool
            load.run(svc.base, key, ep.method, data, duration=1, connections=args.connections)
        cpu, pg = svc.cpu_seconds(), postgres_cpu_seconds()
        result = load.run(
            svc.base, key, ep.method, data, duration=args.duration, connections=args.connections
        )
        cpu, pg = svc.cpu_seconds() - cpu, postgres_cpu_seconds() - pg
        n = max(1, result.requests)
        row = Row(ep, result, cpu / n * 1e6, pg / n * 1e6)
        rows.append(row)
        print(
            f"  {ep.name:<12} {result.rps:>8.0f} req/s  p50 {result.p50_ms:6.1f}  "
            f"p99 {result.p99_ms:6.1f} ms  {row.cpu_us:6.0f} µs CPU/req  errors {result.errors}",
            flush=True,
        )
    return rows


def run_ceiling(url: str, rows: list[Row], folder: Path, args: argparse.Namespace) -> None:
    for row in rows:
        ep = row.endpoint
        paths = asyncio.run(
            ceiling.scripts(
                url,
                ep.name.replace(" ", "-"),
                ep.calls,
                folder,
                transaction=ep.transaction,
                new_id=ep.new_id,
            )
        )
        row.ceiling = ceiling.pgbench(
            url, paths, clients=args.connections, duration=args.duration, session=ep.session
        )
        print(f"  {ep.name:<12} pgbench {row.ceiling.tps:>8.0f} tps", flush=True)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(rows: list[Row], args: argparse.Namespace, title: str) -> bool:
    print(f"\n{title}")
    head = (
        f"{'endpoint':<12} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} "
        f"{'errors':>6} {'CPU µs/req':>10} {'PG µs/req':>9} {'pgbench tps':>11} {'ratio':>6} "
        f"{'pgbench ms':>10}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        c = r.ceiling
        print(
            f"{r.endpoint.name:<12} {r.result.rps:>8.0f} {r.result.p50_ms:>7.1f} "
            f"{r.result.p95_ms:>7.1f} {r.result.p99_ms:>7.1f} {r.result.max_ms:>7.0f} "
            f"{r.result.errors:>6} "
            f"{r.cpu_us:>10.0f} {r.pg_cpu_us:>9.0f} "
            + (f"{c.tps:>11.0f} {r.result.rps / c.tps:>5.2f}x" if c else f"{'-':>11} {'-':>6}")
            # the ceiling's own mean latency at as many connections: the p99 cannot beat it
            + (f" {c.latency_ms:>10.1f}" if c and c.latency_ms is not None else f" {'-':>10}")
        )
    ok = True
    print("\ntargets")
    for r in rows:
        target = CPU_TARGETS.get(r.endpoint.name)
        if target is not None:
            good = r.cpu_us <= target
            ok &= good
            print(
                f"  {verdict(good)}  {r.endpoint.name}: server CPU {r.cpu_us:.0f} µs/request "
                f"(at most {target:g})"
            )
    for r in rows:
        good = r.result.p99_ms < P99_TARGET_MS
        at = "" if args.claims >= P99_AT_CLAIMS else f" (the target is for {P99_AT_CLAIMS:,})"
        ok &= good
        print(
            f"  {verdict(good)}  {r.endpoint.name}: p99 {r.result.p99_ms:.1f} ms at "
            f"{args.connections} connections, {args.claims:,} claims{at} (under "
            f"{P99_TARGET_MS:g})"
        )
    errors = sum(r.result.errors for r in rows) + sum(r.ceiling.failed for r in rows if r.ceiling)
    ok &= errors == 0
    print(f"  {verdict(errors == 0)}  no error under load ({errors})")
    return ok


def one_size(admin: str, claims_n: int, args: argparse.Namespace, ceiling_too: bool) -> list[Row]:
    url = database(admin, f"claimdesk_bench_{claims_n}_{args.actors}")
    corpus = Corpus(claims_n, args.actors)
    asyncio.run(load_corpus(url, corpus, args.reload))
    print(prewarm(url), flush=True)
    rng = random.Random(11)
    eps = asyncio.run(endpoints(url, corpus, rng))
    if args.only:
        eps = [e for e in eps if e.name in args.only]
    key = admin_key(url)
    with tempfile.TemporaryDirectory(prefix="claimdesk-bench-") as tmp:
        folder = Path(tmp)
        print(
            f"\n{claims_n:,} claims: {args.server}, {args.workers} worker(s), pool "
            f"{args.pool_size}, search pool {args.search_pool_size}; wrk {args.connections} "
            f"connections, {args.duration:g} s each",
            flush=True,
        )
        with Service(
            url,
            server=args.server,
            workers=args.workers,
            pool_max_size=args.pool_size,
            search_pool_size=args.search_pool_size,
        ) as svc:
            rows = drive(svc, key, eps, folder, args)
        if ceiling_too:
            print("ceiling: the same statements through pgbench", flush=True)
            run_ceiling(url, rows, folder, args)
    return rows


# This machine's speed moves by the hour, and by as much as twice (bench/README.md): a run
# says how fast plain Python ran before and after it, the figure to set its results beside.
GAUGE_ADDITIONS = 20_000_000


def python_gauge() -> float:
    """Seconds ``python3 -c`` takes for a loop of ``GAUGE_ADDITIONS`` additions, the figure
    bench/README.md quotes: about 1.0-1.1 s in this machine's fastest hours, 1.4-1.6 in slow
    ones, 2-3.5 in its slowest."""
    started = time.perf_counter()
    loop = f"s = 0\nfor i in range({GAUGE_ADDITIONS}): s += i"
    subprocess.run([sys.executable, "-c", loop], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--actors", type=int, default=1_000)
    parser.add_argument("--database-url", help="a server to create the bench databases on")
    parser.add_argument(
        "--data-dir",
        default=str(ROOT / "bench" / ".data"),
        help="the embedded server's data, when no --database-url",
    )
    parser.add_argument("--server", choices=["uvicorn", "granian"], default="granian")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--pool-size", type=int, default=5, help="connections per worker")
    parser.add_argument(
        "--search-pool-size", type=int, default=1, help="search connections per worker"
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-ceiling", action="store_true", help="skip pgbench")
    parser.add_argument("--only", action="append", help="only this endpoint (repeatable)")
    parser.add_argument(
        "--scaling", action="store_true", help="10k, 100k and 1M claims, no ceiling"
    )
    parser.add_argument("--reload", action="store_true", help="rebuild the data set")
    args = parser.parse_args()
    if not load.available():
        raise SystemExit("bench: wrk is needed (Debian: apt-get install wrk)")

    started = time.monotonic()
    gauge = python_gauge()
    print(f"this machine now: {GAUGE_ADDITIONS:,} additions in a Python loop in {gauge:.2f} s")
    ok = True
    with server_url(args.database_url, args.data_dir) as admin:
        if args.scaling:
            results = {}
            for n in (10_000, 100_000, 1_000_000):
                results[n] = one_size(admin, n, args, ceiling_too=False)
            print("\nscaling: p50 / p99 ms by data set size")
            sizes = list(results)
            print(f"{'endpoint':<12} " + " ".join(f"{n:>16,}" for n in sizes))
            for i, row in enumerate(results[sizes[0]]):
                cells = [
                    f"{results[n][i].result.p50_ms:>7.1f} / {results[n][i].result.p99_ms:>6.1f}"
                    for n in sizes
                ]
                print(f"{row.endpoint.name:<12} " + " ".join(cells))
            args.claims = sizes[-1]
            ok = report(results[sizes[-1]], args, f"at {sizes[-1]:,} claims")
        else:
            rows = one_size(admin, args.claims, args, ceiling_too=not args.no_ceiling)
            ok = report(rows, args, f"{args.claims:,} claims, {args.actors:,} actors")
    print(
        f"\n{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
        f"{GAUGE_ADDITIONS:,} additions in {gauge:.2f} s before, {python_gauge():.2f} s after; "
        f"{time.monotonic() - started:.0f} s"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
