"""A query's full-text form names each alternative once.

``claimdesk_tsquery`` joins the query as three configurations parse it (words as written,
Arabic stems, English stems) with ``|``. Most words come out the same in two or three of them
(an English word is the same as written and in the Arabic configuration, an Arabic one the
same as written and in the English one), and the query held each copy. Matching does not
care, but ranking does: ``ts_rank_cd`` looks for covers of every alternative, and ranking the
candidates was the largest part of a search (about 12 microseconds a claim for a two-word
query, 7.6 without the copy). The same claims match; an alternative is left out only when it
equals one already there.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""

from __future__ import annotations

from migrations import execute_script

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UP = """
CREATE OR REPLACE FUNCTION claimdesk_tsquery(normalised text, raw text) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN english IN (written, arabic) THEN first_two ELSE first_two || english END
    FROM (SELECT english, arabic, written,
                 CASE WHEN arabic = written THEN written ELSE written || arabic END AS first_two
          FROM (SELECT websearch_to_tsquery('simple'::regconfig, normalised) AS written,
                       websearch_to_tsquery('arabic'::regconfig, lower(raw)) AS arabic,
                       websearch_to_tsquery('english'::regconfig, normalised) AS english
               ) AS parsed
         ) AS q
$$;
"""

DOWN = """
CREATE OR REPLACE FUNCTION claimdesk_tsquery(normalised text, raw text) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT websearch_to_tsquery('simple'::regconfig, normalised)
           || websearch_to_tsquery('arabic'::regconfig, lower(raw))
           || websearch_to_tsquery('english'::regconfig, normalised)
$$;
"""


def upgrade() -> None:
    execute_script(UP)


def downgrade() -> None:
    execute_script(DOWN)
