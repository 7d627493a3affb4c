-- helpdesk-store-postgres schema, version 14: routing decided in the store.
--
-- `last_routed`: each user's routing stamp (core's `RoutingStaff::last_routed`), 0 until
-- the router first assigns them a ticket, then the per-tenant increasing stamp of their
-- latest routed assignment. A routed ticket write moves it with a guarded `UPDATE` in the
-- write's transaction (the stamp routing read, room under `capacity`); two instances
-- routing to one agent serialise on the user's row lock and the second finds the stamp
-- moved (READ COMMITTED re-checks the guard on the committed row), so nobody gets more
-- than their capacity and the rotation is one across instances. Users written before
-- this migration were never routed by a stamp, which is what 0 says.
ALTER TABLE helpdesk.users ADD COLUMN last_routed bigint NOT NULL DEFAULT 0
    CHECK (last_routed >= 0);
