"""API keys and scopes: who may read, write and manage keys; keys stored only as a hash."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.logging import configure, unconfigure
from tests import helpers
from tests.conftest import make_key

pytestmark = pytest.mark.compat

AKAR = {"kind": "person", "name": "Hulusi Akar"}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"/problems/{slug}" and body["status"] == status
    return body


async def test_without_a_key_nothing_but_the_open_paths_answers(anonymous, conn):
    before = await helpers.snapshot(conn)
    for method, path in [
        ("GET", "/v1/actors"),
        ("GET", "/v1/search?q=x"),
        ("POST", "/v1/actors"),
        ("GET", "/v1/api-keys"),
    ]:
        response = await anonymous.request(method, path, json=AKAR if method == "POST" else None)
        body = assert_problem(response, 401, "unauthorized")
        assert "Authorization: Bearer" in body["detail"]
        assert response.headers["www-authenticate"] == 'Bearer realm="claimdesk"'
    # The key is checked before the body: an invalid body is still a 401, not a 422.
    assert (await anonymous.post("/v1/actors", json={"kind": 1})).status_code == 401
    assert await helpers.snapshot(conn) == before
    for path in ("/health", "/ready", "/problems/unauthorized", "/schema/openapi.json"):
        assert (await anonymous.get(path)).status_code == 200, path


@pytest.mark.parametrize(
    "header",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer a b", "cd_abc", "Bearer cd_notakey"],
)
async def test_a_bad_authorization_header_is_401(anonymous, header):
    response = await anonymous.get("/v1/actors", headers={"Authorization": header})
    assert_problem(response, 401, "unauthorized")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_scopes_nest_read_write_admin(anonymous, database_url, conn):
    read, write = await make_key(database_url, "read"), await make_key(database_url, "write")
    admin = await make_key(database_url, "admin")

    assert (await anonymous.get("/v1/actors", headers=bearer(read))).status_code == 200
    before = await helpers.snapshot(conn)
    refused = await anonymous.post("/v1/actors", json=AKAR, headers=bearer(read))
    body = assert_problem(refused, 403, "forbidden")
    assert "`write`" in body["detail"] and "`read`" in body["detail"]
    assert 'error="insufficient_scope", scope="write"' in refused.headers["www-authenticate"]
    assert await helpers.snapshot(conn) == before

    created = await anonymous.post("/v1/actors", json=AKAR, headers=bearer(write))
    assert created.status_code == 201
    actor = created.json()
    assert (await anonymous.get(f"/v1/actors/{actor['id']}", headers=bearer(write))).is_success
    assert_problem(await anonymous.get("/v1/api-keys", headers=bearer(write)), 403, "forbidden")
    assert_problem(await anonymous.get("/v1/api-keys", headers=bearer(read)), 403, "forbidden")

    # admin includes write and read
    assert (await anonymous.get("/v1/api-keys", headers=bearer(admin))).status_code == 200
    patched = await anonymous.patch(
        f"/v1/actors/{actor['id']}", json={"country": "TR"}, headers=bearer(admin)
    )
    assert patched.status_code == 200
    deleted = await anonymous.delete(f"/v1/actors/{actor['id']}", headers=bearer(read))
    assert_problem(deleted, 403, "forbidden")


async def test_a_key_is_shown_once_and_stored_only_as_its_hash(client, anonymous, conn):
    response = await client.post(
        "/v1/api-keys", json={"name": "newsroom-cms", "scopes": ["read", "read"]}
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    key = created["key"]
    assert key.startswith("cd_") and len(key) == 35
    assert created["prefix"] == key[:11] and created["scopes"] == ["read"]
    assert created["status"] == "active" and created["created_by"] == "test admin"
    assert response.headers["location"] == f"/v1/api-keys/{created['id']}"

    row = await conn.fetchrow("SELECT * FROM api_keys WHERE id = $1", created["id"])
    assert row["secret_sha256"] == hashlib.sha256(key.encode()).digest()
    # Nothing stored anywhere holds the key itself.
    dump = await conn.fetchval("SELECT string_agg(t::text, ' ') FROM api_keys t")
    assert key not in dump and key[11:] not in dump

    listed = await client.get("/v1/api-keys")
    got = await client.get(f"/v1/api-keys/{created['id']}")
    for text in (listed.text, got.text):
        assert key[11:] not in text and '"key"' not in text
    assert got.json()["name"] == "newsroom-cms"

    # It works, and its use is recorded.
    assert (await anonymous.get("/v1/actors", headers=bearer(key))).status_code == 200
    assert await conn.fetchval("SELECT last_used_at FROM api_keys WHERE id = $1", created["id"])


async def test_revoked_and_expired_keys_are_refused(client, conn, settings):
    key = (await client.post("/v1/api-keys", json={"name": "cms", "scopes": ["read"]})).json()
    assert (await client.get("/v1/actors", headers=bearer(key["key"]))).status_code == 200

    revoked = await client.delete(f"/v1/api-keys/{key['id']}")
    assert revoked.status_code == 204
    # The worker that revoked it refuses it at once, its own cache notwithstanding.
    body = assert_problem(
        await client.get("/v1/actors", headers=bearer(key["key"])), 401, "unauthorized"
    )
    assert "revoked" in body["detail"]
    again = await client.delete(f"/v1/api-keys/{key['id']}")
    assert again.status_code == 204  # nothing changes
    shown = (await client.get(f"/v1/api-keys/{key['id']}")).json()
    assert shown["status"] == "revoked" and shown["revoked_by"] == "test admin"
    assert_problem(
        await client.delete("/v1/api-keys/01937a5e-0000-7000-8000-00000000dead"), 404, "not-found"
    )

    other = await client.post("/v1/api-keys", json={"name": "laptop", "scopes": ["write"]})
    other_key = other.json()
    await conn.execute(
        "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1",
        other_key["id"],
    )
    # A second worker (its own cache) sees the expiry.
    async with AsyncTestClient(app=create_app(settings)) as second:
        body = assert_problem(
            await second.get("/v1/actors", headers=bearer(other_key["key"])), 401, "unauthorized"
        )
        assert "expired" in body["detail"]
    assert (await client.get(f"/v1/api-keys/{other_key['id']}")).json()["status"] == "expired"


async def test_a_revocation_reaches_other_workers_within_the_cache_time(settings, client, conn):
    key = (await client.post("/v1/api-keys", json={"name": "cms", "scopes": ["read"]})).json()
    uncached = msgspec.structs.replace(settings, key_cache_seconds=0)
    async with AsyncTestClient(app=create_app(uncached)) as other_worker:
        assert (await other_worker.get("/v1/actors", headers=bearer(key["key"]))).is_success
        await client.delete(f"/v1/api-keys/{key['id']}")
        refused = await other_worker.get("/v1/actors", headers=bearer(key["key"]))
        assert refused.status_code == 401


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["root"]}, "scopes[0]"),
        ({"name": " ", "scopes": ["read"]}, "name"),
        ({"name": "x", "scopes": ["read"], "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "scopes": ["read"], "expires_at": "2030-01-01T00:00:00"}, "expires_at"),
        ({"name": "x", "scopes": ["read"], "key": "cd_mine"}, "key"),
    ],
)
async def test_bad_key_requests_are_422_and_make_no_key(client, conn, body, field):
    before = await conn.fetchval("SELECT count(*) FROM api_keys")
    response = await client.post("/v1/api-keys", json=body)
    problem = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert await conn.fetchval("SELECT count(*) FROM api_keys") == before


async def test_public_read_opens_reads_only(settings, database_url):
    open_reads = msgspec.structs.replace(settings, public_read=True)
    async with AsyncTestClient(app=create_app(open_reads)) as anonymous:
        assert (await anonymous.get("/v1/actors")).status_code == 200
        assert (await anonymous.get("/v1/search?q=akar")).status_code == 200
        assert_problem(await anonymous.post("/v1/actors", json=AKAR), 401, "unauthorized")
        assert_problem(await anonymous.get("/v1/api-keys"), 401, "unauthorized")
        # A bad key is refused, not taken as anonymous.
        bad = await anonymous.get("/v1/actors", headers=bearer("cd_" + "x" * 32))
        assert_problem(bad, 401, "unauthorized")


async def test_keys_never_reach_the_logs(anonymous, client, database_url, capsys):
    configure("debug", "json")
    try:
        key = await make_key(database_url, "write", name="logged")
        capsys.readouterr()
        await anonymous.post("/v1/actors", json=AKAR, headers=bearer(key))
        await anonymous.get("/v1/actors", headers=bearer(key + "x"))
        await anonymous.get("/v1/actors", headers=bearer("cd_" + "y" * 32))
        await client.post("/v1/api-keys", json={"name": "cms", "scopes": ["read"]})
        output = capsys.readouterr().out
    finally:
        unconfigure()
    events = [json.loads(line)["event"] for line in output.splitlines() if line]
    assert events.count("request") == 4  # the access log did run
    for secret in (key, "y" * 32):
        assert secret[3:] not in output
        assert hashlib.sha256(secret.encode()).hexdigest() not in output


def test_keys_on_the_command_line(database_url, conn):
    env = helpers.clean_env()
    env |= {
        "CLAIMDESK_DATABASE_URL": database_url,
        "CLAIMDESK_LOG_LEVEL": "debug",
        "CLAIMDESK_LOG_FORMAT": "json",
    }

    def claimdesk(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "service.cli", "keys", *args],
            env=env,
            capture_output=True,
            text=True,
            check=check,
        )

    created = claimdesk("create", "--name", "cms", "--scope", "read", "--expires-in-days", "30")
    key = created.stdout.strip()
    # stdout is the key alone, even with the logs on (they go to stderr): scriptable
    assert created.stdout == key + "\n" and key.startswith("cd_")
    assert "scopes read" in created.stderr and "expires" in created.stderr
    listed = claimdesk("list").stdout
    assert key[:11] in listed and "active" in listed and key[11:] not in listed
    # when each key stops working (an operator's walkthrough found no expiry in the list)
    header, *rows = listed.splitlines()
    (row,) = [re.split(r"\s{2,}", line) for line in rows if key[:11] in line]
    columns = dict(zip(re.split(r"\s{2,}", header), row, strict=True))
    expires = datetime.strptime(columns["EXPIRES (UTC)"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    assert abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=2)
    assert (columns["LAST USED (UTC)"], columns["NAME"]) == ("-", "cms")

    revoked = claimdesk("revoke", key[:11])
    assert "revoked" in revoked.stdout
    assert "revoked" in claimdesk("list").stdout
    assert "revoked already" in claimdesk("revoke", key[:11]).stdout
    missing = claimdesk("revoke", "cd_nothing1", check=False)
    assert missing.returncode != 0 and "no single API key" in missing.stderr
    bad = claimdesk("create", "--name", " ", "--scope", "read", check=False)
    assert bad.returncode != 0 and "claimdesk:" in bad.stderr
    # as the API says it: the field, and the rule in words rather than its pattern
    bad = claimdesk("create", "--name", "cms\x1b[31m", "--scope", "read", check=False)
    assert bad.returncode != 0 and "claimdesk: name: Expected one line of text" in bad.stderr
    assert "regex" not in bad.stderr
