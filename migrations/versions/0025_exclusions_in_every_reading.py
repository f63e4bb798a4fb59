"""Exclusions in every reading: `مجلس -الصعوبات` no longer finds "مجلس بصعوبات".

A query is read three ways (its words as written, offered without the article; their Arabic
stems; their English stems: migrations 0012 and 0024), the readings joined with "or", and an
excluded word (`-word`, `-"a phrase"`) was excluded by each reading in its own form only: a
claim the words as written left out, the stems found (`مجلس -الصعوبات` found "مجلس بصعوبات",
whose Arabic stem is not الصعوبات's), and the excluded word was marked in its snippet (a
fact-checker's walkthrough and a review). Now the service takes a query's exclusions apart
from what it looks for (``service.text.stopwords.search_words``), and
``claimdesk_tsquery(normalised, raw, excluded_normalised, excluded_raw)`` makes the query
its readings of what to look for, and none of any reading of an exclusion: a claim that
holds an excluded word in any form the search would find it by is left out, wherever the
exclusion stands in the query (`قسد or -روسيا` is `قسد` without `روسيا`).

An excluded phrase is read only by the readings that keep every one of its words: the
English stemmer leaves out stop words, and `-"the regime"` read so would leave out every
claim that says regime.

``claimdesk_tsquery(text, text)`` stays as it was: servers of the code before it still call
it while this one is rolled out. Down: the new functions dropped.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def functions(schema: str) -> list[str]:
    """The functions, each a statement of its own, calling ours as ``schema``'s (quoted, with
    its dot; see 0022)."""
    return [s.strip().replace("{schema}", schema) for s in _FUNCTIONS.split("\n\n\n")]


_FUNCTIONS = r"""
-- What a query excludes: each excluded word or phrase (normalised, and as typed for the
-- Arabic stemmer) in each reading that keeps all its words (as written, offered without the
-- article; the Arabic stems; the English stems, which leave out stop words), joined with |.
-- NULL when none of them has a word.
CREATE FUNCTION claimdesk_excluded(normalised text[], raw text[]) RETURNS tsquery
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    written tsquery;
    arabic tsquery;
    english tsquery;
    readings tsquery;
    excluded tsquery;
BEGIN
    FOR i IN 1 .. cardinality(normalised) LOOP
        written := websearch_to_tsquery('simple'::regconfig, normalised[i]);
        CONTINUE WHEN numnode(written) = 0;
        readings := {schema}claimdesk_or_without_article(written, normalised[i]);
        arabic := websearch_to_tsquery('arabic'::regconfig, lower(raw[i]));
        IF numnode(arabic) = numnode(written) AND arabic <> written THEN
            readings := readings || {schema}claimdesk_as_written(arabic);
        END IF;
        english := websearch_to_tsquery('english'::regconfig, normalised[i]);
        IF numnode(english) = numnode(written) AND english NOT IN (written, arabic) THEN
            readings := readings || {schema}claimdesk_as_written(english);
        END IF;
        excluded := CASE WHEN excluded IS NULL THEN readings ELSE excluded || readings END;
    END LOOP;
    RETURN excluded;
END
$$


-- The query: its readings of what to look for (``claimdesk_tsquery(text, text)``), and none
-- of what it excludes. NULL when there is nothing to look for (NULL given); a query whose
-- words leave no lexeme matches nothing, whatever it excludes (not everything but that).
CREATE FUNCTION claimdesk_tsquery(normalised text, raw text,
                                  excluded_normalised text[], excluded_raw text[])
RETURNS tsquery LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN excluded IS NULL OR numnode(q) = 0 THEN q ELSE q && !!excluded END
    FROM (SELECT {schema}claimdesk_tsquery(normalised, raw) AS q,
                 {schema}claimdesk_excluded(excluded_normalised, excluded_raw) AS excluded
         ) AS parts
$$
"""


def upgrade() -> None:
    schema = op.get_bind().execute(text("SELECT quote_ident(current_schema())")).scalar()
    for statement in functions(f"{schema}."):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION claimdesk_tsquery(text, text, text[], text[])")
    op.execute("DROP FUNCTION claimdesk_excluded(text[], text[])")
