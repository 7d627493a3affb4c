-- The e-mail channel: the headers of the mail a message arrived in (JSON, NULL for every
-- other message), and the quarantine of raw mail the intake held (the bytes live in the
-- host's blob store, under tenant and sha256).
ALTER TABLE helpdesk_messages ADD COLUMN email TEXT;

CREATE TABLE helpdesk_quarantine (
    id            TEXT PRIMARY KEY NOT NULL,
    tenant_id     TEXT NOT NULL,
    received_at   INTEGER NOT NULL,
    reason        TEXT NOT NULL,
    detail        TEXT NOT NULL,
    source        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,   -- 64 lowercase hex digits
    from_address  TEXT,
    subject       TEXT,
    status        TEXT NOT NULL,   -- JSON QuarantineStatus
    held          INTEGER NOT NULL -- 1 while the status is held
) STRICT;

-- list_quarantined: a tenant's mail newest first, all or held only.
CREATE INDEX helpdesk_quarantine_received
    ON helpdesk_quarantine (tenant_id, received_at DESC, id DESC);
CREATE INDEX helpdesk_quarantine_held
    ON helpdesk_quarantine (tenant_id, held, received_at DESC, id DESC);
