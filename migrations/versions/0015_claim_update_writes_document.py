"""A claim's PATCH stores the document it builds; the trigger rebuilds only for other updates.

A PATCH's statement builds the claim's JSON for its answer and its revision, and the trigger
of migration 0010 then built the same JSON again to store it: about 0.18 ms of PostgreSQL's
time a PATCH at a million claims. The statement now stores what it built, and the trigger on
claims fires on an UPDATE only when the version stays the same.

The rule this sets: a statement that moves a claim's version writes the claim's document
(the PATCH statement, ``claims.queries._update_sql``) or the transaction rebuilds it with
``claimdesk_claim_documents_refresh`` (an actor merge, ``actors.merge``). Both lock the
claims first, so what they build is read after every writer that held them has committed.
The check after every test finds a stored document that a writer left stale.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27
"""

from __future__ import annotations

from migrations import execute_script

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

UP = """
DROP TRIGGER claim_documents ON claims;
CREATE TRIGGER claim_documents AFTER INSERT ON claims
FOR EACH ROW EXECUTE FUNCTION claimdesk_claim_documents_of_row();
CREATE TRIGGER claim_documents_same_version AFTER UPDATE ON claims
FOR EACH ROW WHEN (OLD.version = NEW.version)
EXECUTE FUNCTION claimdesk_claim_documents_of_row();
"""

DOWN = """
DROP TRIGGER claim_documents_same_version ON claims;
DROP TRIGGER claim_documents ON claims;
CREATE TRIGGER claim_documents AFTER INSERT OR UPDATE ON claims
FOR EACH ROW EXECUTE FUNCTION claimdesk_claim_documents_of_row();
"""


def upgrade() -> None:
    execute_script(UP)


def downgrade() -> None:
    execute_script(DOWN)
