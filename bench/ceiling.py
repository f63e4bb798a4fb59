"""The ceiling: the service's own SQL, with the parameters it sends, through pgbench.

The statements are not copied here: the service's query functions run against a connection
that records every statement and its arguments (:class:`Recorder`), on real parameters, and
each recording becomes a pgbench script (arguments as typed literals; the statements of a
request the service runs in a transaction, PATCH's, in one; POST claim is one statement on its
own, as the service sends it). pgbench then runs those scripts (chosen at random, ``-M
prepared``, as asyncpg prepares its statements) with as many clients as the HTTP run had
connections. A new claim's id is made per transaction from pgbench variables.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg

MAX_SCRIPTS = 100  # pgbench takes at most 128 -f


class Recorder:
    """An asyncpg connection that records what it runs (``statements``)."""

    def __init__(self, conn: asyncpg.Connection, *, in_transaction: bool = False) -> None:
        self._conn = conn
        self._in_transaction = in_transaction
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def is_in_transaction(self) -> bool:
        # Each call is recorded inside a transaction that is rolled back; the query functions
        # choose what to send by this. Outside one, as the service runs a POST without an
        # Idempotency-Key (one statement); inside, for a script replayed in a transaction,
        # what they send in one (a PATCH's locked way).
        return self._in_transaction

    async def fetch(self, sql: str, *args: Any, **kw: Any) -> Any:
        self.statements.append((sql, args))
        return await self._conn.fetch(sql, *args, **kw)

    async def fetchrow(self, sql: str, *args: Any, **kw: Any) -> Any:
        self.statements.append((sql, args))
        return await self._conn.fetchrow(sql, *args, **kw)

    async def fetchval(self, sql: str, *args: Any, **kw: Any) -> Any:
        self.statements.append((sql, args))
        return await self._conn.fetchval(sql, *args, **kw)

    async def execute(self, sql: str, *args: Any, **kw: Any) -> Any:
        if args or ";" not in sql:
            self.statements.append((sql, args))
        else:  # several commands in one message (search's settings): one by one in a script
            self.statements += [(part, ()) for part in sql.split(";") if part.strip()]
        return await self._conn.execute(sql, *args, **kw)

    async def executemany(self, sql: str, rows: Any, **kw: Any) -> Any:
        for row in rows:
            self.statements.append((sql, tuple(row)))
        return await self._conn.executemany(sql, rows, **kw)


@dataclass
class Ceiling:
    tps: float
    latency_ms: float | None
    failed: int


NEW_ID = (
    "(lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0') || '7'"
    " || substr(md5(random()::text), 1, 3) || '8' || substr(md5(random()::text), 1, 15))::uuid"
)


async def _types(conn: asyncpg.Connection, sql: str) -> list[str]:
    names = []
    for t in (await conn.prepare(sql)).get_parameters():
        name = t.name if t.schema == "pg_catalog" else f"{t.schema}.{t.name}"
        names.append(name[1:] + "[]" if name.startswith("_") else name)
    return names


async def scripts(
    url: str,
    name: str,
    calls: list[Callable[[Recorder], Awaitable[Any]]],
    folder: Path,
    *,
    transaction: bool = False,
    new_id: Callable[[Any], Any] | None = None,
) -> list[Path]:
    """Record each call (rolled back), then write one pgbench script per shape of recording
    (its statements and which arguments are NULL). A script picks one recorded call at random
    and reads its arguments from a table (``\\gset``: one small look-up per transaction),
    then sends the service's statements with them as bind parameters. NULL arguments are
    written as NULL (a custom plan folds them away just the same)."""
    from service.db import _init_connection

    conn = await asyncpg.connect(url)
    await _init_connection(conn)
    groups: dict[tuple[Any, ...], list[list[tuple[str, tuple[Any, ...]]]]] = {}
    paths = []
    try:
        for call in calls:
            rec = Recorder(conn, in_transaction=transaction)
            tr = conn.transaction()
            await tr.start()
            try:
                result = await call(rec)
            finally:
                await tr.rollback()
            fresh = new_id(result) if new_id is not None else None
            statements = [
                (sql, tuple("NEW_ID" if fresh is not None and a == fresh else a for a in args))
                for sql, args in rec.statements
            ]
            shape = tuple((sql, tuple(a is None for a in args)) for sql, args in statements)
            groups.setdefault(shape, []).append(statements)
        for g, (shape, recordings) in enumerate(sorted(groups.items(), key=lambda x: -len(x[1]))):
            if g == MAX_SCRIPTS:
                break
            table = f"bench_params_{name.replace('-', '_').lower()}_{g}"
            columns: list[tuple[str, str]] = []  # (column, type)
            body = []
            for j, (sql, nulls) in enumerate(shape):
                types = await _types(conn, sql)
                text = sql
                for k in range(len(types), 0, -1):
                    column = f"s{j}_{k}"
                    value = recordings[0][j][1][k - 1]
                    if nulls[k - 1]:
                        replacement = f"NULL::{types[k - 1]}"
                    elif value == "NEW_ID":
                        replacement = ":new_id"
                    else:
                        columns.append((column, types[k - 1]))
                        replacement = f":{column}"
                    text = re.sub(rf"\${k}(?!\d)", lambda _m, r=replacement: r, text)
                text = re.sub(r"--[^\n]*", "", text)  # a script's statement is one line
                body.append(" ".join(text.split()) + ";")
            await conn.execute(f"DROP TABLE IF EXISTS {table}")
            await conn.execute(
                f"CREATE TABLE {table} (n int PRIMARY KEY"
                + "".join(f", {c} {t}" for c, t in columns)
                + ")"
            )
            rows = []
            for n, statements in enumerate(recordings, 1):
                values = {
                    f"s{j}_{k}": a
                    for j, (_, args) in enumerate(statements)
                    for k, a in enumerate(args, 1)
                }
                rows.append((n, *[values[c] for c, _ in columns]))
            await conn.executemany(
                f"INSERT INTO {table} VALUES ("
                + ", ".join(f"${i}" for i in range(1, len(columns) + 2))
                + ")",
                rows,
            )
            select = ", ".join(c for c, _ in columns) or "n"
            if any(v == "NEW_ID" for _, a in recordings[0] for v in a):
                select += f", {NEW_ID} AS new_id"
            head = f"\\set i random(1, {len(recordings)})\nSELECT {select} FROM {table} WHERE n = :i \\gset\n"
            text = "\n".join(body) + "\n"
            if transaction:
                text = "BEGIN;\n" + text + "COMMIT;\n"
            path = folder / f"{name}-{g}.sql"
            path.write_text(head + text)
            # weight: how often the service saw this shape
            paths.append((path, len(recordings)))
    finally:
        await conn.close()
    return [Path(f"{p}@{w}") for p, w in paths]


def pgbench(
    url: str,
    paths: list[Path],
    *,
    clients: int,
    duration: float,
    session: dict[str, str] | None = None,
) -> Ceiling:
    """pgbench on the scripts at ``paths``, its sessions set as the service's pool sets its
    own, and with ``session`` (``SEARCH_SETTINGS`` for the search pool's)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or "127.0.0.1"])[0]
    args = ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", "1"]
    args += ["-T", str(max(1, round(duration))), "-h", host, "-U", parts.username or "postgres"]
    if parts.port:
        args += ["-p", str(parts.port)]
    args += ["--failures-detailed"]
    for p in paths:
        args += ["-f", str(p)]
    args.append(parts.path.lstrip("/"))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PGPASSWORD": parts.password or "",
        # as the service's pool sets it
        "PGOPTIONS": "-c max_parallel_workers_per_gather=0 -c jit=off -c timezone=UTC"
        + "".join(f" -c {name}={value}" for name, value in (session or {}).items()),
    }
    out = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if out.returncode not in (0, 2):
        raise RuntimeError(f"pgbench failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    found = re.search(r"tps = ([\d.]+)", out.stdout)
    if found is None:
        raise RuntimeError(f"pgbench: no result:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    tps = float(found.group(1))
    failed_match = re.search(r"number of failed transactions: (\d+)", out.stdout)
    lat = re.search(r"latency average = ([\d.]+) ms", out.stdout)
    return Ceiling(
        tps=tps,
        latency_ms=float(lat.group(1)) if lat else None,
        failed=int(failed_match.group(1)) if failed_match else 0,
    )
