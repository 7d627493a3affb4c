-- helpdesk-store-postgres schema, version 5: the e-mail channel. The headers of the mail
-- a message arrived in (NULL for every other message), and the quarantine of raw mail
-- the intake held (the bytes live in the host's blob store, under tenant and sha256).
ALTER TABLE helpdesk.messages ADD COLUMN email jsonb;

CREATE TABLE helpdesk.quarantine (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL,
    received_at   bigint NOT NULL,
    reason        text NOT NULL,
    detail        text NOT NULL,
    source        text NOT NULL,
    size          bigint NOT NULL,
    sha256        text NOT NULL,   -- 64 lowercase hex digits
    from_address  text,
    subject       text,
    status        jsonb NOT NULL,  -- QuarantineStatus
    held          boolean NOT NULL -- true while the status is held
);

-- list_quarantined: a tenant's mail newest first, all or held only.
CREATE INDEX quarantine_received ON helpdesk.quarantine (tenant_id, received_at DESC, id DESC);
CREATE INDEX quarantine_held
    ON helpdesk.quarantine (tenant_id, received_at DESC, id DESC) WHERE held;
