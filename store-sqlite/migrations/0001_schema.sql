-- helpdesk-store-sqlite schema, version 1: tables.
-- Timestamps are INTEGER milliseconds since the Unix epoch (UTC); ids are lowercase
-- hyphenated UUID text (which sorts like the UUID bytes). Nested values the store never
-- filters, sorts or aggregates on are JSON text.
-- Every migration names the tables with the default prefix `helpdesk_`; a store with
-- another table prefix runs it with `helpdesk_` replaced by its own.

CREATE TABLE helpdesk_tenants (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    settings    TEXT NOT NULL,          -- JSON TenantSettings
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE helpdesk_users (
    id             TEXT PRIMARY KEY NOT NULL,
    tenant_id      TEXT NOT NULL REFERENCES helpdesk_tenants (id),
    email          TEXT NOT NULL,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL,
    skills         TEXT NOT NULL,       -- JSON array of strings
    capacity       INTEGER NOT NULL,
    active         INTEGER NOT NULL,
    password_hash  TEXT,
    created_at     INTEGER NOT NULL,
    UNIQUE (tenant_id, email)
) STRICT;

CREATE TABLE helpdesk_auth_sessions (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    tenant_id   TEXT NOT NULL REFERENCES helpdesk_tenants (id),
    user_id     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE helpdesk_ticket_counters (
    tenant_id    TEXT PRIMARY KEY NOT NULL,
    last_number  INTEGER NOT NULL
) STRICT;

-- `row_id` is an explicit rowid alias so it stays stable across VACUUM (the full-text
-- index of migration 2 refers to it).
CREATE TABLE helpdesk_tickets (
    row_id                       INTEGER PRIMARY KEY,
    id                           TEXT NOT NULL UNIQUE,
    tenant_id                    TEXT NOT NULL REFERENCES helpdesk_tenants (id),
    number                       INTEGER NOT NULL,
    requester                    TEXT NOT NULL,
    assignee                     TEXT,
    subject                      TEXT NOT NULL,
    subject_folded               TEXT NOT NULL,   -- lowercase subject, for the text filter
    description                  TEXT NOT NULL,
    status                       TEXT NOT NULL,
    priority                     TEXT NOT NULL,
    priority_rank                INTEGER NOT NULL,
    category                     TEXT,
    tags                         TEXT NOT NULL,   -- JSON array
    required_skills              TEXT NOT NULL,   -- JSON array
    sentiment                    TEXT,
    language                     TEXT,
    channel                      TEXT NOT NULL,
    created_at                   INTEGER NOT NULL,
    updated_at                   INTEGER NOT NULL,
    first_response_at            INTEGER,
    resolved_at                  INTEGER,
    closed_at                    INTEGER,
    sla_first_response_due       INTEGER,
    sla_resolution_due           INTEGER,
    sla_first_response_breached  INTEGER NOT NULL,
    sla_resolution_breached      INTEGER NOT NULL,
    sla_paused_since             INTEGER,
    triage                       TEXT,            -- JSON Triage
    merged_into                  TEXT,
    follow_up_of                 TEXT,
    csat_score                   INTEGER,
    csat_comment                 TEXT,
    csat_at                      INTEGER,
    version                      INTEGER NOT NULL,
    UNIQUE (tenant_id, number)
) STRICT;

-- `seq` gives the commit order of a ticket's events.
CREATE TABLE helpdesk_events (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    tenant_id  TEXT NOT NULL,
    ticket_id  TEXT NOT NULL REFERENCES helpdesk_tickets (id),
    version    INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    actor      TEXT,
    kind       TEXT NOT NULL,      -- EventKind name
    payload    TEXT NOT NULL       -- JSON EventKind
) STRICT;

CREATE TABLE helpdesk_messages (
    id           TEXT PRIMARY KEY NOT NULL,
    tenant_id    TEXT NOT NULL,
    ticket_id    TEXT NOT NULL,
    author       TEXT,
    author_kind  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    body         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    citations    TEXT NOT NULL,    -- JSON array of Citation
    draft        TEXT,             -- JSON DraftInfo
    draft_state  TEXT              -- DraftInfo.state, for analytics
) STRICT;

CREATE TABLE helpdesk_idempotency_keys (
    tenant_id  TEXT NOT NULL,
    key        TEXT NOT NULL,
    ticket_id  TEXT NOT NULL REFERENCES helpdesk_tickets (id),
    PRIMARY KEY (tenant_id, key)
) STRICT;

CREATE TABLE helpdesk_outbox (
    id               TEXT PRIMARY KEY NOT NULL,
    tenant_id        TEXT NOT NULL REFERENCES helpdesk_tenants (id),
    notification     TEXT NOT NULL,   -- JSON Notification
    created_at       INTEGER NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    delivered_at     INTEGER,
    last_error       TEXT
) STRICT;

CREATE TABLE helpdesk_articles (
    id          TEXT PRIMARY KEY NOT NULL,
    tenant_id   TEXT NOT NULL REFERENCES helpdesk_tenants (id),
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    tags        TEXT NOT NULL,   -- JSON array
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL
) STRICT;

CREATE TABLE helpdesk_chat_sessions (
    id                TEXT PRIMARY KEY NOT NULL,
    tenant_id         TEXT NOT NULL REFERENCES helpdesk_tenants (id),
    customer          TEXT NOT NULL,
    ticket_id         TEXT,
    state             TEXT NOT NULL,
    handoff_reason    TEXT,
    resolved_by_bot   INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    last_activity_at  INTEGER NOT NULL,
    closed_at         INTEGER,
    version           INTEGER NOT NULL
) STRICT;

CREATE TABLE helpdesk_leases (
    name        TEXT PRIMARY KEY NOT NULL,
    holder      TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;
