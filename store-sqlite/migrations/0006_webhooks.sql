-- Webhook endpoints with their signing secrets (needed to sign; never in a listing the
-- service hands out) and their delivery state.
CREATE TABLE helpdesk_webhooks (
    id                    TEXT PRIMARY KEY NOT NULL,
    tenant_id             TEXT NOT NULL REFERENCES helpdesk_tenants (id),
    url                   TEXT NOT NULL,
    event_types           TEXT NOT NULL,   -- JSON array of event kind names
    secret                TEXT NOT NULL,
    previous_secret       TEXT,
    rotated_at            INTEGER,
    enabled               INTEGER NOT NULL,
    disabled_reason       TEXT,
    consecutive_failures  INTEGER NOT NULL,
    cursor                TEXT,            -- event feed cursor after the last delivery
    next_attempt_at       INTEGER,
    created_at            INTEGER NOT NULL
) STRICT;

-- list_webhooks: a tenant's endpoints oldest first.
CREATE INDEX helpdesk_webhooks_tenant ON helpdesk_webhooks (tenant_id, created_at, id);

-- due_webhooks: enabled endpoints by retry time (NULL, no retry waiting, first).
CREATE INDEX helpdesk_webhooks_due ON helpdesk_webhooks (next_attempt_at, id) WHERE enabled = 1;
