"""Alembic environment: runs migrations on asyncpg through SQLAlchemy's async engine.

The URL comes from ``config.attributes["database_url"]`` (set by ``service.migrate``) or the
``CLAIMDESK_DATABASE_URL`` environment variable. A PostgreSQL advisory lock serialises
concurrent runs (two replicas starting at once).
"""

from __future__ import annotations

import asyncio
import os

import asyncpg
from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

MIGRATION_LOCK = 7_424_661_001  # arbitrary, fixed: pg_advisory_lock key for migrations

config = context.config


def _url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("CLAIMDESK_DATABASE_URL")
    if not url:
        raise SystemExit("no database URL: set CLAIMDESK_DATABASE_URL")
    return str(url)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
    connection.execute(text(f"SELECT pg_advisory_lock({MIGRATION_LOCK})"))
    try:
        with context.begin_transaction():
            context.run_migrations()
    finally:
        connection.execute(text(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})"))


async def _run_async() -> None:
    url = _url()
    # asyncpg parses the URL itself (Unix-socket ``?host=`` URLs of the embedded server included).
    engine = create_async_engine(
        "postgresql+asyncpg://", async_creator=lambda: asyncpg.connect(url), poolclass=NullPool
    )
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
asyncio.run(_run_async())
