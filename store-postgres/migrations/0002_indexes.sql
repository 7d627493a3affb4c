-- helpdesk-store-postgres schema, version 2: indexes for the hot paths (the plan tests in
-- src/plans.rs check that the statements use them). The trigram index of the text filter
-- is not here: it needs the pg_trgm extension, which a host database may not offer, so the
-- migration runner adds it when it can (src/migrate.rs).

-- Agent queue: one ordered read per status (tenant, status, priority, age), see listing.rs.
CREATE INDEX tickets_queue ON helpdesk.tickets (tenant_id, status, priority_rank DESC, created_at, id);
-- Unfiltered priority listings and newest-first listings.
CREATE INDEX tickets_priority ON helpdesk.tickets (tenant_id, priority_rank DESC, created_at, id);
CREATE INDEX tickets_created ON helpdesk.tickets (tenant_id, created_at, id);
-- "My tickets".
CREATE INDEX tickets_assignee ON helpdesk.tickets (tenant_id, assignee, status);
-- Customer listing: a requester's tickets newest first.
CREATE INDEX tickets_requester ON helpdesk.tickets (tenant_id, requester, created_at, id);
-- Open load per assignee (routing, on every intake): only open, assigned tickets.
CREATE INDEX tickets_open_by_assignee ON helpdesk.tickets (tenant_id, assignee)
    WHERE assignee IS NOT NULL AND status NOT IN ('resolved', 'closed');
-- SLA sweep: open tickets by due time.
CREATE INDEX tickets_first_response_due ON helpdesk.tickets (tenant_id, sla_first_response_due)
    WHERE status NOT IN ('resolved', 'closed') AND sla_first_response_due IS NOT NULL;
CREATE INDEX tickets_resolution_due ON helpdesk.tickets (tenant_id, sla_resolution_due)
    WHERE status NOT IN ('resolved', 'closed') AND sla_resolution_due IS NOT NULL;
-- Analytics: tickets created in a range, and resolutions in a range (per agent).
CREATE INDEX tickets_resolved ON helpdesk.tickets (tenant_id, resolved_at) WHERE resolved_at IS NOT NULL;

CREATE INDEX users_role ON helpdesk.users (tenant_id, role, created_at, id);
CREATE INDEX events_ticket ON helpdesk.events (ticket_id, seq);
CREATE INDEX messages_ticket ON helpdesk.messages (ticket_id, created_at, id);
CREATE INDEX messages_drafts ON helpdesk.messages (tenant_id, created_at) WHERE kind = 'draft';
CREATE INDEX outbox_due ON helpdesk.outbox (next_attempt_at, id) WHERE delivered_at IS NULL;
CREATE INDEX outbox_tenant ON helpdesk.outbox (tenant_id, created_at, id);
CREATE INDEX articles_tenant ON helpdesk.articles (tenant_id, title, id);
CREATE INDEX chat_sessions_customer ON helpdesk.chat_sessions (tenant_id, customer, created_at);
CREATE INDEX chat_sessions_created ON helpdesk.chat_sessions (tenant_id, created_at);
CREATE INDEX chat_sessions_idle ON helpdesk.chat_sessions (tenant_id, last_activity_at) WHERE state <> 'closed';
CREATE INDEX auth_sessions_expiry ON helpdesk.auth_sessions (expires_at);
CREATE INDEX audit_events_newest ON helpdesk.audit_events (tenant_id, at DESC, id DESC);
