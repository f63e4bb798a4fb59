"""Foundation: actors, sources, claims, revisions and change events.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from migrations import execute_script

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UP = r"""
CREATE TABLE actors (
    id           uuid PRIMARY KEY,
    kind         text NOT NULL
                 CONSTRAINT actors__kind CHECK (kind IN ('person', 'organization', 'state',
                                                         'armed_group', 'media', 'group')),
    name         text NOT NULL CONSTRAINT actors__name CHECK (char_length(name) BETWEEN 1 AND 300),
    description  text CONSTRAINT actors__description CHECK (char_length(description) <= 5000),
    country      text CONSTRAINT actors__country CHECK (country ~ '^[A-Z]{2}$'),
    wikidata_id  text CONSTRAINT actors__wikidata_id CHECK (wikidata_id ~ '^Q[1-9][0-9]{0,11}$'),
    version      integer NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX actors__wikidata_id_key ON actors (wikidata_id) WHERE wikidata_id IS NOT NULL;
CREATE INDEX actors__kind_idx ON actors (kind, id);
CREATE INDEX actors__country_idx ON actors (country, id) WHERE country IS NOT NULL;

CREATE TABLE actor_names (
    actor_id  uuid NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    position  smallint NOT NULL,
    value     text NOT NULL CONSTRAINT actor_names__value CHECK (char_length(value) BETWEEN 1 AND 300),
    lang      text NOT NULL,
    kind      text NOT NULL
              CONSTRAINT actor_names__kind CHECK (kind IN ('official', 'common', 'abbreviation',
                                                           'transliteration', 'translation')),
    PRIMARY KEY (actor_id, position),
    CONSTRAINT actor_names__value_lang_key UNIQUE (actor_id, value, lang)
);

CREATE TABLE actor_memberships (
    actor_id         uuid NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    position         smallint NOT NULL,
    organization_id  uuid NOT NULL
                     CONSTRAINT actor_memberships__organization_id
                     REFERENCES actors (id) ON DELETE RESTRICT,
    role             text CONSTRAINT actor_memberships__role CHECK (char_length(role) <= 300),
    start_date       date,
    end_date         date,
    PRIMARY KEY (actor_id, position),
    CONSTRAINT actor_memberships__end_date CHECK (end_date >= start_date),
    CONSTRAINT actor_memberships__organization_id_self CHECK (organization_id <> actor_id)
);
CREATE INDEX actor_memberships__organization_idx ON actor_memberships (organization_id);

CREATE TABLE sources (
    id                      uuid PRIMARY KEY,
    kind                    text NOT NULL
                            CONSTRAINT sources__kind CHECK (kind IN (
                                'article', 'statement', 'press_release', 'social_post', 'video',
                                'broadcast', 'interview', 'document')),
    title                   text NOT NULL CONSTRAINT sources__title CHECK (char_length(title) BETWEEN 1 AND 1000),
    url                     text CONSTRAINT sources__url CHECK (char_length(url) <= 2048),
    url_key                 text,
    publisher_id            uuid CONSTRAINT sources__publisher_id
                            REFERENCES actors (id) ON DELETE RESTRICT,
    published_at            timestamptz,
    published_at_precision  text CONSTRAINT sources__published_at_precision
                            CHECK (published_at_precision IN ('day', 'second')),
    lang                    text,
    archive_url             text CONSTRAINT sources__archive_url CHECK (char_length(archive_url) <= 2048),
    version                 integer NOT NULL DEFAULT 1,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sources__url_key CHECK ((url IS NULL) = (url_key IS NULL)),
    CONSTRAINT sources__published_at CHECK ((published_at IS NULL) = (published_at_precision IS NULL))
);
CREATE UNIQUE INDEX sources__url_key_key ON sources (url_key);
CREATE INDEX sources__publisher_idx ON sources (publisher_id, id);
CREATE INDEX sources__kind_idx ON sources (kind, id);

CREATE TABLE claims (
    id                   uuid PRIMARY KEY,
    speaker_id           uuid NOT NULL CONSTRAINT claims__speaker_id
                         REFERENCES actors (id) ON DELETE RESTRICT,
    relayed_by_id        uuid CONSTRAINT claims__relayed_by_id
                         REFERENCES actors (id) ON DELETE RESTRICT,
    text                 text NOT NULL CONSTRAINT claims__text CHECK (char_length(text) BETWEEN 1 AND 20000),
    lang                 text NOT NULL,
    verbatim             boolean NOT NULL,
    kind                 text NOT NULL
                         CONSTRAINT claims__kind CHECK (kind IN ('assertion', 'denial', 'accusation',
                             'doubt', 'demand', 'prediction', 'promise', 'other')),
    stated_on            date,
    stated_on_precision  text CONSTRAINT claims__stated_on_precision
                         CHECK (stated_on_precision IN ('day', 'month', 'year')),
    -- Last day of the period stated_on + precision names: range filters match overlaps.
    stated_until         date GENERATED ALWAYS AS (CASE stated_on_precision
                             WHEN 'day' THEN stated_on
                             WHEN 'month' THEN (stated_on + interval '1 month' - interval '1 day')::date
                             WHEN 'year' THEN (stated_on + interval '1 year' - interval '1 day')::date
                         END) STORED,
    translations         jsonb NOT NULL DEFAULT '[]',
    topics               text[] NOT NULL DEFAULT '{}',
    version              integer NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT claims__relayed_by_id_self CHECK (relayed_by_id <> speaker_id),
    CONSTRAINT claims__stated_on CHECK ((stated_on IS NULL) = (stated_on_precision IS NULL)),
    CONSTRAINT claims__stated_on_month CHECK (
        stated_on_precision IS DISTINCT FROM 'month' OR extract(day FROM stated_on) = 1),
    CONSTRAINT claims__stated_on_year CHECK (
        stated_on_precision IS DISTINCT FROM 'year'
        OR (extract(day FROM stated_on) = 1 AND extract(month FROM stated_on) = 1))
);
CREATE INDEX claims__speaker_idx ON claims (speaker_id, id);
CREATE INDEX claims__relayed_by_idx ON claims (relayed_by_id, id) WHERE relayed_by_id IS NOT NULL;
CREATE INDEX claims__kind_idx ON claims (kind, id);
CREATE INDEX claims__lang_idx ON claims (lang, id);
CREATE INDEX claims__stated_idx ON claims (stated_on, stated_until);
CREATE INDEX claims__topics_idx ON claims USING gin (topics);

CREATE TABLE claim_targets (
    claim_id  uuid NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    position  smallint NOT NULL,
    actor_id  uuid NOT NULL CONSTRAINT claim_targets__actor_id
              REFERENCES actors (id) ON DELETE RESTRICT,
    role      text NOT NULL
              CONSTRAINT claim_targets__role CHECK (role IN ('accused', 'criticized', 'addressed',
                                                             'supported', 'mentioned')),
    PRIMARY KEY (claim_id, position),
    CONSTRAINT claim_targets__actor_role_key UNIQUE (claim_id, actor_id, role)
);
CREATE INDEX claim_targets__actor_idx ON claim_targets (actor_id, claim_id);

CREATE TABLE claim_appearances (
    claim_id   uuid NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    position   smallint NOT NULL,
    source_id  uuid NOT NULL CONSTRAINT claim_appearances__source_id
               REFERENCES sources (id) ON DELETE RESTRICT,
    note       text CONSTRAINT claim_appearances__note CHECK (char_length(note) <= 2000),
    PRIMARY KEY (claim_id, position),
    CONSTRAINT claim_appearances__source_key UNIQUE (claim_id, source_id)
);
CREATE INDEX claim_appearances__source_idx ON claim_appearances (source_id, claim_id);

-- History: what each tracked row was at each version, and the ordered stream of changes.
CREATE TABLE revisions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resource     text NOT NULL,
    resource_id  uuid NOT NULL,
    version      integer NOT NULL,
    action       text NOT NULL CONSTRAINT revisions__action CHECK (action IN ('create', 'update', 'delete')),
    changed_by   text NOT NULL,
    request_id   text,
    changed_at   timestamptz NOT NULL DEFAULT now(),
    data         jsonb NOT NULL,
    CONSTRAINT revisions__version_key UNIQUE (resource, resource_id, version)
);

CREATE TABLE change_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resource     text NOT NULL,
    resource_id  uuid NOT NULL,
    action       text NOT NULL,
    version      integer NOT NULL,
    changed_by   text NOT NULL,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    -- The writing transaction: a change feed orders by commit, not by id (issue: change feed).
    txid         xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX change_events__resource_idx ON change_events (resource, resource_id, id);
"""

DOWN = """
DROP TABLE change_events;
DROP TABLE revisions;
DROP TABLE claim_appearances;
DROP TABLE claim_targets;
DROP TABLE claims;
DROP TABLE sources;
DROP TABLE actor_memberships;
DROP TABLE actor_names;
DROP TABLE actors;
"""


def upgrade() -> None:
    execute_script(UP)


def downgrade() -> None:
    execute_script(DOWN)
