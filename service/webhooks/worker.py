"""The delivery worker: fans change events out, sends due deliveries as signed POSTs, records
each attempt. It runs inside ``claimdesk serve`` (a background task of the app, on a small
pool of its own, so requests never wait for it) and as ``claimdesk worker``; any number may
run against one database (see ``outbox`` for why they never send the same attempt at once).

Outgoing requests: httpx, no proxies from the environment, redirects not followed (a 3xx is a
failure), ``CLAIMDESK_WEBHOOK_TIMEOUT_SECONDS`` (10) for the whole attempt, name resolution
included, at most 5 of them to connect; the first 4 KiB of the answer are read (uncompressed:
``Accept-Encoding: identity``), the rest is not. The target is checked again before every
attempt and the connection goes to the address checked (``guard``).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import msgspec
import structlog

from service import __version__, db
from service.errors import DatabaseUnreachable
from service.pool import Pool
from service.settings import Settings
from service.webhooks import guard, outbox, signing

log = structlog.get_logger("claimdesk.webhooks")

POLL_SECONDS = 1.0
CONCURRENCY = 10  # deliveries sent at once by one worker
CONNECT_TIMEOUT_SECONDS = 5.0
RESPONSE_BYTES = 4096
# A lease outlasts the attempt (bounded by the timeout) by this much: time to record it.
LEASE_MARGIN_SECONDS = 5.0
CLEANUP_EVERY = timedelta(minutes=10)
USER_AGENT = f"claimdesk-webhooks/{__version__}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Worker:
    """One worker. ``now`` and ``draw`` (the jitter, in [0, 1)) can be replaced by tests."""

    def __init__(
        self,
        pool: Pool,
        settings: Settings,
        *,
        now: Callable[[], datetime] = _utcnow,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.pool = pool
        self.now = now
        self.draw = draw
        self.timeout = settings.webhook_timeout_seconds
        self.lease_seconds = self.timeout + LEASE_MARGIN_SECONDS
        self.allow_private = settings.webhook_allow_private
        self.retention = timedelta(days=settings.webhook_log_retention_days)
        self._cleaned_at: datetime | None = None
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout, connect=min(CONNECT_TIMEOUT_SECONDS, self.timeout)),
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY),
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def fan_out(self) -> int:
        """Every event waiting, into deliveries (a batch per transaction, a bounded number of
        batches per call). Returns the number of events passed."""
        passed = 0
        for _ in range(20):
            async with self.pool.acquire() as conn:
                count = await outbox.fan_out(conn, self.now())
            if count is None:
                break
            passed += count
            if count < outbox.BATCH:
                break
        return passed

    async def deliver_due(self, limit: int = CONCURRENCY) -> int:
        """Claim up to ``limit`` due deliveries and send them at once. Returns how many."""
        async with self.pool.acquire() as conn:
            claimed = await outbox.claim(conn, self.now(), limit, self.lease_seconds)
        results = await asyncio.gather(*(self._attempt(c) for c in claimed), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                log.warning(
                    "webhook_attempt_not_recorded", error=f"{type(result).__name__}: {result}"
                )
        return len(claimed)

    async def run_once(self) -> int:
        """A fan-out, one batch of deliveries, and now and then the log's clean-up. Returns
        how many deliveries were attempted."""
        await self.fan_out()
        sent = await self.deliver_due()
        now = self.now()
        if self._cleaned_at is None or now - self._cleaned_at >= CLEANUP_EVERY:
            self._cleaned_at = now
            async with self.pool.acquire() as conn:
                await outbox.clean_up(conn, now, self.retention)
        return sent

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set: again at once while there is work, else every second."""
        log.info("webhook_worker_started")
        while not stop.is_set():
            try:
                busy = await self.run_once()
            except (OSError, asyncpg.PostgresError, DatabaseUnreachable) as exc:
                log.warning("webhook_worker_error", error=f"{type(exc).__name__}: {exc}")
                busy = 0
            except Exception:
                log.exception("webhook_worker_error")
                busy = 0
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), POLL_SECONDS)
        log.info("webhook_worker_stopped")

    async def _attempt(self, delivery: outbox.Claimed) -> None:
        outcome = await self.send(delivery)
        try:
            async with self.pool.acquire() as conn:
                status = await outbox.record(conn, delivery, outcome, self.now(), self.draw())
        except asyncpg.ForeignKeyViolationError:
            status = "deleted"  # the webhook was deleted while its delivery was in flight
        log.info(
            "webhook_attempt",
            delivery_id=str(delivery.id),
            webhook_id=str(delivery.webhook_id),
            attempt=delivery.attempt,
            status_code=outcome.status_code,
            error=outcome.error,
            outcome=status,
        )

    async def send(self, delivery: outbox.Claimed) -> outbox.Outcome:
        """One signed POST; never raises for what the network or the receiver does."""
        started_at = self.now()
        began = time.monotonic()

        def done(
            status_code: int | None = None, response: str | None = None, error: str | None = None
        ) -> outbox.Outcome:
            elapsed = int((time.monotonic() - began) * 1000)
            return outbox.Outcome(started_at, elapsed, status_code, response, error)

        body = delivery.payload.encode()
        message_id = outbox.message_id(delivery.id)
        timestamp = int(started_at.timestamp())
        try:
            async with asyncio.timeout(self.timeout):
                target = await guard.check(delivery.url, allow_private=self.allow_private)
                headers = {
                    "Host": target.host_header(),
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    "Accept-Encoding": "identity",
                    "webhook-id": message_id,
                    "webhook-timestamp": str(timestamp),
                    "webhook-signature": signing.signature_header(
                        delivery.secrets, message_id, timestamp, body
                    ),
                }
                request = self.client.build_request(
                    "POST",
                    target.pinned_url(),
                    content=body,
                    headers=headers,
                    extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
                )
                response = await self.client.send(request, stream=True)
                try:
                    received = bytearray()
                    async for chunk in response.aiter_raw():
                        received += chunk
                        if len(received) >= RESPONSE_BYTES:
                            break
                finally:
                    await response.aclose()
        except guard.Refused as exc:
            return done(error=f"Target refused: {exc}")
        except TimeoutError:
            return done(error=f"No answer within {self.timeout:g} s.")
        except httpx.HTTPError as exc:
            return done(error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        except OSError as exc:
            return done(error=f"{type(exc).__name__}: {exc}")
        text = bytes(received[:RESPONSE_BYTES]).decode("utf-8", "replace")
        return done(status_code=response.status_code, response=text or None)


async def _worker_pool(settings: Settings) -> Pool:
    if not settings.database_url:
        raise RuntimeError("the webhook worker needs settings.database_url")
    small = msgspec.structs.replace(settings, pool_min_size=1, pool_max_size=3)
    return await db.create_pool(small, settings.database_url)


@contextlib.asynccontextmanager
async def in_background(settings: Settings) -> AsyncIterator[None]:
    """The worker as a task of the running event loop (``claimdesk serve``), on its own pool;
    stopped on the way out (an attempt still running is sent again after its lease)."""
    pool = await _worker_pool(settings)
    worker = Worker(pool, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop), name="webhook-worker")
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, 2)
        except (TimeoutError, asyncio.CancelledError):
            pass
        await worker.aclose()
        await pool.close()


async def main(settings: Settings) -> None:
    """``claimdesk worker``: run until SIGTERM or SIGINT."""
    pool = await _worker_pool(settings)
    worker = Worker(pool, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await worker.run(stop)
    finally:
        await worker.aclose()
        await pool.close()
