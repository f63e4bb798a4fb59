"""Persian letters folded to the Arabic ones: `آکار` (with keheh) finds `آكار`.

Arabic written on a Persian keyboard (and copied from Persian and Urdu sources) has keheh
ک (U+06A9) for kaf ك (U+0643) and Farsi yeh ی (U+06CC) for yeh ي (U+064A) and alef maqsura
ى: they look alike and are typed alike, but ``claimdesk_normalize`` (migrations 0003 and
0021) kept them apart, so `آکار` and `عین عیسی` found nothing where `آكار` and `عين عيسى`
find Akar and the town (a fact-checker's walkthrough). The fold table now takes ک to ك and
ی to ي, as it took ى to ي; ``service.text.normalize`` does the same.

The stored columns computed with it are computed again, as 0021 did (each dropped and added
again: one rewrite of each table, the tables locked meanwhile; 0021 took 415 s on the
benchmark's million claims on a 2-core machine), and the tables analysed. Down: 0021's
function, and the same again.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-28
"""

from __future__ import annotations

import importlib

from alembic import op

from migrations import execute_script

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_0021 = importlib.import_module("migrations.versions.0021_latin_diacritics")

# The letters as code points (Arabic and Persian typed among others reorder on screen). In
# 0021's fold table alef maqsura ى, then ta marbuta ة, become yeh ي and heh ه (followed by
# dotless i's i): keheh and Farsi yeh go in between, as kaf and yeh.
_MAQSURA, _TA_MARBUTA, _YEH, _HEH = "\u0649", "\u0629", "\u064a", "\u0647"
_KEHEH, _FARSI_YEH, _KAF = "\u06a9", "\u06cc", "\u0643"
_FROM, _TO = _MAQSURA + _TA_MARBUTA, _YEH + _HEH + "i"
assert _0021.NORMALIZE.count(_FROM) == 1 and _0021.NORMALIZE.count(_TO) == 1
NORMALIZE = _0021.NORMALIZE.replace(_FROM, _MAQSURA + _FARSI_YEH + _KEHEH + _TA_MARBUTA).replace(
    _TO, _YEH + _YEH + _KAF + _HEH + "i"
)


def upgrade() -> None:
    execute_script(NORMALIZE + _0021.RECOMPUTE)
    op.execute(_0021.ANALYZE)


def downgrade() -> None:
    execute_script(_0021.NORMALIZE + _0021.RECOMPUTE)
    op.execute(_0021.ANALYZE)
