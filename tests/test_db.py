"""service.db.Pool: a release that makes no task when it need not wait, and still finishes
when it has to wait and the request is cancelled meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
import pytest

from service import db
from service.settings import Settings


@pytest.fixture
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    two = msgspec.structs.replace(settings, pool_min_size=2, pool_max_size=2)
    created = await db.create_pool(two, settings.database_url or "")
    try:
        yield created
    finally:
        await created.close()


def count_tasks() -> list[Any]:
    """Every task the running loop makes from now on (a list, appended to)."""
    loop = asyncio.get_running_loop()
    made: list[Any] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kw: Any) -> asyncio.Task[Any]:
        made.append(coro)
        return asyncio.Task(coro, loop=loop, **kw)

    loop.set_task_factory(factory)
    return made


async def test_a_release_with_nothing_to_wait_for_makes_no_task(pool):
    made = count_tasks()
    try:
        for _ in range(20):
            async with pool.acquire() as conn:
                assert await conn.fetchval("SELECT 1") == 1
    finally:
        asyncio.get_running_loop().set_task_factory(None)
    assert made == []  # asyncpg's own release made one task each time
    assert pool.get_idle_size() == 2


async def test_a_release_that_rolls_back_finishes_though_its_task_is_cancelled(pool):
    """A connection left in a transaction is rolled back as it goes back to the pool (a round
    trip): cancelling the request meanwhile must not stop that half way."""
    conn = await pool.acquire()
    await conn.execute("BEGIN")
    await conn.execute("CREATE TEMP TABLE left_behind (x int)")
    release = asyncio.create_task(pool.release(conn))
    await asyncio.sleep(0)  # the release has started, and is waiting for the ROLLBACK
    assert not release.done()
    release.cancel()
    with pytest.raises(asyncio.CancelledError):
        await release
    # Both connections come back, neither in a transaction, the temporary table gone.
    async with pool.acquire(timeout=5) as one, pool.acquire(timeout=5) as two:
        for c in (one, two):
            assert not c.is_in_transaction()
            assert await c.fetchval("SELECT to_regclass('pg_temp.left_behind')") is None


async def test_a_release_that_waits_answers_when_done(pool):
    made = count_tasks()
    try:
        conn = await pool.acquire()
        await conn.execute("BEGIN")
        await pool.release(conn)
    finally:
        asyncio.get_running_loop().set_task_factory(None)
    assert len(made) == 1  # the rest of the release, shielded
    assert pool.get_idle_size() == 2
    async with pool.acquire(timeout=5) as one, pool.acquire(timeout=5) as two:
        assert not one.is_in_transaction() and not two.is_in_transaction()


async def test_a_release_with_a_timeout_goes_asyncpgs_way(pool):
    for _ in range(3):
        async with pool.acquire(timeout=5) as conn:
            await conn.execute("BEGIN")
    async with pool.acquire(timeout=5) as one, pool.acquire(timeout=5) as two:
        assert not one.is_in_transaction() and not two.is_in_transaction()


async def test_a_connection_released_twice_or_to_another_pool_is_refused_as_asyncpg_does(
    pool, settings
):
    conn = await pool.acquire()
    await pool.release(conn)
    await pool.release(conn)  # already released: nothing happens
    other = await db.create_pool(settings, settings.database_url or "")
    try:
        conn = await pool.acquire()
        with pytest.raises(asyncpg.InterfaceError, match="not a member of this pool"):
            await other.release(conn)
        await pool.release(conn)
    finally:
        await other.close()
