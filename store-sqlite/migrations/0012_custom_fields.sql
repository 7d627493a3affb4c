-- helpdesk-store-sqlite schema, version 12: custom field values on tickets.
--
-- `custom_fields`: the ticket's values by field key, as serde_json writes core's
-- `BTreeMap<String, FieldValue>` (read back by serde_json, never by SQLite, so numbers
-- round-trip exactly). `field_tokens`: a JSON array of core's `field_tokens` of those
-- values (`plan=Pro`, one per option of a multi-select), written with every ticket write
-- that changes them; a field filter (`TicketQuery::fields`, `SearchQuery::fields`) is one
-- `EXISTS` over `json_each(field_tokens)` per token, checked on the rows the tenant's
-- other filters and indexes leave (no index of its own).
--
-- Tickets written before this migration have no values: the defaults are exactly that,
-- and their Details text of search (`search_details`, migration 11) is already right.

ALTER TABLE helpdesk_tickets ADD COLUMN custom_fields TEXT NOT NULL DEFAULT '{}';
ALTER TABLE helpdesk_tickets ADD COLUMN field_tokens TEXT NOT NULL DEFAULT '[]';
