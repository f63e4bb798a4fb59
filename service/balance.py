"""Keep-alive connections spread evenly over the server's worker processes.

Each worker process of ``claimdesk serve --server granian --workers N`` listens on a socket
of its own (``SO_REUSEPORT``), and the kernel gives each new connection to one of them by a
hash of its addresses and ports; the connection then stays with that worker for as long as
the client keeps it alive. A client that holds a pool of connections, as a reverse proxy's
upstream pool or a CMS's HTTP client does, often finds one worker holding more of them than
the other (the benchmark's 32 connections split 19 to 13, 20 to 12, 16 to 16 in turn). Each
worker is one Python thread: the busier one queues its requests while the other has time to
spare, and the clients on it wait about as much longer as it holds more connections.

So the workers share a board (``Board``, in memory the server's processes share, made by
``claimdesk serve`` before granian starts them): every ``WINDOW`` seconds each writes how
many connections sent it a request in the last window. A worker holding more than its share
(the total over the live workers, rounded up) answers that many of its connections' next
requests with ``Connection: close``, an ordinary end of an HTTP/1.1 connection: the client
opens a new one, from a new port, which lands on either worker. Repeated each window, the
split settles within a connection of even in a second or two. A connection idle for a whole
window is not counted: it costs nothing. HTTP/2 connections carry many requests at once and
no ``Connection`` header: they are left alone. With one worker, or none sharing a board
(uvicorn, tests, the app in process), nothing changes; nor in a worker that finds no free
slot on the board (it serves, unbalanced, and says so in the log).
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import time
from collections.abc import Callable
from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

WINDOW = 0.25  # seconds between counts
# A worker whose count is older than this is not counted (stopped, or gone and not replaced).
STALE = 4 * WINDOW

_CLOSE = (b"connection", b"close")

log = structlog.get_logger("claimdesk.balance")


class Board:
    """Each worker's count of connections, in memory shared by the processes forked after it
    is made: a slot a worker, ``(pid, connections, written at)`` (``time.monotonic``, one
    clock for every process of the machine). Twice as many slots as workers: on a reload
    (SIGHUP) granian starts each new worker before it stops the old one."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.slots = 2 * workers
        self._lock = multiprocessing.Lock()
        self._slots = multiprocessing.RawArray("d", 3 * self.slots)

    def claim(self, pid: int) -> int | None:
        """The slot of the worker ``pid``: a free one, or one whose worker has exited; None
        when every slot is held by a live process."""
        with self._lock:
            for i in range(self.slots):
                owner = int(self._slots[3 * i])
                if owner in (0, pid) or not alive(owner):
                    self._slots[3 * i : 3 * i + 3] = [pid, 0.0, 0.0]
                    return i
        return None

    def publish(self, slot: int, connections: int, now: float) -> None:
        self._slots[3 * slot + 1] = connections
        self._slots[3 * slot + 2] = now

    def share(self, now: float) -> int | None:
        """A live worker's fair share of the connections counted (the total over the workers
        that wrote within ``STALE`` seconds, rounded up), or None with fewer than two."""
        total = live = 0
        for i in range(self.slots):
            written = self._slots[3 * i + 2]
            if written > 0 and now - written <= STALE:
                total += int(self._slots[3 * i + 1])
                live += 1
        return math.ceil(total / live) if live >= 2 else None


def alive(pid: int) -> bool:
    """Whether the process ``pid`` exists (one of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Worker:
    """One worker's side: the connections seen this window, and how many to close."""

    def __init__(
        self, board: Board, slot: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.board = board
        self.clock = clock
        self.slot = slot
        self.seen: set[Any] = set()
        self.to_close = 0
        self.window_ends = clock() + WINDOW

    def should_close(self, client: Any) -> bool:
        """Count a request from the connection ``client`` (its address and port); True when
        this is the connection to close after answering it."""
        now = self.clock()
        if now >= self.window_ends:
            self._count(now)
        if self.to_close > 0:
            # only a connection already seen this window: one sending its first request
            # here may be one that has just been moved here
            if client in self.seen:
                self.to_close -= 1
                self.seen.discard(client)
                return True
        self.seen.add(client)
        return False

    def start(self) -> None:
        """Count every window from now on, requests or not: an idle worker's count (none)
        must reach the others, or a worker holding every connection would see no other live
        worker to give them to."""
        loop = asyncio.get_running_loop()

        def tick() -> None:
            now = self.clock()
            if now >= self.window_ends:
                self._count(now)
            loop.call_at(loop.time() + max(0.0, self.window_ends - now), tick)

        loop.call_at(loop.time() + WINDOW, tick)

    def _count(self, now: float) -> None:
        connections = len(self.seen)
        self.board.publish(self.slot, connections, now)
        share = self.board.share(now)
        self.to_close = 0 if share is None else max(0, connections - share)
        self.seen = set()
        self.window_ends = now + WINDOW


_board: Board | None = None


def prepare(workers: int) -> None:
    """Make the board the worker processes share: called by ``claimdesk serve`` before the
    server forks them (granian forks; uvicorn's workers start afresh and share nothing)."""
    global _board
    _board = Board(workers) if workers > 1 else None


def this_worker() -> Worker | None:
    """This process's side of the board when it is one of several workers sharing one (see
    ``prepare``), else None."""
    if _board is None:
        return None
    slot = _board.claim(os.getpid())
    if slot is None:
        log.warning("balance_no_slot", workers=_board.workers, hint="connections not balanced")
        return None
    return Worker(_board, slot)


def balance_middleware(worker: Worker) -> Callable[[ASGIApp], ASGIApp]:
    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            client = scope.get("client")
            if (
                scope["type"] != ScopeType.HTTP
                or client is None
                or scope.get("http_version") == "2"
                or not worker.should_close(tuple(client))
            ):
                await app(scope, receive, send)
                return

            async def send_closing(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", ()), _CLOSE]
                await send(message)

            await app(scope, receive, send_closing)

        return middleware

    return wrap
