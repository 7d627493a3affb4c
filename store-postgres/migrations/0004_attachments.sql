-- helpdesk-store-postgres schema, version 4: attachment metadata, inserted in the
-- transaction of its message's ticket write (the bytes live in the host's blob store,
-- under tenant and sha256; the plan tests in src/plans.rs check the reads).
CREATE TABLE helpdesk.attachments (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL,
    ticket_id     uuid NOT NULL REFERENCES helpdesk.tickets (id),
    message_id    uuid REFERENCES helpdesk.messages (id),   -- NULL: on the ticket itself
    file_name     text NOT NULL,
    content_type  text NOT NULL,   -- sniffed from the bytes
    size          bigint NOT NULL,
    sha256        text NOT NULL,   -- 64 lowercase hex digits
    uploaded_by   uuid,
    created_at    bigint NOT NULL
);

-- list_attachments: a ticket's files in creation order.
CREATE INDEX attachments_ticket ON helpdesk.attachments (tenant_id, ticket_id, created_at, id);
