-- helpdesk-store-sqlite schema, version 19: learned-triage models (core's
-- `TriageModelStore`).
--
-- One row per trained model of a tenant, numbered per tenant (`version`). The primary key
-- (tenant, version) keeps one row per version: of two trainers recording the same version,
-- the second insert fails on it and is reported as a conflict. The same key, read
-- backwards, serves the listing (highest version first) and the latest model.
--
-- The model's bytes live in the host's blob store under the tenant and `blob` (64
-- lowercase hex digits of their SHA-256); `trained_at` is milliseconds since the epoch;
-- `categories` is a JSON array of strings.
CREATE TABLE helpdesk_triage_models (
    tenant_id         TEXT NOT NULL REFERENCES helpdesk_tenants (id),
    version           INTEGER NOT NULL CHECK (version > 0),
    format            TEXT NOT NULL,
    blob              TEXT NOT NULL,
    size_bytes        INTEGER NOT NULL CHECK (size_bytes >= 0),
    trained_at        INTEGER NOT NULL,
    resolved_tickets  INTEGER NOT NULL CHECK (resolved_tickets >= 0),
    training_tickets  INTEGER NOT NULL CHECK (training_tickets >= 0),
    holdout_tickets   INTEGER NOT NULL CHECK (holdout_tickets >= 0),
    holdout_correct   INTEGER NOT NULL CHECK (holdout_correct >= 0),
    categories        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, version)
) STRICT;
