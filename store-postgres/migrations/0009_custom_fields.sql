-- helpdesk-store-postgres schema, version 9: custom field values on tickets.
-- `custom_fields` holds the ticket's values (`Ticket::custom_fields`, the map as serde_json
-- writes it: numbers as written, so they read back exactly); `field_tokens` its
-- `key=value` tokens as core's `field_tokens` makes them, written by the store with the
-- values in the same statement. The field filters of listings, counts and search are
-- `field_tokens @> $n::text[]` (every token of the query among the ticket's), answered by
-- the GIN index. Tickets stored before this version had no values: both default to empty.
ALTER TABLE helpdesk.tickets
    ADD COLUMN custom_fields jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN field_tokens text[] NOT NULL DEFAULT '{}';

CREATE INDEX tickets_field_tokens ON helpdesk.tickets USING gin (field_tokens);
