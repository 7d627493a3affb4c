//! The knowledge base's stored chunks and change feed (migration 14): one `kb_articles`
//! row per article (its latest change number, or a tombstone once deleted), its chunks in
//! `kb_chunks`, and each tenant's last number in `kb_sequences`.
//!
//! A change takes its number from the tenant's `kb_sequences` row in its first writing
//! statement and keeps the row locked until it commits: the next writer of the tenant waits
//! there, so numbers are taken in commit order and a reader never finds a change numbered
//! below one it has already seen. Every later statement of the change starts after the
//! previous writer's commit, so it sees (and replaces) that writer's chunks.

use async_trait::async_trait;
use helpdesk_core::store::{
    ArticleChunks, IndexedChunk, KbChange, KbIndexStore, embedding_to_le_bytes,
};
use helpdesk_core::{ArticleId, Result, TenantId};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

use crate::PostgresStore;
use crate::codec::{Columns, int};
use crate::error::{PostgresError, db};
use crate::sql::Sql;

/// PostgreSQL binds at most 65535 parameters per statement; a chunk row takes 6.
const CHUNK_ROWS_PER_INSERT: usize = 10_000;

/// The tenant's next number, advanced only when its article is stored at exactly the
/// version (`FOR SHARE`: an update or deletion of the article waits for this change's
/// commit, so the version checked is the one stored when it commits). No row: nothing
/// was advanced.
const NUMBER_IF_CURRENT: &str = "WITH current AS (SELECT id FROM helpdesk.articles \
     WHERE id = $2 AND tenant_id = $1 AND version = $3 FOR SHARE) \
     INSERT INTO helpdesk.kb_sequences (tenant_id, last_seq) SELECT $1, 1 FROM current \
     ON CONFLICT (tenant_id) DO UPDATE SET last_seq = helpdesk.kb_sequences.last_seq + 1 \
     RETURNING last_seq";

/// The tenant's next number (for a deletion, whose statement has just removed the
/// article).
const NUMBER: &str = "INSERT INTO helpdesk.kb_sequences (tenant_id, last_seq) VALUES ($1, 1) \
     ON CONFLICT (tenant_id) DO UPDATE SET last_seq = helpdesk.kb_sequences.last_seq + 1 \
     RETURNING last_seq";

/// The article's row with new chunks' details and number, and its old chunks deleted.
const STORE_ROW: &str = "WITH gone AS (DELETE FROM helpdesk.kb_chunks \
     WHERE tenant_id = $1 AND article_id = $2) \
     INSERT INTO helpdesk.kb_articles \
     (tenant_id, article_id, seq, article_version, title, model, removed) \
     VALUES ($1, $2, $3, $4, $5, $6, false) \
     ON CONFLICT (tenant_id, article_id) DO UPDATE SET seq = excluded.seq, \
     article_version = excluded.article_version, title = excluded.title, \
     model = excluded.model, removed = false";

/// The article's row as a tombstone with its number (inserted if the article never had
/// chunks), and its chunks deleted.
const TOMBSTONE: &str = "WITH gone AS (DELETE FROM helpdesk.kb_chunks \
     WHERE tenant_id = $1 AND article_id = $2) \
     INSERT INTO helpdesk.kb_articles \
     (tenant_id, article_id, seq, article_version, title, model, removed) \
     VALUES ($1, $2, $3, 0, '', '', true) \
     ON CONFLICT (tenant_id, article_id) DO UPDATE SET seq = excluded.seq, removed = true";

/// A page of the feed with the chunks of its live rows, in one statement (so the chunks
/// are those of the rows' own commit): the rows after `since` through the
/// `kb_articles_feed` index, each joined with its chunks by the chunks' primary key.
pub(crate) const CHANGES: &str = "SELECT k.article_id, k.seq, k.article_version, k.title, \
     k.model, k.removed, c.ordinal, c.chunk_id, c.text, c.embedding \
     FROM (SELECT article_id, seq, article_version, title, model, removed \
           FROM helpdesk.kb_articles WHERE tenant_id = $1 AND seq > $2 \
           ORDER BY seq LIMIT $3) AS k \
     LEFT JOIN helpdesk.kb_chunks AS c ON c.tenant_id = $1 AND c.article_id = k.article_id \
     ORDER BY k.seq, c.ordinal";

