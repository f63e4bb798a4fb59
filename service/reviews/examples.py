"""OpenAPI examples for reviews (a fictional demo fact-checker rates Russia's assurance)."""

from __future__ import annotations

from litestar.openapi.spec import Example

RUSSIA_CLAIM = "01937a5e-0000-7000-8000-00000000c105"
REVIEWER = "01937a5e-0000-7000-8000-0000000fc001"

CREATE = [
    Example(
        summary="Russia's withdrawal assurance: disputed",
        value={
            "claim_id": RUSSIA_CLAIM,
            "reviewer_id": REVIEWER,
            "rating": {"label": "Disputed", "value": 2, "best": 5, "worst": 1},
            "summary": "Turkey's defence minister says SDF members remain in the safe zone; "
            "the source offers no independent verification.",
            "published_at": "2019-11-25",
            "lang": "en",
        },
    ),
]
UPDATE = [
    Example(
        summary="Downgrade the rating",
        value={"rating": {"label": "Misleading", "value": 1, "best": 5, "worst": 1}},
    )
]
