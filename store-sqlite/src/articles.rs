//! Knowledge-base articles.

use async_trait::async_trait;
use helpdesk_core::domain::Article;
use helpdesk_core::store::ArticleStore;
use helpdesk_core::{ArticleId, Error, Result, TenantId};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;

use crate::codec::{Columns, int, json, ms};
use crate::error::{db, insert_err};
use crate::sql::Sql;
use crate::{SqliteStore, conflict_or_missing};

macro_rules! article_columns {
    () => {
        "id, tenant_id, title, body, tags, created_at, updated_at, version"
    };
}

fn article_from(row: &SqliteRow) -> Result<Article> {
    let c = Columns(row);
    Ok(Article {
        id: c.id("id")?,
        tenant_id: c.id("tenant_id")?,
        title: c.text("title")?,
        body: c.text("body")?,
        tags: c.json("tags")?,
        created_at: c.ts("created_at")?,
        updated_at: c.ts("updated_at")?,
        version: c.u64("version")?,
    })
}

/// Inserts an article.
pub(crate) async fn insert_article(
    sql: &Sql,
    conn: &mut SqliteConnection,
    article: &Article,
) -> Result<()> {
    sqlx::query(sql.text(concat!(
        "INSERT INTO helpdesk_articles (",
        article_columns!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    )))
    .bind(article.id.to_string())
    .bind(article.tenant_id.to_string())
    .bind(&article.title)
    .bind(&article.body)
    .bind(json(&article.tags, "article tags")?)
    .bind(ms(article.created_at))
    .bind(ms(article.updated_at))
    .bind(int(article.version, "version")?)
    .execute(&mut *conn)
    .await
    .map_err(insert_err(article.id))?;
    Ok(())
}

/// Replaces an article at `expected_version` (`Conflict` or `NotFound` otherwise); run it
/// in a write transaction.
pub(crate) async fn update_article(
    sql: &Sql,
    conn: &mut SqliteConnection,
    expected_version: u64,
    article: &Article,
) -> Result<()> {
    let done = sqlx::query(sql.text(
        "UPDATE helpdesk_articles SET title = ?, body = ?, tags = ?, created_at = ?, \
         updated_at = ?, version = ? WHERE tenant_id = ? AND id = ? AND version = ?",
    ))
    .bind(&article.title)
    .bind(&article.body)
    .bind(json(&article.tags, "article tags")?)
    .bind(ms(article.created_at))
    .bind(ms(article.updated_at))
    .bind(int(article.version, "version")?)
    .bind(article.tenant_id.to_string())
    .bind(article.id.to_string())
    .bind(int(expected_version, "expected_version")?)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    if done.rows_affected() == 0 {
        let found: bool = sqlx::query_scalar(sql.text(
            "SELECT EXISTS (SELECT 1 FROM helpdesk_articles WHERE tenant_id = ? AND id = ?)",
        ))
        .bind(article.tenant_id.to_string())
        .bind(article.id.to_string())
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
        return Err(conflict_or_missing(
            found,
            "article",
            article.id.to_string(),
            expected_version,
        ));
    }
    Ok(())
}

/// Deletes an article of the tenant (`NotFound` when missing), with its knowledge-base
/// chunks, and records the removal in the tenant's change feed; run it in a write
/// transaction (both delete paths, the store's and the audited admin change, do).
pub(crate) async fn delete_article(
    sql: &Sql,
    conn: &mut SqliteConnection,
    tenant: TenantId,
    id: ArticleId,
) -> Result<()> {
    let done =
        sqlx::query(sql.text("DELETE FROM helpdesk_articles WHERE tenant_id = ? AND id = ?"))
            .bind(tenant.to_string())
            .bind(id.to_string())
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("article", id));
    }
    crate::kb_index::record_removal(sql, conn, tenant, id).await
}

#[async_trait]
impl ArticleStore for SqliteStore {
    async fn create_article(&self, article: &Article) -> Result<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        insert_article(&self.sql, &mut conn, article).await
    }

    async fn update_article(&self, expected_version: u64, article: &Article) -> Result<()> {
        let mut tx = self.write_tx().await?;
        update_article(&self.sql, &mut tx, expected_version, article).await?;
        crate::commit(tx).await
    }

    async fn delete_article(&self, tenant: TenantId, id: ArticleId) -> Result<()> {
        let mut tx = self.write_tx().await?;
        delete_article(&self.sql, &mut tx, tenant, id).await?;
        crate::commit(tx).await
    }

    async fn get_article(&self, tenant: TenantId, id: ArticleId) -> Result<Option<Article>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            article_columns!(),
            " FROM helpdesk_articles WHERE tenant_id = ? AND id = ?"
        )))
        .bind(tenant.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(article_from)
        .transpose()
    }

    async fn list_articles(&self, tenant: TenantId) -> Result<Vec<Article>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            article_columns!(),
            " FROM helpdesk_articles WHERE tenant_id = ? ORDER BY title, id"
        )))
        .bind(tenant.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(article_from)
        .collect()
    }
}
