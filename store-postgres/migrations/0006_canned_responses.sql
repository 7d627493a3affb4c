-- helpdesk-store-postgres schema, version 6: canned responses (macros), a reply text with
-- placeholders and the changes applied with it, and an index of the tickets' events that
-- applied one (the plan tests in src/plans.rs check the reads).
CREATE TABLE helpdesk.canned_responses (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES helpdesk.tenants (id),
    owner        uuid,                     -- NULL: shared with the tenant's staff
    name         text NOT NULL,
    -- The name trimmed and lowercased by the store (Unicode). Compared bytewise ("C"), so
    -- the listing's order is the reference store's whatever the database's collation.
    name_folded  text COLLATE "C" NOT NULL,
    body         text NOT NULL,
    internal     boolean NOT NULL,
    actions      jsonb NOT NULL,           -- CannedActions
    created_by   uuid NOT NULL,
    created_at   bigint NOT NULL,
    updated_at   bigint NOT NULL
);

-- A folded name is unique per scope: the tenant's shared responses, or one owner's. NULLs
-- are distinct in a unique index, so the shared ones are keyed by the nil UUID (never a
-- user id); the store reports a violation of this index, by its name, as a taken name.
CREATE UNIQUE INDEX canned_responses_name ON helpdesk.canned_responses
    (tenant_id, (COALESCE(owner, '00000000-0000-0000-0000-000000000000'::uuid)), name_folded);

-- list_canned_responses: a tenant's responses by folded name, then id.
CREATE INDEX canned_responses_tenant ON helpdesk.canned_responses (tenant_id, name_folded, id);

-- canned_response_usage: a tenant's applied responses from a time on, without reading its
-- other events.
CREATE INDEX events_canned_applied ON helpdesk.events (tenant_id, at)
    WHERE kind = 'canned_response_applied';
