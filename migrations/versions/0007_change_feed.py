"""The change feed reads change events by transaction, per resource type: an index that serves
each type's next page in (txid, id) order.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

from migrations import execute_script

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UP = """
-- GET /v1/changes: one ordered range scan per requested type, after the cursor's (txid, id).
CREATE INDEX change_events__feed_idx ON change_events (resource, txid, id);
"""

DOWN = """
DROP INDEX change_events__feed_idx;
"""


def upgrade() -> None:
    execute_script(UP)


def downgrade() -> None:
    execute_script(DOWN)
