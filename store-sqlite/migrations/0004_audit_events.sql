-- The audit trail of administrative changes (users, passwords, tenant settings, articles).
-- Each row is inserted in the transaction of its change.
CREATE TABLE helpdesk_audit_events (
    id          TEXT PRIMARY KEY NOT NULL,
    tenant_id   TEXT NOT NULL REFERENCES helpdesk_tenants (id),
    at          INTEGER NOT NULL,
    actor       TEXT,            -- user id; NULL when nobody was signed in
    kind        TEXT NOT NULL    -- JSON AuditKind, tagged by `type`
) STRICT;

-- list_audit_events: a tenant's events newest first, paged on (at, id).
CREATE INDEX helpdesk_audit_events_newest ON helpdesk_audit_events (tenant_id, at DESC, id DESC);
