-- helpdesk-store-postgres schema, version 7: saved views, a queue filter and order kept
-- under a name (the plan tests in src/plans.rs check the listing's read).
CREATE TABLE helpdesk.saved_views (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES helpdesk.tenants (id),
    owner        uuid,                     -- NULL: shared with the tenant's staff
    name         text NOT NULL,
    -- The name trimmed and lowercased by the store (Unicode). Compared bytewise ("C"), so
    -- the listing's order is the reference store's whatever the database's collation.
    name_folded  text COLLATE "C" NOT NULL,
    filter       jsonb NOT NULL,           -- ViewFilter
    created_by   uuid NOT NULL,
    created_at   bigint NOT NULL,
    updated_at   bigint NOT NULL
);

-- A folded name is unique per scope: the tenant's shared views, or one owner's. NULLs are
-- distinct in a unique index, so the shared ones are keyed by the nil UUID (never a user
-- id); the store reports a violation of this index, by its name, as a taken name.
CREATE UNIQUE INDEX saved_views_name ON helpdesk.saved_views
    (tenant_id, (COALESCE(owner, '00000000-0000-0000-0000-000000000000'::uuid)), name_folded);

-- list_saved_views: a tenant's views by folded name, then id.
CREATE INDEX saved_views_tenant ON helpdesk.saved_views (tenant_id, name_folded, id);
