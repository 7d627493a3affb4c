-- helpdesk-store-sqlite schema, version 2: indexes for the hot paths and a trigram
-- full-text index on ticket subjects.

-- Agent queue: status filter, then priority (urgent first), then age.
CREATE INDEX tickets_queue ON tickets (tenant_id, status, priority_rank DESC, created_at, id);
-- Unfiltered queue and newest-first listings.
CREATE INDEX tickets_priority ON tickets (tenant_id, priority_rank DESC, created_at, id);
CREATE INDEX tickets_created ON tickets (tenant_id, created_at, id);
-- "My tickets" and open load per assignee.
CREATE INDEX tickets_assignee ON tickets (tenant_id, assignee, status);
-- Customer listing.
CREATE INDEX tickets_requester ON tickets (tenant_id, requester, created_at);
-- SLA sweep: open tickets by due time.
CREATE INDEX tickets_first_response_due ON tickets (tenant_id, sla_first_response_due)
    WHERE status NOT IN ('resolved', 'closed') AND sla_first_response_due IS NOT NULL;
CREATE INDEX tickets_resolution_due ON tickets (tenant_id, sla_resolution_due)
    WHERE status NOT IN ('resolved', 'closed') AND sla_resolution_due IS NOT NULL;
-- Analytics by resolution and rating time.
CREATE INDEX tickets_resolved ON tickets (tenant_id, resolved_at) WHERE resolved_at IS NOT NULL;

CREATE INDEX events_ticket ON events (ticket_id, seq);
CREATE INDEX messages_ticket ON messages (ticket_id, created_at, id);
CREATE INDEX messages_drafts ON messages (tenant_id, created_at) WHERE kind = 'draft';
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE delivered_at IS NULL;
CREATE INDEX outbox_tenant ON outbox (tenant_id, created_at, id);
CREATE INDEX articles_tenant ON articles (tenant_id, title, id);
CREATE INDEX chat_sessions_customer ON chat_sessions (tenant_id, customer, created_at);
CREATE INDEX chat_sessions_created ON chat_sessions (tenant_id, created_at);
CREATE INDEX chat_sessions_idle ON chat_sessions (tenant_id, last_activity_at) WHERE state <> 'closed';
CREATE INDEX auth_sessions_expiry ON auth_sessions (expires_at);

-- Trigram index over the folded subject: a substring filter of 3+ characters narrows to
-- candidates through it; the exact `instr` check then decides.
CREATE VIRTUAL TABLE tickets_fts USING fts5 (
    subject_folded,
    content = 'tickets',
    content_rowid = 'row_id',
    tokenize = 'trigram'
);

INSERT INTO tickets_fts (rowid, subject_folded) SELECT row_id, subject_folded FROM tickets;

CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO tickets_fts (rowid, subject_folded) VALUES (new.row_id, new.subject_folded);
END;

CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, subject_folded)
        VALUES ('delete', old.row_id, old.subject_folded);
END;

CREATE TRIGGER tickets_fts_update AFTER UPDATE OF subject_folded ON tickets BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, subject_folded)
        VALUES ('delete', old.row_id, old.subject_folded);
    INSERT INTO tickets_fts (rowid, subject_folded) VALUES (new.row_id, new.subject_folded);
END;
