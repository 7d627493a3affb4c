//! Knowledge-base articles.

use async_trait::async_trait;
use helpdesk_core::domain::Article;
use helpdesk_core::store::ArticleStore;
use helpdesk_core::{ArticleId, Error, Result, TenantId};
use sqlx::PgConnection;
use sqlx::postgres::PgRow;

use crate::codec::{Columns, int, json, ms};
use crate::error::{db, insert_err};
use crate::sql::Sql;
use crate::{PostgresStore, conflict_or_missing};

macro_rules! article_columns {
    () => {
        "id, tenant_id, title, body, tags, created_at, updated_at, version"
    };
}

fn article_from(row: &PgRow) -> Result<Article> {
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
    conn: &mut PgConnection,
    article: &Article,
) -> Result<()> {
    sqlx::query(sql.text(concat!(
        "INSERT INTO helpdesk.articles (",
        article_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )))
    .bind(article.id.as_uuid())
    .bind(article.tenant_id.as_uuid())
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
    conn: &mut PgConnection,
    expected_version: u64,
    article: &Article,
) -> Result<()> {
    let done = sqlx::query(sql.text(
        "UPDATE helpdesk.articles SET title = $1, body = $2, tags = $3, created_at = $4, \
         updated_at = $5, version = $6 WHERE tenant_id = $7 AND id = $8 AND version = $9",
    ))
    .bind(&article.title)
    .bind(&article.body)
    .bind(json(&article.tags, "article tags")?)
    .bind(ms(article.created_at))
    .bind(ms(article.updated_at))
    .bind(int(article.version, "version")?)
    .bind(article.tenant_id.as_uuid())
    .bind(article.id.as_uuid())
    .bind(int(expected_version, "expected_version")?)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    if done.rows_affected() == 0 {
        let found: bool = sqlx::query_scalar(sql.text(
            "SELECT EXISTS (SELECT 1 FROM helpdesk.articles WHERE tenant_id = $1 AND id = $2)",
        ))
        .bind(article.tenant_id.as_uuid())
        .bind(article.id.as_uuid())
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
/// chunks, and records the removal in the tenant's change feed; run it in a transaction
/// (both delete paths, the store's and the audited admin change, do).
pub(crate) async fn delete_article(
    sql: &Sql,
    conn: &mut PgConnection,
    tenant: TenantId,
    id: ArticleId,
) -> Result<()> {
    let done =
        sqlx::query(sql.text("DELETE FROM helpdesk.articles WHERE tenant_id = $1 AND id = $2"))
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("article", id));
    }
    crate::kb_index::record_removal(sql, conn, tenant, id).await
}

#[async_trait]
impl ArticleStore for PostgresStore {
    async fn create_article(&self, article: &Article) -> Result<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        insert_article(&self.sql, &mut conn, article).await
    }

    async fn update_article(&self, expected_version: u64, article: &Article) -> Result<()> {
        let mut tx = self.tx().await?;
        update_article(&self.sql, &mut tx, expected_version, article).await?;
        crate::commit(tx).await
    }

    async fn delete_article(&self, tenant: TenantId, id: ArticleId) -> Result<()> {
        let mut tx = self.tx().await?;
        delete_article(&self.sql, &mut tx, tenant, id).await?;
        crate::commit(tx).await
    }

    async fn get_article(&self, tenant: TenantId, id: ArticleId) -> Result<Option<Article>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            article_columns!(),
            " FROM helpdesk.articles WHERE tenant_id = $1 AND id = $2"
        )))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
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
            " FROM helpdesk.articles WHERE tenant_id = $1 ORDER BY title, id"
        )))
        .bind(tenant.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(article_from)
        .collect()
    }
}
