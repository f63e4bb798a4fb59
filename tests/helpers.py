"""Builders and database snapshots shared by the tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg

from service import db

# The OpenAPI document as committed (openapi/openapi.json): what the service must serve.
COMMITTED = Path(__file__).parent.parent / "openapi" / "openapi.json"

TABLES = (
    "actors",
    "actor_names",
    "actor_memberships",
    "sources",
    "claims",
    "claim_targets",
    "claim_appearances",
    "disputes",
    "dispute_positions",
    "reviews",
    "revisions",
    "change_events",
    "actor_merges",
)


async def snapshot(conn: asyncpg.Connection) -> dict[str, Any]:
    """Every row of every table, to assert that a refused request changed nothing."""
    state: dict[str, Any] = {}
    for table in TABLES:
        rows = await conn.fetch(f"SELECT * FROM {table} ORDER BY 1, 2")
        state[table] = [tuple(r.values()) for r in rows]
    return state


async def create(client: Any, collection: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"/v1/{collection}", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    # a create says where the new resource lives
    assert response.headers["location"] == f"/v1/{collection}/{result['id']}"
    return result


async def actor(client: Any, name: str = "Hulusi Akar", **fields: Any) -> dict[str, Any]:
    return await create(client, "actors", {"kind": "person", "name": name, **fields})


async def source(client: Any, **fields: Any) -> dict[str, Any]:
    body = {"kind": "article", "title": "عين عيسى", **fields}
    return await create(client, "sources", body)


async def claim(client: Any, speaker_id: str, source_id: str, **fields: Any) -> dict[str, Any]:
    body = {
        "speaker_id": speaker_id,
        "text": "إن بعض عناصر ميليشيات قسد مازالوا موجودين في المنطقة الآمنة",
        "lang": "ar",
        "appearances": [{"source_id": source_id}],
        **fields,
    }
    return await create(client, "claims", body)


async def dispute(client: Any, affirms: str, denies: str, **fields: Any) -> dict[str, Any]:
    """A dispute of two claims (ids), one affirming, one denying."""
    body = {
        "title": "Did they leave?",
        "question": "Did they leave the zone?",
        "positions": [
            {"claim_id": affirms, "stance": "affirms"},
            {"claim_id": denies, "stance": "denies"},
        ],
        **fields,
    }
    return await create(client, "disputes", body)


async def insert_claims(
    conn: asyncpg.Connection, count: int, text: str, speaker_id: str, **columns: str
) -> None:
    """``count`` claims made in SQL (a table worth indexing, quickly): the ``g``-th, from 1,
    with its id in ``g``'s order (the last is the newest), says ``text``, is by
    ``speaker_id`` and has ``columns``, each SQL of ``g`` (English assertions unless
    given)."""
    values = {"speaker_id": speaker_id, "lang": "'en'", "kind": "'assertion'"} | columns
    await conn.execute(
        f"""INSERT INTO claims (id, text, verbatim, {", ".join(values)})
            SELECT ('01937a5e-' || lpad(to_hex(g), 4, '0') || '-7000-8000-'
                    || lpad(to_hex(g), 12, '0'))::uuid,
                   {text}, false, {", ".join(values.values())}
            FROM generate_series(1, {count}) AS g"""
    )


def by(actor: dict[str, Any]) -> str:
    """SQL naming ``actor`` as a claim's speaker, for ``insert_claims``."""
    return f"'{actor['id']}'::uuid"


def problem(response: Any, status: int) -> dict[str, Any]:
    """Assert ``response`` is an RFC 9457 problem with ``status``; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("/problems/")
    assert body["title"] and body["detail"]
    assert "Traceback" not in response.text
    return body


def fields(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


def clean_env() -> dict[str, str]:
    """This process's environment without the service's settings (``CLAIMDESK_*``), for a
    child process that must see only those its test gives it."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CLAIMDESK_")}


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


async def tables(url: str) -> set[str]:
    """The tables of the database at ``url`` (its public schema)."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r["tablename"] for r in rows}
    finally:
        await conn.close()


@contextlib.contextmanager
def scratch_database(admin_url: str, name: str) -> Iterator[str]:
    """A database of its own on the server at ``admin_url`` (a migration test's, the fuzz
    run's), made empty and dropped afterwards: its URL."""
    asyncio.run(db.drop_database(admin_url, name))
    asyncio.run(db.ensure_database(admin_url, name))
    try:
        yield db.with_database(admin_url, name)
    finally:
        asyncio.run(db.drop_database(admin_url, name))
