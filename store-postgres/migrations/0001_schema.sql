-- helpdesk-store-postgres schema, version 1: tables.
-- Every table lives in the store's schema, written here as `helpdesk.`; a store with another
-- schema runs this text with `helpdesk.` replaced by its own (see src/sql.rs).
-- Ids are `uuid`; timestamps are `bigint` milliseconds since the Unix epoch (UTC), the
-- precision of the contract (listing cursors carry milliseconds); nested values the store
-- never filters, sorts or aggregates on are `jsonb`.

CREATE TABLE helpdesk.tenants (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    slug        text NOT NULL UNIQUE,
    settings    jsonb NOT NULL,
    created_at  bigint NOT NULL
);

CREATE TABLE helpdesk.users (
    id             uuid PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES helpdesk.tenants (id),
    email          text NOT NULL,
    name           text NOT NULL,
    role           text NOT NULL,
    skills         jsonb NOT NULL,
    capacity       bigint NOT NULL,
    active         boolean NOT NULL,
    password_hash  text,
    created_at     bigint NOT NULL,
    UNIQUE (tenant_id, email)
);

CREATE TABLE helpdesk.auth_sessions (
    token_hash  text PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES helpdesk.tenants (id),
    user_id     uuid NOT NULL,
    created_at  bigint NOT NULL,
    expires_at  bigint NOT NULL
);

-- One row per tenant, locked by the `INSERT ... ON CONFLICT DO UPDATE` that advances it, so
-- concurrent creates of one tenant take numbers one after the other.
CREATE TABLE helpdesk.ticket_counters (
    tenant_id    uuid PRIMARY KEY,
    last_number  bigint NOT NULL
);

CREATE TABLE helpdesk.tickets (
    id                           uuid PRIMARY KEY,
    tenant_id                    uuid NOT NULL REFERENCES helpdesk.tenants (id),
    number                       bigint NOT NULL,
    requester                    uuid NOT NULL,
    assignee                     uuid,
    subject                      text NOT NULL,
    subject_folded               text NOT NULL,   -- lowercase subject, for the text filter
    description                  text NOT NULL,
    status                       text NOT NULL,
    priority                     text NOT NULL,
    priority_rank                bigint NOT NULL,
    category                     text,
    tags                         jsonb NOT NULL,
    required_skills              jsonb NOT NULL,
    sentiment                    text,
    language                     text,
    channel                      text NOT NULL,
    created_at                   bigint NOT NULL,
    updated_at                   bigint NOT NULL,
    first_response_at            bigint,
    resolved_at                  bigint,
    closed_at                    bigint,
    sla_first_response_due       bigint,
    sla_resolution_due           bigint,
    sla_first_response_breached  boolean NOT NULL,
    sla_resolution_breached      boolean NOT NULL,
    sla_paused_since             bigint,
    triage                       jsonb,
    merged_into                  uuid,
    follow_up_of                 uuid,
    csat_score                   bigint,
    csat_comment                 text,
    csat_at                      bigint,
    version                      bigint NOT NULL,
    CONSTRAINT tickets_tenant_number UNIQUE (tenant_id, number)
);

-- `seq` gives the commit order of a ticket's events.
CREATE TABLE helpdesk.events (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         uuid NOT NULL UNIQUE,
    tenant_id  uuid NOT NULL,
    ticket_id  uuid NOT NULL REFERENCES helpdesk.tickets (id),
    version    bigint NOT NULL,
    at         bigint NOT NULL,
    actor      uuid,
    kind       text NOT NULL,      -- EventKind name
    payload    jsonb NOT NULL      -- EventKind
);

CREATE TABLE helpdesk.messages (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL,
    ticket_id    uuid NOT NULL,
    author       uuid,
    author_kind  text NOT NULL,
    kind         text NOT NULL,
    body         text NOT NULL,
    created_at   bigint NOT NULL,
    citations    jsonb NOT NULL,
    draft        jsonb,
    draft_state  text              -- DraftInfo.state, for analytics
);

CREATE TABLE helpdesk.idempotency_keys (
    tenant_id  uuid NOT NULL,
    key        text NOT NULL,
    ticket_id  uuid NOT NULL REFERENCES helpdesk.tickets (id),
    PRIMARY KEY (tenant_id, key)
);

CREATE TABLE helpdesk.outbox (
    id               uuid PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES helpdesk.tenants (id),
    notification     jsonb NOT NULL,
    created_at       bigint NOT NULL,
    attempts         bigint NOT NULL,
    next_attempt_at  bigint NOT NULL,
    delivered_at     bigint,
    last_error       text
);

CREATE TABLE helpdesk.articles (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES helpdesk.tenants (id),
    title       text NOT NULL,
    body        text NOT NULL,
    tags        jsonb NOT NULL,
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL,
    version     bigint NOT NULL
);

CREATE TABLE helpdesk.chat_sessions (
    id                uuid PRIMARY KEY,
    tenant_id         uuid NOT NULL REFERENCES helpdesk.tenants (id),
    customer          uuid NOT NULL,
    ticket_id         uuid,
    state             text NOT NULL,
    handoff_reason    text,
    resolved_by_bot   boolean NOT NULL,
    created_at        bigint NOT NULL,
    last_activity_at  bigint NOT NULL,
    closed_at         bigint,
    version           bigint NOT NULL
);

CREATE TABLE helpdesk.leases (
    name        text PRIMARY KEY,
    holder      text NOT NULL,
    expires_at  bigint NOT NULL
);

-- The audit trail of administrative changes, each row inserted in its change's transaction.
CREATE TABLE helpdesk.audit_events (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES helpdesk.tenants (id),
    at          bigint NOT NULL,
    actor       uuid,
    kind        jsonb NOT NULL   -- AuditKind, tagged by `type`
);
