"""create_app(settings) -> Litestar: routes, plugins, error handlers, lifespan."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

import asyncpg
import msgspec
import structlog
from litestar import Litestar, MediaType, Response, get
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Tag
from litestar.params import PathParameter

from service import __version__, auth, balance, db, migrate, negotiation
from service.actors.routes import ActorController
from service.changes.routes import list_changes
from service.claims.routes import ClaimController
from service.deps import Request
from service.disputes.routes import DisputeController, list_contradictions
from service.embed.cors import embed_cors
from service.embed.routes import get_claim_review_embed, get_dispute_card, get_oembed
from service.errors import (
    PROBLEM_BASE,
    PROBLEM_DESCRIPTIONS,
    PROBLEMS,
    DatabaseUnreachable,
    NotFound,
    exception_handlers,
    problem,
    responses,
)
from service.idempotency import idempotency_middleware
from service.input_guard import check_request, learn_parameters
from service.keys.routes import ApiKeyController
from service.logging import request_id_middleware
from service.methods import head_and_options
from service.openapi import IndentedJsonRenderPlugin, tidy_openapi
from service.prefix import path_prefix
from service.ratelimit import from_settings as rate_limiter
from service.reviews.routes import ReviewController, get_claim_review
from service.search import queries as search_queries
from service.search.routes import list_similar, search
from service.settings import Settings
from service.sources.routes import SourceController
from service.webhooks import worker as webhook_worker
from service.webhooks.routes import WebhookController

log = structlog.get_logger("claimdesk.app")


class Health(msgspec.Struct):
    status: Literal["ok"]


class Readiness(msgspec.Struct):
    status: Literal["ready"]
    database: str
    migration: str


class ProblemType(msgspec.Struct):
    type: str
    title: str
    status: int
    description: str


_PROBLEM_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} ({status}) — claimdesk</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}}
code{{background:#f2f2f2;padding:0 .2em}}</style></head>
<body><h1>{title}</h1><p>HTTP {status} · <code>{type}</code></p><p>{description}</p>
<p>Every problem answer is <code>application/problem+json</code> (RFC 9457) with a
<code>detail</code> saying what happened in that request. The API's reference:
<a href="/schema">/schema</a>.</p></body></html>
"""


def _quality(accept: str, media_type: str) -> float:
    """The weight ``accept`` gives ``media_type``: its most specific range's ``q`` (RFC 9110
    section 12.5.1), 0 when no range takes it."""
    kind = media_type.split("/")[0] + "/*"
    return negotiation.weight(accept, {media_type: 2, kind: 1, "*/*": 0})


def _prefers_html(accept: str) -> bool:
    """HTML only when asked for above JSON (a browser's `text/html,...,*/*;q=0.8`): `*/*`,
    no header, and `text/html;q=0` get JSON."""
    html_q = _quality(accept, "text/html")
    return html_q > 0 and html_q > _quality(accept, "application/json")


def _problem_page(p: ProblemType) -> str:
    """The problem type for a person who followed its URI in a browser: its description with
    the document's `code` spans kept as code, everything else escaped."""
    parts = html.escape(p.description, quote=False).split("`")
    described = "".join(f"<code>{t}</code>" if i % 2 else t for i, t in enumerate(parts))
    return _PROBLEM_PAGE.format(
        title=html.escape(p.title), status=p.status, type=html.escape(p.type), description=described
    )


@get(
    "/health",
    operation_id="health",
    **auth.PUBLIC,
    summary="Liveness",
    tags=["meta"],
    description="The process is up. Does not touch the database.",
)
async def health() -> Health:
    return Health(status="ok")


