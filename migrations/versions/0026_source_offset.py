"""A source's own day: the offset its `published_at` was given with is kept.

An article of Awtan Post published at `2019-11-24T00:30:00+03:00` was stored as the instant
(`2019-11-23T21:30:00Z`, as the API returns every date-time), and the dispute card dated it
by the UTC day, 23 November, the day before the one the article itself bears; the sources
list's `published_from` and `published_to` counted it on that day too (a fact-checker's
walkthrough). ``sources.published_at_offset`` keeps the offset given, in minutes east of UTC,
so that the source's own day (``SOURCE_DAY`` in ``service.sources.queries``) is the date its
readers saw. NULL for a date (midnight UTC, its own day) and for the sources stored before
this migration, whose offset was not kept: their day stays the UTC day.

Down: the column dropped.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # RFC 3339 offsets run to ±23:59; a date-time's offset is with its instant
    op.execute(
        """
ALTER TABLE sources
    ADD COLUMN published_at_offset smallint
        CONSTRAINT sources__published_at_offset CHECK (
            published_at_offset IS NULL
            OR (published_at_offset BETWEEN -1439 AND 1439
                AND published_at_precision = 'second'))
"""
    )


def downgrade() -> None:
    op.execute("ALTER TABLE sources DROP COLUMN published_at_offset")
