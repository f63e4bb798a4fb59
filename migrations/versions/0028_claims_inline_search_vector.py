"""A claim's row is kept whole in its page up to 8 kB: its search vector is not moved out.

PostgreSQL moves a row's largest values out of its page (to the table's TOAST table, a row of
its own under an index) once the row is over about 2 kB. A claim with translations has a
search vector of 2 to 3 kB (every word as written, its stems and its forms without a
prefix, in each language): one claim in thirteen of the benchmark's million. A search reads
that vector twice for each candidate (the match, then the rank) and each time PostgreSQL
looks it up through the TOAST table's index: some 2 to 5 microseconds a time, 6% of
PostgreSQL's work for the benchmark's searches (a common word reads the newest 2,000 claims
to match them: about 150 of those look-ups a search). ``toast_tuple_target`` 8160 (the
largest PostgreSQL takes) keeps a row of up to about 8 kB in its page, uncompressed; larger
rows are toasted as before.

It applies to the rows written from now on (a claim created, or changed, as every write
rewrites its row); rows stored before keep their vectors where they are until then.
``VACUUM FULL claims`` rewrites them all at once (it locks the table while it runs).

Down: the table's default (about 2 kB) back, for the rows written from then on.

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE claims SET (toast_tuple_target = 8160)")


def downgrade() -> None:
    op.execute("ALTER TABLE claims RESET (toast_tuple_target)")
