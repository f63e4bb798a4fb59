"""The database and the service under test, for the benchmarks.

- :func:`database`: a benchmark database (``claimdesk_bench_<claims>_<actors>``) on the
  server at ``--database-url``, or on an embedded server in ``--data-dir``; migrated.
- :func:`admin_key`: an admin API key made with ``claimdesk keys create``, as an operator would.
- :class:`Service`: ``claimdesk serve`` in its own process group, as production runs it (the
  HTTP server and worker count of the ``--server`` and ``--workers`` options), with rate limits
  off; :meth:`Service.cpu_seconds` is the CPU time of its whole process tree so far.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncio

from service import db, migrate

CLK_TCK = os.sysconf("SC_CLK_TCK")


def shared_buffers_mb() -> int:
    """A quarter of the memory: the starting point PostgreSQL's documentation gives for a
    server of its own (``shared_buffers``); of the container's limit, when it has one."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    with contextlib.suppress(OSError, ValueError):  # cgroup v2; "max" when unlimited
        memory = min(memory, int(Path("/sys/fs/cgroup/memory.max").read_text()))
    return memory // 4 // 2**20


# Checkpoints by time, not by the WAL the writes of one run make (a run's POST and PATCH write
# about a gigabyte, much of it whole pages: the first change to a page after a checkpoint logs
# all of it). With PostgreSQL's default of 1 GB a checkpoint started every 20-30 s of writes,
# in the middle of POST claim or PATCH claim, and PostgreSQL's log said so ("checkpoints are
# occurring too frequently ... Consider increasing the configuration parameter max_wal_size").
MAX_WAL_SIZE_MB = 4096


async def _shared_buffers(url: str) -> bool:
    """Sets ``shared_buffers`` for the next start (and ``max_wal_size`` now); whether
    ``shared_buffers`` changed."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        wal = await conn.fetchval(
            "SELECT setting::bigint FROM pg_settings WHERE name = 'max_wal_size'"
        )
        if wal != MAX_WAL_SIZE_MB:  # in MB
            await conn.execute(f"ALTER SYSTEM SET max_wal_size = '{MAX_WAL_SIZE_MB}MB'")
            await conn.execute("SELECT pg_reload_conf()")
        blocks = await conn.fetchval(
            "SELECT setting::bigint FROM pg_settings WHERE name = 'shared_buffers'"
        )  # 8 kB blocks: SHOW writes 6144MB as 6GB
        wanted = shared_buffers_mb()
        if blocks * 8 // 1024 == wanted:
            return False
        await conn.execute(f"ALTER SYSTEM SET shared_buffers = '{wanted}MB'")
        return True
    finally:
        await conn.close()


_RELATIONS = """
SELECT c.oid FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i')
UNION ALL
SELECT t.oid FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid
WHERE c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT i.indexrelid FROM pg_class c JOIN pg_index i ON i.indrelid = c.reltoastrelid
WHERE c.relnamespace = 'public'::regnamespace"""


async def _prewarm(url: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        try:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        except asyncpg.PostgresError as e:
            return f"not prewarmed: {e}"
        blocks = await conn.fetchval(f"SELECT sum(pg_prewarm(oid)) FROM ({_RELATIONS}) AS r")
        return f"prewarmed {blocks * 8 // 1024:,} MB into PostgreSQL's buffers"
    finally:
        await conn.close()


def prewarm(url: str) -> str:
    """The data set read into PostgreSQL's buffers (``pg_prewarm``), as a server that has been
    serving it holds what fits: a freshly started one would make the first endpoint measured
    pay for reading it. Says what it did (a server without the extension is left as is)."""
    return asyncio.run(_prewarm(url))


@contextlib.contextmanager
def server_url(database_url: str | None, data_dir: str) -> Iterator[str]:
    """An admin URL: the one given, or an embedded server's (stopped on the way out).

    The embedded server is set up as a database server of its own would be: PostgreSQL's
    default ``shared_buffers`` of 128 MB holds a few percent of the million-claim data set
    (about 4 GB), and every read past it copies a page from the operating system's cache;
    its ``max_wal_size`` (``MAX_WAL_SIZE_MB``). A server given with ``--database-url`` is
    used as it is configured.
    """
    if database_url:
        yield database_url
        return
    server = db.start_embedded(data_dir)
    if asyncio.run(_shared_buffers(server.get_uri())):  # takes effect at a restart
        server.cleanup()
        server = db.start_embedded(data_dir)
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def database(admin_url: str, name: str) -> str:
    """The URL of database ``name`` on that server, created if missing and migrated."""
    asyncio.run(db.ensure_database(admin_url, name))
    url = db.with_database(admin_url, name)
    migrate.upgrade(url)
    return url


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CLAIMDESK_")}


def admin_key(url: str) -> str:
    """A new admin key, through the command line (it prints the key alone on stdout)."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "service.cli",
            "keys",
            "create",
            "--name",
            "bench",
            "--scope",
            "admin",
            "--expires-in-days",
            "1",
        ],
        env=clean_env() | {"CLAIMDESK_DATABASE_URL": url, "CLAIMDESK_LOG_LEVEL": "warning"},
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stats() -> Iterator[tuple[int, str]]:
    """Each process's pid and its /proc/<pid>/stat line (those that end meanwhile left out)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                yield int(entry), f.read()
        except OSError:
            continue


def _fields(stat: str) -> list[str]:
    """A stat line's fields after the command name (which may hold spaces): state, ppid, ..."""
    return stat.rsplit(")", 1)[1].split()


