"""Typeahead indexes: names by equality (btree) and by the start of any of their words (GIN
over their 'simple' tsvector), so strong name matches need no trigram scan.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from migrations import execute_script

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UP = """
CREATE INDEX actors__name_norm ON actors (name_norm);
CREATE INDEX actor_names__value_norm ON actor_names (value_norm);
CREATE INDEX actors__name_norm_words
    ON actors USING gin (to_tsvector('simple'::regconfig, name_norm));
CREATE INDEX actor_names__value_norm_words
    ON actor_names USING gin (to_tsvector('simple'::regconfig, value_norm));
"""

DOWN = """
DROP INDEX actor_names__value_norm_words;
DROP INDEX actors__name_norm_words;
DROP INDEX actor_names__value_norm;
DROP INDEX actors__name_norm;
"""


def upgrade() -> None:
    execute_script(UP)


def downgrade() -> None:
    execute_script(DOWN)
