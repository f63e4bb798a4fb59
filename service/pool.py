"""The pool of PostgreSQL connections a worker's requests share.

asyncpg's ``Pool`` spent some 86,000 instructions of a GET claim's 575,000 lending and taking
back a connection (callgrind, ``bench/inprocess.py --instructions``, a million claims):
each lease wraps the connection in a proxy whose every call goes through ``__getattr__``,
makes a future for the lease, re-arms an idle timer, and takes the connection back in a task
of its own (``asyncio.shield``) through two more coroutines, one of them the reset this
service does not need (``db.create_pool``). What the service asks of a pool is less: lend an
open connection, or the next one given back, in the order asked; open up to ``max_size``
when none is free; take back only a connection that is idle, and close one that may not be.
Here a lease that ends normally costs no ``await`` at all, and a connection goes back with its
session as it is: the service leaves nothing in a session to reset (no session ``SET``: the
settings are the connection's start-up parameters, ``SET LOCAL`` ends with its transaction;
no session advisory lock, only ``pg_advisory_xact_lock``; no ``LISTEN``; no cursor outside a
transaction), where asyncpg's default reset was a second round trip a request. A
connection given back goes to the lease that has waited longest, so one asked for meanwhile
cannot overtake it (a release made at once in asyncpg's pool lengthened the tail that way,
bench/README.md, the sixth session).

A connection is closed rather than lent again when its lease ended by a cancellation or a
timeout (a statement may still be running on it) or inside a transaction (one left open by
mistake; the request's own transactions end before their lease does). A connection the
server closed is seen closed when it comes back or before it is lent, and opened anew on
demand. ``close`` waits for every lease to end, as asyncpg's does.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable, Callable
from types import TracebackType

import asyncpg
import structlog

log = structlog.get_logger("claimdesk.pool")


class Pool:
    """Up to ``max_size`` connections, each made by ``connect``, lent by :meth:`acquire`."""

    def __init__(
        self, connect: Callable[[], Awaitable[asyncpg.Connection]], *, max_size: int
    ) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._connect = connect
        self._max_size = max_size
        self._idle: list[asyncpg.Connection] = []  # the last given back is lent first
        # Leases waiting, first come first served: each future gets a connection, or None
        # for a place to open one in (a connection given back closed).
        self._waiters: collections.deque[asyncio.Future[asyncpg.Connection | None]] = (
            collections.deque()
        )
        self._opened = 0  # connections open or being opened, lent or idle
        self._lent = 0
        self._closing = False
        self._all_back: asyncio.Future[None] | None = None

    async def open(self, count: int) -> None:
        """Open ``count`` connections now (at most ``max_size``), idle until asked for: a
        server that cannot be reached fails the start, not the first request."""
        for _ in range(min(count, self._max_size) - self._opened):
            self._opened += 1
            try:
                connection = await self._connect()
            except BaseException:
                self._opened -= 1
                raise
            self._idle.append(connection)

    def acquire(self, *, timeout: float | None = None) -> Lease:
        """``async with pool.acquire() as conn``: a connection until the block ends. With a
        ``timeout``, waiting (and opening) longer raises ``TimeoutError``."""
        return Lease(self, timeout)

    def get_max_size(self) -> int:
        return self._max_size

    async def close(self) -> None:
        """Refuse new leases, wait for the lent connections to come back, close them all."""
        self._closing = True
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(asyncpg.InterfaceError("pool is closing"))
        self._waiters.clear()
        if self._lent:
            self._all_back = asyncio.get_running_loop().create_future()
            await self._all_back
        idle, self._idle = self._idle, []
        self._opened -= len(idle)
        for connection in idle:
            try:
                await connection.close(timeout=5)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                connection.terminate()

    async def _take(self) -> asyncpg.Connection:
        if self._closing:
            raise asyncpg.InterfaceError("pool is closing")
        idle = self._idle
        while idle:
            connection = idle.pop()
            if not connection.is_closed():
                self._lent += 1
                return connection
            self._opened -= 1
        if self._opened >= self._max_size:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                given = await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                    # given a connection (or a place) just as this lease was cancelled
                    self._pass_on(waiter.result())
                elif not waiter.done():
                    self._waiters.remove(waiter)
                raise
            if given is not None:
                return given
            # else a place to open one in; either way counted as lent by _pass_on
        else:
            self._opened += 1
            self._lent += 1
        try:
            return await self._connect()
        except BaseException:
            self._pass_on(None)  # the place to the next lease waiting
            raise

    def _give_back(self, connection: asyncpg.Connection, *, busy: bool) -> None:
        if not connection.is_closed() and (busy or connection.is_in_transaction()):
            if not busy:
                log.error("pool_connection_in_transaction", hint="closed, not lent again")
            connection.terminate()
        self._pass_on(None if connection.is_closed() else connection)

    def _pass_on(self, connection: asyncpg.Connection | None) -> None:
        """A connection given back, or with None a place freed: to the first lease waiting,
        else into the pool."""
        self._lent -= 1
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._lent += 1
                waiter.set_result(connection)
                return
        if connection is None:
            self._opened -= 1
        else:
            self._idle.append(connection)
        if self._lent == 0 and self._all_back is not None and not self._all_back.done():
            self._all_back.set_result(None)


class Lease:
    """One use of a connection of a :class:`Pool` (``async with``)."""

    __slots__ = ("connection", "pool", "timeout")

    def __init__(self, pool: Pool, timeout: float | None) -> None:
        self.pool = pool
        self.timeout = timeout
        self.connection: asyncpg.Connection | None = None

    async def __aenter__(self) -> asyncpg.Connection:
        if self.timeout is None:
            self.connection = await self.pool._take()
        else:
            async with asyncio.timeout(self.timeout):
                self.connection = await self.pool._take()
        return self.connection

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        connection, self.connection = self.connection, None
        assert connection is not None
        # Only a cancellation (or a timeout, which is one) can end a block while a statement
        # of its may still be running: any other exception is raised by code its statements'
        # results came back to.
        busy = exc_type is not None and (
            not issubclass(exc_type, Exception) or issubclass(exc_type, TimeoutError)
        )
        self.pool._give_back(connection, busy=busy)
