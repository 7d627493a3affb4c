-- helpdesk-store-postgres schema, version 17: retiring learned-triage models.
--
-- `retired_at` (milliseconds since the epoch) is set on every model of a tenant when a
-- ticket it may have learned from is erased; NULL while the model is in service. Retiring
-- is one UPDATE over the tenant's rows (the primary key's tenant prefix finds them).
ALTER TABLE helpdesk.triage_models ADD COLUMN retired_at bigint;
