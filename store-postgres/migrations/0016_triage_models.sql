-- helpdesk-store-postgres schema, version 16: learned-triage models (core's
-- `TriageModelStore`).
--
-- One row per trained model of a tenant, numbered per tenant (`version`). The primary key
-- (tenant, version) keeps one row per version: of two trainers recording the same version,
-- the second insert waits for the first to commit, then fails on the key and is reported as
-- a conflict. The same key, read backwards, serves the listing (highest version first) and
-- the latest model.
--
-- The model's bytes live in the host's blob store under the tenant and `blob` (64
-- lowercase hex digits of their SHA-256); `trained_at` is milliseconds since the epoch;
-- `categories` is a JSON array of strings.
CREATE TABLE helpdesk.triage_models (
    tenant_id         uuid NOT NULL REFERENCES helpdesk.tenants (id),
    version           bigint NOT NULL CHECK (version > 0),
    format            text NOT NULL,
    blob              text NOT NULL,
    size_bytes        bigint NOT NULL CHECK (size_bytes >= 0),
    trained_at        bigint NOT NULL,
    resolved_tickets  bigint NOT NULL CHECK (resolved_tickets >= 0),
    training_tickets  bigint NOT NULL CHECK (training_tickets >= 0),
    holdout_tickets   bigint NOT NULL CHECK (holdout_tickets >= 0),
    holdout_correct   bigint NOT NULL CHECK (holdout_correct >= 0),
    categories        jsonb NOT NULL,
    PRIMARY KEY (tenant_id, version)
);
