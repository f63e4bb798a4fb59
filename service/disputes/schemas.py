"""Dispute bodies: a question on which claims disagree, read as its sides."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from service.claims.schemas import Claim, DisputeStatus, Stance, Topics
from service.schemas import Input, Stamped, Timestamp
from service.text.visible import LINE_PATTERN, TEXT_PATTERN

Verdict = Literal["affirmed", "denied", "mixed", "unproven"]
Title = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        pattern=LINE_PATTERN,
        max_length=300,
        examples=["SDF withdrawal from the safe zone"],
    ),
]
Question = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        pattern=LINE_PATTERN,
        max_length=1000,
        examples=["Has the SDF fully withdrawn from the safe zone?"],
    ),
]
StatusNote = Annotated[str, msgspec.Meta(min_length=1, pattern=TEXT_PATTERN, max_length=5000)]
MAX_POSITIONS = 200


class PositionInput(Input, kw_only=True):
    claim_id: UUID
    stance: Stance


class PositionUpdate(Input, kw_only=True):
    stance: Stance


class ResolutionInput(Input, kw_only=True):
    verdict: Annotated[
        Verdict,
        msgspec.Meta(
            description="Which side the evidence supports: `affirmed` (the affirming claims), "
            "`denied` (the denying ones), `mixed`, or `unproven`."
        ),
    ]
    note: StatusNote


class DismissalInput(Input, kw_only=True):
    note: StatusNote


class DisputeCreate(Input, kw_only=True):
    title: Title
    question: Question
    positions: Annotated[
        list[PositionInput],
        msgspec.Meta(
            min_length=2,
            max_length=MAX_POSITIONS,
            description="At least two claims holding at least two different stances.",
        ),
    ]
    topics: Topics = []


class DisputeUpdate(Input, kw_only=True):
    """Fields not sent stay as they are. `status: resolved` needs a `resolution`, `status:
    dismissed` a `dismissal`; `status: open` reopens (the revisions keep what was closed)."""

    title: Title | UnsetType = UNSET
    question: Question | UnsetType = UNSET
    topics: Topics | UnsetType = UNSET
    status: DisputeStatus | UnsetType = UNSET
    resolution: ResolutionInput | UnsetType = UNSET
    dismissal: DismissalInput | UnsetType = UNSET


class Resolution(msgspec.Struct, kw_only=True):
    verdict: Verdict
    note: str
    resolved_at: Annotated[
        Timestamp,
        msgspec.Meta(
            description="When the dispute was resolved, or its verdict last changed (set by "
            "the service; a note mended keeps it)."
        ),
    ]


class Dismissal(msgspec.Struct, kw_only=True):
    note: str
    dismissed_at: Timestamp


class Position(msgspec.Struct, kw_only=True):
    claim_id: UUID
    stance: Stance
    added_at: Timestamp
    claim: Claim


class Sides(msgspec.Struct, kw_only=True):
    """The dispute's claims grouped by stance, each side ordered by when it was stated."""

    affirms: list[Position]
    denies: list[Position]
    questions: list[Position]


class Dispute(Stamped, kw_only=True):
    title: str
    question: str
    status: DisputeStatus
    resolution: Resolution | None
    dismissal: Dismissal | None
    topics: list[str]
    sides: Sides


class DisputePage(msgspec.Struct, kw_only=True):
    data: list[Dispute]
    next_cursor: str | None


class DisputeRef(msgspec.Struct, kw_only=True):
    id: UUID
    title: str
    status: DisputeStatus


class Contradiction(msgspec.Struct, kw_only=True):
    """A claim on another side of a dispute the asked-about claim stands in."""

    dispute: DisputeRef
    stance: Annotated[Stance, msgspec.Meta(description="This claim's stance.")]
    against: Annotated[Stance, msgspec.Meta(description="The asked-about claim's stance.")]
    claim: Claim


class ContradictionPage(msgspec.Struct, kw_only=True):
    data: list[Contradiction]
    next_cursor: str | None


class DisputeFilters(msgspec.Struct, kw_only=True):
    status: DisputeStatus | None = None
    actor_id: UUID | None = None
    claim_id: UUID | None = None
    topic: str | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None
