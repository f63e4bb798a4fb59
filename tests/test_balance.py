"""Keep-alive connections spread over granian's worker processes (service/balance.py).

The policy is tested in one process, on a real ``Board`` (shared memory works in one process
too) with a clock the test moves: which requests get ``Connection: close``, how many, and
when none do. The middleware is tested on a hand-made ASGI scope, its wiring into the app
through the test client, and the whole of it with `claimdesk serve --server granian
--workers 2`: connections made to pile up on one worker must end up spread over both.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from service import balance
from service.app import create_app
from service.balance import STALE, WINDOW, Board, Worker
from service.settings import Settings
from tests import helpers

# Far from 0: a slot never written holds "written at 0.0", which must read as stale.
START = 10_000.0


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _client(i: int) -> tuple[str, int]:
    """A connection's peer (address, port), as scope["client"] gives it."""
    return ("10.0.0.7", 40_000 + i)


def _worker(board: Board, clock: Clock) -> Worker:
    """This process's worker on ``board``, as ``balance.this_worker`` makes it."""
    slot = board.claim(os.getpid())
    assert slot is not None
    return Worker(board, slot, clock=clock)


def _pair(clock: Clock) -> tuple[Worker, int]:
    """A worker of this process and the slot of a second, live worker (the parent process's
    pid, alive as long as the test runs): two workers on one board, in one process."""
    board = Board(2)
    worker = _worker(board, clock)
    other = board.claim(os.getppid())
    assert other is not None and other != worker.slot
    return worker, other


def _next_window(worker: Worker, clock: Clock) -> None:
    """Move the clock to the end of the worker's window (its next request counts)."""
    clock.now = worker.window_ends


# --- the policy ------------------------------------------------------------------------------


def test_a_worker_over_its_share_closes_that_many_seen_connections_then_none() -> None:
    """19 of 32 connections here, 13 on the other worker: the share is 16, so in the next
    window exactly 3 connections are closed, each on a request from a connection already seen
    in that window (a connection's first request there may be its first ever: it may have
    just moved here) and the first three such requests; none after those 3. The next window,
    with 16 here (the 3 gone) and 16 there, closes none."""
    clock = Clock()
    worker, other = _pair(clock)
    ours = [_client(i) for i in range(19)]

    # A first window, as counted: nobody has published, nothing to close.
    for _ in range(2):
        assert not any(worker.should_close(c) for c in ours)
    worker.board.publish(other, 13, clock.now)

    _next_window(worker, clock)
    closed: list[tuple[str, int]] = []
    closed_unseen = []  # closed on a connection's first request this window: must be none
    for round_ in range(4):
        for c in ours:
            if c in closed:
                continue  # closed: its client opened a new connection, elsewhere
            seen_before = c in worker.seen
            if worker.should_close(c):
                closed.append(c)
                if not seen_before:
                    closed_unseen.append(c)
        if round_ == 0:
            assert closed == [], "a connection's first request in a window is never its last"
    assert closed == ours[:3], "the first three requests from connections seen this window"
    assert closed_unseen == []
    assert worker.to_close == 0
    assert worker.board.share(clock.now) == 16  # 19 published against 13

    # Even now: 16 here (the 3 closed are not counted), 16 there.
    worker.board.publish(other, 16, clock.now)
    _next_window(worker, clock)
    remaining = ours[3:]
    for _ in range(4):
        assert not any(worker.should_close(c) for c in remaining)
    assert worker.to_close == 0
    assert worker.board.share(clock.now) == 16


def test_a_share_rounds_up_so_an_odd_total_closes_none() -> None:
    """17 here, 16 there: the share is ceil(33 / 2) = 17, so a connection is not moved back
    and forth over an odd total."""
    clock = Clock()
    worker, other = _pair(clock)
    ours = [_client(i) for i in range(17)]
    for c in ours:
        worker.should_close(c)
    worker.board.publish(other, 16, clock.now)
    _next_window(worker, clock)
    for _ in range(3):
        assert not any(worker.should_close(c) for c in ours)


def test_with_no_other_worker_ever_written_nothing_is_closed() -> None:
    """One live worker alone (the other slot never written): there is no one to give a
    connection to, so however many it holds, none is closed, window after window."""
    clock = Clock()
    worker = _worker(Board(2), clock)
    ours = [_client(i) for i in range(30)]
    for _ in range(8):
        for _ in range(3):
            assert not any(worker.should_close(c) for c in ours)
        _next_window(worker, clock)
    assert worker.board.share(clock.now) is None


