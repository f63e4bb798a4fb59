"""Migrations: up to head, down to base, up again, on an empty database."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from service import db, migrate

pytestmark = pytest.mark.compat


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r["tablename"] for r in rows}
    finally:
        await conn.close()


def test_up_down_up(admin_url):
    name = "claimdesk_migrations_test"
    asyncio.run(db.drop_database(admin_url, name))
    asyncio.run(db.ensure_database(admin_url, name))
    url = db.with_database(admin_url, name)
    try:
        migrate.upgrade(url)
        assert {"actors", "claims", "sources", "revisions", "change_events"} <= asyncio.run(
            _tables(url)
        )
        migrate.downgrade(url, "base")
        assert asyncio.run(_tables(url)) == {"alembic_version"}
        migrate.upgrade(url)
        assert "claims" in asyncio.run(_tables(url))
        migrate.upgrade(url)  # idempotent at head
    finally:
        asyncio.run(db.drop_database(admin_url, name))


def test_one_head():
    assert migrate.head()  # raises when the migrations have more than one head
