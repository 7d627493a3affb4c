-- helpdesk-store-sqlite schema, version 17: routing decided in the store.
--
-- `last_routed`: each user's routing stamp (core's `RoutingStaff::last_routed`), 0 until
-- the router first assigns them a ticket, then the per-tenant increasing stamp of their
-- latest routed assignment. A routed ticket write moves it with a guarded `UPDATE` in the
-- write's transaction (the stamp routing read, room under `capacity`), so instances
-- sharing the file never give an agent more than their capacity and share one rotation.
-- Users written before this migration were never routed by a stamp, which is what 0 says.
ALTER TABLE helpdesk_users ADD COLUMN last_routed INTEGER NOT NULL DEFAULT 0
    CHECK (last_routed >= 0);