/// The tenant's articles without live chunks of their version and `model`, least recently
/// updated first (the `articles_updated` index).
pub(crate) const TO_INDEX: &str = "SELECT a.id FROM helpdesk.articles AS a \
     LEFT JOIN helpdesk.kb_articles AS k \
       ON k.tenant_id = a.tenant_id AND k.article_id = a.id AND NOT k.removed \
     WHERE a.tenant_id = $1 \
       AND (k.article_id IS NULL OR k.article_version <> a.version OR k.model <> $2) \
     ORDER BY a.updated_at, a.id LIMIT $3";

fn seq_of(n: i64) -> Result<u64> {
    u64::try_from(n).map_err(|e| PostgresError::corrupt("last_seq", e).into())
}

/// Records the deletion of the tenant's article in the feed: the next number, the chunks
/// deleted and the row made a tombstone. Run it in the deleting transaction, after the
/// article's row is deleted.
pub(crate) async fn record_removal(
    sql: &Sql,
    conn: &mut PgConnection,
    tenant: TenantId,
    article: ArticleId,
) -> Result<()> {
    let n: i64 = sqlx::query_scalar(sql.text(NUMBER))
        .bind(tenant.as_uuid())
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    sqlx::query(sql.text(TOMBSTONE))
        .bind(tenant.as_uuid())
        .bind(article.as_uuid())
        .bind(int(seq_of(n)?, "seq")?)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// Inserts the chunks of `chunks` (after [`STORE_ROW`] deleted the old ones).
async fn insert_chunks(
    sql: &Sql,
    conn: &mut PgConnection,
    tenant: TenantId,
    chunks: &ArticleChunks,
) -> Result<()> {
    let rows = chunks
        .chunks
        .iter()
        .enumerate()
        .map(|(ordinal, chunk)| {
            let ordinal = i32::try_from(ordinal)
                .map_err(|_| helpdesk_core::Error::validation("chunks", "too many chunks"))?;
            Ok((ordinal, chunk))
        })
        .collect::<Result<Vec<(i32, &IndexedChunk)>>>()?;
    for batch in rows.chunks(CHUNK_ROWS_PER_INSERT) {
        let mut insert: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "INSERT INTO {} (tenant_id, article_id, ordinal, chunk_id, text, embedding) ",
            sql.table("kb_chunks")
        ));
        insert.push_values(batch, |mut row, (ordinal, chunk)| {
            row.push_bind(tenant.as_uuid())
                .push_bind(chunks.article_id.as_uuid())
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
fn changes_from(rows: &[PgRow]) -> Result<Vec<KbChange>> {
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
        let ordinal: Option<i32> = row
            .try_get("ordinal")
            .map_err(|e| PostgresError::corrupt("ordinal", e))?;
        if ordinal.is_some() {
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
impl KbIndexStore for PostgresStore {
    /// One transaction of three statements: the version check with the number
    /// (`NUMBER_IF_CURRENT`), the row with the old chunks' deletion (`STORE_ROW`), the
    /// new chunks' insert (one statement for up to 10,000 chunks, which is all an article
    /// may have).
    async fn put_article_chunks(
        &self,
        tenant: TenantId,
        chunks: &ArticleChunks,
    ) -> Result<Option<u64>> {
        chunks.check()?;
        let version = int(chunks.article_version, "article_version")?;
        let mut tx = self.tx().await?;
        let n: Option<i64> = sqlx::query_scalar(self.sql.text(NUMBER_IF_CURRENT))
            .bind(tenant.as_uuid())
            .bind(chunks.article_id.as_uuid())
            .bind(version)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        let Some(n) = n else {
            // Dropping the transaction unfinished rolls it back: nothing was written.
            return Ok(None);
        };
        let seq = seq_of(n)?;
        sqlx::query(self.sql.text(STORE_ROW))
            .bind(tenant.as_uuid())
            .bind(chunks.article_id.as_uuid())
            .bind(n)
            .bind(version)
            .bind(&chunks.title)
            .bind(&chunks.model)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        insert_chunks(&self.sql, &mut tx, tenant, chunks).await?;
        crate::commit(tx).await?;
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
            .bind(tenant.as_uuid())
            .bind(i64::try_from(since).unwrap_or(i64::MAX))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
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
            .bind(tenant.as_uuid())
            .bind(model)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(|row| Columns(row).id("id")).collect()
    }
}
