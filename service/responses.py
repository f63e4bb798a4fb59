"""A response whose JSON body is already encoded, sent as it is."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Response
from litestar.types import Receive, Scope, Send

_JSON = (b"content-type", b"application/json")
_OWN_HEADERS = {"content-type", "content-length"}  # written here: given, Litestar's way


class _Encoded:
    """The ASGI side of an :class:`EncodedJson`: the start event, then the body."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


class EncodedJson(Response[Any]):
    """``application/json`` already encoded (``content``, bytes), with headers of its own.

    Litestar turns a :class:`Response` into its ASGI response by merging the route's headers
    and cookies into a header structure, then checking and sizing the body: about 30,000
    instructions of a GET claim's (callgrind, in process). A body read from PostgreSQL and
    compacted needs none of it: its headers are encoded once, here. A route that declares
    headers, cookies or a background task to add, or a response given its own
    ``Content-Type`` or ``Content-Length``, gets Litestar's way.
    """

    def __init__(
        self,
        content: bytes,
        *,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        # What Response.__init__ sets for these arguments, without its checks of cookies and
        # headers against typing's Mapping (two slow isinstance calls a response).
        self.content = content
        self.background = None
        self.cookies = []
        self.encoding = "utf-8"
        self.headers = dict(headers) if headers else {}
        self.media_type = None
        self.status_code = status_code
        self.response_type_encoders = dict(self.type_encoders or {})

    def to_asgi_response(
        self,
        app: Any,
        request: Any,
        *,
        background: Any = None,
        cookies: Iterable[Any] | None = None,
        headers: dict[str, str] | None = None,
        status_code: int | None = None,
        **kw: Any,
    ) -> Any:
        if (
            background
            or cookies
            or headers
            or self.background
            or self.cookies
            or any(name.lower() in _OWN_HEADERS for name in self.headers)
        ):
            return super().to_asgi_response(
                app,
                request,
                background=background,
                cookies=cookies,
                headers=headers,
                status_code=status_code,
                **kw,
            )
        body: bytes = self.content
        encoded = [_JSON, (b"content-length", str(len(body)).encode())]
        encoded += [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()
        ]
        # the route's status (201 for a POST) unless the response has one
        return _Encoded(self.status_code or status_code or 200, encoded, body)
