"""API key bodies. The key itself appears once, in the answer to its creation."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec

from service.schemas import Input, Timestamp
from service.text.visible import LINE_PATTERN

Scope = Literal["read", "write", "admin"]
KeyStatus = Literal["active", "expired", "revoked"]
KeyName = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=200,
        pattern=LINE_PATTERN,
        description="What the key is for, e.g. the client that holds it.",
        examples=["newsroom-cms"],
    ),
]
Scopes = Annotated[
    list[Scope],
    msgspec.Meta(
        min_length=1,
        max_length=3,
        description="`read` reads; `write` also creates, changes and deletes; `admin` also "
        "manages API keys. A wider scope includes the narrower ones.",
        examples=[["read"]],
    ),
]


class ApiKeyCreate(Input, kw_only=True):
    name: KeyName
    scopes: Scopes
    expires_at: (
        Annotated[
            Timestamp,
            msgspec.Meta(description="When the key stops working; must be in the future."),
        ]
        | None
    ) = None


class ApiKey(msgspec.Struct, kw_only=True):
    """A key as listed: never the key itself, only its first characters."""

    id: UUID
    name: str
    prefix: Annotated[
        str,
        msgspec.Meta(description="The key's first characters, to tell keys apart."),
    ]
    scopes: list[Scope]
    status: KeyStatus
    created_at: Timestamp
    created_by: Annotated[
        str, msgspec.Meta(description="The key (name) or command that created this key.")
    ]
    expires_at: Timestamp | None
    last_used_at: Annotated[
        Timestamp | None,
        msgspec.Meta(description="Last authenticated request, to within a minute."),
    ]
    revoked_at: Timestamp | None
    revoked_by: str | None


class ApiKeyCreated(ApiKey, kw_only=True):
    key: Annotated[
        str,
        msgspec.Meta(
            description="The API key. Shown only here, once: store it now. Send it as "
            "`Authorization: Bearer <key>`."
        ),
    ]


class ApiKeyPage(msgspec.Struct, kw_only=True):
    data: list[ApiKey]
    next_cursor: str | None
