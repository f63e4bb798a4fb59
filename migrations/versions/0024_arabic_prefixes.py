"""Arabic prefixes: `صعوبات` finds `الصعوبات`, `انسحاب` finds `بانسحاب`, and back.

Arabic writes the article and some particles onto the word: ال (the), و ف (and, then), ب ك ل
(in, like, to), together as in وبال or لل (ل with the article). ``simple`` indexed
``الصعوبات`` as written, and PostgreSQL's ``arabic`` stemmer takes such prefixes off
unevenly: ``الصعوبات`` gives ``صعوب`` but ``صعوبات`` gives ``صعوبا``, and ``بانسحاب``,
``كضامن`` and ``لتركيا`` keep their prefix. So `صعوبات` found nothing where `الصعوبات` found
Akar's claim, and `انسحاب` no claim that said `بانسحاب` (a fact-checker's walkthrough).

Now the full text holds, beside each word as written, its forms without a prefix, at the
same position (so a quoted phrase matches either), each that fits where three letters or
more are left: without the article and what is before it, without the conjunction, without
the conjunction and preposition, without the preposition (``ولبنان`` is indexed as لبنان
and as بنان, ``وبالانسحاب`` as بالانسحاب, الانسحاب and انسحاب). Three letters, not four:
``لغزة``, ``بمصر`` and ``لقسد`` are found by `غزة`, `مصر` and `قسد`. The price is a form that
is no word or another word for a word whose own first letter is such a letter (``بيان`` is
also indexed as يان, ``لجنة`` as جنة, ``وزارة`` as زارة): searching that other word finds it
(`جنة`, paradise, finds ``لجنة``, a committee). A query looks for each word as typed and
without the article (``الصعوبات`` is also ``صعوبات``; ``للاجئين`` is also ``لاجئين``, the
article's ل written once with the word's), never without the other prefixes: a word typed
without the article begins with its own letters far more often than with a particle, and
taking them off would match other words (`بيان` would find ``كيان``). So `صعوبات` and
`الصعوبات` find each other, and `انسحاب` and `الانسحاب` find ``بانسحاب`` and ``وبالانسحاب``;
`بانسحاب` typed finds what PostgreSQL's stemmer finds for it, as before (not ``انسحاب``).

``claimdesk_without_article`` takes the article off text and ``claimdesk_article_forms`` a
query's word (``service.text.normalize`` does the same; tests hold them together),
``claimdesk_tsvector`` indexes each word's forms and ``claimdesk_tsquery`` offers each word
without the article too. Indexing a claim costs PostgreSQL about twice as much (measured in
bench/README.md). The full-text columns of claims and disputes are computed again (each
dropped and added again: one rewrite of each table, locked meanwhile; see 0021), and the
tables analysed. Down: the functions as they were, and the same again.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-28
"""

from __future__ import annotations

import importlib

from alembic import op
from sqlalchemy import text

from migrations import execute_script

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_0003 = importlib.import_module("migrations.versions.0003_search")
_0012 = importlib.import_module("migrations.versions.0012_tsquery_once")
_0021 = importlib.import_module("migrations.versions.0021_latin_diacritics")


def _range(*pairs: tuple[int, int]) -> str:
    """Ranges of code points as a bracket expression's inside (Arabic written literally
    reorders on screen among the rest)."""
    return "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in pairs)


# Arabic letters as normalised text has them (its digits are ASCII by then): hamza to yeh,
# and the Persian and Urdu letters beyond.
LETTER = _range((0x621, 0x64A), (0x66E, 0x66F), (0x671, 0x6D3), (0x6D5, 0x6D5), (0x6FA, 0x6FC))
WAW, FA, BA, KAF, LAM, ALEF = "\u0648", "\u0641", "\u0628", "\u0643", "\u0644", "\u0627"
# A word's prefixes, in three layers: a conjunction (و ف), a preposition (ب ك ل), the article
# (ال; after ل it is لل). Taken off where three letters or more are left: the article with
# what is before it; the conjunction; the conjunction and a preposition, or the preposition.
# A word takes each that fits (``ولبنان`` is و and لبنان, or ول and a word ``بنان``: both are
# indexed).
ARTICLE = f"[{WAW}{FA}]?(?:[{BA}{KAF}]?{ALEF}{LAM}|{LAM}{LAM})(?=[{LETTER}]{{3}})"
CONJUNCTION = f"[{WAW}{FA}](?=[{LETTER}]{{3}})"
PREPOSITION = f"[{WAW}{FA}]?[{BA}{KAF}{LAM}](?=[{LETTER}]{{3}})"
# A query's word that begins with لل (after و or ف) is ل and the article, the article's ل
# written once with the word's own (``للاجئين`` is ل and ``اللاجئين``), or ل and a word that
# begins with ل (``للجنة``, to a committee): its form without the ل is looked for too.
LAM_BEFORE_LAM = f"[{WAW}{FA}]?{LAM}(?={LAM}[{LETTER}]{{2}})"
# Where a prefix begins a word of normalised text: nothing of a word (an Arabic letter or
# mark, an ASCII letter or digit) before it; Arabic punctuation (، ؛ ؟) is not of a word. The
# same in Python: ``service.text.normalize``.
MARK = _range((0x610, 0x61A), (0x640, 0x640), (0x64B, 0x65F), (0x670, 0x670), (0x6D6, 0x6ED))
WORD_START = f"(?<![{LETTER}{MARK}0-9a-z])"