@get(
    "/ready",
    operation_id="ready",
    **auth.PUBLIC,
    summary="Readiness",
    tags=["meta"],
    description="The database answers and is migrated to the version this code expects.",
    responses={
        200: ResponseSpec(data_container=Readiness, description="Ready to serve."),
        **responses(503),
    },
)
async def ready(request: Request) -> Response[Any]:
    try:
        async with request.pool.acquire(timeout=2) as conn:
            version = await migrate.version(conn)
            server = await conn.fetchval("SHOW server_version")
    except (OSError, asyncpg.PostgresError, DatabaseUnreachable) as exc:  # TimeoutError: OSError
        return problem(
            "unavailable", f"Database unreachable or not migrated: {type(exc).__name__}."
        )
    if version != migrate.head():
        advice = (
            "run `claimdesk migrate`"
            if not migrate.newer(version)
            else "it is newer than this code: run the code that migrated it"
        )
        return problem(
            "unavailable",
            f"Database at migration {version}, this code expects {migrate.head()}; {advice}.",
        )
    return Response(Readiness(status="ready", database=f"PostgreSQL {server}", migration=version))


@get(
    "/problems/{slug:str}",
    operation_id="get_problem_type",
    **auth.PUBLIC,
    summary="Describe a problem type",
    tags=["meta"],
    description="Every problem `type` URI resolves here: what the problem means and what "
    "to do about it. A browser (`Accept` preferring `text/html`) gets the same as a page.",
    responses=responses(404),
)
async def problem_type(
    request: Request,
    slug: Annotated[str, PathParameter(description="The last part of a problem `type`.")],
) -> Response[ProblemType]:
    if slug not in PROBLEMS:
        raise NotFound("problem type", slug)
    status, title = PROBLEMS[slug]
    described = ProblemType(
        type=PROBLEM_BASE + slug, title=title, status=status, description=PROBLEM_DESCRIPTIONS[slug]
    )
    vary = {"Vary": "Accept"}  # a cache must not hand a browser's page to a client
    if _prefers_html(request.headers.get("accept", "")):
        # the document describes the JSON; the page is for a person, not a client
        page = _problem_page(described)
        return Response(page, media_type=MediaType.HTML, headers=vary)  # type: ignore[arg-type]
    return Response(described, headers=vary)


