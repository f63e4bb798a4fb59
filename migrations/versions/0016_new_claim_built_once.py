"""A new claim's document is built once, by the claim's trigger, not again for each of its rows.

A new claim's statement inserts the claim, its appearances and its targets, and the trigger
of migration 0010 on each of those rows rebuilt the claim's document: twice for every new
claim, three times with targets (a rebuild that gives the same text writes nothing, but it
builds the JSON and reads the stored one to compare). About 0.1 ms of PostgreSQL's time a
POST at a million claims, of some 1.2.

The second build was what kept the document right in one race. The foreign keys of a
statement's rows are checked at its end, row by row, each check locking the row it names
(key share), and the trigger on claims fires after the claim's own checks (its speaker, its
relayer) but before those of its appearances and targets. A rename of one of its sources
locks the source (``claimdesk_claim_documents_of_source``) and rebuilds the claims it finds,
which cannot include a claim not yet committed; the new claim's appearance check waits for
that rename to commit, but the claim's trigger had built its document before, with the old
title. The appearance's trigger, after its check, built it again with the new one.

Now the claim's trigger, on an insert, first takes those locks itself (the sources of its
appearances, the actors it targets, in id order, as the checks will), so it builds from what
has committed once every writer of them has; and the trigger on an appearance or a target
does nothing when its row and its claim were inserted by the same statement (same
transaction and command: ``xmin``, ``cmin``). A row added to an existing claim, or added to a
new one by a later statement, rebuilds as before.
``test_a_claim_made_while_its_source_or_target_is_renamed_shows_the_new_name`` (and the
speaker's) runs the rename while the service's POST statement waits for it. (Migration 0018
then has that statement store the document, after locking the same rows itself.)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

UP = [
    """
CREATE OR REPLACE FUNCTION claimdesk_claim_documents_of_row() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_TABLE_NAME = 'claims' THEN
        IF TG_OP = 'INSERT' THEN
            -- what the foreign-key checks of its appearances and targets lock after this
            -- trigger has run, locked before it builds (see the migration)
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

# Migration 0010's function.
DOWN = [
    """
CREATE OR REPLACE FUNCTION claimdesk_claim_documents_of_row() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_TABLE_NAME = 'claims' THEN
        PERFORM claimdesk_claim_documents_refresh(ARRAY[NEW.id]);
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM claimdesk_claim_documents_refresh(ARRAY[NEW.claim_id]);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM claimdesk_claim_documents_refresh(ARRAY[OLD.claim_id]);
    ELSE
        PERFORM claimdesk_claim_documents_refresh(ARRAY[OLD.claim_id, NEW.claim_id]);
    END IF;
    RETURN NULL;
END
$fn$""",
]


def upgrade() -> None:
    for statement in UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWN:
        op.execute(statement)
