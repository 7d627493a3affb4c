-- helpdesk-store-postgres schema, version 13: what language models cost.
--
-- One row per answered model call (core's `ModelUsage`): the tenant, when (`at`,
-- milliseconds), what for (`use_case`: triage, draft, summary, chat), the model's id and
-- the tokens in and out. No ticket and no text: the rows outlive erasure and say nothing
-- about a customer. Rows are only ever inserted (with a ticket write or on their own), so
-- instances never contend on them; the report adds them up per UTC day, read through the
-- (tenant, at) index.
CREATE TABLE helpdesk.model_usage (
    tenant_id uuid NOT NULL,
    at bigint NOT NULL,
    use_case text NOT NULL,
    model text NOT NULL,
    prompt_tokens bigint NOT NULL CHECK (prompt_tokens >= 0),
    output_tokens bigint NOT NULL CHECK (output_tokens >= 0)
);
CREATE INDEX model_usage_tenant_at ON helpdesk.model_usage (tenant_id, at);
