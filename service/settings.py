"""Settings: one msgspec Struct read from ``CLAIMDESK_*`` environment variables."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import msgspec.inspect
import platformdirs

from service.errors import listed

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
        given: dict[str, tuple[str, object]] = {}  # where each value came from, as given
        for name in cls.__struct_fields__:
            variable = PREFIX + name.upper()
            text = env.get(variable)
            if not text or service_link(variable, text):
                continue
            # words from a set (INFO, JSON, Granian) in any case, as logging takes them
            raw[name] = text.lower() if name in _WORDS else text
            given[name] = (variable, text)
        for name, override in overrides.items():
            if override is not None:
                raw[name] = override
                given[name] = ("--" + name.replace("_", "-"), override)
        if "database_url" in given and (problem := _url_problem(str(raw["database_url"]))):
            raise SystemExit(f"claimdesk: invalid {given['database_url'][0]}: {problem}")
        try:
            return msgspec.convert(raw, cls, strict=False)
        except msgspec.ValidationError as exc:
            message, _, where = str(exc).partition(" - at `$.")
            field = where.rstrip("`")
            if field not in given:  # e.g. the pool bounds' check
                raise SystemExit(f"claimdesk: invalid setting: {message}") from None
            source, shown = given[field]
            expected = _expected(field)
            if expected:  # msgspec's words name Python's types ("Expected `bool`, got `str`")
                message = f"expected {expected}, got {shown!r}"
            raise SystemExit(f"claimdesk: invalid {source}: {message}") from None


# Variables of claimdesk's own test suite and tools, not settings of the service.
_NOT_SETTINGS = PREFIX + "TEST_"

# What Kubernetes puts in every pod's environment for a Service named claimdesk (its
# "service links"): CLAIMDESK_SERVICE_HOST, CLAIMDESK_PORT=tcp://10.0.0.5:8000,
# CLAIMDESK_PORT_8000_TCP_ADDR and the like. Not settings, though one has a setting's name.
_SERVICE_LINK_NAME = re.compile(
    PREFIX + r"(SERVICE_(HOST|PORT)(_\w+)?|PORT_\d+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?)\Z"
)
_SERVICE_LINK_VALUE = re.compile(r"(tcp|udp|sctp)://", re.IGNORECASE)


def service_link(variable: str, value: str) -> bool:
    """Whether a variable is one of Kubernetes' service links (``CLAIMDESK_PORT`` holding
    ``tcp://10.0.0.5:8000`` failed the start as an invalid port)."""
    return bool(_SERVICE_LINK_NAME.match(variable)) or (
        variable == PREFIX + "PORT" and bool(_SERVICE_LINK_VALUE.match(value))
    )


def service_links(environ: Mapping[str, str] | None = None) -> list[str]:
    env = os.environ if environ is None else environ
    return sorted(name for name, value in env.items() if service_link(name, value))


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[tuple[str, str | None]]:
    """``CLAIMDESK_*`` variables (in any case) that are no setting: a misspelling was ignored
    in silence (``CLAIMDESK_DATABASE_URI``, and the service ran on the embedded server). Each
    with the variable it most resembles, if one does (settings are read in upper case)."""
    env = os.environ if environ is None else environ
    fields = Settings.__struct_fields__
    read = {PREFIX + name.upper() for name in fields}  # what from_env reads

    def resembles(variable: str) -> str | None:
        near = difflib.get_close_matches(variable[len(PREFIX) :].lower(), fields, 1, 0.8)
        return PREFIX + near[0].upper() if near else None

    return [
        (variable, resembles(variable))
        for variable, value in sorted(env.items())
        if variable.upper().startswith(PREFIX)
        and variable not in read
        and not variable.upper().startswith(_NOT_SETTINGS)
        and not service_link(variable, value)
    ]


def _url_problem(url: str) -> str | None:
    """What asyncpg would stumble on in a database URL before connecting (a port that is not
    a number was a ValueError's traceback), said without the URL (it may hold a password)."""
    scheme, _, rest = url.partition("://")
    if scheme not in ("postgresql", "postgres"):
        return "expected a postgresql:// URL"
    hosts = rest.split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
    for host in hosts.split(","):  # asyncpg takes several, each with its port
        port = host.rpartition("]")[2] if host.startswith("[") else host
        if ":" in port and not port.rpartition(":")[2].isdigit() and port[-1] != ":":
            return f"the port of {host.rpartition(':')[0] or 'the host'} is not a number"
    return None


def _expected(field: str) -> str | None:
    """What a setting takes, in words (None: msgspec's own message says it)."""
    if field == "public_url":
        return "an http:// or https:// URL (a path allowed; no query, fragment or user)"
    info = msgspec.inspect.type_info(Settings)
    assert isinstance(info, msgspec.inspect.StructType)
    kind = {f.name: f.type for f in info.fields}[field]
    if isinstance(kind, msgspec.inspect.BoolType):
        return "true or false (or 1 or 0)"
    if isinstance(kind, msgspec.inspect.LiteralType):
        return "one of " + listed([str(v) for v in kind.values])
    if isinstance(kind, msgspec.inspect.IntType | msgspec.inspect.FloatType):
        number = "a whole number" if isinstance(kind, msgspec.inspect.IntType) else "a number"
        if kind.ge is not None and kind.le is not None:
            return f"{number} from {kind.ge} to {kind.le}"
        if kind.ge is not None:
            return f"{number} of at least {kind.ge}"
        return number
    return None
