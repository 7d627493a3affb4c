-- helpdesk-store-sqlite schema, version 11: full-text search (`SearchStore`).
--
-- Word indexes (FTS5, tokenizer unicode61): a word is a run of letters, digits and marks,
-- case-folded, diacritics kept (so "größe" stays "größe", as core's `search_words` has
-- it). A search term is a prefix query on them. The requester's name and e-mail, which
-- are searched by substring, have a trigram index instead.
--
-- The messages and users tables are keyed by their text id, so their rowids may change on
-- VACUUM: their indexes are contentless and keyed by the stable `row_id` of a small key
-- table (`*_search_keys`) each. The tickets table has a stable `row_id`, so its index reads
-- its columns (external content), like the trigram index of migration 2.

-- The Details text of a ticket: core's `details_text` (the tags, then the custom field
-- values, joined by spaces), written by the store with every ticket write (only when it
-- changes). Existing rows get today's `details_text` (the tags) here.
ALTER TABLE helpdesk_tickets ADD COLUMN search_details TEXT NOT NULL DEFAULT '';

UPDATE helpdesk_tickets SET search_details = (
    SELECT coalesce(group_concat(value, ' '), '')
    FROM (SELECT value FROM json_each(helpdesk_tickets.tags) ORDER BY key)
) WHERE tags <> '[]';

-- Subject source: the subject and the description (what `subject_text` joins with a
-- newline, so a term never spans the two); Details source: `search_details`.
CREATE VIRTUAL TABLE helpdesk_tickets_search USING fts5 (
    subject,
    description,
    search_details,
    content = 'helpdesk_tickets',
    content_rowid = 'row_id',
    columnsize = 0,           -- no per-row sizes: nothing ranks by bm25, one write less
    tokenize = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"
);

INSERT INTO helpdesk_tickets_search (helpdesk_tickets_search) VALUES ('rebuild');

CREATE TRIGGER helpdesk_tickets_search_insert AFTER INSERT ON helpdesk_tickets BEGIN
    INSERT INTO helpdesk_tickets_search (rowid, subject, description, search_details)
        VALUES (new.row_id, new.subject, new.description, new.search_details);
END;

CREATE TRIGGER helpdesk_tickets_search_delete AFTER DELETE ON helpdesk_tickets BEGIN
    INSERT INTO helpdesk_tickets_search
        (helpdesk_tickets_search, rowid, subject, description, search_details)
        VALUES ('delete', old.row_id, old.subject, old.description, old.search_details);
END;

CREATE TRIGGER helpdesk_tickets_search_update
AFTER UPDATE OF subject, description, search_details ON helpdesk_tickets BEGIN
    INSERT INTO helpdesk_tickets_search
        (helpdesk_tickets_search, rowid, subject, description, search_details)
        VALUES ('delete', old.row_id, old.subject, old.description, old.search_details);
    INSERT INTO helpdesk_tickets_search (rowid, subject, description, search_details)
        VALUES (new.row_id, new.subject, new.description, new.search_details);
END;

-- Message and Note sources: the bodies of replies, chat turns and notes (never drafts).
CREATE TABLE helpdesk_message_search_keys (
    row_id      INTEGER PRIMARY KEY,
    message_id  TEXT NOT NULL UNIQUE
) STRICT;

CREATE VIRTUAL TABLE helpdesk_messages_search USING fts5 (
    body,
    content = '',
    contentless_delete = 1,
    tokenize = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"
);

INSERT INTO helpdesk_message_search_keys (message_id)
    SELECT id FROM helpdesk_messages WHERE kind IN ('reply', 'chat', 'note') ORDER BY rowid;
INSERT INTO helpdesk_messages_search (rowid, body)
    SELECT k.row_id, m.body
    FROM helpdesk_message_search_keys k JOIN helpdesk_messages m ON m.id = k.message_id;

CREATE TRIGGER helpdesk_messages_search_insert AFTER INSERT ON helpdesk_messages
WHEN new.kind IN ('reply', 'chat', 'note') BEGIN
    INSERT INTO helpdesk_message_search_keys (message_id) VALUES (new.id);
    INSERT INTO helpdesk_messages_search (rowid, body)
        SELECT row_id, new.body FROM helpdesk_message_search_keys WHERE message_id = new.id;
END;

-- A message replaced by id (a draft sent as a reply, ...): out with the old entry, in
-- with the new one when its kind is searched.
CREATE TRIGGER helpdesk_messages_search_update AFTER UPDATE OF kind, body ON helpdesk_messages
BEGIN
    DELETE FROM helpdesk_messages_search WHERE rowid =
        (SELECT row_id FROM helpdesk_message_search_keys WHERE message_id = old.id);
    DELETE FROM helpdesk_message_search_keys WHERE message_id = old.id;
    INSERT INTO helpdesk_message_search_keys (message_id)
        SELECT new.id WHERE new.kind IN ('reply', 'chat', 'note');
    INSERT INTO helpdesk_messages_search (rowid, body)
        SELECT row_id, new.body FROM helpdesk_message_search_keys WHERE message_id = new.id;
END;

CREATE TRIGGER helpdesk_messages_search_delete AFTER DELETE ON helpdesk_messages BEGIN
    DELETE FROM helpdesk_messages_search WHERE rowid =
        (SELECT row_id FROM helpdesk_message_search_keys WHERE message_id = old.id);
    DELETE FROM helpdesk_message_search_keys WHERE message_id = old.id;
END;

-- Requester source: "name <email>" by substring, through trigrams (terms of three or more
-- characters narrow to candidates; `instr` on the lowercased text decides).
CREATE TABLE helpdesk_user_search_keys (
    row_id   INTEGER PRIMARY KEY,
    user_id  TEXT NOT NULL UNIQUE
) STRICT;

CREATE VIRTUAL TABLE helpdesk_users_search USING fts5 (
    name_email,
    content = '',
    contentless_delete = 1,
    tokenize = 'trigram'
);

INSERT INTO helpdesk_user_search_keys (user_id) SELECT id FROM helpdesk_users ORDER BY rowid;
INSERT INTO helpdesk_users_search (rowid, name_email)
    SELECT k.row_id, u.name || ' <' || u.email || '>'
    FROM helpdesk_user_search_keys k JOIN helpdesk_users u ON u.id = k.user_id;

CREATE TRIGGER helpdesk_users_search_insert AFTER INSERT ON helpdesk_users BEGIN
    INSERT INTO helpdesk_user_search_keys (user_id) VALUES (new.id);
    INSERT INTO helpdesk_users_search (rowid, name_email)
        SELECT row_id, new.name || ' <' || new.email || '>'
        FROM helpdesk_user_search_keys WHERE user_id = new.id;
END;

CREATE TRIGGER helpdesk_users_search_update AFTER UPDATE OF name, email ON helpdesk_users
WHEN old.name IS NOT new.name OR old.email IS NOT new.email BEGIN
    DELETE FROM helpdesk_users_search WHERE rowid =
        (SELECT row_id FROM helpdesk_user_search_keys WHERE user_id = old.id);
    INSERT INTO helpdesk_users_search (rowid, name_email)
        SELECT row_id, new.name || ' <' || new.email || '>'
        FROM helpdesk_user_search_keys WHERE user_id = new.id;
END;

CREATE TRIGGER helpdesk_users_search_delete AFTER DELETE ON helpdesk_users BEGIN
    DELETE FROM helpdesk_users_search WHERE rowid =
        (SELECT row_id FROM helpdesk_user_search_keys WHERE user_id = old.id);
    DELETE FROM helpdesk_user_search_keys WHERE user_id = old.id;
END;
