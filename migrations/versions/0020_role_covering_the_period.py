"""A claim's speaker role is the membership covering the claim's period, not one touching it.

The role embedded in a claim (``speaker.role``) was the speaker's membership that overlapped
the claim's stated period: a claim of 2018 by Hulusi Akar took the role "Minister of National
Defence", which he held from 10 July 2018 on, though the claim may come from before it (the
README promised the membership "covering the claim's period"). A claim of a day is as before;
for a month or a year, a membership now counts only if it held through the whole period (a
role started or ended inside it is not known to be the one the speaker spoke in), else the
claim names no role.

``claimdesk_claim_documents_refresh`` (migration 0010) and ``claimdesk_claim_json``
(migration 0013) are replaced with the same SQL but for that condition, and the stored
documents of the claims whose role it changes are rebuilt: those of a month or a year whose
speaker has a membership starting or ending inside the claim's period. Down: the old
functions, and the same claims rebuilt again.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-28
"""

from __future__ import annotations

import importlib

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_0010 = importlib.import_module("migrations.versions.0010_claim_documents")

_OVERLAPPING = """ELSE (m.start_date IS NULL OR m.start_date <= c.stated_until)
                        AND (m.end_date IS NULL OR m.end_date >= c.stated_on) END"""
_COVERING = """ELSE (m.start_date IS NULL OR m.start_date <= c.stated_on)
                        AND (m.end_date IS NULL OR m.end_date >= c.stated_until) END"""
assert _0010.CLAIM_JSON.count(_OVERLAPPING) == 1  # the text this migration rewrites

_REFRESH = next(s for s in _0010.UP if "FUNCTION claimdesk_claim_documents_refresh" in s)


def _functions(claim_json: str) -> list[str]:
    return [
        _REFRESH.replace(_0010.CLAIM_JSON, claim_json).replace(
            "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"
        ),
        f"""
CREATE OR REPLACE FUNCTION claimdesk_claim_json(claim uuid) RETURNS json
LANGUAGE plpgsql STABLE AS $fn$
BEGIN
    RETURN (SELECT {claim_json} FROM claims c WHERE c.id = claim);
END
$fn$""",
    ]


# The claims whose role the condition changes: of a month or a year, by a speaker with a
# membership that starts or ends inside the claim's period.
_REBUILD = """
SELECT claimdesk_claim_documents_refresh(array_agg(c.id ORDER BY c.id))
FROM claims c
WHERE c.stated_on_precision IN ('month', 'year')
  AND EXISTS (
      SELECT 1 FROM actor_memberships m
      WHERE m.actor_id = c.speaker_id
        AND (m.start_date > c.stated_on AND m.start_date <= c.stated_until
             OR m.end_date >= c.stated_on AND m.end_date < c.stated_until))
HAVING count(*) > 0"""

COVERING_CLAIM_JSON = _0010.CLAIM_JSON.replace(_OVERLAPPING, _COVERING)


def upgrade() -> None:
    for statement in _functions(COVERING_CLAIM_JSON):
        op.execute(statement)
    op.execute(_REBUILD)


def downgrade() -> None:
    for statement in _functions(_0010.CLAIM_JSON):
        op.execute(statement)
    op.execute(_REBUILD)
