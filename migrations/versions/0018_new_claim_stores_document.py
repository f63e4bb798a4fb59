"""A new claim's statement stores the document it builds, read after it holds what it names.

Since migration 0016 a new claim's document was built twice: by its statement (for the answer
and the revision) and by the trigger on claims (to store it), after the statement's
foreign-key checks. Storing the statement's JSON was tried in the fifth session and taken
back: the checks run at the statement's end and may wait there for a rename of the speaker
to commit, after the JSON was built, from the statement's snapshot, with the old name.

Now the statement first key-share locks every row its JSON names (the speaker, the relayer,
the targets, the sources), as its foreign-key checks would at its end, so that a rename of
one waits for it or it for the rename, and builds the JSON with
``claimdesk_claim_json_now``: VOLATILE, so its queries see what has committed once those
locks are held (a statement's own snapshot is older than its waits), and the rows the
statement has inserted. It stores that JSON as the claim's document, and the trigger on
claims builds nothing for a claim whose document the same command stored (same ``xmin`` and
``cmin``). A claim inserted any other way is built by the trigger as before.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-27
"""

from __future__ import annotations

import importlib

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_0016 = importlib.import_module("migrations.versions.0016_new_claim_built_once")

UP = [
    """
CREATE FUNCTION claimdesk_claim_json_now(claim uuid) RETURNS json
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
    RETURN claimdesk_claim_json(claim);
END
$fn$""",
    """
CREATE OR REPLACE FUNCTION claimdesk_claim_documents_of_row() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_TABLE_NAME = 'claims' THEN
        IF TG_OP = 'INSERT' THEN
            -- stored by the statement that inserted the claim (the service's POST)
            PERFORM FROM claims c, claim_documents d
            WHERE c.id = NEW.id AND d.claim_id = NEW.id
              AND d.xmin = c.xmin AND d.cmin = c.cmin;
            IF FOUND THEN
                RETURN NULL;
            END IF;
            -- what the foreign-key checks of its appearances and targets lock after this
            -- trigger has run, locked before it builds (migration 0016)
            PERFORM FROM sources
            WHERE id IN (SELECT source_id FROM claim_appearances WHERE claim_id = NEW.id)
            ORDER BY id FOR KEY SHARE;
            PERFORM FROM actors
            WHERE id IN (SELECT actor_id FROM claim_targets WHERE claim_id = NEW.id)
            ORDER BY id FOR KEY SHARE;
        END IF;
        PERFORM claimdesk_claim_documents_refresh(ARRAY[NEW.id]);
    ELSIF TG_OP = 'INSERT' THEN
        -- a row inserted by the statement that inserted its claim: the claim's trigger builds
        IF TG_TABLE_NAME = 'claim_appearances' THEN
            PERFORM FROM claims c, claim_appearances r
            WHERE c.id = NEW.claim_id AND (r.claim_id, r.position) = (NEW.claim_id, NEW.position)
              AND c.xmin = r.xmin AND c.cmin = r.cmin;
        ELSIF TG_TABLE_NAME = 'claim_targets' THEN
            PERFORM FROM claims c, claim_targets r
            WHERE c.id = NEW.claim_id AND (r.claim_id, r.position) = (NEW.claim_id, NEW.position)
              AND c.xmin = r.xmin AND c.cmin = r.cmin;
        ELSE
            PERFORM WHERE false;
        END IF;
        IF NOT FOUND THEN
            PERFORM claimdesk_claim_documents_refresh(ARRAY[NEW.claim_id]);
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM claimdesk_claim_documents_refresh(ARRAY[OLD.claim_id]);
    ELSE
        PERFORM claimdesk_claim_documents_refresh(ARRAY[OLD.claim_id, NEW.claim_id]);
    END IF;
    RETURN NULL;
END
$fn$""",
]

DOWN = [*_0016.UP, "DROP FUNCTION claimdesk_claim_json_now(uuid)"]


def upgrade() -> None:
    for statement in UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWN:
        op.execute(statement)
