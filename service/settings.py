"""Settings: one msgspec Struct read from ``CLAIMDESK_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import platformdirs

_WORDS = frozenset({"server", "log_level", "log_format"})
PREFIX = "CLAIMDESK_"


def default_data_dir() -> str:
    return str(Path(platformdirs.user_data_dir("claimdesk")))


class Settings(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Every setting, with its default. Environment: ``CLAIMDESK_<NAME>`` (upper case)."""

    # PostgreSQL connection URL. Unset: an embedded PostgreSQL is started in ``data_dir``.
    database_url: str | None = None
    # With no database_url: start an embedded PostgreSQL (true) or refuse to start (false).
    embedded: bool = True
    # Where the embedded PostgreSQL keeps its data (``<data_dir>/pgdata``).
    data_dir: str = msgspec.field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8000
    # Worker processes serving requests (each with its own pool of pool_max_size connections).
    workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    # The HTTP server: uvicorn (installed with claimdesk) or granian (`pip install
    # 'claimdesk[granian]'`).
    server: Literal["uvicorn", "granian"] = "uvicorn"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # json: one JSON object a line; console: coloured, for humans; auto: console on a TTY.
    log_format: Literal["json", "console", "auto"] = "auto"
    pool_min_size: Annotated[int, msgspec.Meta(ge=0, le=100)] = 1
    pool_max_size: Annotated[int, msgspec.Meta(ge=1, le=200)] = 10
    # Connections of each worker's second pool, the one /v1/search runs on (service.db): at
    # most this many searches of a worker run at once; more wait for one. It opens
    # pool_min_size of them at start, at most this many.
    search_pool_size: Annotated[int, msgspec.Meta(ge=1, le=200)] = 2
    # Largest request body accepted, in bytes (413 past it).
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 1_048_576
    # Server-side cap on any one SQL statement, in milliseconds (0: none).
    statement_timeout_ms: Annotated[int, msgspec.Meta(ge=0)] = 15_000
    # Let requests without an Authorization header read (GET/HEAD); writes always need a key.
    public_read: bool = False
    # How long a worker trusts its last look-up of an API key: a key revoked elsewhere stops
    # working within this many seconds (0: look every key up on every request).
    key_cache_seconds: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 5.0
    # Requests a minute each API key (each client address, without one) may make, counted in
    # each process separately (0: no limit).
    rate_limit_per_minute: Annotated[int, msgspec.Meta(ge=0)] = 600
    # Requests a client may make at once after a pause: the size of its bucket.
    rate_limit_burst: Annotated[int, msgspec.Meta(ge=1)] = 100
    # How long a POST's Idempotency-Key is remembered (its first response replayed), in hours.
    idempotency_retention_hours: Annotated[int, msgspec.Meta(ge=24)] = 24
    # Run the webhook delivery worker inside `claimdesk serve` (false: run `claimdesk worker`).
    webhook_worker: bool = True
    # Let webhooks point at loopback, private, link-local and other non-public addresses.
    webhook_allow_private: bool = False
    # A delivery attempt's whole time limit, in seconds (connecting: at most 5 of them).
    webhook_timeout_seconds: Annotated[float, msgspec.Meta(ge=1, le=60)] = 10.0
    # How long finished deliveries (and their attempts) stay in the delivery log, in days.
    webhook_log_retention_days: Annotated[int, msgspec.Meta(ge=1)] = 30
    # Serve the public dispute cards, oEmbed and ClaimReview JSON-LD under /embed and /oembed
    # (no API key); false: those paths answer 404.
    embeds: bool = True
    # The service's address as readers reach it (``https://claims.example.org``, a path prefix
    # allowed), for the URLs a card and oEmbed hand out. Unset: taken from each request (its
    # Host header, and the scheme uvicorn reports, X-Forwarded-Proto from a trusted proxy).
    public_url: (
        Annotated[
            str,
            msgspec.Meta(pattern=r"^[hH][tT][tT][pP][sS]?://[^\s/?#@]+(/[^\s?#]*)?\Z"),
        ]
        | None
    ) = None

    def __post_init__(self) -> None:
        if self.pool_min_size > self.pool_max_size:  # asyncpg would refuse it at start-up
            raise ValueError(
                f"CLAIMDESK_POOL_MIN_SIZE ({self.pool_min_size}) is more than "
                f"CLAIMDESK_POOL_MAX_SIZE ({self.pool_max_size})"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read ``CLAIMDESK_*`` variables; ``overrides`` (e.g. from CLI flags) win."""
        env = os.environ if environ is None else environ
        raw: dict[str, object] = {}
        for name in cls.__struct_fields__:
            value = env.get(PREFIX + name.upper())
            if value not in (None, ""):
                # words from a set (INFO, JSON, Granian) in any case, as logging takes them
                raw[name] = value.lower() if name in _WORDS else value
        raw.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return msgspec.convert(raw, cls, strict=False)
        except msgspec.ValidationError as exc:
            message, _, where = str(exc).partition(" - at `$.")
            name = PREFIX + where.rstrip("`").upper() if where else "setting"
            raise SystemExit(f"claimdesk: invalid {name}: {message}") from None
