"""Webhook bodies: subscriptions, deliveries and their attempts (the delivery log)."""

from __future__ import annotations

from typing import Annotated, Literal, get_args
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from service.changes.schemas import Action, ChangedBy, KeyId, MergedIntoId, OccurredAt, Version
from service.schemas import HttpUrl, Input, Timestamp

# `<resource>.<action>` as the change feed names them (type and action), `<resource>.*` for
# every action on a resource (actions added later included), `*` for everything.
EventType = Literal[
    "*",
    "actor.*",
    "actor.create",
    "actor.update",
    "actor.delete",
    "actor.merge",
    "source.*",
    "source.create",
    "source.update",
    "source.delete",
    "claim.*",
    "claim.create",
    "claim.update",
    "claim.delete",
    "dispute.*",
    "dispute.create",
    "dispute.update",
    "dispute.delete",
    "review.*",
    "review.create",
    "review.update",
    "review.delete",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
EventTypes = Annotated[
    list[EventType],
    msgspec.Meta(
        min_length=1,
        max_length=len(EVENT_TYPES),
        description="The events to deliver: `<type>.<action>` as the change feed names them "
        "(`claim.create`, `dispute.update`, `actor.merge`...), `<type>.*` for every action on "
        "a type (including actions added later), `*` for every event. Repeats are dropped.",
        examples=[["claim.create", "claim.update", "dispute.*"]],
    ),
]
WebhookUrl = Annotated[
    HttpUrl,
    msgspec.Meta(
        description="Where to POST the events: an http(s) URL whose host resolves to public "
        "addresses only (loopback, private, link-local and other internal addresses are "
        "refused unless the service allows them), without credentials. Redirects are not "
        "followed.",
        examples=["https://cms.example/hooks/claimdesk"],
    ),
]
Description = Annotated[str, msgspec.Meta(max_length=500, description="What it is for.")]


class WebhookCreate(Input, kw_only=True):
    url: WebhookUrl
    event_types: EventTypes
    description: Description | None = None


class WebhookUpdate(Input, kw_only=True):
    """Fields not sent stay as they are; `null` clears `description`."""

    url: WebhookUrl | UnsetType = UNSET
    event_types: EventTypes | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    enabled: (
        Annotated[
            bool,
            msgspec.Meta(
                description="`false` stops deliveries; `true` resumes them (clearing "
                "`disabled_reason`): pending deliveries are retried at once, with a new retry "
                "window, and events from now on are delivered (not those of the time it was "
                "disabled: read them from the change feed)."
            ),
        ]
        | UnsetType
    ) = UNSET


class Webhook(msgspec.Struct, kw_only=True):
    """A subscription. Its secret is never shown again after its creation (or rotation)."""

    id: UUID
    url: str
    event_types: list[EventType]
    description: str | None
    enabled: bool
    disabled_reason: Annotated[
        str | None,
        msgspec.Meta(
            description="Why it is disabled: by whom, or the delivery that failed for 24 "
            "hours, or the receiver's 410 Gone."
        ),
    ]
    disabled_at: Timestamp | None
    last_success_at: Annotated[
        Timestamp | None, msgspec.Meta(description="The last delivery the receiver took (2xx).")
    ]
    previous_secret_expires_at: Annotated[
        Timestamp | None,
        msgspec.Meta(
            description="After a secret rotation, deliveries are signed with the old secret "
            "too until this time."
        ),
    ]
    created_at: Timestamp
    created_by: str
    updated_at: Timestamp


class WebhookCreated(Webhook, kw_only=True):
    secret: Annotated[
        str,
        msgspec.Meta(
            description="The signing secret (`whsec_` and base64), shown only in this answer: "
            "store it in the receiver to verify `webhook-signature`.",
            examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        ),
    ]


class WebhookPage(msgspec.Struct, kw_only=True):
    data: list[Webhook]
    next_cursor: str | None


WebhookDeliveryStatus = Literal["pending", "succeeded", "failed"]


class WebhookAttempt(msgspec.Struct, kw_only=True):
    attempt: Annotated[int, msgspec.Meta(description="1 for the first, counting redeliveries.")]
    started_at: Timestamp
    duration_ms: int | None
    status_code: Annotated[
        int | None, msgspec.Meta(description="The receiver's HTTP status; null without one.")
    ]
    response: Annotated[
        str | None, msgspec.Meta(description="The start of the receiver's answer (1,000 chars).")
    ]
    error: Annotated[
        str | None,
        msgspec.Meta(
            description="Why there was no usable answer: refused target, connection, timeout."
        ),
    ]


class WebhookDelivery(msgspec.Struct, kw_only=True):
    """One event for one subscription, with its attempts (newest first, the last 20)."""

    id: UUID
    webhook_id: UUID
    message_id: Annotated[
        str,
        msgspec.Meta(
            description="The `webhook-id` header of every attempt: the same on retries and "
            "redeliveries, so a receiver can drop repeats."
        ),
    ]
    event_id: Annotated[int, msgspec.Meta(description="The change event's `id` in the feed.")]
    event_type: str
    status: Annotated[
        WebhookDeliveryStatus,
        msgspec.Meta(
            description="`pending` (to be sent or retried), `succeeded` (a 2xx answer), "
            "`failed` (retried for 24 hours without success, or 410 Gone)."
        ),
    ]
    attempt_count: int
    next_attempt_at: Annotated[
        Timestamp | None, msgspec.Meta(description="When it is sent next (null once finished).")
    ]
    last_attempt_at: Timestamp | None
    last_status_code: int | None
    created_at: Timestamp
    finished_at: Timestamp | None
    payload: Annotated[
        WebhookEvent,
        msgspec.Meta(
            description="The body sent: in this response, the very bytes that were signed "
            "(keys in their order, no spaces added)."
        ),
    ]
    attempts: list[WebhookAttempt]


class WebhookEventData(
    msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True
):
    """The change event a delivery tells of, as the change feed lists it (``ChangeEvent``),
    with where to read the resource now and where to resume the feed."""

    event_id: Annotated[int, msgspec.Meta(description="The change feed's `id` of the event.")]
    resource: Annotated[
        str,
        msgspec.Meta(description="`actor`, `source`, `claim`, `dispute` or `review`."),
    ]
    id: Annotated[UUID, msgspec.Meta(description="The resource's id.")]
    action: Action
    version: Version
    occurred_at: OccurredAt
    changed_by: ChangedBy
    key_id: KeyId
    path: Annotated[
        str,
        msgspec.Meta(
            description="The resource's path from the service's root (`/v1/claims/...`): GET "
            "it for what the resource is now."
        ),
    ]
    feed_cursor: Annotated[
        str,
        msgspec.Meta(
            description="The change feed's position just after this event: a valid `after` "
            "of `GET /v1/changes`."
        ),
    ]
    merged_into_id: MergedIntoId = None


class WebhookEvent(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A delivery's body: Standard Webhooks' ``{type, timestamp, data}``."""

    type: Annotated[
        str,
        msgspec.Meta(
            description="`<resource>.<action>`, as subscriptions name them: `claim.update`, "
            "`actor.merge`..."
        ),
    ]
    timestamp: Annotated[Timestamp, msgspec.Meta(description="The event's `occurred_at`.")]
    data: WebhookEventData


class WebhookDeliveryPage(msgspec.Struct, kw_only=True):
    data: list[WebhookDelivery]
    next_cursor: str | None
