"""Actor merges: where a merged (duplicate) actor went, and the ``merge`` revision action.

A merged actor's row is deleted; ``actor_merges`` keeps one row per merged id naming the actor
that holds its claims, names and the rest now, so its URL answers 308 to the survivor's.
``into_id`` always names a live actor: a later merge of the survivor repoints the rows that
name it (chains resolve in one lookup), and deleting the survivor drops its redirects.

Downgrade is lossy: ``merge`` revisions become ``delete`` revisions (what a merge did to the
duplicate's own row), and the redirects go.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

from migrations import execute_script

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UP = """
CREATE TABLE actor_merges (
    merged_id   uuid PRIMARY KEY,
    into_id     uuid NOT NULL CONSTRAINT actor_merges__into_id
                REFERENCES actors (id) ON DELETE CASCADE,
    merged_at   timestamptz NOT NULL DEFAULT now(),
    changed_by  text NOT NULL,
    key_id      uuid REFERENCES api_keys (id),
    request_id  text,
    CONSTRAINT actor_merges__into_id_self CHECK (into_id <> merged_id)
);
CREATE INDEX actor_merges__into_idx ON actor_merges (into_id);

ALTER TABLE revisions DROP CONSTRAINT revisions__action;
ALTER TABLE revisions ADD CONSTRAINT revisions__action
    CHECK (action IN ('create', 'update', 'delete', 'merge'));
"""

DOWN = """
UPDATE revisions SET action = 'delete' WHERE action = 'merge';
UPDATE change_events SET action = 'delete' WHERE action = 'merge';
ALTER TABLE revisions DROP CONSTRAINT revisions__action;
ALTER TABLE revisions ADD CONSTRAINT revisions__action
    CHECK (action IN ('create', 'update', 'delete'));
DROP TABLE actor_merges;
"""


def upgrade() -> None:
    execute_script(UP)


def downgrade() -> None:
    execute_script(DOWN)
