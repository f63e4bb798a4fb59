"""Claim documents: each claim's JSON, as GET sends it, kept beside the claim.

A claim's JSON embeds rows of eight other tables (its speaker and the role they held, its
sources, targets, disputes and reviews), which took PostgreSQL seven subqueries a claim: most
of a claim page's cost, and of a dispute's. Reads now take the stored text. Triggers keep it
current: every write that changes what a claim's JSON shows (the claim, its lists, a position,
a review, a dispute's title or status, an actor's name or kind, a membership, a source) rebuilds
the JSON of the claims it touches, in the same transaction. A rebuild that gives the same text
writes nothing.

``claimdesk_claim_documents_refresh`` is PL/pgSQL with a generic plan, so that its statement
is planned once a session: a SQL function's was planned at every call, and so was a plan for
the values of ``ids`` (half a millisecond, three times for a new claim). It holds the JSON's
SQL as it was at this revision: a
migration that changes the claim JSON replaces it (the service's own copy,
``service.claims.queries.claim_json``, is checked against the stored documents after every
test).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CLAIM_JSON = """json_build_object(
    'id', c.id, 'version', c.version, 'created_at', replace(to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"'), '.000000Z', 'Z'),
    'updated_at', replace(to_char(c.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"'), '.000000Z', 'Z'),
    'speaker_id', c.speaker_id,
    'speaker', (
        SELECT json_build_object('id', sp.id, 'name', sp.name, 'kind', sp.kind, 'role', (
            SELECT json_build_object('role', m.role, 'organization_id', m.organization_id,
                                     'organization_name', o.name)
            FROM actor_memberships m JOIN actors o ON o.id = m.organization_id
            WHERE m.actor_id = sp.id
              AND CASE WHEN c.stated_on IS NULL THEN m.end_date IS NULL
                       ELSE (m.start_date IS NULL OR m.start_date <= c.stated_until)
                        AND (m.end_date IS NULL OR m.end_date >= c.stated_on) END
            ORDER BY m.start_date DESC NULLS LAST, m.position
            LIMIT 1))
        FROM actors sp WHERE sp.id = c.speaker_id),
    'text', c.text, 'lang', c.lang, 'verbatim', c.verbatim, 'translations', c.translations,
    'kind', c.kind, 'stated_on', c.stated_on, 'stated_on_precision', c.stated_on_precision,
    'appearances', COALESCE((
        SELECT json_agg(json_build_object(
                   'source_id', ap.source_id, 'note', ap.note,
                   'source', json_build_object('id', s.id, 'title', s.title, 'url', s.url,
                                               'kind', s.kind))
               ORDER BY ap.position)
        FROM claim_appearances ap JOIN sources s ON s.id = ap.source_id
        WHERE ap.claim_id = c.id), '[]'),
    'relayed_by_id', c.relayed_by_id,
    'relayed_by', (SELECT json_build_object('id', r.id, 'name', r.name, 'kind', r.kind)
                   FROM actors r WHERE r.id = c.relayed_by_id),
    'targets', COALESCE((
        SELECT json_agg(json_build_object(
                   'actor_id', t.actor_id, 'role', t.role,
                   'actor', json_build_object('id', ta.id, 'name', ta.name, 'kind', ta.kind))
               ORDER BY t.position)
        FROM claim_targets t JOIN actors ta ON ta.id = t.actor_id
        WHERE t.claim_id = c.id), '[]'),
    'topics', c.topics,
    'disputes', COALESCE((
        SELECT json_agg(json_build_object('id', d.id, 'title', d.title, 'status', d.status,
                                          'stance', dp.stance) ORDER BY d.id)
        FROM dispute_positions dp JOIN disputes d ON d.id = dp.dispute_id
        WHERE dp.claim_id = c.id), '[]'),
    'reviews', COALESCE((
        SELECT json_agg(json_build_object(
    'id', rv.id,
    'reviewer', (SELECT json_build_object('id', ra.id, 'name', ra.name, 'kind', ra.kind)
                 FROM actors ra WHERE ra.id = rv.reviewer_id),
    'rating', json_build_object('label', rv.rating_label, 'value', rv.rating_value,
                                'best', rv.rating_best, 'worst', rv.rating_worst),
    'summary', rv.summary, 'url', rv.url, 'published_at', rv.published_at, 'lang', rv.lang) ORDER BY rv.id)
        FROM reviews rv WHERE rv.claim_id = c.id), '[]'))"""

UP = [
    """
CREATE TABLE claim_documents (
    claim_id uuid PRIMARY KEY REFERENCES claims (id) ON DELETE CASCADE,
    body     json NOT NULL
)""",
    f"""
CREATE FUNCTION claimdesk_claim_documents_refresh(ids uuid[]) RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $fn$
BEGIN
    -- The claims are locked first, in id order, and their JSON built by the next statement,
    -- which reads a snapshot taken once the locks are held: a concurrent writer of one of
    -- them (a PATCH, another rebuild) has committed by then and is seen. Built from an
    -- earlier snapshot, the JSON of the writer that waited would overwrite the other's
    -- change with what it did not see.
    PERFORM FROM claims WHERE id = ANY (ids) ORDER BY id FOR NO KEY UPDATE;
    INSERT INTO claim_documents AS d (claim_id, body)
    SELECT c.id,
{CLAIM_JSON}
    FROM claims c
    WHERE c.id = ANY (ids)
    ON CONFLICT (claim_id) DO UPDATE SET body = EXCLUDED.body
    WHERE d.body::text IS DISTINCT FROM EXCLUDED.body::text;
END
$fn$""",
    # The claim itself, and the rows that name one claim: its lists, positions, reviews.
    """
CREATE FUNCTION claimdesk_claim_documents_of_row() RETURNS trigger
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
    """
CREATE TRIGGER claim_documents AFTER INSERT OR UPDATE ON claims
FOR EACH ROW EXECUTE FUNCTION claimdesk_claim_documents_of_row()""",
    """
CREATE TRIGGER claim_documents AFTER INSERT OR UPDATE OR DELETE ON claim_appearances
FOR EACH ROW EXECUTE FUNCTION claimdesk_claim_documents_of_row()""",
    """
CREATE TRIGGER claim_documents AFTER INSERT OR UPDATE OR DELETE ON claim_targets
FOR EACH ROW EXECUTE FUNCTION claimdesk_claim_documents_of_row()""",
    """
CREATE TRIGGER claim_documents AFTER INSERT OR UPDATE OR DELETE ON dispute_positions
FOR EACH ROW EXECUTE FUNCTION claimdesk_claim_documents_of_row()""",
    """
CREATE TRIGGER claim_documents AFTER INSERT OR UPDATE OR DELETE ON reviews
FOR EACH ROW EXECUTE FUNCTION claimdesk_claim_documents_of_row()""",
    # A dispute's title and status show on its claims.
    """
CREATE FUNCTION claimdesk_claim_documents_of_dispute() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM FROM disputes WHERE id = NEW.id FOR UPDATE;  -- see claimdesk_claim_documents_of_actor
    PERFORM claimdesk_claim_documents_refresh(
        ARRAY(SELECT claim_id FROM dispute_positions WHERE dispute_id = NEW.id));
    RETURN NULL;
END
$fn$""",
    """
CREATE TRIGGER claim_documents AFTER UPDATE ON disputes
FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.status IS DISTINCT FROM NEW.status)
EXECUTE FUNCTION claimdesk_claim_documents_of_dispute()""",
    # An actor's name and kind show where it speaks, relays, is targeted or reviews, and an
    # organization's name in the role of each of its members.
    """
CREATE FUNCTION claimdesk_claim_documents_of_actor() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    -- Rows that come to name this actor meanwhile (a new claim by it, or by a member of it)
    -- would be built from a snapshot without the change, and are not among the claims found
    -- below: the actor, and its members, are locked against new references first (FOR UPDATE
    -- waits for, and then blocks, the key-share locks of foreign-key checks), so the claims
    -- are found, and built, once those writers have committed.
    PERFORM FROM actors
    WHERE id = NEW.id OR id IN (SELECT actor_id FROM actor_memberships WHERE organization_id = NEW.id)
    ORDER BY id FOR UPDATE;
    PERFORM claimdesk_claim_documents_refresh(ARRAY(
        SELECT id FROM claims WHERE speaker_id = NEW.id
        UNION SELECT id FROM claims WHERE relayed_by_id = NEW.id
        UNION SELECT claim_id FROM claim_targets WHERE actor_id = NEW.id
        UNION SELECT claim_id FROM reviews WHERE reviewer_id = NEW.id
        UNION SELECT c.id FROM actor_memberships m JOIN claims c ON c.speaker_id = m.actor_id
              WHERE m.organization_id = NEW.id));
    RETURN NULL;
END
$fn$""",
    """
CREATE TRIGGER claim_documents AFTER UPDATE ON actors
FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.kind IS DISTINCT FROM NEW.kind)
EXECUTE FUNCTION claimdesk_claim_documents_of_actor()""",
    # A speaker's memberships give the role on each of their claims: once per statement, as
    # replacing an actor's memberships deletes and inserts several rows.
    """
CREATE FUNCTION claimdesk_claim_documents_of_memberships() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM FROM actors WHERE id IN (SELECT actor_id FROM new_rows) ORDER BY id FOR UPDATE;
        PERFORM claimdesk_claim_documents_refresh(ARRAY(
            SELECT c.id FROM claims c WHERE c.speaker_id IN (SELECT actor_id FROM new_rows)));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM FROM actors WHERE id IN (SELECT actor_id FROM old_rows) ORDER BY id FOR UPDATE;
        PERFORM claimdesk_claim_documents_refresh(ARRAY(
            SELECT c.id FROM claims c WHERE c.speaker_id IN (SELECT actor_id FROM old_rows)));
    ELSE
        PERFORM FROM actors
        WHERE id IN (SELECT actor_id FROM old_rows UNION SELECT actor_id FROM new_rows)
        ORDER BY id FOR UPDATE;
        PERFORM claimdesk_claim_documents_refresh(ARRAY(
            SELECT c.id FROM claims c WHERE c.speaker_id IN (
                SELECT actor_id FROM old_rows UNION SELECT actor_id FROM new_rows)));
    END IF;
    RETURN NULL;
END
$fn$""",
    """
CREATE TRIGGER claim_documents_insert AFTER INSERT ON actor_memberships
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION claimdesk_claim_documents_of_memberships()""",
    """
CREATE TRIGGER claim_documents_update AFTER UPDATE ON actor_memberships
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION claimdesk_claim_documents_of_memberships()""",
    """
CREATE TRIGGER claim_documents_delete AFTER DELETE ON actor_memberships
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION claimdesk_claim_documents_of_memberships()""",
    # A source's title, URL and kind show on the claims that appeared in it.
    """
CREATE FUNCTION claimdesk_claim_documents_of_source() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM FROM sources WHERE id = NEW.id FOR UPDATE;  -- see claimdesk_claim_documents_of_actor
    PERFORM claimdesk_claim_documents_refresh(
        ARRAY(SELECT claim_id FROM claim_appearances WHERE source_id = NEW.id));
    RETURN NULL;
END
$fn$""",
    """
CREATE TRIGGER claim_documents AFTER UPDATE ON sources
FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.url IS DISTINCT FROM NEW.url
                   OR OLD.kind IS DISTINCT FROM NEW.kind)
EXECUTE FUNCTION claimdesk_claim_documents_of_source()""",
    # The claims there are already.
    "SELECT claimdesk_claim_documents_refresh(ARRAY(SELECT id FROM claims))",
]

DOWN = [
    "DROP TRIGGER claim_documents ON sources",
    "DROP FUNCTION claimdesk_claim_documents_of_source()",
    "DROP TRIGGER claim_documents_delete ON actor_memberships",
    "DROP TRIGGER claim_documents_update ON actor_memberships",
    "DROP TRIGGER claim_documents_insert ON actor_memberships",
    "DROP FUNCTION claimdesk_claim_documents_of_memberships()",
    "DROP TRIGGER claim_documents ON actors",
    "DROP FUNCTION claimdesk_claim_documents_of_actor()",
    "DROP TRIGGER claim_documents ON disputes",
    "DROP FUNCTION claimdesk_claim_documents_of_dispute()",
    "DROP TRIGGER claim_documents ON reviews",
    "DROP TRIGGER claim_documents ON dispute_positions",
    "DROP TRIGGER claim_documents ON claim_targets",
    "DROP TRIGGER claim_documents ON claim_appearances",
    "DROP TRIGGER claim_documents ON claims",
    "DROP FUNCTION claimdesk_claim_documents_of_row()",
    "DROP FUNCTION claimdesk_claim_documents_refresh(uuid[])",
    "DROP TABLE claim_documents",
]


def upgrade() -> None:
    for statement in UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWN:
        op.execute(statement)
