//! Knowledge-base articles: the admin's use cases. Each change is one write of the article
//! with its audit event; the article is embedded in the background and its chunks stored
//! beside it (see [`Helpdesk::index_status`] and [`Helpdesk::index_settled`]): a change
//! returns once it is stored, and the article is searchable on this instance once it is
//! embedded, and on every other instance sharing the store at most
//! [`HelpdeskConfig::kb_sync_interval`](super::HelpdeskConfig::kb_sync_interval) later.

use serde::{Deserialize, Serialize};

use super::Helpdesk;
use crate::domain::{Actor, Article, AuditKind};
use crate::kb::ScoredChunk;
use crate::roles::Action;
use crate::store::AdminChange;
use crate::validate::{self, no_control_chars, normalize_line_breaks};
use crate::{ArticleId, Error, Result};

/// Longest article title, in characters.
pub const MAX_ARTICLE_TITLE_CHARS: usize = 200;
/// Longest article body, in characters (articles are longer than ticket messages).
pub const MAX_ARTICLE_BODY_CHARS: usize = 200_000;

/// Largest markdown import (every article of one import together), in bytes: 1 MiB.
///
/// Indexing is what an import costs: about 13 s of embedding per 200 KB on 2 cores
/// (BENCHMARKS.md, "Article import"), so 1 MiB is about a minute of background indexing.
/// Each article is also held to [`MAX_ARTICLE_BODY_CHARS`].
pub const MAX_IMPORT_BYTES: usize = 1024 * 1024;

/// Refuses an import larger than [`MAX_IMPORT_BYTES`] with a validation error naming
/// `field` (the form field or file the import came from).
pub fn check_import_size(field: &str, text: &str) -> Result<()> {
    let n = text.len();
    if n > MAX_IMPORT_BYTES {
        return Err(Error::validation(
            field.to_string(),
            format!("{n} bytes, at most {MAX_IMPORT_BYTES} bytes (1 MiB) per import"),
        ));
    }
    Ok(())
}

/// An article's editable content, for a create or a full edit.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ArticleInput {
    /// Title: one line of 1 to 200 characters.
    pub title: String,
    /// Markdown body: 1 to 200,000 characters with visible text.
    pub body: String,
    /// Tags (at most 20 of 1 to 50 characters; lowercased, deduplicated).
    pub tags: Vec<String>,
}

impl ArticleInput {
    /// An article input without tags.
    pub fn new(title: &str, body: &str) -> Self {
        Self {
            title: title.into(),
            body: body.into(),
            tags: Vec::new(),
        }
    }

    /// With tags.
    pub fn with_tags(mut self, tags: &[&str]) -> Self {
        self.tags = tags.iter().map(|t| (*t).to_string()).collect();
        self
    }

    /// The validated, normalized content: errors name the field (`title`, `body`,
    /// `tags[i]`).
    fn checked(self) -> Result<Self> {
        let title = validate::required_line("title", &self.title, MAX_ARTICLE_TITLE_CHARS)?;
        let body = normalize_line_breaks(&self.body);
        let n = body.chars().count();
        if n > MAX_ARTICLE_BODY_CHARS {
            return Err(Error::validation(
                "body",
                format!("{n} characters, at most {MAX_ARTICLE_BODY_CHARS} allowed"),
            ));
        }
        no_control_chars("body", &body)?;
        if !validate::has_visible_text(&body) {
            return Err(Error::validation(
                "body",
                "must not be empty (or only invisible characters)",
            ));
        }
        Ok(Self {
            title,
            body: body.trim().to_string(),
            tags: validate::tags(&self.tags)?,
        })
    }
}

