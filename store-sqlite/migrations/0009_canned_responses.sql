-- Canned responses (macros): a reply text with placeholders and the changes applied with
-- it. `owner` is NULL for the tenant's shared responses, else the agent whose own it is.
CREATE TABLE helpdesk_canned_responses (
    id           TEXT PRIMARY KEY NOT NULL,
    tenant_id    TEXT NOT NULL REFERENCES helpdesk_tenants (id),
    owner        TEXT,            -- NULL: shared with the tenant's staff
    name         TEXT NOT NULL,
    name_folded  TEXT NOT NULL,   -- the name trimmed and lowercased by the store (Unicode)
    body         TEXT NOT NULL,
    internal     INTEGER NOT NULL,
    actions      TEXT NOT NULL,   -- JSON CannedActions
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

-- A folded name is unique per scope: the tenant's shared responses, or one owner's. NULLs
-- are distinct in a UNIQUE index, so the shared ones are keyed by '' (never a user id);
-- the store reports a violation of this index by its name as a duplicate name.
CREATE UNIQUE INDEX helpdesk_canned_responses_name
    ON helpdesk_canned_responses (tenant_id, COALESCE(owner, ''), name_folded);

-- list_canned_responses: a tenant's responses by folded name, then id.
CREATE INDEX helpdesk_canned_responses_tenant
    ON helpdesk_canned_responses (tenant_id, name_folded, id);

-- canned_response_usage: a tenant's applied responses from a time on, without reading its
-- other events.
CREATE INDEX helpdesk_events_canned_applied
    ON helpdesk_events (tenant_id, at) WHERE kind = 'canned_response_applied';
