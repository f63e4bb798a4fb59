"""The function a generated column calls names the functions it calls with their schema.

``claims.search_norm`` and ``claims.search_vector`` are computed by
``claimdesk_claim_document``, which called ``claimdesk_normalize`` and
``claimdesk_claim_text`` by their bare names, found through the session's ``search_path``.
``pg_restore`` (and ``psql`` on a plain ``pg_dump``) run with an empty ``search_path``, so
restoring a backup failed at ``CREATE TABLE claims`` ("function claimdesk_claim_text(text,
jsonb) does not exist") and left the database without its claims, disputes' positions and
reviews, while ``alembic_version`` said it was migrated. The function now calls them as
``<schema>.claimdesk_...``, in the schema it lives in (``current_schema()`` as the migration
runs, where the earlier migrations made it); the same SQL otherwise, so nothing stored
changes. The other functions generated columns call use only PostgreSQL's own, which
``pg_catalog`` always finds. Down: the bare names again.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def claim_document(schema: str) -> str:
    """``claimdesk_claim_document`` calling its two functions as ``schema``'s (``schema``
    quoted as an identifier and followed by a dot, or empty for the bare names)."""
    return f"""
CREATE OR REPLACE FUNCTION claimdesk_claim_document(body text, translations jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT {schema}claimdesk_normalize({schema}claimdesk_claim_text(body, translations))
$$"""


def upgrade() -> None:
    schema = op.get_bind().execute(text("SELECT quote_ident(current_schema())")).scalar()
    op.execute(claim_document(f"{schema}."))


def downgrade() -> None:
    op.execute(claim_document(""))
