"""The change feed: change events, a page of them and the cursor to poll from."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

from service.schemas import Timestamp

# What a change event says, as the feed lists it and a webhook's delivery tells it
# (``service.webhooks.schemas.WebhookEventData``).
Action = Annotated[
    str,
    msgspec.Meta(
        description="What happened: `create`, `update`, `delete` (more may be added, such as "
        "`merge`; ignore ones you do not know)."
    ),
]
Version = Annotated[
    int,
    msgspec.Meta(
        description="The resource's version after the change (for a delete: the version "
        "the delete made)."
    ),
]
OccurredAt = Annotated[Timestamp, msgspec.Meta(description="When the writing transaction started.")]
ChangedBy = Annotated[
    str, msgspec.Meta(description="The name of the API key (or the command) that made it.")
]
KeyId = Annotated[
    UUID | None, msgspec.Meta(description="The API key that made it (null for a command).")
]
MergedIntoId = Annotated[
    UUID | None,
    msgspec.Meta(
        description="A `merge` only: the actor it was merged into (the merged actor's "
        "URL answers 308 to where it is now, should that one be merged in turn)."
    ),
]


class ChangeEvent(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One create, update, delete (or merge, status change...) of one resource."""

    id: Annotated[
        int,
        msgspec.Meta(
            description="The event's own id: unique, for de-duplicating. The feed is not in "
            "`id` order (it is in the order of the transactions that wrote the events)."
        ),
    ]
    type: Annotated[
        str,
        msgspec.Meta(
            description="The resource type: `actor`, `source`, `claim`, `dispute` or `review`."
        ),
    ]
    resource_id: UUID
    action: Action
    version: Version
    occurred_at: OccurredAt
    changed_by: ChangedBy
    key_id: KeyId
    merged_into_id: MergedIntoId = None


class ChangePage(msgspec.Struct, kw_only=True):
    data: list[ChangeEvent]
    next_cursor: Annotated[
        str,
        msgspec.Meta(
            description="Where the next poll starts: store it and send it back as `after`. "
            "Always present, even on an empty page."
        ),
    ]
    has_more: Annotated[
        bool,
        msgspec.Meta(
            description="More finished events are waiting: ask again at once. `false`: you "
            "are up to date; poll again later with `next_cursor`."
        ),
    ]
