"""/embed and /oembed: what a published page shows of a dispute, to anyone, without a key.

- ``GET /embed/disputes/{id}``: the dispute card, one self-contained HTML document (see
  :mod:`service.embed.render`) meant for an ``<iframe>``.
- ``GET /oembed?url=...``: oEmbed 1.0, type ``rich``, for a card's (or the API's) URL of a
  dispute: the ``<iframe>`` snippet a CMS pastes.
- ``GET /embed/claims/{id}/claim-review.jsonld``: a claim's ClaimReview JSON-LD, for a page's
  ``<head>``.

All three are public (``auth.PUBLIC``) and answer 404 when ``CLAIMDESK_EMBEDS`` is false.
They expose what a dispute card shows, for any dispute whatever its status (open, resolved
or dismissed): claims are recorded from public sources and disputes are there to be published.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal
from urllib.parse import parse_qs, urlencode, urlsplit
from uuid import UUID

import msgspec
from litestar import MediaType, Response, get
from litestar.connection import ASGIConnection
from litestar.datastructures import ResponseHeader
from litestar.handlers import BaseRouteHandler
from litestar.params import PathParameter, QueryParameter

from service import auth
from service.claims import queries as claims
from service.deps import Request
from service.embed import i18n, queries, render
from service.errors import Missing, NotImplementedHere, invalid, responses
from service.etag import NOT_MODIFIED, TAKES_IF_NONE_MATCH, tag_for
from service.reviews.jsonld import ClaimReviewLD, claim_reviews, published
from service.settings import Settings
from service.text.lang import LANG_PATTERN

JSON_LD: Final = "application/ld+json"
MAX_AGE: Final = 60  # seconds a card, its JSON-LD or an oEmbed answer may be reused
OEMBED_CACHE_AGE: Final = 3600
DEFAULT_WIDTH: Final = 640
# The card is a document of its own: no script runs, nothing is fetched, any page may frame it.
CSP: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors *"
)
_HOST: Final = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$"
)
_CARD_PATH: Final = re.compile(r"^/(?:embed|v1)/disputes/([^/]+)/?$")

DisputeId = Annotated[UUID, PathParameter(description="The dispute's id.")]
CardLang = Annotated[
    str | None,
    QueryParameter(
        pattern=LANG_PATTERN,
        max_length=35,
        description="The card's own language (headings, dates): `en` or `ar`; another "
        "language falls back to English. Unset: the best of the reader's `Accept-Language`, "
        "else English. Claims, names and sources are shown in their own languages whatever "
        "this is.",
    ),
]


def _header(name: str, value: str, description: str) -> ResponseHeader:
    return ResponseHeader(
        name=name, value=value, documentation_only=True, required=True, description=description
    )


PUBLIC_HEADERS: Final = [
    _header(
        "ETag",
        '"3-5f0c2a1e9b7d4c6a"',
        "Strong tag of these exact bytes; send it in `If-None-Match` for a 304.",
    ),
    _header("Cache-Control", f"public, max-age={MAX_AGE}", "Any cache may keep it a minute."),
    _header("X-Content-Type-Options", "nosniff", "Browsers take the media type as given."),
    _header("Access-Control-Allow-Origin", "*", "Any page's script may read it."),
    _header("Access-Control-Expose-Headers", "ETag", "A script may read its ETag."),
]
CARD_HEADERS: Final = [
    *PUBLIC_HEADERS,
    _header(
        "Content-Security-Policy",
        CSP,
        "Nothing is loaded and no script runs; any page may frame the card.",
    ),
]


class OEmbed(msgspec.Struct, kw_only=True):
    """An oEmbed 1.0 response of type ``rich`` (https://oembed.com)."""

    version: Literal["1.0"]
    type: Literal["rich"]
    html: Annotated[str, msgspec.Meta(description="The `<iframe>` showing the card.")]
    width: Annotated[int, msgspec.Meta(ge=1)]
    height: Annotated[int, msgspec.Meta(ge=1)]
    title: str
    provider_name: str
    provider_url: str
    cache_age: Annotated[int, msgspec.Meta(ge=0, description="Seconds it may be kept.")]


def embeds_on(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: 404 when ``CLAIMDESK_EMBEDS`` is false, before any parameter is looked at."""
    if not _settings(connection).embeds:
        raise Missing("Embeds are turned off on this service (CLAIMDESK_EMBEDS=false).")


def _settings(connection: ASGIConnection[Any, Any, Any, Any]) -> Settings:
    settings: Settings = connection.app.state.settings
    return settings


def base_url(request: Request, settings: Settings) -> str:
    """Where readers reach this service: ``CLAIMDESK_PUBLIC_URL``, else the request's scheme
    (uvicorn honours ``X-Forwarded-Proto`` from a trusted proxy) and ``Host`` header (the
    address it was reached at when that header is missing or malformed)."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    scope = request.scope
    host = request.headers.get("host", "")
    if not _HOST.match(host):
        server = scope.get("server") or ("localhost", None)
        host = server[0] if server[1] in (None, 80, 443) else f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}".rstrip("/")


def _public(
    body: bytes,
    media_type: str,
    tag: str,
    if_none_match: Any,
    extra: dict[str, str] | None = None,
) -> Response[Any]:
    headers = {
        "ETag": tag,
        "Cache-Control": f"public, max-age={MAX_AGE}",
        "X-Content-Type-Options": "nosniff",
        **(extra or {}),
    }
    if if_none_match is not None and if_none_match.matches_weakly(tag):
        return Response(b"", status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def _card_url(base: str, dispute_id: UUID, lang: str | None) -> str:
    url = f"{base}/embed/disputes/{dispute_id}"
    return f"{url}?{urlencode({'lang': lang})}" if lang else url


@get(
    "/embed/disputes/{dispute_id:str}",
    operation_id="get_dispute_card",
    **auth.PUBLIC,
    guards=[embeds_on],
    summary="A dispute as an embeddable HTML card",
    tags=["embed"],
    description="One self-contained HTML document (inline CSS; no script, font, image or "
    "stylesheet loaded from anywhere) for an `<iframe>`: the question, both sides (and those "
    "who question it) with each claim in its own language and direction, its speaker (and "
    "their role then), date, sources, fact-checks, and the verdict once resolved. Public: no "
    "API key. Its `<head>` holds the ClaimReview JSON-LD of the reviewed claims and the "
    "oEmbed discovery link. 404 when embeds are turned off.",
    media_type=MediaType.HTML,
    response_headers=CARD_HEADERS,
    responses={**responses(404, 422), **NOT_MODIFIED},
    **TAKES_IF_NONE_MATCH,
)
async def get_dispute_card(
    request: Request, dispute_id: DisputeId, lang: CardLang = None
) -> Response[str]:
    settings = _settings(request)
    card_lang = i18n.negotiate(lang, request.headers.get("accept-language"))
    async with request.pool.acquire() as conn:
        card = await queries.card(conn, dispute_id)
    base = base_url(request, settings)
    card_url = _card_url(base, dispute_id, lang)
    oembed = f"{base}/oembed?{urlencode({'url': card_url, 'format': 'json'})}"
    body = render.card_html(card, lang=card_lang, card_url=card_url, oembed_url=oembed).encode()
    extra = {"Content-Security-Policy": CSP, "Referrer-Policy": "strict-origin-when-cross-origin"}
    if lang is None:
        extra["Vary"] = "Accept-Language"
    return _public(
        body,
        MediaType.HTML,
        tag_for(card.dispute.version, body),
        request.if_none_match(),
        extra,
    )


@get(
    "/embed/claims/{claim_id:str}/claim-review.jsonld",
    operation_id="get_claim_review_embed",
    **auth.PUBLIC,
    guards=[embeds_on],
    summary="A claim's ClaimReview JSON-LD, public",
    tags=["embed"],
    description="The same array of schema.org ClaimReview objects as "
    "`GET /v1/claims/{claim_id}/claim-review` (empty when the claim has no review), without "
    "an API key, for a CMS to put in a page's `<head>` inside "
    '`<script type="application/ld+json">`. `<`, `>` and `&` are written as `\\u` escapes, '
    "so the text can be pasted into that element as it is. 404 when embeds are turned off.",
    media_type=JSON_LD,
    response_headers=PUBLIC_HEADERS,
    responses={**responses(404, 422), **NOT_MODIFIED},
    **TAKES_IF_NONE_MATCH,
)
async def get_claim_review_embed(
    request: Request, claim_id: Annotated[UUID, PathParameter(description="The claim's id.")]
) -> Response[list[ClaimReviewLD]]:
    async with request.pool.acquire() as conn:
        claim = await claims.get(conn, claim_id)
    body = render.json_ld_text(claim_reviews(published(claim, datetime.now(UTC).date()))).encode()
    return _public(body, JSON_LD, tag_for(claim.version, body), request.if_none_match())


def _ours(url: str, base: str) -> tuple[UUID, str | None]:
    """The dispute a card URL (or an API URL of a dispute) on this service names, and the
    card language it asks for; :class:`Missing` for any other URL."""
    not_ours = Missing(f"'{url[:200]}' is not the URL of a dispute on this service.")
    try:
        given, home = urlsplit(url.strip()), urlsplit(base)
        port, home_port = given.port, home.port
    except ValueError:
        raise not_ours from None
    default = {"http": 80, "https": 443}
    if (
        given.scheme.lower() not in default
        or (given.hostname or "").lower() != (home.hostname or "").lower()
        or (port or default[given.scheme.lower()])
        != (home_port or default.get(home.scheme.lower(), 80))
    ):
        raise not_ours
    prefix = home.path.rstrip("/")
    if not given.path.startswith(prefix + "/"):
        raise not_ours
    match = _CARD_PATH.match(given.path[len(prefix) :])
    if match is None:
        raise not_ours
    try:
        dispute_id = UUID(match.group(1))
    except ValueError:
        raise not_ours from None
    # its `lang` as the card reads it (decoded; one, well-formed): a URL the card would answer
    # with a 422 is not one to embed
    langs = parse_qs(given.query, keep_blank_values=True).get("lang", [])
    if len(langs) > 1:
        raise invalid("url", "The card's lang is sent more than once: give one.", "query")
    if langs and not (re.match(LANG_PATTERN, langs[0]) and len(langs[0]) <= 35):
        raise invalid(
            "url", "The card's lang is not a language tag (such as ar, en or ar-SY).", "query"
        )
    return dispute_id, langs[0] if langs else None


@get(
    "/oembed",
    operation_id="get_oembed",
    **auth.PUBLIC,
    guards=[embeds_on],
    summary="oEmbed for a dispute card",
    tags=["embed"],
    description="oEmbed 1.0 (https://oembed.com), type `rich`: for the URL of a dispute card "
    "(`/embed/disputes/{id}`, `?lang=` kept) or of a dispute in the API "
    "(`/v1/disputes/{id}`) on this service, the `<iframe>` that shows its card, within "
    "`maxwidth` and `maxheight`. 404 for any other URL, for a dispute that does not exist, "
    "and when embeds are turned off; 501 for `format=xml` (JSON only). Public: no API key.",
    response_headers=PUBLIC_HEADERS[1:],
    responses=responses(404, 422, 501),
)
async def get_oembed(
    request: Request,
    url: Annotated[
        str,
        QueryParameter(
            max_length=4096,
            description="The card's URL (or the dispute's URL in the API).",
        ),
    ],
    format: Annotated[
        Literal["json", "xml"],
        QueryParameter(description="`json`; `xml` is a 501."),
    ] = "json",
    maxwidth: Annotated[
        int | None, QueryParameter(ge=1, le=100_000, description="Widest iframe, in pixels.")
    ] = None,
    maxheight: Annotated[
        int | None, QueryParameter(ge=1, le=100_000, description="Tallest iframe, in pixels.")
    ] = None,
) -> Response[OEmbed]:
    settings = _settings(request)
    if format != "json":
        raise NotImplementedHere("Only format=json is served.")
    base = base_url(request, settings)
    dispute_id, lang = _ours(url, base)
    async with request.pool.acquire() as conn:
        card = await queries.card(conn, dispute_id)
    card_lang = i18n.negotiate(lang, None)
    width = min(DEFAULT_WIDTH, maxwidth or DEFAULT_WIDTH)
    height = render.estimated_height(card, width, card_lang)
    if maxheight is not None:
        height = min(height, maxheight)
    title = card.dispute.title
    iframe_title = i18n.text(card_lang, "iframe_title").replace("{title}", title)
    src = _card_url(base, dispute_id, lang)
    html = (
        f'<iframe src="{render.esc(src)}" width="{width}" height="{height}" '
        f'title="{render.plain(iframe_title)}" loading="lazy" '
        'sandbox="allow-popups allow-popups-to-escape-sandbox" '
        'referrerpolicy="strict-origin-when-cross-origin" '
        'style="border:0;max-width:100%"></iframe>'
    )
    body = OEmbed(
        version="1.0",
        type="rich",
        html=html,
        width=width,
        height=height,
        title=title,
        provider_name="claimdesk",
        provider_url=base + "/",
        cache_age=OEMBED_CACHE_AGE,
    )
    return Response(
        body,
        headers={
            "Cache-Control": f"public, max-age={MAX_AGE}",
            "X-Content-Type-Options": "nosniff",
        },
    )
