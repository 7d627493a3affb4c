-- helpdesk-store-postgres schema, version 8: full-text search (src/search.rs). Each
-- searchable text gets a words column, written by the store in the ticket write that
-- changes the text: the text's distinct words as core's `search_words` splits and
-- lowercases them, joined by single spaces (NULL for AI drafts, which are never searched).
-- The migration runner fills them for the rows already here, right after this migration
-- (src/search_index.rs). A GIN index covers each column's words as lexemes
-- (`array_to_tsvector`, no text-search parser or dictionary), which answers prefix queries
-- (`'refund':*`): the contract's word-start rule. The plan tests in src/plans.rs check that
-- a search reads them.
ALTER TABLE helpdesk.tickets
    ADD COLUMN search_subject text,   -- subject_text: the subject and the description
    ADD COLUMN search_details text;   -- details_text: the tags (and custom field values)
ALTER TABLE helpdesk.messages
    ADD COLUMN search_body text;      -- replies, chat turns and notes

CREATE INDEX tickets_search_subject ON helpdesk.tickets
    USING gin (array_to_tsvector(string_to_array(search_subject, ' ')));
CREATE INDEX tickets_search_details ON helpdesk.tickets
    USING gin (array_to_tsvector(string_to_array(search_details, ' ')));
CREATE INDEX messages_search_body ON helpdesk.messages
    USING gin (array_to_tsvector(string_to_array(search_body, ' ')));
