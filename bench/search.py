"""Search benchmark: a synthetic corpus of actors and claims, the service over HTTP, latencies.

    python bench/search.py                      # 1,000,000 claims, 20,000 actors, embedded PG
    python bench/search.py --claims 100000      # smaller
    python bench/search.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

It shares the data set and the service set-up of ``bench/run.py``: the corpus of
``bench/corpus.py`` loaded with COPY into ``claimdesk_bench_<claims>_<actors>`` (reused when
loaded already; ``--reload`` to rebuild), an admin key, ``claimdesk serve`` in a separate
process (``bench/server.py``). It drives the service with concurrent HTTP requests from this
process and prints p50/p95/p99 per endpoint with PASS/FAIL against the targets of the search
issue.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from corpus import ARABIC_VOCAB, ENGLISH_VOCAB, Corpus, load
from server import Service, admin_key, database, server_url

TARGETS_MS = {"search": 50.0, "typeahead": 10.0, "similar": None}


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
    base: str, key: str, url: str, corpus: Corpus, requests: int, concurrency: int
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

    with server_url(args.database_url, args.data_dir) as admin:
        url = database(admin, f"claimdesk_bench_{args.claims}_{args.actors}")
        corpus = Corpus(args.claims, args.actors)
        asyncio.run(load(url, corpus, args.reload))
        key = admin_key(url)
        size = max(4, args.concurrency)
        with Service(url, workers=1, pool_max_size=size, search_pool_size=size) as svc:
            print(
                f"\n{args.claims:,} claims, {args.actors:,} actors; {args.requests} requests "
                f"per endpoint, {args.concurrency} concurrent; {os.cpu_count()} CPUs"
            )
            asyncio.run(drive(svc.base, key, url, corpus, args.requests, args.concurrency))


if __name__ == "__main__":
    main()