def functions(schema: str) -> list[str]:
    """The functions, each a statement of its own (PL/pgSQL's body holds semicolons),
    calling ours as ``schema``'s (quoted, with its dot): a generated column calls
    ``claimdesk_tsvector``, and a restore runs with no ``search_path`` (0022)."""
    script = _FUNCTIONS
    for name, value in [
        ("{schema}", schema),
        ("{LETTER}", LETTER),
        ("{ARTICLE}", ARTICLE),
        ("{CONJUNCTION}", CONJUNCTION),
        ("{PREPOSITION}", PREPOSITION),
        ("{LAM_BEFORE_LAM}", LAM_BEFORE_LAM),
        ("{WORD_START}", WORD_START),
        ("{FIRST}", WAW + FA + BA + KAF + LAM + ALEF),
    ]:
        script = script.replace(name, value)
    return [statement.strip() for statement in script.split("\n\n\n")]


# The statements, two blank lines apart; ``functions`` fills in the names in braces.
_FUNCTIONS = r"""
-- Normalised text without the article (and what is before it) on its words: what a query
-- looks for too.
CREATE OR REPLACE FUNCTION claimdesk_without_article(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT regexp_replace(t, '{WORD_START}{ARTICLE}', '', 'g')
$$


-- Each word as written (weight D, as before) and its forms without a prefix (weight C: see
-- ``claimdesk_as_written``), at the word's positions: the tsvector's text form, read back,
-- merges them into one (a tsvector's || would move the second's positions past the
-- first's). Then the Arabic and English stems, as before. Only words that begin with a
-- prefix's letter are looked at. Written out here, not as a function called for each word:
-- a call of a SQL function PostgreSQL cannot inline costs some 10 µs, and made indexing a
-- claim four times as costly as before.
CREATE OR REPLACE FUNCTION claimdesk_tsvector(normalised text, raw text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(
               (SELECT (s.words::text || ' '
                        || string_agg('''' || f.form || ''':'
                                      || array_to_string(w.positions, 'C,') || 'C', ' ')
                       )::tsvector
                FROM unnest(s.words) AS w,
                     LATERAL (VALUES (regexp_replace(w.lexeme, '^{ARTICLE}', '')),
                                     (regexp_replace(w.lexeme, '^{CONJUNCTION}', '')),
                                     (regexp_replace(w.lexeme, '^{PREPOSITION}', ''))) AS f (form)
                WHERE strpos('{FIRST}', left(w.lexeme, 1)) > 0 AND w.lexeme ~ '^[{LETTER}]+$'
                  AND f.form <> w.lexeme),
               s.words)
           || to_tsvector('arabic'::regconfig, lower(raw))
           || to_tsvector('english'::regconfig, normalised)
    -- (OFFSET 0: computed once, not where each of the three uses above reads it)
    FROM (SELECT to_tsvector('simple'::regconfig, normalised) AS words OFFSET 0) AS s
$$


-- A query's word without its article: the article off, and a ل before ل off (see
-- ``LAM_BEFORE_LAM``); none for a word of other letters, or with no article. In code point
-- order, as Python sorts them (``service.text.normalize.article_forms``).
CREATE OR REPLACE FUNCTION claimdesk_article_forms(word text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ARRAY(SELECT DISTINCT form COLLATE "C"
                 FROM unnest(ARRAY[regexp_replace(word, '^{ARTICLE}', ''),
                                   regexp_replace(word, '^{LAM_BEFORE_LAM}', '')]) AS form
                 WHERE form <> word AND word ~ '^[{LETTER}]+$'
                 ORDER BY 1)
$$


-- ``searched`` (parsed from ``normalised``) with each word the article comes off offered as
-- written or in its forms without it. Each such word is first replaced by a placeholder (a
-- lexeme with a space, which no parsed word has), then each placeholder by its word's
-- alternatives: rewriting the words one after another would rewrite a form already put in
-- (``الالتزام التزام``: التزام is a form of the first word too). Only words of Arabic
-- letters have forms, and only they are quoted here (no quote or backslash in them).
CREATE OR REPLACE FUNCTION claimdesk_or_without_article(searched tsquery, normalised text)
RETURNS tsquery LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    word text;
    form text;
    either tsquery;
    placeholders tsquery[] := '{}';
    alternatives tsquery[] := '{}';
BEGIN
    FOR word IN
        SELECT w FROM unnest(tsvector_to_array(to_tsvector('simple'::regconfig, normalised))) AS w
        WHERE w ~ '^[{LETTER}]+$'
    LOOP
        either := quote_literal(word)::tsquery;
        FOREACH form IN ARRAY {schema}claimdesk_article_forms(word) LOOP
            either := either || quote_literal(form)::tsquery;
        END LOOP;
        IF numnode(either) > 1 THEN
            placeholders := placeholders
                            || quote_literal(' ' || cardinality(placeholders))::tsquery;
            alternatives := alternatives || either;
            searched := ts_rewrite(searched, quote_literal(word)::tsquery,
                                   placeholders[cardinality(placeholders)]);
        END IF;
    END LOOP;
    FOR i IN 1 .. cardinality(placeholders) LOOP
        searched := ts_rewrite(searched, placeholders[i], alternatives[i]);
    END LOOP;
    RETURN searched;
END
$$


-- ``q`` matching words as written and stems (weight D), not a word's form without its prefix
-- (weight C): a stem of one word is not to find another's form (``بيان`` stems to يان, and
-- ``كيان`` is also indexed as يان).
CREATE OR REPLACE FUNCTION claimdesk_as_written(q tsquery) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN numnode(q) = 0 THEN q
                ELSE regexp_replace(q::text, '(''(?:[^'']|'''')*'')', '\1:D', 'g')::tsquery END
$$


-- The query's readings, joined with | as migration 0012 joined them: the words as written
-- (offered without the article too), which match a word's forms without a prefix; the Arabic
-- stems, left out when that is all they add (``الانسحاب`` stems to ``انسحاب``); the English
-- stems, left out when they add nothing. The stems match no form (``claimdesk_as_written``).
CREATE OR REPLACE FUNCTION claimdesk_tsquery(normalised text, raw text) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN english IN (written, arabic) THEN first_two
                ELSE first_two || {schema}claimdesk_as_written(english) END
    FROM (SELECT english, arabic, written,
                 CASE WHEN arabic IN (written, bare) THEN either
                      ELSE either || {schema}claimdesk_as_written(arabic) END
                     AS first_two
          FROM (SELECT written, arabic, english,
                       {schema}claimdesk_or_without_article(written, normalised) AS either,
                       websearch_to_tsquery('simple'::regconfig,
                                            {schema}claimdesk_without_article(normalised))
                           AS bare
                FROM (SELECT websearch_to_tsquery('simple'::regconfig, normalised) AS written,
                             websearch_to_tsquery('arabic'::regconfig, lower(raw)) AS arabic,
                             websearch_to_tsquery('english'::regconfig, normalised) AS english
                     ) AS parsed
               ) AS alternatives
         ) AS q
$$
"""