impl Helpdesk {
    /// Creates an article (admins): validated, stored with its `ArticleCreated` audit
    /// event in one write; the knowledge base indexes it in the background.
    pub async fn create_article(&self, actor: &Actor, input: ArticleInput) -> Result<Article> {
        self.check(actor, Action::ManageArticles).await?;
        let input = input.checked()?;
        let now = self.now();
        let article = Article {
            id: ArticleId::new(),
            tenant_id: actor.tenant_id,
            title: input.title,
            body: input.body,
            tags: input.tags,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let kind = AuditKind::ArticleCreated {
            article: article.id,
            title: article.title.clone(),
        };
        let change = AdminChange::CreateArticle(article.clone());
        self.commit_admin(Some(actor), actor.tenant_id, change, kind)
            .await?;
        self.schedule_index(article.tenant_id, article.id).await;
        Ok(article)
    }

    /// Replaces an article's content (admins) if its stored version is `expected_version`
    /// (else `Conflict`, nothing written); stored with its `ArticleUpdated` audit event in
    /// one write, and re-indexed in the background. An article of another tenant is
    /// `NotFound`.
    pub async fn update_article(
        &self,
        actor: &Actor,
        id: ArticleId,
        expected_version: u64,
        input: ArticleInput,
    ) -> Result<Article> {
        self.check(actor, Action::ManageArticles).await?;
        let input = input.checked()?;
        let mut article = self.stored_article(actor, id).await?;
        if article.version != expected_version {
            return Err(Error::Conflict {
                entity: "article",
                id: id.to_string(),
                expected: expected_version,
            });
        }
        article.title = input.title;
        article.body = input.body;
        article.tags = input.tags;
        article.version = expected_version.saturating_add(1);
        article.updated_at = self.now();
        let kind = AuditKind::ArticleUpdated {
            article: id,
            title: article.title.clone(),
            version: article.version,
        };
        let change = AdminChange::UpdateArticle {
            expected_version,
            article: article.clone(),
        };
        self.commit_admin(Some(actor), actor.tenant_id, change, kind)
            .await?;
        self.schedule_index(article.tenant_id, article.id).await;
        Ok(article)
    }

    /// Deletes an article (admins) with its `ArticleDeleted` audit event in one write; the
    /// knowledge base drops it in the background. An article of another tenant is
    /// `NotFound`.
    pub async fn delete_article(&self, actor: &Actor, id: ArticleId) -> Result<()> {
        self.check(actor, Action::ManageArticles).await?;
        let article = self.stored_article(actor, id).await?;
        let kind = AuditKind::ArticleDeleted {
            article: id,
            title: article.title,
        };
        self.commit_admin(
            Some(actor),
            actor.tenant_id,
            AdminChange::DeleteArticle(id),
            kind,
        )
        .await?;
        self.schedule_index(actor.tenant_id, id).await;
        Ok(())
    }

    /// The tenant's articles by title (any signed-in user: the help pages and the chat's
    /// citations link to them).
    pub async fn list_articles(&self, actor: &Actor) -> Result<Vec<Article>> {
        self.check(actor, Action::ViewTicket).await?;
        self.inner.store.list_articles(actor.tenant_id).await
    }

    /// One article of the tenant (any signed-in user); another tenant's is `NotFound`.
    pub async fn get_article(&self, actor: &Actor, id: ArticleId) -> Result<Article> {
        self.check(actor, Action::ViewTicket).await?;
        self.stored_article(actor, id).await
    }

    /// The best `k` knowledge-base passages of the actor's tenant for `query` (any
    /// signed-in user, like [`list_articles`](Self::list_articles)); none without a
    /// knowledge base. Like the chatbot's and the drafts' retrieval, it first catches this
    /// instance's index up with the store when the last catch-up is older than
    /// [`HelpdeskConfig::kb_sync_interval`](super::HelpdeskConfig::kb_sync_interval).
    pub async fn search_knowledge_base(
        &self,
        actor: &Actor,
        query: &str,
        k: usize,
    ) -> Result<Vec<ScoredChunk>> {
        let (tenant, _) = self.check(actor, Action::ViewTicket).await?;
        self.kb_search(&tenant, query, k).await
    }

    async fn stored_article(&self, actor: &Actor, id: ArticleId) -> Result<Article> {
        self.inner
            .store
            .get_article(actor.tenant_id, id)
            .await?
            .ok_or_else(|| Error::not_found("article", id))
    }
}
