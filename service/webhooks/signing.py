"""Standard Webhooks signatures (https://www.standardwebhooks.com/, "symmetric" scheme).

The secret is ``whsec_`` and the base64 of 32 random bytes; the key is those bytes. Each
request carries ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and ``webhook-signature``:
``v1,`` and the base64 of HMAC-SHA256(key, ``{id}.{timestamp}.{body}``), one per secret in
use, separated by spaces (two during a rotation's grace period).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def key_of(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key_of(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(
    secrets_in_use: Iterable[str], message_id: str, timestamp: int, body: bytes
) -> str:
    return " ".join(sign(s, message_id, timestamp, body) for s in secrets_in_use)
