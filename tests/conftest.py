"""A real PostgreSQL under every test.

``CLAIMDESK_TEST_DATABASE_URL`` names a server to use (any database on it that the user may
create databases from); unset, an embedded server is started once for the session. The
migrations run once into a template database; every test gets a fresh clone of it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from service import db, migrate
from service.app import create_app
from service.claims.queries import CLAIM_JSON
from service.keys import queries as keys
from service.keys.schemas import ApiKeyCreate
from service.settings import Settings
from tests import helpers


@pytest.fixture(scope="session")
def admin_url() -> Iterator[str]:
    given = os.environ.get("CLAIMDESK_TEST_DATABASE_URL")
    if given:
        yield given
        return
    # Not under pytest's tmp_path: pytest keeps only its three newest base directories, so a
    # fourth test run started meanwhile (another checkout, a second terminal) would delete
    # this one's data directory under the running server.
    base = tempfile.mkdtemp(prefix="claimdesk-tests-")
    server = db.start_embedded(base)
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def template_db(admin_url: str) -> Iterator[str]:
    name = f"claimdesk_template_{os.getpid()}"
    with helpers.scratch_database(admin_url, name) as url:
        migrate.upgrade(url)
        yield name


# Claims whose stored document (migration 0010's triggers) is missing or is not what the
# service's claim JSON builds from the rows now, or whose JSON as the reads' fallback builds
# it (migration 0013's function) is not.
_STALE_DOCUMENTS = f"""
SELECT c.id FROM claims c LEFT JOIN claim_documents d ON d.claim_id = c.id
WHERE d.body IS NULL OR d.body::text <> ({CLAIM_JSON})::text
   OR claimdesk_claim_json(c.id)::text <> ({CLAIM_JSON})::text
LIMIT 5"""


async def stale_documents(url: str) -> list[uuid.UUID]:
    connection = await asyncpg.connect(url)
    try:
        if await connection.fetchval("SELECT to_regclass('claim_documents') IS NULL"):
            return []  # a test that left the schema at an earlier revision
        return [r[0] for r in await connection.fetch(_STALE_DOCUMENTS)]
    finally:
        await connection.close()


@pytest.fixture
async def database_url(admin_url: str, template_db: str) -> AsyncIterator[str]:
    """A fresh database; when the test is done, every claim's stored document must still be
    its JSON as built from the rows: whatever the test wrote, the triggers kept up."""
    name = f"claimdesk_test_{uuid.uuid4().hex[:16]}"
    await db.ensure_database(admin_url, name, template=template_db)
    url = db.with_database(admin_url, name)
    try:
        yield url
        stale = await stale_documents(url)
        assert not stale, f"claims whose stored document is stale or missing: {stale}"
    finally:
        await db.drop_database(admin_url, name)


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Rate limits on (every response carries the fields) but far out of reach; the tests of
    # the limits themselves (test_ratelimit.py) set small ones.
    return Settings(
        database_url=database_url,
        log_format="json",
        log_level="warning",
        rate_limit_per_minute=1_000_000,
        rate_limit_burst=1_000_000,
        # Tests that deliver webhooks drive a worker themselves (tests/test_webhooks.py).
        webhook_worker=False,
    )


async def make_key(database_url: str, *scopes: str, name: str = "test admin") -> str:
    """A new API key in this test's database (as `claimdesk keys create` makes one)."""
    connection = await asyncpg.connect(database_url)
    try:
        data = ApiKeyCreate(name=name, scopes=list(scopes))  # type: ignore[arg-type]
        async with connection.transaction():
            created = await keys.create(connection, data, created_by="tests")
    finally:
        await connection.close()
    return created.key


@pytest.fixture
async def admin_key(database_url: str) -> str:
    return await make_key(database_url, "admin")


@pytest.fixture
def auth(admin_key: str) -> dict[str, str]:
    """Headers that authenticate as an admin: for clients the tests make themselves."""
    return {"Authorization": f"Bearer {admin_key}"}


@pytest.fixture
async def client(settings: Settings, auth: dict[str, str]) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """The app in process, authenticated with an admin key."""
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        test_client.headers.update(auth)
        yield test_client


@pytest.fixture
async def anonymous(settings: Settings) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """The same app, with no API key."""
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    try:
        yield connection
    finally:
        await connection.close()


@contextlib.contextmanager
def serving(
    database_url: str, env: dict[str, str] | None = None, *, kill: bool = False
) -> Iterator[str]:
    """`claimdesk serve` in a process of its own on ``database_url`` (with ``env`` added to
    its environment) until the block ends; ``kill`` stops it with SIGKILL rather than SIGTERM
    (for a server a test may leave stuck)."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    environment = helpers.clean_env()
    environment |= {
        "CLAIMDESK_DATABASE_URL": database_url,
        "CLAIMDESK_LOG_LEVEL": "warning",
        # were an embedded server started, it would have to live here: it must not
        "CLAIMDESK_DATA_DIR": "/nonexistent/claimdesk-must-not-start-embedded",
        **(env or {}),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--no-migrate", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        if kill:
            proc.kill()
        else:
            proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def live_url(database_url: str) -> Iterator[str]:
    """`claimdesk serve` in a process of its own on this test's database: for tests that need
    requests to run truly concurrently with the test's own connections."""
    with serving(database_url) as url:
        yield url
