"""What route handlers are given: the pool, who is asking, and the request's conditions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Litestar, Request
from litestar.di import NamedDependency, Provide

from service import etag
from service.history import Who


def provide_who(request: Request[Any, Any, Any]) -> Who:
    # service.auth put the request's API key in its state; the request id ties a change to its
    # log lines. Writes always carry a key: only reads may be anonymous.
    state = request.state
    key_id = state.get("api_key_id")
    return Who(
        changed_by=state.get("api_key_name", "anonymous"),
        key_id=UUID(key_id) if key_id else None,
        request_id=state.get("request_id"),
    )


# The header parameters below document the headers in the OpenAPI document of each operation
# that takes the condition; the value is read from every field line of the header (a client
# may send the list on several lines), which a single parameter would not give.


def provide_if_match(
    request: Request[Any, Any, Any], if_match_header: etag.IfMatchHeader = None
) -> etag.Condition | None:
    if if_match_header is None:
        return None
    return etag.parse("If-Match", request.headers.getall("if-match"))


def provide_if_none_match(
    request: Request[Any, Any, Any], if_none_match_header: etag.IfNoneMatchHeader = None
) -> etag.Condition | None:
    if if_none_match_header is None:
        return None
    return etag.parse("If-None-Match", request.headers.getall("if-none-match"))


def dependencies(pool: Callable[[], asyncpg.Pool]) -> dict[str, Provide]:
    """What handlers are given, in an app whose pool ``pool()`` answers.

    The pool's provider takes no parameter: one that took the app's state had Litestar parse
    it into the provider's signature model on every request.
    """
    return {
        "pool": Provide(pool, sync_to_thread=False),
        "who": Provide(provide_who, sync_to_thread=False),
        "if_match": Provide(provide_if_match, sync_to_thread=False),
        "if_none_match": Provide(provide_if_none_match, sync_to_thread=False),
    }


# What handlers declare: ``pool: Pool``, ``who: Caller``, ``if_match: IfMatch`` (writes) and
# ``if_none_match: IfNoneMatch`` (reads).
Pool = NamedDependency[asyncpg.Pool]
Caller = NamedDependency[Who]
IfMatch = NamedDependency[etag.Condition | None]
IfNoneMatch = NamedDependency[etag.Condition | None]


def resolve_in_turn(app: Litestar) -> None:
    """Resolve each handler's dependencies one after another, not in a task group.

    Litestar resolves the dependencies that do not depend on each other as one batch, in an
    anyio task group when there are several (``pool`` and ``if_none_match`` for a GET): a task
    per dependency and a task group per request, about a twentieth of a simple GET's CPU. Every
    provider above is a plain function (``sync_to_thread=False``): running them together gains
    nothing. The batches are split into batches of one, in the order Litestar computed, so a
    dependency still comes after those it needs.
    """
    for route in app.routes:
        for _handler, model in getattr(route, "route_handler_map", {}).values():
            model.dependency_batches = [{d} for batch in model.dependency_batches for d in batch]