def test_a_worker_not_heard_from_within_stale_is_not_counted() -> None:
    """The other worker published 0 and then went quiet (stopped, or gone and not replaced):
    while its count is at most STALE old this worker closes half its connections (the control,
    so the test cannot pass by closing nothing at all); once older than STALE, it closes none
    however uneven it looks."""
    clock = Clock()
    worker, other = _pair(clock)
    worker.board.publish(other, 0, clock.now)
    quiet_since = clock.now
    ours = [_client(i) for i in range(20)]
    for c in ours:
        worker.should_close(c)

    closed_per_window: list[tuple[float, int]] = []
    for _ in range(int(3 * STALE / WINDOW)):
        _next_window(worker, clock)
        closed = 0
        for _ in range(3):
            closed += sum(worker.should_close(c) for c in ours)
        closed_per_window.append((clock.now - quiet_since, closed))

    fresh = [n for age, n in closed_per_window if age <= STALE]
    stale = [n for age, n in closed_per_window if age > STALE]
    assert fresh and stale
    # 20 against 0: the share is 10, so 10 closed (asking again from the same address here,
    # they are counted anew: 20 again the next window).
    assert all(n == 10 for n in fresh), closed_per_window
    assert all(n == 0 for n in stale), closed_per_window


def test_claim_gives_free_same_and_dead_slots_and_none_when_all_are_live() -> None:
    """A new pid gets a free slot; the same pid its own slot again (a worker's app made
    twice); a pid that has exited leaves its slot to the next (granian's replacement worker),
    which starts from nothing; with every slot held by a live process, there is none (the
    worker then serves unbalanced). A board has two slots a worker: on a reload granian
    starts the new workers before it stops the old."""
    done = subprocess.Popen([sys.executable, "-c", ""])
    done.wait()  # exited and reaped: its pid is dead
    me, parent = os.getpid(), os.getppid()
    assert len({me, parent, done.pid}) == 3

    board = Board(1)
    assert board.slots == 2
    mine = board.claim(me)
    assert mine is not None and board.claim(me) == mine
    theirs = board.claim(parent)
    assert theirs is not None and theirs != mine
    assert board.claim(done.pid) is None

    board = Board(2)
    mine = board.claim(me)
    dead = board.claim(done.pid)  # (a slot as the worker held it before it exited)
    assert mine != dead
    board.publish(dead, 50, START)
    board.publish(mine, 10, START)
    assert board.share(START) == 30
    assert board.claim(parent) == dead
    # the dead worker's count went with it: only this worker's is live now
    assert board.share(START) is None


def test_prepare_makes_a_board_only_for_several_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """`claimdesk serve --workers 1` (and uvicorn, tests, the app in process) leaves every
    request alone: no board, no worker. With 2, each worker process gets its side of the
    board, in a slot of its own."""
    monkeypatch.setattr(balance, "_board", None)  # restored after the test
    assert balance.this_worker() is None
    balance.prepare(1)
    assert balance.this_worker() is None
    balance.prepare(2)
    worker = balance.this_worker()
    assert isinstance(worker, Worker)
    assert worker.board is balance._board and worker.board.workers == 2
    assert worker.to_close == 0 and not worker.seen
    assert worker.board.claim(os.getpid()) == worker.slot

    # a worker that finds every slot held by live processes serves unbalanced
    full = Board(1)
    assert full.claim(os.getppid()) is not None and full.claim(1) is not None
    monkeypatch.setattr(balance, "_board", full)
    assert balance.this_worker() is None


# --- the middleware --------------------------------------------------------------------------

APP_HEADERS = [(b"content-type", b"text/plain"), (b"x-app", b"kept")]


async def _tiny_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": list(APP_HEADERS)})
    await send({"type": "http.response.body", "body": b"ok"})


def _closing_worker(client: tuple[str, int]) -> Worker:
    """A worker whose state says: close one more connection, and ``client`` was seen this
    window (the window far from over)."""
    worker = _worker(Board(2), Clock())
    worker.to_close = 1
    worker.seen = {client}
    return worker


