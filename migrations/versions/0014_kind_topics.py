"""Claim lists filtered by a kind and a topic: the kind's index holds the claims' topics.

A page filtered by a kind and a topic walked the list index (migration 0011) newest first,
every claim of every kind, to find 50 of that kind with that topic: some 1,800 entries at a
topic in twelve and a kind in four, the costliest list page the benchmark sends. The kind's
own index (kind, id) now includes the topics, so the walk reads only that kind's claims
(a quarter as many entries), still without reaching the table.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27
"""

from __future__ import annotations

from migrations import execute_script

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UP = """
CREATE INDEX claims__kind_topics_idx ON claims (kind, id) INCLUDE (topics);
DROP INDEX claims__kind_idx;
"""

DOWN = """
CREATE INDEX claims__kind_idx ON claims (kind, id);
DROP INDEX claims__kind_topics_idx;
"""


def upgrade() -> None:
    execute_script(UP)


def downgrade() -> None:
    execute_script(DOWN)
