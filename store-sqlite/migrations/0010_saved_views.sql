-- Saved views: a queue filter and order kept under a name. `owner` is NULL for the
-- tenant's shared views, else the agent whose own it is.
CREATE TABLE helpdesk_saved_views (
    id           TEXT PRIMARY KEY NOT NULL,
    tenant_id    TEXT NOT NULL REFERENCES helpdesk_tenants (id),
    owner        TEXT,            -- NULL: shared with the tenant's staff
    name         TEXT NOT NULL,
    name_folded  TEXT NOT NULL,   -- the name trimmed and lowercased by the store (Unicode)
    filter       TEXT NOT NULL,   -- JSON ViewFilter
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

-- A folded name is unique per scope: the tenant's shared views, or one owner's. NULLs
-- are distinct in a UNIQUE index, so the shared ones are keyed by '' (never a user id);
-- the store reports a violation of this index by its name as a duplicate name.
CREATE UNIQUE INDEX helpdesk_saved_views_name
    ON helpdesk_saved_views (tenant_id, COALESCE(owner, ''), name_folded);

-- list_saved_views: a tenant's views by folded name, then id.
CREATE INDEX helpdesk_saved_views_tenant
    ON helpdesk_saved_views (tenant_id, name_folded, id);
