-- helpdesk-store-sqlite schema, version 17: the knowledge base's search content and its
-- change feed (core's `KbIndexStore`).
--
-- `kb_sequences`: each tenant's last knowledge-base change number. A put or an article
-- deletion advances it inside its own write transaction, so numbers are handed out in
-- commit order and a reader that has seen `n` never later finds a change numbered `n` or
-- less.
--
-- `kb_articles`: one row per article that ever had chunks or was deleted: the number of its
-- latest change (`seq`, unique per tenant, read in order by the feed), and the article
-- version, title and embedding model its chunks were made from. `removed` = 1 is a
-- tombstone: the article was deleted, its chunks are gone, and the row stays so that the
-- feed tells readers. No foreign key to the article for that reason (a tombstone outlives
-- it); rows reference the tenant.
--
-- `kb_chunks`: the chunks of the live rows, in article order (`ordinal`), with their
-- embeddings as little-endian f32 bytes (4 per dimension, bit-exact).
--
-- The articles index by (tenant, updated_at, id) serves `articles_to_index`, which lists a
-- tenant's articles least recently updated first.
CREATE TABLE helpdesk_kb_sequences (
    tenant_id   TEXT PRIMARY KEY NOT NULL REFERENCES helpdesk_tenants (id),
    last_seq    INTEGER NOT NULL CHECK (last_seq > 0)
) STRICT;

CREATE TABLE helpdesk_kb_articles (
    tenant_id        TEXT NOT NULL REFERENCES helpdesk_tenants (id),
    article_id       TEXT NOT NULL,
    seq              INTEGER NOT NULL CHECK (seq > 0),
    article_version  INTEGER NOT NULL,
    title            TEXT NOT NULL,
    model            TEXT NOT NULL,
    removed          INTEGER NOT NULL CHECK (removed IN (0, 1)),
    PRIMARY KEY (tenant_id, article_id)
) STRICT;
CREATE UNIQUE INDEX helpdesk_kb_articles_feed ON helpdesk_kb_articles (tenant_id, seq);

CREATE TABLE helpdesk_kb_chunks (
    tenant_id   TEXT NOT NULL,
    article_id  TEXT NOT NULL,
    ordinal     INTEGER NOT NULL CHECK (ordinal >= 0),
    chunk_id    TEXT NOT NULL,
    text        TEXT NOT NULL,
    embedding   BLOB NOT NULL,
    PRIMARY KEY (tenant_id, article_id, ordinal),
    FOREIGN KEY (tenant_id, article_id) REFERENCES helpdesk_kb_articles (tenant_id, article_id)
) STRICT;

CREATE INDEX helpdesk_articles_updated ON helpdesk_articles (tenant_id, updated_at, id);
