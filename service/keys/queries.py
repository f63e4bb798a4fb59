"""API keys in SQL: creation (the key is made here and only its SHA-256 is stored), lists,
revocation, and the look-up every authenticated request makes (through ``service.auth``'s
cache)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from service.db import OUT_OF_RANGE, new_id, representable
from service.errors import FieldError, Invalid, NotFound
from service.keys.schemas import ApiKey, ApiKeyCreate, ApiKeyCreated, Scope

KEY_PREFIX = "cd_"
# Shown in lists: "cd_" and 8 characters of the key, enough to tell keys apart and far too few
# to guess the rest from (the key holds 192 random bits).
SHOWN_CHARACTERS = 11
SCOPE_ORDER: dict[Scope, int] = {"read": 0, "write": 1, "admin": 2}


def make_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(24)


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


_COLUMNS = """
    id, name, prefix, scopes, created_at, created_by, expires_at, last_used_at, revoked_at,
    revoked_by,
    CASE WHEN revoked_at IS NOT NULL THEN 'revoked'
         WHEN expires_at <= now() THEN 'expired'
         ELSE 'active' END AS status
"""


def _key(row: asyncpg.Record) -> ApiKey:
    return ApiKey(**dict(row))


async def create(conn: asyncpg.Connection, data: ApiKeyCreate, created_by: str) -> ApiKeyCreated:
    if data.expires_at is not None and not representable(data.expires_at):
        raise Invalid([FieldError(field="expires_at", message=OUT_OF_RANGE)])
    if data.expires_at is not None and data.expires_at <= datetime.now(UTC):
        raise Invalid([FieldError(field="expires_at", message="Must be in the future.")])
    key = make_key()
    scopes = sorted(set(data.scopes), key=SCOPE_ORDER.__getitem__)
    row = await conn.fetchrow(
        f"""
        INSERT INTO api_keys (id, name, prefix, secret_sha256, scopes, created_by, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        RETURNING {_COLUMNS}
        """,
        new_id(),
        data.name,
        key[:SHOWN_CHARACTERS],
        digest(key),
        scopes,
        created_by,
        data.expires_at,
    )
    return ApiKeyCreated(**dict(row), key=key)


async def list_keys(conn: asyncpg.Connection, limit: int, before: UUID | None) -> list[ApiKey]:
    """Newest first (ids are time-ordered)."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM api_keys
        WHERE $1::uuid IS NULL OR id < $1
        ORDER BY id DESC
        LIMIT $2
        """,
        before,
        limit,
    )
    return [_key(r) for r in rows]


async def get(conn: asyncpg.Connection, key_id: UUID) -> ApiKey:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM api_keys WHERE id = $1", key_id)
    if row is None:
        raise NotFound("API key", key_id)
    return _key(row)


async def find(conn: asyncpg.Connection, reference: str) -> ApiKey:
    """A key by id or by its shown prefix (for the command line)."""
    try:
        return await get(conn, UUID(reference))
    except ValueError:
        pass
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM api_keys WHERE prefix = $1", reference)
    if not rows:
        raise NotFound("API key", reference)  # as an id or a prefix
    if len(rows) > 1:
        raise NotFound("single API key", reference)
    return _key(rows[0])


async def revoke(conn: asyncpg.Connection, key_id: UUID, revoked_by: str) -> ApiKey:
    """Revoked for good; revoking a revoked key changes nothing."""
    row = await conn.fetchrow(
        f"""
        UPDATE api_keys
        SET revoked_at = coalesce(revoked_at, now()),
            revoked_by = coalesce(revoked_by, $2)
        WHERE id = $1
        RETURNING {_COLUMNS}
        """,
        key_id,
        revoked_by,
    )
    if row is None:
        raise NotFound("API key", key_id)
    return _key(row)


class Credential(msgspec.Struct, frozen=True, kw_only=True):
    """What a request's key allows, as the authentication check needs it."""

    id: UUID
    name: str
    scopes: tuple[str, ...]
    expires_at: datetime | None
    revoked: bool
    id_text: str  # the id as text, made once: every request's state and log line carry it


# One round trip: the key by its digest, and last_used_at moved on if it is a minute old.
_LOOKUP = """
WITH found AS (
    SELECT id, name, scopes, expires_at, revoked_at, last_used_at
    FROM api_keys WHERE secret_sha256 = $1
), touched AS (
    UPDATE api_keys SET last_used_at = now()
    FROM found
    WHERE api_keys.id = found.id
      AND found.revoked_at IS NULL
      AND (found.expires_at IS NULL OR found.expires_at > now())
      AND (found.last_used_at IS NULL OR found.last_used_at < now() - interval '1 minute')
)
SELECT id, name, scopes, expires_at, revoked_at IS NOT NULL AS revoked FROM found
"""


async def lookup(conn: asyncpg.Connection, secret_digest: bytes) -> Credential | None:
    row = await conn.fetchrow(_LOOKUP, secret_digest)
    if row is None:
        return None
    values: dict[str, Any] = dict(row)
    values["scopes"] = tuple(values["scopes"])
    return Credential(**values, id_text=str(values["id"]))


async def count_usable(conn: asyncpg.Connection) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM api_keys "
        "WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())"
    )
    return count
