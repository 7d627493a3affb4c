-- helpdesk-store-sqlite schema, version 14: the team a shared saved view is published to.
--
-- `team`: the key of one of the tenant's teams (core's `SavedView::team`), NULL for a view
-- every agent sees (and for personal views). Views written before this migration are
-- published to everyone, which is what NULL says.

ALTER TABLE helpdesk_saved_views ADD COLUMN team TEXT;
