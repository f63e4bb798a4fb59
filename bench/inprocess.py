"""The service's own cost per request, without an HTTP server or load: requests sent to the
ASGI application in this process, one after another, against the benchmark's data set.

    python bench/inprocess.py --endpoint "GET claim"               # CPU µs a request
    python bench/inprocess.py --endpoint "GET claim" --instructions  # and instructions

CPU time moves with the machine (this project's machine ran the same code at up to twice the
CPU some hours apart); the count of instructions the Python process executes for the same
requests does not (``--instructions``: the measured loop under valgrind's callgrind, its
instrumentation switched on for the loop alone; about 50 times slower, so fewer requests).
It counts the service's side of a request only: PostgreSQL's work is in another process.

The data set is ``bench/run.py``'s (``--claims``, ``--actors``), loaded by it if missing.
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
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg
import msgspec
from corpus import ARABIC_VOCAB, ENGLISH_VOCAB, Corpus
from corpus import load as load_corpus
from server import admin_key, database, server_url

ENDPOINTS = ["health", "GET claim", "list claims", "GET dispute", "search", "POST claim"]
_START, _END = "instructions-on", "instructions-off"


async def _requests(url: str, endpoint: str) -> list[tuple[str, str, bytes]]:
    """(method, path with query, body) for ``endpoint``, the same on every run."""
    rng = random.Random(7)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT setseed(0.42)")
        if endpoint == "health":
            return [("GET", "/health", b"")]
        if endpoint == "GET claim":
            ids = await conn.fetch("SELECT id FROM claims ORDER BY random() LIMIT 2000")
            return [("GET", f"/v1/claims/{r[0]}", b"") for r in ids]
        if endpoint == "GET dispute":
            ids = await conn.fetch("SELECT id FROM disputes ORDER BY random() LIMIT 2000")
            return [("GET", f"/v1/disputes/{r[0]}", b"") for r in ids]
        actors = [r[0] for r in await conn.fetch("SELECT id FROM actors ORDER BY id LIMIT 100")]
        if endpoint == "list claims":
            return [
                ("GET", "/v1/claims?" + urlencode({"speaker_id": a, "limit": 50}), b"")
                for a in actors
            ]
        if endpoint == "search":
            words = ARABIC_VOCAB + ENGLISH_VOCAB
            return [
                ("GET", "/v1/search?" + urlencode({"q": " ".join(rng.sample(words, 2))}), b"")
                for _ in range(300)
            ]
        sources = [r[0] for r in await conn.fetch("SELECT id FROM sources ORDER BY id LIMIT 100")]
        posts = []
        for i in range(300):
            body: dict[str, Any] = {
                "speaker_id": str(actors[i % 100]),
                "text": " ".join(rng.choice(ARABIC_VOCAB) for _ in range(15)),
                "lang": "ar",
                "kind": "assertion",
                "stated_on": "2019-11-01",
                "appearances": [{"source_id": str(sources[i % 100])}],
                "translations": [
                    {"lang": "en", "text": " ".join(rng.choice(ENGLISH_VOCAB) for _ in range(12))}
                ],
            }
            posts.append(("POST", "/v1/claims", msgspec.json.encode(body)))
        return posts
    finally:
        await conn.close()


async def _signal(folder: str, mine: str, theirs: str) -> None:
    """Say ``mine`` to the parent process, and wait for it to answer ``theirs`` (files in
    ``folder``). The loop keeps running Python code, which is when valgrind takes the
    parent's ``callgrind_control`` commands."""
    Path(folder, mine).touch()  # noqa: ASYNC240 - nothing else runs meanwhile
    while not Path(folder, theirs).exists():  # noqa: ASYNC110, ASYNC240 - another process
        await asyncio.sleep(0.1)