_OLD_TSVECTOR = next(s for s in _0003.UP.split("\n\n") if "FUNCTION claimdesk_tsvector" in s)
_OLD_TSVECTOR = _OLD_TSVECTOR[_OLD_TSVECTOR.index("CREATE FUNCTION") :].replace(
    "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"
)
assert _OLD_TSVECTOR.rstrip().endswith("$$;"), _OLD_TSVECTOR

# The full-text columns dropped (their indexes go with them) and added again as 0021 made
# them: one rewrite of claims and of disputes.
RECOMPUTE = """
ALTER TABLE claims DROP COLUMN search_vector;
ALTER TABLE disputes DROP COLUMN search_vector;
ALTER TABLE claims
    ADD COLUMN search_vector tsvector
        GENERATED ALWAYS AS (claimdesk_tsvector(claimdesk_claim_document(text, translations),
                                                claimdesk_claim_text(text, translations))) STORED;
ALTER TABLE disputes ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (claimdesk_tsvector(claimdesk_normalize(title || ' ' || question),
                                            title || ' ' || question)) STORED;
CREATE INDEX claims__search_vector_idx ON claims USING gin (search_vector);
CREATE INDEX disputes__search_vector_idx ON disputes USING gin (search_vector);
"""


def upgrade() -> None:
    schema = op.get_bind().execute(text("SELECT quote_ident(current_schema())")).scalar()
    for statement in functions(f"{schema}."):
        op.execute(statement)
    execute_script(RECOMPUTE)
    op.execute(_0021.ANALYZE)


def downgrade() -> None:
    execute_script(
        _OLD_TSVECTOR
        + "\n"
        + _0012.UP
        + RECOMPUTE
        + """
DROP FUNCTION claimdesk_as_written(tsquery);
DROP FUNCTION claimdesk_or_without_article(tsquery, text);
DROP FUNCTION claimdesk_article_forms(text);
DROP FUNCTION claimdesk_without_article(text);
"""
    )
    op.execute(_0021.ANALYZE)
