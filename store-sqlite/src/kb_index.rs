//! The knowledge base's stored chunks and change feed (migration 17): one `kb_articles`
//! row per article (its latest change number, or a tombstone once deleted), its chunks in
//! `kb_chunks`, and each tenant's last number in `kb_sequences`.
//!
//! Every write runs in a `BEGIN IMMEDIATE` transaction, which SQLite runs one at a time:
//! the number taken from `kb_sequences` inside it is therefore visible only after every
//! smaller one is, which is the feed's ordering rule.

use async_trait::async_trait;
use helpdesk_core::store::{
    ArticleChunks, IndexedChunk, KbChange, KbIndexStore, embedding_to_le_bytes,
};
use helpdesk_core::{ArticleId, Result, TenantId};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::codec::{Columns, int};
use crate::error::{SqliteError, db};
use crate::sql::Sql;
use crate::{SqliteStore, commit};

/// SQLite binds at most 32766 parameters per statement; a chunk row takes 6.
const CHUNK_ROWS_PER_INSERT: usize = 5_000;

/// Whether the tenant's article is stored at exactly the version (the primary key finds
/// it; the tenant and version are checked on that row).
const ARTICLE_AT_VERSION: &str = "SELECT EXISTS (SELECT 1 FROM helpdesk_articles \
     WHERE id = ? AND tenant_id = ? AND version = ?)";

/// A page of the feed with the chunks of its live rows, in one statement (so the chunks
/// are those of the rows' own commit): the rows after `since` through the
/// `kb_articles_feed` index, each joined with its chunks by the chunks' primary key.
pub(crate) const CHANGES: &str = "SELECT k.article_id, k.seq, k.article_version, k.title, k.model, \
     k.removed, c.ordinal, c.chunk_id, c.text, c.embedding \
     FROM (SELECT article_id, seq, article_version, title, model, removed \
           FROM helpdesk_kb_articles WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?) AS k \
     LEFT JOIN helpdesk_kb_chunks AS c ON c.tenant_id = ? AND c.article_id = k.article_id \
     ORDER BY k.seq, c.ordinal";

/// The tenant's articles without live chunks of their version and `model`, least recently
/// updated first (the `articles_updated` index, read in order).
pub(crate) const TO_INDEX: &str = "SELECT a.id FROM helpdesk_articles AS a \
     LEFT JOIN helpdesk_kb_articles AS k \
       ON k.tenant_id = a.tenant_id AND k.article_id = a.id AND k.removed = 0 \
     WHERE a.tenant_id = ? \
       AND (k.article_id IS NULL OR k.article_version <> a.version OR k.model <> ?) \
     ORDER BY a.updated_at, a.id LIMIT ?";

/// Advances the tenant's knowledge-base counter and returns the new number; run it in the
/// write transaction of the change it numbers.
async fn next_seq(sql: &Sql, conn: &mut SqliteConnection, tenant: TenantId) -> Result<u64> {
    let n: i64 = sqlx::query_scalar(sql.text(
        "INSERT INTO helpdesk_kb_sequences (tenant_id, last_seq) VALUES (?, 1) \
         ON CONFLICT (tenant_id) DO UPDATE SET last_seq = last_seq + 1 \
         RETURNING last_seq",
    ))
    .bind(tenant.to_string())
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    u64::try_from(n).map_err(|e| SqliteError::corrupt("last_seq", e).into())
}