OPENAPI_DESCRIPTION = """\
claimdesk tracks **who said what, where, when and about whom**, and links contradictory
statements into disputes. Lists use keyset pagination (`limit`, `cursor` -> `next_cursor`).
Errors are RFC 9457 `application/problem+json`; validation problems name each field in
`errors`. Every change bumps `version` and is kept as a revision. A single resource comes
with an `ETag`: send it back in `If-None-Match` for a 304 while it is unchanged, and in
`If-Match` to write only if nobody else has changed it meanwhile (412 otherwise).

Send an API key as `Authorization: Bearer <key>`. Keys carry scopes: `read` for GET, `write`
also for every change, `admin` also for `/v1/api-keys` and `/v1/webhooks`. A missing or bad
key is a 401, a key without the scope a 403. `/health`, `/ready`, `/problems/*`, this document
and the `embed` operations (`/embed/*`, `/oembed`) are open.
"""


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="claimdesk",
        version=__version__,
        description=OPENAPI_DESCRIPTION,
        path="/schema",
        # /schema is the browsable reference (Scalar, loaded from its CDN); the document itself
        # is /schema/openapi.json.
        render_plugins=[ScalarRenderPlugin(), IndentedJsonRenderPlugin()],
        create_examples=False,
        use_handler_docstrings=False,
        security=[{auth.SECURITY_SCHEME: []}],
        components=Components(
            security_schemes={
                auth.SECURITY_SCHEME: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="An API key from `claimdesk keys create` or "
                    "`POST /v1/api-keys`, e.g. `Authorization: Bearer cd_…`.",
                )
            }
        ),
        tags=[
            Tag(
                name="actors",
                description="People, organizations, states, armed groups, "
                "media and unnamed groups that speak or are spoken of.",
            ),
            Tag(name="sources", description="Where claims appear: articles, statements, posts."),
            Tag(name="claims", description="One statement by one speaker, with provenance."),
            Tag(
                name="disputes",
                description="Questions on which claims disagree, read as their sides.",
            ),
            Tag(
                name="reviews",
                description="Fact-check verdicts on claims, after schema.org ClaimReview.",
            ),
            Tag(
                name="search",
                description="Ranked search across actors, claims and disputes, in any spelling.",
            ),
            Tag(
                name="changes",
                description="The change feed: every change, once each, in a stable order.",
            ),
            Tag(
                name="webhooks",
                description="Signed POSTs of change events to subscribed URLs, with retries, "
                "a delivery log and redelivery (admin only).",
            ),
            Tag(
                name="api-keys",
                description="Keys that authenticate clients, with scopes (admin only).",
            ),
            Tag(
                name="embed",
                description="For published pages, without an API key: dispute cards (HTML), "
                "oEmbed, ClaimReview JSON-LD.",
            ),
            Tag(name="meta", description="Health, readiness and problem types."),
        ],
    )


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], float] | None = None,
) -> Litestar:
    """The application. ``settings.database_url`` must be set (the CLI resolves the embedded
    server before calling this); tests may hand in a monotonic ``clock`` (seconds) for the
    rate limits."""
    limiter = rate_limiter(settings.rate_limit_per_minute, settings.rate_limit_burst, clock=clock)

    @asynccontextmanager
    async def webhooks(app: Litestar) -> AsyncIterator[None]:
        # The delivery worker, in the background of this process (CLAIMDESK_WEBHOOK_WORKER).
        if not settings.webhook_worker:
            yield
            return
        async with webhook_worker.in_background(settings):
            yield

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if not settings.database_url:
            raise RuntimeError("create_app needs settings.database_url")
        app.state.pool = await db.create_pool(settings, settings.database_url)
        try:
            app.state.search_pool = await db.create_pool(
                settings, settings.database_url, search=True
            )
        except BaseException:
            await app.state.pool.close()
            raise
        log.info("database_pool_open", database=db.redact(settings.database_url))
        try:
            yield
        finally:
            try:
                await app.state.search_pool.close()
            finally:
                await app.state.pool.close()

    key_cache = auth.KeyCache(settings.key_cache_seconds)
    # one of several worker processes: keep-alive connections spread evenly (service.balance)
    balancer = balance.this_worker()

    app = Litestar(
        route_handlers=[
            health,
            ready,
            problem_type,
            ActorController,
            SourceController,
            ClaimController,
            list_contradictions,
            get_claim_review,
            DisputeController,
            ReviewController,
            search,
            list_similar,
            ApiKeyController,
            list_changes,
            WebhookController,
            get_dispute_card,
            get_claim_review_embed,
            get_oembed,
        ],
        request_class=Request,  # handlers read the pool and conditions from it (service.deps)
        exception_handlers=exception_handlers,
        # Outermost first: the connection's balance over workers, who is asking
        # (scope["state"]["api_key_id"]), their rate limit, then idempotency keys (kept per
        # API key). The request id is given before routing (below).
        middleware=[
            *([balance.balance_middleware(balancer)] if balancer is not None else []),
            auth.auth_middleware(settings.public_read, key_cache),
            *([limiter.middleware] if limiter is not None else []),
            idempotency_middleware(settings),
        ],
        before_request=check_request,
        lifespan=[lifespan, webhooks],
        on_startup=[balancer.start] if balancer is not None else [],
        openapi_config=openapi_config(),
        request_max_body_size=settings.max_body_bytes,
        debug=False,
        logging_config=None,
    )
    app.state.key_cache = key_cache
    app.state.settings = settings
    app.state.common_lexemes = search_queries.CommonLexemes()
    tidy_openapi(app)
    if limiter is not None:
        # Responses no route middleware saw (no route, 405) are counted too.
        app.asgi_handler = limiter.wrap(app.asgi_handler)
    # Around the router, not a route's middleware: a request no route takes (a 404, a 405,
    # a 429 on such a path) has its id, in its problem and its X-Request-ID, and its access
    # line too.
    app.asgi_handler = request_id_middleware(app.asgi_handler)
    head_and_options(app)
    embed_cors(app)
    path_prefix(app, settings)
    learn_parameters(app)  # the input guard's table, before any request
    return app
