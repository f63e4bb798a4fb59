"""Latin diacritics folded: `Erdogan` finds `Erdoğan`, `Cavusoglu` finds `Çavuşoğlu`.

``claimdesk_normalize`` (migration 0003), which spells every name and text as search matches
it, folded Arabic thoroughly but left Latin letters with diacritics as they were, so a
fact-checker typing Turkish names without Turkish letters found neither the claims nor,
strongly, the actors. It now decomposes the text (NFD) after NFKC and lower case, and drops
the combining diacritical marks (U+0300-U+036F) in the same pass as the Arabic ones (which
now also take the hamza and madda marks decomposing leaves of أ إ آ ؤ ئ: the same letters
as the fold table made of them); dotless ı and ø ł đ, which do not decompose, are folded to
i o l d. ``service.text.normalize`` does the same, step for step. Also changed, as the
same steps have it: Greek and Cyrillic accents go (`й` is `и`); the Persian and Urdu
letters with a hamza above lose it as ئ does (ۀ is ە, ۂ is ہ, ۓ is ے; ۀ matched nothing
else before); scripts NFD decomposes without dropping the marks (Hangul syllables into
jamo, kana with voicing marks) are kept decomposed, alike in what is stored and in queries.

The stored columns computed with it are computed again: actors' ``name_norm``, names'
``value_norm``, claims' ``search_norm`` and ``search_vector``, disputes' ``search_vector``
(each dropped and added again, which rewrites the table once; their indexes with them), and
the tables that hold rows analysed, so that search's common-lexeme statistics are there at
once. On the benchmark's million claims this took 415 s on a 2-core machine, with the
tables locked. Down: the old function, and the same again.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-28
"""

from __future__ import annotations

import importlib

from alembic import op

from migrations import execute_script, statements

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_0003 = importlib.import_module("migrations.versions.0003_search")
_0004 = importlib.import_module("migrations.versions.0004_name_prefixes")

# The marks dropped, as ranges of code points (built from numbers here: Arabic typed among
# them reorders on screen): U+0300-U+036F, then the Arabic ones of migration 0003. The fold
# table's letters are written literally. The tests compare this function with the Python one.
MARKS = "".join(
    chr(a) if a == b else f"{chr(a)}-{chr(b)}"
    for a, b in (
        (0x300, 0x36F),
        (0x610, 0x61A),
        (0x64B, 0x65F),
        (0x670, 0x670),
        (0x6D6, 0x6ED),
        (0x640, 0x640),
    )
)
NORMALIZE = rf"""
CREATE OR REPLACE FUNCTION claimdesk_normalize(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT btrim(regexp_replace(
        translate(
            regexp_replace(normalize(lower(normalize(t, NFKC)), NFD),
                           '[{MARKS}]', '', 'g'),
            'أإآٱؤئىةıøłđ٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹',
            'ااااوييهiold01234567890123456789'),
        '[ \t\n\r\f\v]+', ' ', 'g'), ' ')
$$;
"""
_OLD_NORMALIZE = (
    next(s for s in _0003.UP.split("\n\n") if "FUNCTION claimdesk_normalize" in s)
    .strip()
    .replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
)
assert _OLD_NORMALIZE.endswith("$$;"), _OLD_NORMALIZE  # the statement this migration replaces


def _statements(script: str, *starts: str) -> str:
    """The statements of ``script`` that start with one of ``starts``."""
    kept = [s.strip() for s in statements(script) if s.strip().startswith(starts)]
    return "".join(f"{s};\n" for s in kept)


# Each computed column dropped (its indexes go with it) and added again, as 0003 and 0004
# made them: one rewrite of each table.
RECOMPUTE = (
    """
ALTER TABLE actors DROP COLUMN name_norm;
ALTER TABLE actor_names DROP COLUMN value_norm;
ALTER TABLE claims DROP COLUMN search_vector;
ALTER TABLE claims DROP COLUMN search_norm;
ALTER TABLE disputes DROP COLUMN search_vector;
"""
    + _statements(_0003.UP, "ALTER TABLE actors ADD", "ALTER TABLE actor_names ADD")
    + """
ALTER TABLE claims
    ADD COLUMN search_norm text
        GENERATED ALWAYS AS (claimdesk_claim_document(text, translations)) STORED,
    ADD COLUMN search_vector tsvector
        GENERATED ALWAYS AS (claimdesk_tsvector(claimdesk_claim_document(text, translations),
                                                claimdesk_claim_text(text, translations))) STORED;
"""
    + _statements(_0003.UP, "ALTER TABLE disputes ADD", "CREATE INDEX")
    + _statements(_0004.UP, "CREATE INDEX")
)


# Statistics of the new columns (search's common lexemes) at once, where there is anything
# to count: the rewrite is no change autovacuum counts towards analysing, and statistics of
# an empty table would tell the planner it stays empty. One statement (``execute_script``
# would split the block at its semicolons).
ANALYZE = """
DO $$
DECLARE
    t text;
    found boolean;
BEGIN
    FOREACH t IN ARRAY ARRAY['actors', 'actor_names', 'claims', 'disputes'] LOOP
        EXECUTE format('SELECT EXISTS (SELECT FROM %I)', t) INTO found;
        IF found THEN
            EXECUTE format('ANALYZE %I', t);
        END IF;
    END LOOP;
END
$$"""


def upgrade() -> None:
    execute_script(NORMALIZE + RECOMPUTE)
    op.execute(ANALYZE)


def downgrade() -> None:
    execute_script(_OLD_NORMALIZE + "\n" + RECOMPUTE)
    op.execute(ANALYZE)
