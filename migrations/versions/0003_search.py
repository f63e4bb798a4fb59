"""Search: one normaliser in SQL (mirrors service/text/normalize.py), normalised and tsvector
columns kept by PostgreSQL itself (generated), trigram and full-text indexes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from migrations import execute_script

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The Arabic letters are written literally; the tests compare this function with the Python one.
UP = r"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE FUNCTION claimdesk_normalize(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT btrim(regexp_replace(
        translate(
            regexp_replace(lower(normalize(t, NFKC)),
                           '[ؐ-ًؚ-ٰٟۖ-ۭـ]', '', 'g'),
            'أإآٱؤئىة٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹',
            'ااااوييه01234567890123456789'),
        '[ \t\n\r\f\v]+', ' ', 'g'), ' ')
$$;

-- A claim as searched: its text and every translation, as written and normalised.
CREATE FUNCTION claimdesk_claim_text(body text, translations jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT body || coalesce(' ' || (
        SELECT string_agg(item ->> 'text', ' ') FROM jsonb_array_elements(translations) AS item
    ), '')
$$;

CREATE FUNCTION claimdesk_claim_document(body text, translations jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT claimdesk_normalize(claimdesk_claim_text(body, translations))
$$;

-- Words as written (simple, on normalised text), Arabic stems (the Snowball stemmer folds
-- hamza, diacritics and ta marbuta itself and wants them present: it reads the raw text) and
-- English stems.
CREATE FUNCTION claimdesk_tsvector(normalised text, raw text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT to_tsvector('simple'::regconfig, normalised)
           || to_tsvector('arabic'::regconfig, lower(raw))
           || to_tsvector('english'::regconfig, normalised)
$$;

CREATE FUNCTION claimdesk_tsquery(normalised text, raw text) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT websearch_to_tsquery('simple'::regconfig, normalised)
           || websearch_to_tsquery('arabic'::regconfig, lower(raw))
           || websearch_to_tsquery('english'::regconfig, normalised)
$$;

ALTER TABLE actors ADD COLUMN name_norm text GENERATED ALWAYS AS (claimdesk_normalize(name)) STORED;
ALTER TABLE actor_names ADD COLUMN value_norm text GENERATED ALWAYS AS (claimdesk_normalize(value)) STORED;
CREATE INDEX actors__name_norm_trgm ON actors USING gin (name_norm gin_trgm_ops);
CREATE INDEX actor_names__value_norm_trgm ON actor_names USING gin (value_norm gin_trgm_ops);

ALTER TABLE claims ADD COLUMN search_norm text
    GENERATED ALWAYS AS (claimdesk_claim_document(text, translations)) STORED;
ALTER TABLE claims ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (claimdesk_tsvector(claimdesk_claim_document(text, translations),
                                            claimdesk_claim_text(text, translations))) STORED;
CREATE INDEX claims__search_vector_idx ON claims USING gin (search_vector);

ALTER TABLE disputes ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (claimdesk_tsvector(claimdesk_normalize(title || ' ' || question),
                                            title || ' ' || question)) STORED;
CREATE INDEX disputes__search_vector_idx ON disputes USING gin (search_vector);
"""

DOWN = """
DROP INDEX disputes__search_vector_idx;
ALTER TABLE disputes DROP COLUMN search_vector;
DROP INDEX claims__search_vector_idx;
ALTER TABLE claims DROP COLUMN search_vector;
ALTER TABLE claims DROP COLUMN search_norm;
DROP INDEX actor_names__value_norm_trgm;
DROP INDEX actors__name_norm_trgm;
ALTER TABLE actor_names DROP COLUMN value_norm;
ALTER TABLE actors DROP COLUMN name_norm;
DROP FUNCTION claimdesk_tsquery(text, text);
DROP FUNCTION claimdesk_tsvector(text, text);
DROP FUNCTION claimdesk_claim_document(text, jsonb);
DROP FUNCTION claimdesk_claim_text(text, jsonb);
DROP FUNCTION claimdesk_normalize(text);
"""


def upgrade() -> None:
    execute_script(UP)


def downgrade() -> None:
    execute_script(DOWN)
