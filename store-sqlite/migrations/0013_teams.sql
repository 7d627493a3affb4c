-- helpdesk-store-sqlite schema, version 13: the team a ticket is given to.
--
-- `team`: the key of one of the tenant's teams (core's `Ticket::team`), NULL for none.
-- The index serves a team's queue and its counts (`TicketQuery::team` with statuses) the
-- way `helpdesk_tickets_queue` serves the tenant's. Tickets written before this migration
-- have no team, which is what NULL says.

ALTER TABLE helpdesk_tickets ADD COLUMN team TEXT;
CREATE INDEX helpdesk_tickets_team ON helpdesk_tickets (tenant_id, team, status);
