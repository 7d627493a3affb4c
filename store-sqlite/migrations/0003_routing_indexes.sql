-- Routing reads two things on every intake: the tenant's staff by role and the open
-- tickets per assignee. Without these, both scanned every user or every ticket of the
-- tenant (a tenant's customers and its closed tickets only grow).

-- list_users(tenant, Some(role)): the role's users in creation order.
CREATE INDEX helpdesk_users_role ON helpdesk_users (tenant_id, role, created_at, id);

-- open_ticket_counts: only open, assigned tickets (the terms match the query's WHERE, so
-- SQLite can use this partial index; `status` is in it so the count never reads the table).
CREATE INDEX helpdesk_tickets_open_by_assignee ON helpdesk_tickets (tenant_id, assignee, status)
    WHERE assignee IS NOT NULL AND status NOT IN ('resolved', 'closed');
