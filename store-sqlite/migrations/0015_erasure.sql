-- helpdesk-store-sqlite schema, version 15: erasure of personal data.
--
-- `erased_at`: when the ticket's personal data was erased (core's `Ticket::erased_at`,
-- milliseconds), NULL while it is not. The partial index serves the retention policy's
-- read (`ErasureStore::retention_due`: a tenant's tickets not erased, created before a
-- time, oldest first) without touching erased ones. Tickets written before this
-- migration are not erased, which is what NULL says.

ALTER TABLE helpdesk_tickets ADD COLUMN erased_at INTEGER;
CREATE INDEX helpdesk_tickets_retention ON helpdesk_tickets (tenant_id, created_at)
    WHERE erased_at IS NULL;

-- An erasure deletes the ticket's outbox entries (their notifications name its subject),
-- found by the ticket id inside the notification.
CREATE INDEX helpdesk_outbox_ticket ON helpdesk_outbox
    (tenant_id, json_extract(notification, '$.ticket_id'));

-- An erased file's bytes are deleted when no other attachment of the tenant has them.
CREATE INDEX helpdesk_attachments_sha256 ON helpdesk_attachments (tenant_id, sha256);
