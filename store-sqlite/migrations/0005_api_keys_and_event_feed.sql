-- Per-tenant API keys. `secret_hash` (hex SHA-256 of the secret) is read only by the
-- lookup that authenticates a key; no listing selects it.
CREATE TABLE helpdesk_api_keys (
    id            TEXT PRIMARY KEY NOT NULL,
    tenant_id     TEXT NOT NULL REFERENCES helpdesk_tenants (id),
    user_id       TEXT NOT NULL REFERENCES helpdesk_users (id),
    role          TEXT NOT NULL,
    label         TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    secret_hash   TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    created_by    TEXT NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
) STRICT;

-- list_api_keys: a tenant's keys newest first.
CREATE INDEX helpdesk_api_keys_newest ON helpdesk_api_keys (tenant_id, created_at DESC, id DESC);

-- list_tenant_events: the event feed reads a tenant's events from a time on, in (at, id)
-- order.
CREATE INDEX helpdesk_events_tenant_feed ON helpdesk_events (tenant_id, at, id);
