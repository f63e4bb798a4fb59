"""Idempotency keys: the first response to a POST sent with an ``Idempotency-Key`` header,
kept per caller so that a retry replays it instead of doing the work again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

from migrations import execute_script

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UP = r"""
CREATE TABLE idempotency_keys (
    scope         text NOT NULL,
    key           text NOT NULL
                  CONSTRAINT idempotency_keys__key CHECK (key ~ '^[!-~]([ -~]{0,253}[!-~])?$'),
    method        text NOT NULL,
    path          text NOT NULL,
    request_hash  bytea NOT NULL CONSTRAINT idempotency_keys__request_hash
                  CHECK (octet_length(request_hash) = 32),
    status        smallint NOT NULL
                  CONSTRAINT idempotency_keys__status CHECK (status BETWEEN 200 AND 499),
    headers       jsonb NOT NULL,
    body          bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys__created_at ON idempotency_keys (created_at);
"""

DOWN = """
DROP TABLE idempotency_keys;
"""


def upgrade() -> None:
    execute_script(UP)


def downgrade() -> None:
    execute_script(DOWN)