def _cpu_ticks(stat: str) -> int:
    fields = _fields(stat)
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)


def _tree(pid: int, stats: dict[int, str]) -> list[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for p, stat in stats.items():
        children.setdefault(int(_fields(stat)[1]), []).append(p)
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children.get(p, [])
    return found


def tree_cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and every process below it (Linux /proc), in seconds."""
    stats = dict(_stats())
    return sum(_cpu_ticks(stats[p]) for p in _tree(pid, stats) if p in stats) / CLK_TCK


def postgres_cpu_seconds() -> float:
    """CPU time of every postgres process on the machine (the benchmark's server among them)."""
    total = sum(
        _cpu_ticks(stat)
        for _, stat in _stats()
        if stat[stat.index("(") + 1 : stat.rindex(")")].startswith("postgres")
    )
    return total / CLK_TCK


class Service:
    """``claimdesk serve --no-migrate`` on a free port, until :meth:`stop`."""

    def __init__(
        self,
        url: str,
        *,
        server: str = "uvicorn",
        workers: int = 1,
        pool_max_size: int = 10,
        search_pool_size: int = 2,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = clean_env() | {
            "CLAIMDESK_DATABASE_URL": url,
            # as in production: an access-log line (JSON) a request
            "CLAIMDESK_LOG_LEVEL": "info",
            "CLAIMDESK_LOG_FORMAT": "json",
            "CLAIMDESK_SERVER": server,
            "CLAIMDESK_WORKERS": str(workers),
            "CLAIMDESK_POOL_MIN_SIZE": str(pool_max_size),
            "CLAIMDESK_POOL_MAX_SIZE": str(pool_max_size),
            "CLAIMDESK_SEARCH_POOL_SIZE": str(search_pool_size),
            # one client measuring as fast as it can: its rate limit would answer 429
            "CLAIMDESK_RATE_LIMIT_PER_MINUTE": "0",
        }
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "service.cli",
                "serve",
                "--no-migrate",
                "--port",
                str(self.port),
            ],
            env=env | (extra_env or {}),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"claimdesk serve exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit("claimdesk serve did not become ready in 60 s")
            time.sleep(0.2)

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.proc.pid)

    def pids(self) -> list[int]:
        return _tree(self.proc.pid, dict(_stats()))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
