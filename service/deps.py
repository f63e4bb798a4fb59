"""What route handlers read from their request: the pool, who is asking, and its conditions.

The application's request class (``Litestar(request_class=Request)``) carries them, and a
handler takes ``request: Request`` and reads what it needs::

    async def get_claim(self, request: Request, claim_id: ClaimId) -> Response[Claim]:
        async with request.pool.acquire() as conn:
            ...
        return etag.respond_json(version, body, request.if_none_match())

They were Litestar dependencies. Litestar resolves each dependency on every request through a
signature model of its own, and one that declares a header parameter has every header of the
request parsed into a case-insensitive multidict to find it: of a GET claim's 757,000
instructions (callgrind, in process), the pool's dependency cost about 21,000 and
``If-None-Match``'s about 42,000. What these read is at hand in the ASGI scope.

A handler that reads condition headers says so on its route (``**etag.TAKES_PRECONDITIONS``,
a write's ``If-Match`` and ``If-None-Match``, or ``**etag.TAKES_IF_NONE_MATCH``, a read's; kept
in the handler's ``opt``): the OpenAPI document lists the headers on those operations
(``service.openapi``), and reading one the route does not declare is a programming error,
raised on the first request that does. The input guard checks a declared header before the
handler runs (``service.input_guard``).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import litestar

from service import etag
from service.history import Who
from service.pool import Pool


class Request(litestar.Request[Any, Any, Any]):
    """Litestar's request, with what this service's handlers read from it."""

    __slots__ = ()

    @property
    def pool(self) -> Pool:
        """The application's connection pool (opened by its lifespan)."""
        pool: Pool = self.app.state.pool
        return pool

    @property
    def search_pool(self) -> Pool:
        """The connections ``/v1/search`` runs on (``db.SEARCH_SETTINGS``)."""
        pool: Pool = self.app.state.search_pool
        return pool

    @property
    def who(self) -> Who:
        """Who makes a change: ``service.auth`` put the request's API key in its state, and
        the request id ties the change to its log lines. Writes always carry a key: only
        reads may be anonymous."""
        state = self.scope["state"]
        key_id = state.get("api_key_id")
        return Who(
            changed_by=state.get("api_key_name", "anonymous"),
            key_id=UUID(key_id) if key_id else None,
            request_id=state.get("request_id"),
        )

    def preconditions(self) -> etag.Preconditions | None:
        """A write's ``If-Match`` and ``If-None-Match``, parsed (a 422 when malformed); None
        when neither is sent."""
        if_match, if_none_match = self.condition("If-Match"), self.condition("If-None-Match")
        if if_match is None and if_none_match is None:
            return None
        return etag.Preconditions(if_match=if_match, if_none_match=if_none_match)

    def if_none_match(self) -> etag.Condition | None:
        """A read's ``If-None-Match``, parsed (a 422 when malformed); None when absent."""
        return self.condition("If-None-Match")

    def condition(self, header: etag.Header) -> etag.Condition | None:
        """``header``, parsed, for a route that declares it. The input guard calls this before
        the handler runs (``service.input_guard``), so a malformed one is a 422 before any
        work, as a Litestar parameter's would be; the handler's call parses it again."""
        if header not in self.route_handler.opt.get(etag.CONDITION, ()):
            raise RuntimeError(
                f"{self.route_handler.handler_name} reads {header} but its route does not "
                "declare it (etag.TAKES_PRECONDITIONS, etag.TAKES_IF_NONE_MATCH)"
            )
        return etag.read(header, self.scope["headers"])
