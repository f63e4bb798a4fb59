"""What route handlers are given: the pool and who is asking (shared by every slice)."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from service.history import Who


def provide_pool(state: State) -> asyncpg.Pool:
    pool: asyncpg.Pool = state.pool
    return pool


def provide_who(request: Request[Any, Any, Any]) -> Who:
    # Until API keys arrive every caller is anonymous; the request id ties a change to its logs.
    return Who(changed_by="anonymous", request_id=request.state.get("request_id"))


dependencies = {
    "pool": Provide(provide_pool, sync_to_thread=False),
    "who": Provide(provide_who, sync_to_thread=False),
}

# What handlers declare: ``pool: Pool`` and ``who: Caller``.
Pool = NamedDependency[asyncpg.Pool]
Caller = NamedDependency[Who]
