-- helpdesk-store-postgres schema, version 3: API keys, webhook endpoints and the tenant
-- event feed (the plan tests in src/plans.rs check the feed and due-webhook reads).

-- Per-tenant API keys. `secret_hash` (hex SHA-256 of the secret) is read only by the
-- lookup that authenticates a key (its unique index); no listing selects it.
CREATE TABLE helpdesk.api_keys (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES helpdesk.tenants (id),
    user_id       uuid NOT NULL REFERENCES helpdesk.users (id),
    role          text NOT NULL,
    label         text NOT NULL,
    prefix        text NOT NULL,
    secret_hash   text NOT NULL,
    created_at    bigint NOT NULL,
    created_by    uuid NOT NULL,
    last_used_at  bigint,
    revoked_at    bigint,
    CONSTRAINT api_keys_secret_hash UNIQUE (secret_hash)
);

-- list_api_keys: a tenant's keys newest first.
CREATE INDEX api_keys_newest ON helpdesk.api_keys (tenant_id, created_at DESC, id DESC);

-- list_tenant_events: the event feed reads a tenant's events from a time on, in (at, id)
-- order.
CREATE INDEX events_tenant_feed ON helpdesk.events (tenant_id, at, id);

-- Webhook endpoints with their signing secrets (needed to sign; never in a listing the
-- service hands out) and their delivery state.
CREATE TABLE helpdesk.webhooks (
    id                    uuid PRIMARY KEY,
    tenant_id             uuid NOT NULL REFERENCES helpdesk.tenants (id),
    url                   text NOT NULL,
    event_types           jsonb NOT NULL,   -- array of event kind names
    secret                text NOT NULL,
    previous_secret       text,
    rotated_at            bigint,
    enabled               boolean NOT NULL,
    disabled_reason       text,
    consecutive_failures  bigint NOT NULL,
    cursor                text,             -- event feed cursor after the last delivery
    next_attempt_at       bigint,
    created_at            bigint NOT NULL
);

-- list_webhooks: a tenant's endpoints oldest first.
CREATE INDEX webhooks_tenant ON helpdesk.webhooks (tenant_id, created_at, id);

-- due_webhooks: enabled endpoints by retry time, those with no retry waiting first. The
-- key maps "no retry waiting" (NULL) below every real time (jiff's earliest timestamp is
-- far above the smallest bigint), so the due endpoints are one range at the start of the
-- index, read in order and cut by the LIMIT (an `IS NULL OR <=` filter could not be a
-- single range).
CREATE INDEX webhooks_due ON helpdesk.webhooks
    ((COALESCE(next_attempt_at, -9223372036854775808)), id) WHERE enabled;
