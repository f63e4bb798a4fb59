"""Disputes (claims grouped by stance on a question) and fact-check reviews.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from migrations import execute_script

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UP = r"""
CREATE TABLE disputes (
    id                  uuid PRIMARY KEY,
    title               text NOT NULL CONSTRAINT disputes__title CHECK (char_length(title) BETWEEN 1 AND 300),
    question            text NOT NULL CONSTRAINT disputes__question CHECK (char_length(question) BETWEEN 1 AND 1000),
    status              text NOT NULL DEFAULT 'open'
                        CONSTRAINT disputes__status CHECK (status IN ('open', 'resolved', 'dismissed')),
    resolution_verdict  text CONSTRAINT disputes__resolution_verdict
                        CHECK (resolution_verdict IN ('affirmed', 'denied', 'mixed', 'unproven')),
    resolution_note     text CONSTRAINT disputes__resolution_note CHECK (char_length(resolution_note) BETWEEN 1 AND 5000),
    resolved_at         timestamptz,
    dismissal_note      text CONSTRAINT disputes__dismissal_note CHECK (char_length(dismissal_note) BETWEEN 1 AND 5000),
    dismissed_at        timestamptz,
    topics              text[] NOT NULL DEFAULT '{}',
    version             integer NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- A resolution exists exactly when resolved, a dismissal exactly when dismissed.
    CONSTRAINT disputes__resolution CHECK (
        (status = 'resolved') = (resolution_verdict IS NOT NULL AND resolution_note IS NOT NULL
                                 AND resolved_at IS NOT NULL)
        AND (status = 'resolved' OR (resolution_verdict IS NULL AND resolution_note IS NULL
                                     AND resolved_at IS NULL))),
    CONSTRAINT disputes__dismissal CHECK (
        (status = 'dismissed') = (dismissal_note IS NOT NULL AND dismissed_at IS NOT NULL)
        AND (status = 'dismissed' OR (dismissal_note IS NULL AND dismissed_at IS NULL)))
);
CREATE INDEX disputes__status_idx ON disputes (status, id);
CREATE INDEX disputes__topics_idx ON disputes USING gin (topics);
CREATE INDEX disputes__updated_idx ON disputes (updated_at);

CREATE TABLE dispute_positions (
    dispute_id  uuid NOT NULL REFERENCES disputes (id) ON DELETE CASCADE,
    claim_id    uuid NOT NULL CONSTRAINT dispute_positions__claim_id
                REFERENCES claims (id) ON DELETE RESTRICT,
    stance      text NOT NULL
                CONSTRAINT dispute_positions__stance CHECK (stance IN ('affirms', 'denies', 'questions')),
    added_at    timestamptz NOT NULL DEFAULT now(),
    -- A claim stands in a dispute once.
    PRIMARY KEY (dispute_id, claim_id)
);
CREATE INDEX dispute_positions__claim_idx ON dispute_positions (claim_id, dispute_id);

CREATE TABLE reviews (
    id            uuid PRIMARY KEY,
    claim_id      uuid NOT NULL CONSTRAINT reviews__claim_id REFERENCES claims (id) ON DELETE RESTRICT,
    reviewer_id   uuid NOT NULL CONSTRAINT reviews__reviewer_id REFERENCES actors (id) ON DELETE RESTRICT,
    rating_label  text NOT NULL CONSTRAINT reviews__rating_label CHECK (char_length(rating_label) BETWEEN 1 AND 100),
    rating_value  integer NOT NULL,
    rating_best   integer NOT NULL,
    rating_worst  integer NOT NULL,
    summary       text CONSTRAINT reviews__summary CHECK (char_length(summary) <= 5000),
    url           text CONSTRAINT reviews__url CHECK (char_length(url) <= 2048),
    published_at  date,
    lang          text,
    version       integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reviews__rating_value CHECK (rating_worst <= rating_value AND rating_value <= rating_best),
    CONSTRAINT reviews__rating_best CHECK (rating_worst < rating_best)
);
CREATE INDEX reviews__claim_idx ON reviews (claim_id, id);
CREATE INDEX reviews__reviewer_idx ON reviews (reviewer_id, id);
"""

DOWN = """
DROP TABLE reviews;
DROP TABLE dispute_positions;
DROP TABLE disputes;
"""


def upgrade() -> None:
    execute_script(UP)


def downgrade() -> None:
    execute_script(DOWN)
