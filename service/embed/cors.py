"""CORS for the public embeds (``/embed/...``, ``/oembed``): a CMS page's script may fetch
them from any origin, read their ``ETag``, revalidate with ``If-None-Match`` and read their
errors. The API behind keys sends no CORS headers: a browser script has no business holding
a key.

A request with ``If-None-Match`` is not a simple one, so a browser asks first (a preflight
``OPTIONS``); the preflight went unanswered (an ``Allow`` alone), and a 404's problem, with
no ``Access-Control-Allow-Origin``, reached the script as a network error (a CMS
developer's walkthrough)."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.types import ASGIApp, Message, Receive, Send

EVERY_RESPONSE = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", b"ETag"),
]
PREFLIGHT = [
    (b"access-control-allow-methods", b"GET, HEAD, OPTIONS"),
    (b"access-control-allow-headers", b"If-None-Match"),
    (b"access-control-max-age", b"86400"),
]


def public(path: str) -> bool:
    return path.startswith("/embed/") or path == "/oembed"


def embed_cors(app: Litestar) -> None:
    """Wrap ``app``'s ASGI handler: every response on an embed's path (a 304, a problem, a
    preflight's 204) allows any origin; a preflight's also says what the embeds take."""
    inner: ASGIApp = app.asgi_handler

    async def handler(scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not public(scope["path"]):
            await inner(scope, receive, send)
            return
        preflight = scope["method"] == "OPTIONS"

        async def send_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if not k.lower().startswith(b"access-control-")
                ]
                extra = EVERY_RESPONSE + (PREFLIGHT if preflight else [])
                message["headers"] = [*headers, *extra]
            await send(message)

        await inner(scope, receive, send_cors)

    app.asgi_handler = handler
