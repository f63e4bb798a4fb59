"""A claim's PATCH stores the document its statement builds; the trigger rebuilds only for other updates.

A PATCH's statement builds the claim's JSON for its answer and its revision, and the trigger
of migration 0010 then built the same JSON again to store it: about 0.18 ms of PostgreSQL's
time a PATCH at a million claims. The statement now stores what it built, and the trigger on
claims fires on an UPDATE only when the version stays the same.

The rule this sets: a statement that moves a claim's version writes the claim's document
(the PATCH statement, ``claims.queries._update_sql``) or the transaction rebuilds it with
``claimdesk_claim_documents_refresh`` (an actor merge, ``actors.merge``). Both lock the claim
first, and the rows a PATCH comes to name (key share, before the claim), so what they build
is read after every writer of those rows that held them has committed. The check after
every test finds a stored document that a writer left stale.

A new claim's statement builds its JSON too, but cannot store it: its foreign keys are
checked at the end of the statement, and may wait there for a rename of its speaker, say,
to commit; the JSON was built before, with the old name. The trigger on claims, which fires
after those checks, builds the stored document from what has committed by then.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

UP = [
    "DROP TRIGGER claim_documents ON claims",
    """
CREATE TRIGGER claim_documents AFTER INSERT ON claims
FOR EACH ROW EXECUTE FUNCTION claimdesk_claim_documents_of_row()""",
    """
CREATE TRIGGER claim_documents_same_version AFTER UPDATE ON claims
FOR EACH ROW WHEN (OLD.version = NEW.version)
EXECUTE FUNCTION claimdesk_claim_documents_of_row()""",
]

DOWN = [
    "DROP TRIGGER claim_documents_same_version ON claims",
    "DROP TRIGGER claim_documents ON claims",
    """
CREATE TRIGGER claim_documents AFTER INSERT OR UPDATE ON claims
FOR EACH ROW EXECUTE FUNCTION claimdesk_claim_documents_of_row()""",
]


def upgrade() -> None:
    for statement in UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWN:
        op.execute(statement)
