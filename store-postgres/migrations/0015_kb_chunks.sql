-- helpdesk-store-postgres schema, version 14: the knowledge base's search content and its
-- change feed (core's `KbIndexStore`).
--
-- `kb_sequences`: each tenant's last knowledge-base change number. A put or an article
-- deletion advances it inside its own transaction and holds the row's lock until it
-- commits, so writers of one tenant take numbers in commit order and a reader that has
-- seen `n` never later finds a change numbered `n` or less.
--
-- `kb_articles`: one row per article that ever had chunks or was deleted: the number of its
-- latest change (`seq`, unique per tenant, read in order by the feed), and the article
-- version, title and embedding model its chunks were made from. `removed` is a tombstone:
-- the article was deleted, its chunks are gone, and the row stays so that the feed tells
-- readers. No foreign key to the article for that reason (a tombstone outlives it); rows
-- reference the tenant.
--
-- `kb_chunks`: the chunks of the live rows, in article order (`ordinal`), with their
-- embeddings as little-endian f32 bytes (4 per dimension, bit-exact).
--
-- The articles index by (tenant, updated_at, id) serves `articles_to_index`, which lists a
-- tenant's articles least recently updated first.
CREATE TABLE helpdesk.kb_sequences (
    tenant_id  uuid PRIMARY KEY REFERENCES helpdesk.tenants (id),
    last_seq   bigint NOT NULL CHECK (last_seq > 0)
);

CREATE TABLE helpdesk.kb_articles (
    tenant_id        uuid NOT NULL REFERENCES helpdesk.tenants (id),
    article_id       uuid NOT NULL,
    seq              bigint NOT NULL CHECK (seq > 0),
    article_version  bigint NOT NULL,
    title            text NOT NULL,
    model            text NOT NULL,
    removed          boolean NOT NULL,
    PRIMARY KEY (tenant_id, article_id)
);
CREATE UNIQUE INDEX kb_articles_feed ON helpdesk.kb_articles (tenant_id, seq);

CREATE TABLE helpdesk.kb_chunks (
    tenant_id   uuid NOT NULL,
    article_id  uuid NOT NULL,
    ordinal     integer NOT NULL CHECK (ordinal >= 0),
    chunk_id    text NOT NULL,
    text        text NOT NULL,
    embedding   bytea NOT NULL,
    PRIMARY KEY (tenant_id, article_id, ordinal),
    FOREIGN KEY (tenant_id, article_id) REFERENCES helpdesk.kb_articles (tenant_id, article_id)
);

CREATE INDEX articles_updated ON helpdesk.articles (tenant_id, updated_at, id);
