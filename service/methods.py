"""HEAD and OPTIONS on every path, as RFC 9110 has them, in front of Litestar's router.

- ``HEAD`` is answered wherever ``GET`` is (RFC 9110 §9.3.2: the same status and headers,
  ``ETag`` and ``304`` included, without content). Litestar routes only the methods a handler
  declares, and refuses a HEAD handler that returns a body, so a HEAD request is routed as a
  GET here and its body dropped on the way out.
- ``Allow`` lists every method of the path. Litestar answers OPTIONS with the methods of one
  of the handlers sharing a path only (``Allow: OPTIONS, POST`` on ``/v1/actors``), and a 405
  without HEAD. Both are rewritten here from the app's routes.

The document leaves HEAD and OPTIONS out, as most do: they are the same on every path.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Send

# Set in ``scope["state"]`` of a HEAD request routed as GET: the method the client sent.
REQUEST_METHOD = "request_method"


def allow(methods: set[str]) -> str:
    """An ``Allow`` value: the methods given, OPTIONS, and HEAD wherever GET is."""
    methods = {m.upper() for m in methods} | {"OPTIONS"}
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def allow_listed(given: str) -> str:
    """``allow`` of the methods a comma-separated list (an ``Allow`` value) names."""
    return allow({m.strip() for m in given.split(",") if m.strip()})


def allowed_by_path(app: Litestar) -> dict[str, str]:
    """``Allow`` for each path template (``/v1/actors/{actor_id}``) of the app."""
    methods: defaultdict[str, set[str]] = defaultdict(set)
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            methods[route.path_format] |= set(route.methods)
    return {path: allow(found) for path, found in methods.items()}


def _set_allow(message: Any, value: str) -> None:
    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
    message["headers"] = [*headers, (b"allow", value.encode())]


def head_and_options(app: Litestar) -> None:
    """Wrap ``app``'s ASGI handler (what runs after Litestar's own scope set-up, before its
    router) so that HEAD and ``Allow`` behave as the module docstring says."""
    inner: ASGIApp = app.asgi_handler
    by_path = allowed_by_path(app)

    async def handler(scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        method = scope["method"]
        if method == "HEAD":
            # A copy: the server reads its own scope's method to send a HEAD's headers
            # without the content they describe (uvicorn, told GET, waited for the body
            # and dropped the connection).
            scope = {**scope, "method": "GET"}
            scope.setdefault("state", {})[REQUEST_METHOD] = "HEAD"

        async def send_fixed(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                if status == 405:
                    given = dict(message.get("headers", [])).get(b"allow", b"").decode()
                    _set_allow(message, allow_listed(given))
                elif method == "OPTIONS" and scope.get("path_template") in by_path:
                    _set_allow(message, by_path[scope["path_template"]])
            elif message["type"] == "http.response.body" and method == "HEAD":
                message["body"] = b""
            await send(message)

        await inner(scope, receive, send_fixed)

    app.asgi_handler = handler
