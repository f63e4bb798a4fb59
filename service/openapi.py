"""The OpenAPI document as bytes: what ``/schema/openapi.json`` serves and what
``claimdesk openapi`` commits to ``openapi/openapi.json`` — one function for both."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.openapi.plugins import JsonRenderPlugin


def document_from_schema(schema: dict[str, Any]) -> bytes:
    """Stable, reviewable bytes: indented, keys in generation order, a final newline."""
    return msgspec.json.format(msgspec.json.encode(schema), indent=2) + b"\n"


def document(app: Litestar) -> bytes:
    return document_from_schema(app.openapi_schema.to_schema())


class IndentedJsonRenderPlugin(JsonRenderPlugin):
    """Serves ``/schema/openapi.json`` as :func:`document_from_schema` writes it."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return document_from_schema(openapi_schema)
