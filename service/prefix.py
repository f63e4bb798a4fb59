"""The path prefix of ``CLAIMDESK_PUBLIC_URL`` (``https://claims.example.org/desk``) on the
URLs the service hands out in headers: a create's ``Location``, a merged actor's 308, a
page's ``Link``. They are written from the root (``/v1/claims/...``); behind a proxy that
adds a prefix, a client following one went to the root of the proxy's host (a CMS
developer's walkthrough). The card and oEmbed build theirs from the public URL already."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from litestar import Litestar
from litestar.types import ASGIApp, Message, Receive, Send

from service.settings import Settings


def prefix_of(settings: Settings) -> bytes:
    """The public URL's path without its last slash (``b"/desk"``), or ``b""``."""
    if not settings.public_url:
        return b""
    return urlsplit(settings.public_url).path.rstrip("/").encode()


# A URL from the root: a Location's whole value, or a Link's target (<...>; rel="next")
_FROM_ROOT = {b"location": re.compile(rb"\A(?=/(?!/))"), b"link": re.compile(rb"(?<=<)(?=/(?!/))")}


def path_prefix(app: Litestar, settings: Settings) -> None:
    """Wrap ``app``'s ASGI handler so that the root-relative URLs of ``Location`` and
    ``Link`` carry the public URL's path prefix (none: nothing is wrapped)."""
    prefix = prefix_of(settings)
    if not prefix:
        return
    inner: ASGIApp = app.asgi_handler

    async def handler(scope: Any, receive: Receive, send: Send) -> None:
        async def send_prefixed(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (
                        k,
                        _FROM_ROOT[k.lower()].sub(lambda _: prefix, v)
                        if k.lower() in _FROM_ROOT
                        else v,
                    )
                    for k, v in message.get("headers", [])
                ]
            await send(message)

        await inner(scope, receive, send_prefixed)

    app.asgi_handler = handler