async def _measure(url: str, key: str, endpoint: str, count: int, signal_dir: str | None) -> None:
    os.environ["CLAIMDESK_DATABASE_URL"] = url
    os.environ["CLAIMDESK_RATE_LIMIT_PER_MINUTE"] = "0"
    from service.asgi import app_factory

    requests = await _requests(url, endpoint)
    app = app_factory()
    statuses: list[int] = []

    async def send_one(method: str, target: str, body: bytes) -> None:
        path, _, query = target.partition("?")
        headers = [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {key}".encode())]
        if body:
            headers += [(b"content-type", b"application/json")]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(scope, receive, send)

    started: asyncio.Queue[Any] = asyncio.Queue()
    events: asyncio.Queue[Any] = asyncio.Queue()
    await events.put({"type": "lifespan.startup"})

    async def lifespan_send(message: Any) -> None:
        await started.put(message)

    lifespan = asyncio.create_task(
        app(
            {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, events.get, lifespan_send
        )
    )
    if (await started.get())["type"] != "lifespan.startup.complete":
        raise SystemExit("the application did not start")
    for method, target, body in requests[:100]:  # warm: statements prepared, caches filled
        await send_one(method, target, body)
    if signal_dir:  # let the parent switch callgrind's instrumentation on, then go
        await _signal(signal_dir, "ready", _START)
    statuses.clear()
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(count):
        await send_one(*requests[i % len(requests)])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if signal_dir:
        await _signal(signal_dir, "done", _END)
    bad = [s for s in statuses if s >= 400]
    if bad:
        raise SystemExit(f"{len(bad)} of {count} requests failed (status {bad[0]})")
    print(
        f"{endpoint}: {count} requests, {cpu / count * 1e6:,.0f} µs CPU and "
        f"{wall / count * 1e6:,.0f} µs wall a request",
        file=sys.stderr,
    )
    await events.put({"type": "lifespan.shutdown"})
    await lifespan


def _instructions(args: argparse.Namespace, url: str, key: str) -> int:
    """Run the measured loop under callgrind; the instructions it executed."""
    with tempfile.TemporaryDirectory() as signals:
        out = Path(signals, "callgrind.out")
        child = subprocess.Popen(
            [
                "valgrind",
                "--tool=callgrind",
                "--quiet",
                "--instr-atstart=no",
                f"--callgrind-out-file={out}",
                sys.executable,
                __file__,
                "--endpoint",
                args.endpoint,
                "--requests",
                str(args.requests),
                "--child",
                signals,
                url,
                key,
            ],
            stdout=subprocess.DEVNULL,
        )

        def wait_for(name: str) -> None:
            while not Path(signals, name).exists():
                if child.poll() is not None:
                    raise SystemExit(f"the measured process exited with {child.returncode}")
                time.sleep(0.2)

        def control(*option: str) -> None:
            subprocess.run(
                ["callgrind_control", *option, str(child.pid)],
                check=True,
                stdout=subprocess.DEVNULL,
            )

        wait_for("ready")
        control("--zero")
        control("--instr=on")
        Path(signals, _START).touch()
        wait_for("done")
        control("--instr=off")
        Path(signals, _END).touch()
        if child.wait() != 0:
            raise SystemExit(f"the measured process exited with {child.returncode}")
        total = 0
        for dump in Path(signals).glob("callgrind.out*"):
            for line in dump.read_text().splitlines():
                if line.startswith("totals:"):
                    total += int(line.split()[1])
        return total


def _run(measure: Any) -> None:
    """On uvloop when it is installed, as ``claimdesk serve`` runs the service (granian and
    uvicorn both take it): asyncio's own loop makes tasks and futures in Python, and counted
    a task more or less at several times what it costs the service."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(measure)
        return
    uvloop.run(measure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", choices=ENDPOINTS, default="GET claim")
    parser.add_argument("--requests", type=int, help="default 5,000 (1,000 with --instructions)")
    parser.add_argument("--instructions", action="store_true", help="count them (valgrind)")
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--actors", type=int, default=1_000)
    parser.add_argument("--database-url", help="a server holding the bench databases")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("CLAIMDESK_LOG_LEVEL", "info")  # an access line a request
    os.environ.setdefault("CLAIMDESK_LOG_FORMAT", "json")
    if args.child:  # under valgrind, started by _instructions
        signals, url, key = args.child
        sys.stdout = open(os.devnull, "w")  # the access lines
        _run(_measure(url, key, args.endpoint, args.requests, signals))
        return
    count = args.requests or (1000 if args.instructions else 5000)
    args.requests = count
    with server_url(args.database_url, str(ROOT / "bench" / ".data")) as admin:
        url = database(admin, f"claimdesk_bench_{args.claims}_{args.actors}")
        asyncio.run(load_corpus(url, Corpus(args.claims, args.actors), False))
        key = admin_key(url)
        if args.instructions:
            total = _instructions(args, url, key)
            print(f"{args.endpoint}: {total / count:,.0f} instructions a request ({count:,})")
        else:
            sys.stdout = open(os.devnull, "w")  # the access lines
            _run(_measure(url, key, args.endpoint, count, None))


if __name__ == "__main__":
    main()
