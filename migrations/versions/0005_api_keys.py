"""API keys: stored as a SHA-256 of the key (never the key), with scopes, expiry and revocation;
revisions and change events record the key that made each change.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

from migrations import execute_script

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UP = """
CREATE TABLE api_keys (
    id            uuid PRIMARY KEY,
    name          text NOT NULL CONSTRAINT api_keys__name
                  CHECK (char_length(name) BETWEEN 1 AND 200 AND name ~ '[^[:space:]]'),
    -- The key's first characters, shown in lists so people can tell keys apart.
    prefix        text NOT NULL,
    -- SHA-256 of the whole key: keys are 190 random bits, so a fast hash is as safe as a slow one.
    secret_sha256 bytea NOT NULL CONSTRAINT api_keys__secret_sha256 UNIQUE,
    scopes        text[] NOT NULL CONSTRAINT api_keys__scopes
                  CHECK (cardinality(scopes) >= 1 AND scopes <@ ARRAY['read', 'write', 'admin']),
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text NOT NULL,
    expires_at    timestamptz,
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    revoked_by    text
);
CREATE INDEX api_keys__created_idx ON api_keys (created_at DESC, id DESC);

ALTER TABLE revisions ADD COLUMN key_id uuid REFERENCES api_keys (id);
ALTER TABLE change_events ADD COLUMN key_id uuid REFERENCES api_keys (id);
"""

DOWN = """
ALTER TABLE change_events DROP COLUMN key_id;
ALTER TABLE revisions DROP COLUMN key_id;
DROP TABLE api_keys;
"""


def upgrade() -> None:
    execute_script(UP)


def downgrade() -> None:
    execute_script(DOWN)
