-- helpdesk-store-sqlite schema, version 2: indexes for the hot paths and a trigram
-- full-text index on ticket subjects.

-- Agent queue: status filter, then priority (urgent first), then age.
CREATE INDEX helpdesk_tickets_queue ON helpdesk_tickets (tenant_id, status, priority_rank DESC, created_at, id);
-- Unfiltered queue and newest-first listings.
CREATE INDEX helpdesk_tickets_priority ON helpdesk_tickets (tenant_id, priority_rank DESC, created_at, id);
CREATE INDEX helpdesk_tickets_created ON helpdesk_tickets (tenant_id, created_at, id);
-- "My tickets" and open load per assignee.
CREATE INDEX helpdesk_tickets_assignee ON helpdesk_tickets (tenant_id, assignee, status);
-- Customer listing.
CREATE INDEX helpdesk_tickets_requester ON helpdesk_tickets (tenant_id, requester, created_at);
-- SLA sweep: open tickets by due time.
CREATE INDEX helpdesk_tickets_first_response_due ON helpdesk_tickets (tenant_id, sla_first_response_due)
    WHERE status NOT IN ('resolved', 'closed') AND sla_first_response_due IS NOT NULL;
CREATE INDEX helpdesk_tickets_resolution_due ON helpdesk_tickets (tenant_id, sla_resolution_due)
    WHERE status NOT IN ('resolved', 'closed') AND sla_resolution_due IS NOT NULL;
-- Analytics by resolution and rating time.
CREATE INDEX helpdesk_tickets_resolved ON helpdesk_tickets (tenant_id, resolved_at) WHERE resolved_at IS NOT NULL;

CREATE INDEX helpdesk_events_ticket ON helpdesk_events (ticket_id, seq);
CREATE INDEX helpdesk_messages_ticket ON helpdesk_messages (ticket_id, created_at, id);
CREATE INDEX helpdesk_messages_drafts ON helpdesk_messages (tenant_id, created_at) WHERE kind = 'draft';
CREATE INDEX helpdesk_outbox_due ON helpdesk_outbox (next_attempt_at, id) WHERE delivered_at IS NULL;
CREATE INDEX helpdesk_outbox_tenant ON helpdesk_outbox (tenant_id, created_at, id);
CREATE INDEX helpdesk_articles_tenant ON helpdesk_articles (tenant_id, title, id);
CREATE INDEX helpdesk_chat_sessions_customer ON helpdesk_chat_sessions (tenant_id, customer, created_at);
CREATE INDEX helpdesk_chat_sessions_created ON helpdesk_chat_sessions (tenant_id, created_at);
CREATE INDEX helpdesk_chat_sessions_idle ON helpdesk_chat_sessions (tenant_id, last_activity_at) WHERE state <> 'closed';
CREATE INDEX helpdesk_auth_sessions_expiry ON helpdesk_auth_sessions (expires_at);

-- Trigram index over the folded subject: a substring filter of 3+ characters narrows to
-- candidates through it; the exact `instr` check then decides.
CREATE VIRTUAL TABLE helpdesk_tickets_fts USING fts5 (
    subject_folded,
    content = 'helpdesk_tickets',
    content_rowid = 'row_id',
    tokenize = 'trigram'
);

INSERT INTO helpdesk_tickets_fts (rowid, subject_folded) SELECT row_id, subject_folded FROM helpdesk_tickets;

CREATE TRIGGER helpdesk_tickets_fts_insert AFTER INSERT ON helpdesk_tickets BEGIN
    INSERT INTO helpdesk_tickets_fts (rowid, subject_folded) VALUES (new.row_id, new.subject_folded);
END;

CREATE TRIGGER helpdesk_tickets_fts_delete AFTER DELETE ON helpdesk_tickets BEGIN
    INSERT INTO helpdesk_tickets_fts (helpdesk_tickets_fts, rowid, subject_folded)
        VALUES ('delete', old.row_id, old.subject_folded);
END;

CREATE TRIGGER helpdesk_tickets_fts_update AFTER UPDATE OF subject_folded ON helpdesk_tickets BEGIN
    INSERT INTO helpdesk_tickets_fts (helpdesk_tickets_fts, rowid, subject_folded)
        VALUES ('delete', old.row_id, old.subject_folded);
    INSERT INTO helpdesk_tickets_fts (rowid, subject_folded) VALUES (new.row_id, new.subject_folded);
END;
