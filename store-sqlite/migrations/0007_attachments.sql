-- Attachment metadata, inserted in the transaction of its message's ticket write (the
-- bytes live in the host's blob store, under tenant and sha256).
CREATE TABLE helpdesk_attachments (
    id            TEXT PRIMARY KEY NOT NULL,
    tenant_id     TEXT NOT NULL,
    ticket_id     TEXT NOT NULL REFERENCES helpdesk_tickets (id),
    message_id    TEXT REFERENCES helpdesk_messages (id),   -- NULL: on the ticket itself
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL,   -- sniffed from the bytes
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,   -- 64 lowercase hex digits
    uploaded_by   TEXT,
    created_at    INTEGER NOT NULL
) STRICT;

-- list_attachments: a ticket's files in creation order.
CREATE INDEX helpdesk_attachments_ticket
    ON helpdesk_attachments (tenant_id, ticket_id, created_at, id);
