"""OpenAPI examples for disputes: the reference article's canonical one."""

from __future__ import annotations

from litestar.openapi.spec import Example

RUSSIA_CLAIM = "01937a5e-0000-7000-8000-00000000c105"
AKAR_CLAIM = "01937a5e-0000-7000-8000-00000000c106"

CREATE = [
    Example(
        summary="Has the SDF fully withdrawn from the safe zone?",
        value={
            "title": "SDF withdrawal from the safe zone",
            "question": "Has the SDF fully withdrawn from the safe zone?",
            "positions": [
                {"claim_id": RUSSIA_CLAIM, "stance": "affirms"},
                {"claim_id": AKAR_CLAIM, "stance": "denies"},
            ],
            "topics": ["safe-zone"],
        },
    ),
]
UPDATE = [
    Example(
        summary="Resolve it",
        value={
            "status": "resolved",
            "resolution": {
                "verdict": "denied",
                "note": "Turkey's defence ministry and later joint "
                "patrol reports found SDF members inside.",
            },
        },
    ),
    Example(
        summary="Dismiss it",
        value={"status": "dismissed", "dismissal": {"note": "Duplicate of another dispute."}},
    ),
    Example(summary="Reopen it", value={"status": "open"}),
]
POSITION = [
    Example(summary="Akar's claim denies", value={"claim_id": AKAR_CLAIM, "stance": "denies"})
]
STANCE = [Example(summary="It rather questions", value={"stance": "questions"})]