async fn delete_chunks(
    sql: &Sql,
    conn: &mut SqliteConnection,
    tenant: TenantId,
    article: ArticleId,
) -> Result<()> {
    sqlx::query(sql.text("DELETE FROM helpdesk_kb_chunks WHERE tenant_id = ? AND article_id = ?"))
        .bind(tenant.to_string())
        .bind(article.to_string())
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// Records the deletion of the tenant's article in the feed: its chunks are deleted and
/// its row becomes a tombstone with the next number (inserted if the article never had
/// chunks). Run it in the deleting write transaction.
pub(crate) async fn record_removal(
    sql: &Sql,
    conn: &mut SqliteConnection,
    tenant: TenantId,
    article: ArticleId,
) -> Result<()> {
    let seq = next_seq(sql, conn, tenant).await?;
    delete_chunks(sql, conn, tenant, article).await?;
    sqlx::query(sql.text(
        "INSERT INTO helpdesk_kb_articles \
         (tenant_id, article_id, seq, article_version, title, model, removed) \
         VALUES (?, ?, ?, 0, '', '', 1) \
         ON CONFLICT (tenant_id, article_id) DO UPDATE SET seq = excluded.seq, removed = 1",
    ))
    .bind(tenant.to_string())
    .bind(article.to_string())
    .bind(int(seq, "seq")?)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// Replaces the article's row and chunks with `chunks` numbered `seq`.
async fn store_chunks(
    sql: &Sql,
    conn: &mut SqliteConnection,
    tenant: TenantId,
    chunks: &ArticleChunks,
    seq: u64,
) -> Result<()> {
    sqlx::query(sql.text(
        "INSERT INTO helpdesk_kb_articles \
         (tenant_id, article_id, seq, article_version, title, model, removed) \
         VALUES (?, ?, ?, ?, ?, ?, 0) \
         ON CONFLICT (tenant_id, article_id) DO UPDATE SET seq = excluded.seq, \
         article_version = excluded.article_version, title = excluded.title, \
         model = excluded.model, removed = 0",
    ))
    .bind(tenant.to_string())
    .bind(chunks.article_id.to_string())
    .bind(int(seq, "seq")?)
    .bind(int(chunks.article_version, "article_version")?)
    .bind(&chunks.title)
    .bind(&chunks.model)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    delete_chunks(sql, conn, tenant, chunks.article_id).await?;
    let rows = chunks
        .chunks
        .iter()
        .enumerate()
        .map(|(ordinal, chunk)| Ok((int(ordinal as u64, "chunks")?, chunk)))
        .collect::<Result<Vec<(i64, &IndexedChunk)>>>()?;
    for batch in rows.chunks(CHUNK_ROWS_PER_INSERT) {
        let mut insert: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "INSERT INTO {} (tenant_id, article_id, ordinal, chunk_id, text, embedding) ",
            sql.table("kb_chunks")
        ));
        insert.push_values(batch, |mut row, (ordinal, chunk)| {
            row.push_bind(tenant.to_string())
                .push_bind(chunks.article_id.to_string())
                .push_bind(*ordinal)
                .push_bind(chunk.chunk_id.clone())
                .push_bind(chunk.text.clone())
                .push_bind(embedding_to_le_bytes(&chunk.embedding));
        });
        insert.build().execute(&mut *conn).await.map_err(db)?;
    }
    Ok(())
}

/// The feed's rows (one per change, then one per further chunk of it) as changes.
fn changes_from(rows: &[SqliteRow]) -> Result<Vec<KbChange>> {
    let mut changes: Vec<KbChange> = Vec::new();
    for row in rows {
        let c = Columns(row);
        let seq = c.u64("seq")?;
        if changes.last().is_none_or(|last| last.seq != seq) {
            let article_id: ArticleId = c.id("article_id")?;
            let chunks = if c.bool("removed")? {
                None
            } else {
                Some(ArticleChunks {
                    article_id,
                    article_version: c.u64("article_version")?,
                    title: c.text("title")?,
                    model: c.text("model")?,
                    chunks: Vec::new(),
                })
            };
            changes.push(KbChange {
                seq,
                article_id,
                chunks,
            });
        }
        let Some(set) = changes.last_mut().and_then(|last| last.chunks.as_mut()) else {
            continue;
        };
        if c.opt_i64("ordinal")?.is_some() {
            set.chunks.push(IndexedChunk {
                chunk_id: c.text("chunk_id")?,
                text: c.text("text")?,
                embedding: c.embedding("embedding")?,
            });
        }
    }
    Ok(changes)
}

#[async_trait]
impl KbIndexStore for SqliteStore {
    /// One write transaction: the version check, the counter, the row, the old chunks'
    /// deletion and the new chunks' insert (one statement per 5,000 chunks).
    async fn put_article_chunks(
        &self,
        tenant: TenantId,
        chunks: &ArticleChunks,
    ) -> Result<Option<u64>> {
        chunks.check()?;
        let version = int(chunks.article_version, "article_version")?;
        let mut tx = self.write_tx().await?;
        let current: bool = sqlx::query_scalar(self.sql.text(ARTICLE_AT_VERSION))
            .bind(chunks.article_id.to_string())
            .bind(tenant.to_string())
            .bind(version)
            .fetch_one(&mut **tx)
            .await
            .map_err(db)?;
        if !current {
            // Dropping the transaction unfinished rolls it back: nothing was written.
            return Ok(None);
        }
        let seq = next_seq(&self.sql, &mut tx, tenant).await?;
        store_chunks(&self.sql, &mut tx, tenant, chunks, seq).await?;
        commit(tx).await?;
        Ok(Some(seq))
    }

    /// One statement (see `CHANGES`).
    async fn kb_changes(
        &self,
        tenant: TenantId,
        since: u64,
        limit: usize,
    ) -> Result<Vec<KbChange>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(self.sql.text(CHANGES))
            .bind(tenant.to_string())
            .bind(i64::try_from(since).unwrap_or(i64::MAX))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .bind(tenant.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        changes_from(&rows)
    }

    /// One statement (see `TO_INDEX`).
    async fn articles_to_index(
        &self,
        tenant: TenantId,
        model: &str,
        limit: usize,
    ) -> Result<Vec<ArticleId>> {
        let rows = sqlx::query(self.sql.text(TO_INDEX))
            .bind(tenant.to_string())
            .bind(model)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(|row| Columns(row).id("id")).collect()
    }
}
