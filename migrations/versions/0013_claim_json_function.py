"""A claim's JSON built by a function, for the reads that find no stored document.

Reads send a claim's stored document (migration 0010) and build the JSON only for a claim
without one, which the triggers do not leave. That fallback was written into each read
statement (``COALESCE(d.body, <the JSON's seven subqueries>)``), and PostgreSQL sets up every
subquery of a statement each time it runs it, used or not: a GET claim spent about 120 µs of
PostgreSQL's time that way (250 µs a call against 130 without it), a GET dispute about 150
(three sides). ``claimdesk_claim_json`` holds the same SQL in PL/pgSQL, which PostgreSQL
plans and runs only when it is called.

It builds the JSON with ``CLAIM_JSON`` as migration 0010 froze it: a migration that changes
the claim JSON replaces both ``claimdesk_claim_documents_refresh`` and this function (the
tests compare both with the service's own SQL after every test).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27
"""

from __future__ import annotations

import importlib

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_CLAIM_JSON = importlib.import_module("migrations.versions.0010_claim_documents").CLAIM_JSON


def upgrade() -> None:
    op.execute(
        f"""
CREATE FUNCTION claimdesk_claim_json(claim uuid) RETURNS json
LANGUAGE plpgsql STABLE AS $fn$
BEGIN
    RETURN (SELECT {_CLAIM_JSON} FROM claims c WHERE c.id = claim);
END
$fn$"""
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION claimdesk_claim_json(uuid)")
