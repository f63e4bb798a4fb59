"""A claim's PATCH in one statement, when nothing changed since the claim was read.

A PATCH took four round trips: BEGIN, the claim read and locked (``SELECT ... FOR UPDATE``),
the statement that writes it, COMMIT. The lock is what made the stored document right: the
statement builds the claim's JSON, and built from a snapshot taken before a wait for a
concurrent writer of the claim (a rename of its speaker rebuilding its document, say) it
would store what that writer had replaced. Read after the lock, by the next statement, it is
current.

A PATCH of the claim's own fields (text, language, kind, dates, translations, topics: not
the rows it names) now reads the claim without a lock or a transaction, checks If-Match,
and sends one statement that updates the row only if its version is the one read, and
builds the JSON with ``claimdesk_claim_json_as_read``. That function is VOLATILE: its
queries see what has committed when they run, after the update took the row's lock (and
waited for any writer holding it), and the update itself; it first checks that the stored
document is still the one the PATCH read (byte for byte, so If-Match was checked against what
is there), and raises ``CDCHG`` otherwise, which undoes the whole statement. On no row (the
version moved) or on ``CDCHG`` the service does the PATCH the old way, locked, in a
transaction, where If-Match is compared again. Two round trips instead of four.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

UP = [
    """
CREATE FUNCTION claimdesk_claim_json_as_read(claim uuid, read bytea) RETURNS json
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
    IF NOT EXISTS (SELECT FROM claim_documents d
                   WHERE d.claim_id = claim AND convert_to(d.body::text, 'UTF8') = read) THEN
        RAISE EXCEPTION 'claim % changed since it was read', claim USING ERRCODE = 'CDCHG';
    END IF;
    RETURN claimdesk_claim_json(claim);
END
$fn$""",
]

DOWN = ["DROP FUNCTION claimdesk_claim_json_as_read(uuid, bytea)"]


def upgrade() -> None:
    for statement in UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWN:
        op.execute(statement)
