//! Knowledge-base articles.

use async_trait::async_trait;
use bson::doc;
use helpdesk_core::domain::Article;
use helpdesk_core::store::ArticleStore;
use helpdesk_core::{ArticleId, DuplicateKind, Error, Result, TenantId};
use mongodb::ClientSession;

use crate::codec::int;
use crate::error::{driver, is_duplicate_key};
use crate::mapping::{article_doc, article_from};
use crate::schema::ARTICLES;
use crate::store::{MongoStore, in_session};
use crate::transaction::in_transaction;

// These take the session of an administrative change's transaction (`crate::audit`), or
// `None` on their own.
impl MongoStore {
    /// Inserts an article.
    pub(crate) async fn insert_article(
        &self,
        article: &Article,
        mut session: Option<&mut ClientSession>,
    ) -> Result<()> {
        let coll = self.coll(ARTICLES);
        let insert = coll.insert_one(article_doc(article)?);
        match in_session!(session, insert) {
            Ok(_) => Ok(()),
            Err(e) if is_duplicate_key(&e) => Err(Error::Duplicate {
                kind: DuplicateKind::Id,
                value: article.id.to_string(),
            }),
            Err(e) => Err(driver(e)),
        }
    }

    /// Replaces an article at `expected_version` (`Conflict` or `NotFound` otherwise).
    pub(crate) async fn replace_article(
        &self,
        expected_version: u64,
        article: &Article,
        mut session: Option<&mut ClientSession>,
    ) -> Result<()> {
        let id = article.id.to_string();
        let tenant = article.tenant_id.to_string();
        let guard = doc! {
            "_id": &id,
            "tenant_id": &tenant,
            "version": int(expected_version, "expected_version")?,
        };
        let coll = self.coll(ARTICLES);
        let replace = coll.replace_one(guard, article_doc(article)?);
        let result = in_session!(session, replace).map_err(driver)?;
        if result.matched_count == 1 {
            return Ok(());
        }
        match self
            .find_one(ARTICLES, doc! { "_id": &id, "tenant_id": &tenant })
            .await?
        {
            None => Err(Error::not_found("article", article.id)),
            Some(_) => Err(Error::Conflict {
                entity: "article",
                id,
                expected: expected_version,
            }),
        }
    }

    /// Deletes an article of the tenant (`NotFound` when missing) in `session`'s
    /// transaction, with its knowledge-base chunks, and records the removal in the
    /// tenant's change feed (see `crate::kb_index`).
    pub(crate) async fn remove_article(
        &self,
        tenant: TenantId,
        id: ArticleId,
        session: &mut ClientSession,
    ) -> Result<()> {
        let result = self
            .coll(ARTICLES)
            .delete_one(doc! { "_id": id.to_string(), "tenant_id": tenant.to_string() })
            .session(&mut *session)
            .await
            .map_err(driver)?;
        if result.deleted_count == 0 {
            return Err(Error::not_found("article", id));
        }
        self.record_kb_removal(tenant, id, session).await
    }
}

#[async_trait]
impl ArticleStore for MongoStore {
    async fn create_article(&self, article: &Article) -> Result<()> {
        self.insert_article(article, None).await
    }

    async fn update_article(&self, expected_version: u64, article: &Article) -> Result<()> {
        self.replace_article(expected_version, article, None).await
    }

    /// One transaction (run again when it loses to a concurrent one, such as a put of
    /// the tenant's chunks).
    async fn delete_article(&self, tenant: TenantId, id: ArticleId) -> Result<()> {
        in_transaction!(self, |session| self
            .remove_article(tenant, id, session)
            .await)
    }

    async fn get_article(&self, tenant: TenantId, id: ArticleId) -> Result<Option<Article>> {
        self.find_one(
            ARTICLES,
            doc! { "_id": id.to_string(), "tenant_id": tenant.to_string() },
        )
        .await?
        .map(|d| article_from(&d))
        .transpose()
    }

    async fn list_articles(&self, tenant: TenantId) -> Result<Vec<Article>> {
        self.find_all(
            ARTICLES,
            doc! { "tenant_id": tenant.to_string() },
            doc! { "title": 1, "_id": 1 },
            0,
        )
        .await?
        .iter()
        .map(article_from)
        .collect()
    }
}