async def _call(worker: Worker, scope: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    await balance.balance_middleware(worker)(_tiny_app)(scope, receive, send)  # type: ignore[arg-type]
    return sent


def _scope(client: Any, http_version: str = "1.1") -> dict[str, Any]:
    return {
        "type": "http",
        "http_version": http_version,
        "method": "GET",
        "path": "/health",
        "headers": [],
        "client": client,
    }


async def test_the_middleware_adds_connection_close_to_the_apps_own_headers() -> None:
    """A connection to close gets ``Connection: close`` after the app's own headers (kept, in
    order), the body untouched; a client given as a list (as some servers do) is the same
    connection as the tuple; the closing is used up."""
    peer = ("127.0.0.1", 51_000)
    worker = _closing_worker(peer)
    sent = await _call(worker, _scope(list(peer)))
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["headers"] == [*APP_HEADERS, (b"connection", b"close")]
    assert sent[1] == {"type": "http.response.body", "body": b"ok"}
    assert worker.to_close == 0
    # the next request of another connection seen this window is left alone
    worker.seen.add(("127.0.0.1", 51_001))
    sent = await _call(worker, _scope(["127.0.0.1", 51_001]))
    assert sent[0]["headers"] == APP_HEADERS


@pytest.mark.parametrize(
    "scope",
    [
        pytest.param(_scope(["127.0.0.1", 51_000], http_version="2"), id="http2"),
        pytest.param(_scope(None), id="no-client"),
        pytest.param({k: v for k, v in _scope(None).items() if k != "client"}, id="no-client-key"),
    ],
)
async def test_the_middleware_leaves_http2_and_clientless_requests_alone(
    scope: dict[str, Any],
) -> None:
    """HTTP/2 multiplexes many requests on one connection and has no ``Connection`` header; a
    scope without a client (a Unix socket, some test clients) names no connection: both pass
    through as the app answered, and neither uses up a closing meant for an HTTP/1.1
    connection, nor counts as a connection."""
    peer = ("127.0.0.1", 51_000)
    worker = _closing_worker(peer)
    sent = await _call(worker, scope)
    assert sent[0]["headers"] == APP_HEADERS
    assert worker.to_close == 1 and worker.seen == {peer}


async def test_the_app_puts_the_balance_outermost_when_a_worker_shares_a_board(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """create_app asks ``balance.this_worker()``: one of several workers, its middleware is in
    front of the others, so a response carries the close with the inner middlewares' headers
    kept, and a request the auth middleware turns away (401, no key) is counted and closed
    too; the test client's connection ("testclient", port) is counted like any."""
    worker = _worker(Board(2), Clock())
    monkeypatch.setattr(balance, "this_worker", lambda: worker)
    async with AsyncTestClient(app=create_app(settings)) as client:
        first = await client.get("/health")
        assert first.status_code == 200 and "close" not in first.headers.get("connection", "")
        assert len(worker.seen) == 1
        worker.to_close = 1
        closing = await client.get("/health")
        assert closing.status_code == 200
        assert closing.headers["connection"] == "close"
        assert "x-request-id" in closing.headers  # the inner middleware's header, kept
        assert worker.to_close == 0
        # closed, the connection is new to the window again: its next request is counted
        assert (await client.get("/v1/actors")).status_code == 401
        assert len(worker.seen) == 1
        worker.to_close = 1
        refused = await client.get("/v1/actors")
        assert refused.status_code == 401
        assert refused.headers["connection"] == "close"
        assert worker.to_close == 0


# --- end to end: `claimdesk serve --server granian --workers 2` ----------------------------


def _peers(pid: int, port: int) -> set[int]:
    """The client ports of the established TCP connections to ``port`` that the process
    ``pid`` holds: its socket inodes (/proc/<pid>/fd) among the rows of /proc/net/tcp{,6} with
    that local port in state 01 (a connection still queued on a listening socket, accepted
    by no one yet, has inode 0)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    peers = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            if int(local.rsplit(":", 1)[1], 16) == port and state == "01" and inode in inodes:
                peers.add(int(remote.rsplit(":", 1)[1], 16))
    return peers


def _connect_to(pid: int, port: int, n: int) -> list[http.client.HTTPConnection]:
    """``n`` open connections that the worker ``pid`` accepted. granian's workers each listen
    on a socket of their own (SO_REUSEPORT) and the kernel picks one by a hash of the
    connection's addresses: connect in batches, keep those ``pid`` took, close the others
    (not a byte sent on them: whoever accepts them later reads only their end)."""
    kept: list[http.client.HTTPConnection] = []
    for _ in range(10):
        batch = [http.client.HTTPConnection("127.0.0.1", port, timeout=5) for _ in range(2 * n)]
        for connection in batch:
            connection.connect()
        time.sleep(0.3)  # an idle worker accepts at once
        taken = _peers(pid, port)
        for connection in batch:
            assert connection.sock is not None
            if len(kept) < n and connection.sock.getsockname()[1] in taken:
                kept.append(connection)
            else:
                connection.close()
        if len(kept) == n:
            return kept
    for connection in kept:
        connection.close()
    raise AssertionError(f"worker {pid} accepted {len(kept)} of the {n} connections wanted")


class _Clients:
    """Keep-alive HTTP/1.1 connections, a thread each, asking GET /health in a loop until
    stopped; http.client opens a new connection for the next request after a response that
    closed its own."""

    def __init__(self) -> None:
        self.connections: list[http.client.HTTPConnection] = []
        self.answered: list[int] = []
        self.closed: list[int] = []  # responses with Connection: close
        self.errors: list[BaseException] = []
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self, connections: list[http.client.HTTPConnection]) -> None:
        self.connections = connections
        self.answered = [0] * len(connections)
        self.closed = [0] * len(connections)
        for i in range(len(connections)):
            self.threads.append(threading.Thread(target=self._run, args=(i,), daemon=True))
            self.threads[-1].start()

    def _run(self, i: int) -> None:
        connection = self.connections[i]
        try:
            while not self.stop.is_set():
                connection.request("GET", "/health")
                response = connection.getresponse()
                body = response.read()
                assert response.status == 200, (response.status, body)
                self.answered[i] += 1
                if response.will_close:
                    assert response.getheader("connection") == "close"
                    self.closed[i] += 1
        except BaseException as error:
            self.errors.append(error)

    def open(self) -> set[int]:
        """The client ports of the connections open now (one closed by the last response is
        not, until its next request)."""
        return {c.sock.getsockname()[1] for c in self.connections if c.sock is not None}

    def halt(self) -> None:
        """Stop asking; the connections stay open (to be counted) until ``close``."""
        self.stop.set()
        for thread in self.threads:
            if thread.is_alive():
                thread.join(timeout=15)

    def close(self) -> None:
        for connection in self.connections:
            connection.close()


def _wait_until(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds}s: {what}")
        time.sleep(0.05)


@pytest.fixture
def two_workers(database_url: str) -> Iterator[tuple[subprocess.Popen[bytes], int, list[int]]]:
    """`claimdesk serve --server granian --workers 2` on this test's database: the process,
    its port and its two worker processes."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = helpers.clean_env()
    env |= {"CLAIMDESK_DATABASE_URL": database_url, "CLAIMDESK_LOG_LEVEL": "warning"}
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "service.cli", "serve", "--no-migrate", "--port", str(port)),
            *("--server", "granian", "--workers", "2"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def up() -> bool:
        assert proc.poll() is None, f"server exited: {proc.returncode}"
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        _wait_until(up, 60, "the server answers /health")
        workers = [
            c
            for c in helpers.children(proc.pid)
            if b"python" in Path(f"/proc/{c}/cmdline").read_bytes()
        ]
        assert len(workers) == 2, workers
        yield proc, port, workers
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


CONNECTIONS = 24


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="counts connections in /proc")
def test_connections_piled_on_one_worker_spread_over_both(
    two_workers: tuple[subprocess.Popen[bytes], int, list[int]],
) -> None:
    """The uneven split made on purpose: with one worker stopped (SIGSTOP), 24 connections
    all accepted by the other, which, the only live worker, keeps them all (not one
    ``Connection: close``). Once the stopped one runs again, it publishes its count of none,
    the busy one closes its connections over its share, the clients reconnect (the kernel
    hands each new connection to either worker), and within seconds the established
    connections are within 2 of even on the two processes."""
    proc, port, (stopped, running) = two_workers
    os.kill(stopped, signal.SIGSTOP)
    paused = True
    clients = _Clients()
    try:
        connections = _connect_to(running, port, CONNECTIONS)
        time.sleep(STALE + 2 * WINDOW)  # the stopped worker's last count is stale by now
        clients.start(connections)
        _wait_until(lambda: all(clients.answered), 5, "every connection answered")
        time.sleep(4 * WINDOW)  # whole windows with every connection on one worker
        before = (len(_peers(stopped, port)), len(_peers(running, port)))
        assert before == (0, CONNECTIONS), before
        assert sum(clients.closed) == 0, "one live worker alone closed connections"

        os.kill(stopped, signal.SIGCONT)
        paused = False
        time.sleep(4.0)
        clients.halt()
        assert not clients.errors, clients.errors[:3]
        on_stopped, on_running = _peers(stopped, port), _peers(running, port)
        open_now = clients.open()
    finally:
        if paused:
            os.kill(stopped, signal.SIGCONT)
        clients.halt()
        clients.close()
    closes = sum(clients.closed)
    assert closes > 0, "no response said Connection: close"
    # The count is right: the connections the clients hold open are those the workers hold.
    assert on_stopped | on_running == open_now and not on_stopped & on_running
    assert len(open_now) >= CONNECTIONS - 2, f"{len(open_now)} connections open"
    split = (len(on_stopped), len(on_running))
    low, high = CONNECTIONS // 2 - 2, CONNECTIONS // 2 + 2
    assert all(low <= n <= high for n in split), f"split {split} after {closes} closes"
    assert proc.poll() is None
