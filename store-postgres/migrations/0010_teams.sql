-- helpdesk-store-postgres schema, version 10: the team a ticket is given to.
--
-- `team`: the key of one of the tenant's teams (core's `Ticket::team`), NULL for none.
-- The index serves a team's queue and its counts (`TicketQuery::team` with statuses).
-- Tickets written before this migration have no team, which is what NULL says.

ALTER TABLE helpdesk.tickets ADD COLUMN team text;

CREATE INDEX tickets_team ON helpdesk.tickets (tenant_id, team, status);
