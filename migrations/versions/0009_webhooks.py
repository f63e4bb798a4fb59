"""Webhooks: subscriptions, the fan-out position in the change feed, deliveries and their
attempts (the delivery log).

The change events themselves are the outbox (written in each write's transaction); a worker
fans them out into ``webhook_deliveries`` in change-feed order, moving ``webhook_fanout`` in
the same transaction, and sends the deliveries.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from __future__ import annotations

from migrations import execute_script

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UP = r"""
CREATE TABLE webhooks (
    id               uuid PRIMARY KEY,
    url              text NOT NULL CONSTRAINT webhooks__url CHECK (char_length(url) <= 2048),
    event_types      text[] NOT NULL
                     CONSTRAINT webhooks__event_types CHECK (cardinality(event_types) >= 1),
    description      text,
    -- The signing secret ("whsec_" + base64), kept as it is: an HMAC needs the key itself.
    secret           text NOT NULL CONSTRAINT webhooks__secret CHECK (left(secret, 6) = 'whsec_'),
    -- After a rotation the old secret also signs, until previous_secret_expires_at.
    previous_secret  text,
    previous_secret_expires_at timestamptz,
    enabled          boolean NOT NULL DEFAULT true,
    disabled_reason  text,
    disabled_at      timestamptz,
    -- Events of transactions from this one on (the change feed's horizon when the subscription
    -- was created or last enabled) are delivered; earlier ones are not.
    start_txid       xid8 NOT NULL,
    last_success_at  timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    created_by       text NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhooks__disabled CHECK (enabled OR disabled_at IS NOT NULL)
);

-- Where the fan-out stands in the change feed: the last (txid, id) passed. One row.
CREATE TABLE webhook_fanout (
    only_row  boolean PRIMARY KEY DEFAULT true CONSTRAINT webhook_fanout__one_row CHECK (only_row),
    txid      xid8 NOT NULL,
    event_id  bigint NOT NULL
);
INSERT INTO webhook_fanout (txid, event_id) VALUES (pg_snapshot_xmin(pg_current_snapshot()), 0);

CREATE TABLE webhook_deliveries (
    id                uuid PRIMARY KEY,
    webhook_id        uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id          bigint NOT NULL REFERENCES change_events (id),
    event_type        text NOT NULL,
    -- The exact body sent on every attempt (its signature covers these bytes).
    payload           text NOT NULL,
    status            text NOT NULL DEFAULT 'pending'
                      CONSTRAINT webhook_deliveries__status
                      CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts          integer NOT NULL DEFAULT 0,
    -- The current round of retries (a redelivery or re-enabling starts a new one).
    round_attempts    integer NOT NULL DEFAULT 0,
    round_started_at  timestamptz,
    next_attempt_at   timestamptz,
    -- Set while a worker sends it: no other worker takes it before this time.
    lease_until       timestamptz,
    last_attempt_at   timestamptz,
    last_status_code  smallint,
    created_at        timestamptz NOT NULL,
    finished_at       timestamptz,
    CONSTRAINT webhook_deliveries__once UNIQUE (webhook_id, event_id),
    CONSTRAINT webhook_deliveries__due CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL))
);
-- The worker's claim: due deliveries, oldest due first.
CREATE INDEX webhook_deliveries__due_idx ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
-- The delivery log of one subscription, newest first.
CREATE INDEX webhook_deliveries__log_idx ON webhook_deliveries (webhook_id, id);
-- Cleaning up finished deliveries past the retention.
CREATE INDEX webhook_deliveries__finished_idx ON webhook_deliveries (finished_at)
    WHERE status <> 'pending';

CREATE TABLE webhook_attempts (
    delivery_id  uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt      integer NOT NULL,
    started_at   timestamptz NOT NULL,
    duration_ms  integer,
    status_code  smallint,
    response     text,
    error        text,
    PRIMARY KEY (delivery_id, attempt)
);
"""

DOWN = """
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_fanout;
DROP TABLE webhooks;
"""


def upgrade() -> None:
    execute_script(UP)


def downgrade() -> None:
    execute_script(DOWN)
