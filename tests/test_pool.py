"""The connection pool (service.pool) against a real server: lending, waiting in turn, taking
back only idle connections, replacing closed ones, closing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest
import structlog
from msgspec.structs import replace

from service import db
from service.errors import DatabaseUnreachable
from service.pool import Pool
from service.settings import Settings

PoolOf = Callable[[int], Pool]


@pytest.fixture
async def pool_of(admin_url: str) -> AsyncIterator[PoolOf]:
    made: list[Pool] = []
    opened: list[asyncpg.Connection] = []

    async def connect() -> asyncpg.Connection:
        connection = await asyncpg.connect(admin_url)
        opened.append(connection)
        return connection

    def make(max_size: int) -> Pool:
        made.append(Pool(connect, max_size=max_size))
        return made[-1]

    yield make
    for pool in made:
        await asyncio.wait_for(pool.close(), 10)
    assert all(c.is_closed() for c in opened), "a connection outlived its pool"


async def pid(connection: asyncpg.Connection) -> int:
    value: int = await connection.fetchval("SELECT pg_backend_pid()")
    return value


async def test_lends_at_most_max_size_and_the_waiting_take_them_in_turn(pool_of: PoolOf) -> None:
    pool = pool_of(2)
    order: list[str] = []
    release = asyncio.Event()

    async def hold(name: str) -> int:
        async with pool.acquire() as connection:
            order.append(name)
            await release.wait()
            return await pid(connection)

    holders = [asyncio.create_task(hold(n)) for n in ("a", "b")]
    await asyncio.sleep(0.2)
    assert sorted(order) == ["a", "b"]  # both opened at once: either first
    waiting = []
    for name in ("c", "d", "e"):  # asked for in this order, while both are lent
        waiting.append(asyncio.create_task(hold(name)))
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    assert len(order) == 2
    release.set()
    pids = await asyncio.gather(*holders, *waiting)
    assert order[2:] == ["c", "d", "e"]
    assert len(set(pids)) == 2  # never a third connection


async def test_a_connection_given_back_idle_is_lent_again(pool_of: PoolOf) -> None:
    pool = pool_of(1)
    async with pool.acquire() as connection:
        first = await pid(connection)
    async with pool.acquire() as connection:
        assert await pid(connection) == first
    # a statement's error leaves the connection idle: lent again
    with pytest.raises(asyncpg.DivisionByZeroError):
        async with pool.acquire() as connection:
            await connection.fetchval("SELECT 1 / 0")
    with pytest.raises(LookupError):
        async with pool.acquire() as connection:
            await connection.fetchval("SELECT 1")
            raise LookupError  # as a 404 is raised after a read
    async with pool.acquire() as connection:
        assert await pid(connection) == first


async def test_a_lease_cancelled_while_its_statement_runs_is_not_lent_again(
    pool_of: PoolOf,
) -> None:
    pool = pool_of(1)
    started = asyncio.Event()
    pids: list[int] = []

    async def sleep_long() -> None:
        async with pool.acquire() as connection:
            pids.append(await pid(connection))
            started.set()
            await connection.execute("SELECT pg_sleep(5)")

    task = asyncio.create_task(sleep_long())
    await started.wait()
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(10), pool.acquire() as connection:
        # a new connection, not the one whose pg_sleep may still be running
        assert await pid(connection) != pids[0]
        assert await connection.fetchval("SELECT 1") == 1


async def test_a_timeout_while_waiting_raises_and_takes_nothing(pool_of: PoolOf) -> None:
    pool = pool_of(1)
    async with pool.acquire() as held:
        with pytest.raises(TimeoutError):
            async with pool.acquire(timeout=0.1):
                pytest.fail("lent twice")  # pragma: no cover
        first = await pid(held)
    # the lease that gave up took no connection and left no place taken
    async with asyncio.timeout(5), pool.acquire() as connection:
        assert await pid(connection) == first


async def test_a_waiting_lease_cancelled_leaves_the_connection_to_the_next(
    pool_of: PoolOf,
) -> None:
    pool = pool_of(1)
    given_up, later = pool.acquire(), pool.acquire()
    async with pool.acquire():
        giving_up = asyncio.create_task(given_up.__aenter__())
        await asyncio.sleep(0.05)
        waiting = asyncio.create_task(later.__aenter__())
        await asyncio.sleep(0.05)
        giving_up.cancel()
    connection = await asyncio.wait_for(waiting, 5)
    assert await connection.fetchval("SELECT 1") == 1
    await later.__aexit__(None, None, None)
    assert giving_up.cancelled()


async def test_a_connection_left_in_a_transaction_is_closed_and_logged(
    pool_of: PoolOf,
) -> None:
    pool = pool_of(1)
    with structlog.testing.capture_logs() as logs:
        async with pool.acquire() as connection:
            first = await pid(connection)
            await connection.execute("BEGIN")
            await connection.execute("CREATE TEMPORARY TABLE left_open (x int)")
    assert connection.is_closed()
    assert [e["event"] for e in logs] == ["pool_connection_in_transaction"]
    async with pool.acquire() as connection:
        assert await pid(connection) != first
        assert not connection.is_in_transaction()


async def test_a_connection_the_server_closed_is_replaced(pool_of: PoolOf, admin_url: str) -> None:
    pool = pool_of(1)
    async with pool.acquire() as connection:
        first = await pid(connection)
    other = await asyncpg.connect(admin_url)
    try:
        assert await other.fetchval("SELECT pg_terminate_backend($1)", first)
    finally:
        await other.close()
    await asyncio.sleep(0.2)  # the loop sees the socket closed
    async with pool.acquire() as connection:
        assert await pid(connection) != first


async def test_close_waits_for_lent_connections_and_refuses_new_leases(
    pool_of: PoolOf,
) -> None:
    pool = pool_of(1)
    async with pool.acquire() as lent:
        waiting = asyncio.create_task(pool.acquire().__aenter__())
        await asyncio.sleep(0.05)
        closing = asyncio.create_task(pool.close())
        await asyncio.sleep(0.1)
        assert not closing.done()  # the lent connection is still in use
        assert await lent.fetchval("SELECT 1") == 1
        with pytest.raises(asyncpg.InterfaceError, match="closing"):
            await waiting
        with pytest.raises(asyncpg.InterfaceError, match="closing"):
            async with pool.acquire():
                pytest.fail("lent while closing")  # pragma: no cover
    await asyncio.wait_for(closing, 5)
    assert lent.is_closed()


async def test_open_makes_connections_up_front(pool_of: PoolOf) -> None:
    pool = pool_of(3)
    await pool.open(5)  # at most max_size
    pids = set()
    leases = [pool.acquire() for _ in range(3)]
    for lease in leases:
        pids.add(await pid(await lease.__aenter__()))
    for lease in leases:
        await lease.__aexit__(None, None, None)
    assert len(pids) == 3


async def test_a_server_not_reachable_frees_the_place(settings: Settings) -> None:
    nowhere = "postgresql://127.0.0.1:9/nothing"  # the discard port: refused
    pool = await db.create_pool(replace(settings, pool_min_size=0, pool_max_size=1), nowhere)
    try:
        for _ in range(2):  # the place the first try took is free for the second
            with pytest.raises(DatabaseUnreachable):
                async with asyncio.timeout(10), pool.acquire():
                    pytest.fail("no server there")  # pragma: no cover
    finally:
        await asyncio.wait_for(pool.close(), 10)
    # connections opened at the start: a server not reachable fails the start
    with pytest.raises(DatabaseUnreachable):
        await db.create_pool(replace(settings, pool_min_size=1), nowhere)
