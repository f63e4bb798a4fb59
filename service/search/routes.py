"""GET /v1/search: HTTP only; SQL lives in ``queries``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, get_args
from uuid import UUID

import msgspec
from litestar import Response, get
from litestar.openapi.spec import Example
from litestar.params import PathParameter, QueryParameter

from service import references
from service.claims.schemas import DisputeStatus
from service.deps import Request
from service.errors import check_range, in_words, invalid, listed, responses
from service.pagination import Cursor, Limit, decode_cursor, page, searchable
from service.responses import EncodedJson
from service.schemas import TOPIC_PATTERN
from service.search import queries
from service.search.schemas import (
    HitType,
    SearchFilters,
    SearchHit,
    SearchPage,
    SimilarPage,
)
from service.text.highlight import (
    BIDI_CONTROL,
    BIDI_CONTROL_UTF8,
    phrases_of,
    plain,
    shorten,
    snippet,
    terms_of,
)
from service.text.lang import LANG_PATTERN
from service.text.stopwords import search_words

ALL_TYPES: frozenset[HitType] = frozenset(get_args(HitType))
# Filters that only make sense for some types keep the search to those types.
_ONLY = {
    "lang": {"claim"},
    "speaker_id": {"claim"},
    "target_id": {"claim"},
    "stated_from": {"claim"},
    "stated_to": {"claim"},
    "topic": {"claim", "dispute"},
    "status": {"dispute"},
}


# (a constant: annotations are read late, and the words must be known before any request)
TYPES_PATTERN = in_words(
    r"^(actor|claim|dispute)(,(actor|claim|dispute))*\Z",
    "Expected actor, claim or dispute, or several of them comma-separated (such as claim,dispute)",
)


@get(
    "/v1/search",
    operation_id="search",
    summary="Search actors, claims and disputes",
    tags=["search"],
    description="Ranked hits across resources, in any spelling: hamza, diacritics (Arabic "
    "and Latin: `Erdogan` finds `Erdoğan`), tatweel, "
    "ta marbuta, alef maqsura and the Persian keyboard's keheh and yeh (`آکار` finds "
    "`آكار`) are folded, Arabic and English words are "
    "stemmed, an Arabic word finds the texts that write it with the article or a particle "
    "on it (`صعوبات` finds `الصعوبات`, `انسحاب` finds `بانسحاب`, `غزة` finds `لغزة`; ranked "
    "below those that write it as searched), a word typed with the article is also looked "
    "for without it (but one typed with another particle is not), "
    "and names match exactly, by prefix or fuzzily. A filter that only "
    "concerns some types (e.g. `speaker_id`: claims) keeps the search to them. "
    "`snippet` is HTML: escaped text with the matches in `<mark>`. Stop words "
    "(`من`, `في`, `the`, `of`…) are left out of the full text unless in a quoted phrase; a "
    "query of nothing else finds actors by name only.",
    responses=responses(308, 422),
)
async def search(
    request: Request,
    q: Annotated[
        str,
        QueryParameter(
            min_length=1,
            max_length=200,
            description='What to look for: words, a phrase in quotes (`"safe zone"`: its '
            "words side by side, in order), `or` between alternatives, and `-word` or "
            '`-"a phrase"` to leave out the texts that hold it in any form a word is found by '
            "(as written, without its article or a particle, through its stem), wherever it "
            "stands in the query (`قسد or -روسيا` is `قسد` without `روسيا`).",
            examples=[
                Example(summary="Akar without hamza", value="اكار"),
                Example(summary="A misspelled name", value="Hulusi Akr"),
                Example(summary="The safe zone", value="المنطقة الآمنة"),
            ],
        ),
    ],
    type: Annotated[
        str | None,
        QueryParameter(
            pattern=TYPES_PATTERN,
            description="Comma-separated types to search (default: all).",
            examples=[Example(summary="Claims and disputes", value="claim,dispute")],
        ),
    ] = None,
    lang: Annotated[str | None, QueryParameter(pattern=LANG_PATTERN, max_length=35)] = None,
    speaker_id: Annotated[UUID | None, QueryParameter(description="Claims by this actor.")] = None,
    target_id: Annotated[
        UUID | None, QueryParameter(description="Claims about this actor.")
    ] = None,
    topic: Annotated[str | None, QueryParameter(pattern=TOPIC_PATTERN, max_length=64)] = None,
    stated_from: Annotated[
        date | None, QueryParameter(description="Claims whose stated period ends on or after.")
    ] = None,
    stated_to: Annotated[
        date | None, QueryParameter(description="Claims whose stated period starts on or before.")
    ] = None,
    status: Annotated[
        DisputeStatus | None, QueryParameter(description="Disputes with this status.")
    ] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response[SearchPage]:
    searchable(q, "q")
    types: frozenset[HitType] = ALL_TYPES
    if type:  # the pattern admits only known names
        types = frozenset(t for t in ALL_TYPES if t in type.split(","))
    given = {
        "lang": lang,
        "speaker_id": speaker_id,
        "target_id": target_id,
        "stated_from": stated_from,
        "stated_to": stated_to,
        "topic": topic,
        "status": status,
    }
    check_range("stated_from", stated_from, "stated_to", stated_to)
    for name, value in given.items():
        if value is not None:
            if not types & _ONLY[name]:
                # `type`, or another filter, leaves out every type this one applies to: say
                # so, not an empty page
                only = listed([f"{t}s" for t in sorted(_ONLY[name])], "and")
                raise invalid(
                    name,
                    f"Filters {only} only, which `type` or another filter leaves out.",
                    "query",
                )
            types &= _ONLY[name]
    filters = SearchFilters(
        types=types,
        lang=lang,
        speaker_id=speaker_id,
        target_id=target_id,
        topic=topic,
        stated_from=stated_from,
        stated_to=stated_to,
        status=status,
    )
    after = decode_cursor(cursor, "search", float, str, UUID, names=ALL_TYPES) if cursor else None
    words = search_words(q)
    async with request.search_pool.acquire() as conn:
        rows = await queries.search(
            conn, words, filters, limit + 1, after, request.app.state.common_lexemes
        )
        if not rows:  # a merged actor: 308; an id nothing has: 422
            await references.explain_empty(conn, {"speaker_id": speaker_id, "target_id": target_id})
    rows, next_cursor = page(rows, limit, "search", lambda r: (r["score"], r["type"], r["id"]))
    terms = terms_of(words.words) or terms_of(words.named)  # not every من, nor what is excluded
    phrases = phrases_of(words.words)  # a phrase's words where they are side by side
    hits = []
    for row in rows:
        texts = [row["body"], *(row["translations"] or ())]
        marked = next((s for t in texts if (s := snippet(t, terms, phrases=phrases))), None)
        title = row["title"]
        if row["type"] == "claim":  # the speaker, and the start of what they said, one line
            title = f"{title}: {shorten(' '.join(row['body'].split()), 80)}"
        hits.append(
            SearchHit(
                type=row["type"],
                id=row["id"],
                title=title,
                snippet=marked or plain(row["body"]),
                score=round(row["score"], 6),
            )
        )
    # encoded here, not by Litestar's response path (some 55,000 of 2.96 million instructions)
    incomplete = bool(rows and rows[0]["incomplete"])
    found = SearchPage(data=hits, next_cursor=next_cursor, incomplete_results=incomplete)
    body = msgspec.json.encode(found)
    if BIDI_CONTROL_UTF8.search(body):  # rare: a snippet must open no override (highlight)
        for hit in hits:
            hit.snippet = BIDI_CONTROL.sub("", hit.snippet)
        body = msgspec.json.encode(found)
    return EncodedJson(body)


@get(
    "/v1/claims/{claim_id:str}/similar",
    operation_id="list_similar_claims",
    summary="List claims similar to a claim",
    tags=["claims", "search"],
    description="Claims by other speakers whose text or translations share this claim's "
    "content words, a shared topic ranking higher: where to look for disputes "
    "nobody has linked yet. Best first.",
    responses=responses(404, 422),
)
async def list_similar(
    request: Request,
    claim_id: Annotated[UUID, PathParameter(description="The claim's id.")],
    limit: Limit = 20,
    cursor: Cursor = None,
) -> SimilarPage:
    after = decode_cursor(cursor, "similar", float, UUID) if cursor else None
    async with request.pool.acquire() as conn:
        rows = await queries.similar(conn, claim_id, limit + 1, after)
    data, next_cursor = page(rows, limit, "similar", lambda s: (s.score, s.claim.id))
    return SimilarPage(data=data, next_cursor=next_cursor)
