"""A claim's reviews as schema.org ClaimReview JSON-LD, ready to paste into a page."""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec

from service.claims.schemas import Claim


class LdAgent(msgspec.Struct, kw_only=True):
    type: Literal["Person", "Organization"] = msgspec.field(name="@type")
    name: str


class LdCreativeWork(msgspec.Struct, kw_only=True, omit_defaults=True):
    type: Literal["CreativeWork"] = msgspec.field(name="@type")
    headline: str
    url: str | None = None


class LdClaim(msgspec.Struct, kw_only=True, omit_defaults=True):
    type: Literal["Claim"] = msgspec.field(name="@type")
    author: LdAgent
    datePublished: str | None = None
    appearance: list[LdCreativeWork]
    firstAppearance: LdCreativeWork | None = None


class LdRating(msgspec.Struct, kw_only=True):
    type: Literal["Rating"] = msgspec.field(name="@type")
    ratingValue: int
    bestRating: int
    worstRating: int
    alternateName: str


class ClaimReviewLD(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One ClaimReview (https://schema.org/ClaimReview)."""

    context: Literal["https://schema.org"] = msgspec.field(name="@context")
    type: Literal["ClaimReview"] = msgspec.field(name="@type")
    claimReviewed: str
    itemReviewed: LdClaim
    reviewRating: LdRating
    author: LdAgent
    url: str | None = None
    datePublished: str | None = None
    inLanguage: str | None = None
    reviewBody: str | None = None


def _agent(kind: str, name: str) -> LdAgent:
    return LdAgent(type="Person" if kind == "person" else "Organization", name=name)


def _claim_text(claim: Claim, lang: str | None) -> str:
    """The claim in the review's language when a translation exists, else as said."""
    if lang:
        for translation in claim.translations:
            if translation.lang.split("-")[0] == lang.split("-")[0]:
                return translation.text
    return claim.text


def published(claim: Claim, today: date) -> Claim:
    """``claim`` with the reviews published by ``today`` alone, for the public surfaces (the
    card, its JSON-LD, the claim's ClaimReview embed): a review dated later is a fact-check
    scheduled to appear, kept off them until its day (UTC); the API shows it to its keys."""
    shown = [r for r in claim.reviews if r.published_at is None or r.published_at <= today]
    return (
        claim if len(shown) == len(claim.reviews) else msgspec.structs.replace(claim, reviews=shown)
    )


def claim_reviews(claim: Claim) -> list[ClaimReviewLD]:
    """Every review of ``claim``; an empty list when it has none."""
    if claim.stated_on is None:
        stated = None
    elif claim.stated_on_precision == "year":
        stated = str(claim.stated_on.year)
    elif claim.stated_on_precision == "month":
        stated = claim.stated_on.isoformat()[:7]
    else:
        stated = claim.stated_on.isoformat()
    appearances = [
        LdCreativeWork(type="CreativeWork", headline=a.source.title, url=a.source.url)
        for a in claim.appearances
    ]
    item = LdClaim(
        type="Claim",
        author=_agent(claim.speaker.kind, claim.speaker.name),
        datePublished=stated,
        appearance=appearances,
        firstAppearance=appearances[0] if appearances else None,
    )
    return [
        ClaimReviewLD(
            context="https://schema.org",
            type="ClaimReview",
            claimReviewed=_claim_text(claim, review.lang),
            itemReviewed=item,
            reviewRating=LdRating(
                type="Rating",
                ratingValue=review.rating.value,
                bestRating=review.rating.best,
                worstRating=review.rating.worst,
                alternateName=review.rating.label,
            ),
            author=_agent(review.reviewer.kind, review.reviewer.name),
            url=review.url,
            datePublished=review.published_at.isoformat() if review.published_at else None,
            inLanguage=review.lang,
            reviewBody=review.summary,
        )
        for review in claim.reviews
    ]
