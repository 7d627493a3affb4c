//! Embeddings and the knowledge-base contract.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::Article;
use crate::{ArticleId, ModelError, Result, TenantId};

/// What a text will be used for (asymmetric models embed queries and documents differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmbedKind {
    /// A search query.
    Query,
    /// A document or passage to be searched.
    Document,
}

/// Turns texts into vectors. Implementations must not block the async runtime (CPU-bound
/// inference runs on blocking threads).
#[async_trait]
pub trait Embedder: Send + Sync + Debug {
    /// Model id, for index metadata (an index built with another model is rebuilt).
    fn model_id(&self) -> &str;

    /// Vector length.
    fn dimensions(&self) -> usize;

    /// Embeds a batch, one L2-normalised vector per text, in order.
    async fn embed(&self, texts: &[String], kind: EmbedKind) -> Result<Vec<Vec<f32>>, ModelError>;
}

#[async_trait]
impl<E: Embedder + ?Sized> Embedder for Arc<E> {
    fn model_id(&self) -> &str {
        (**self).model_id()
    }

    fn dimensions(&self) -> usize {
        (**self).dimensions()
    }

    async fn embed(&self, texts: &[String], kind: EmbedKind) -> Result<Vec<Vec<f32>>, ModelError> {
        (**self).embed(texts, kind).await
    }
}

/// A retrieved knowledge-base chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredChunk {
    /// Stable chunk id (stable across re-indexing of an unchanged article).
    pub chunk_id: String,
    /// The article it comes from.
    pub article_id: ArticleId,
    /// The article title.
    pub title: String,
    /// The chunk text.
    pub text: String,
    /// Relevance in 0..=1, higher is better; comparable with the tenant's grounding
    /// threshold (cosine similarity for vector search).
    pub score: f32,
}

/// A per-tenant searchable knowledge base. A tenant never sees another tenant's chunks.
#[async_trait]
pub trait KnowledgeBase: Send + Sync + Debug {
    /// Indexes (or re-indexes) one article.
    async fn upsert_article(&self, article: &Article) -> Result<()>;

    /// Removes an article's chunks.
    async fn remove_article(&self, tenant: TenantId, article: ArticleId) -> Result<()>;

    /// Replaces a tenant's whole index with these articles.
    async fn rebuild(&self, tenant: TenantId, articles: &[Article]) -> Result<()>;

    /// The best `k` chunks for `query`, best first.
    async fn search(&self, tenant: TenantId, query: &str, k: usize) -> Result<Vec<ScoredChunk>>;
}

#[async_trait]
impl<K: KnowledgeBase + ?Sized> KnowledgeBase for Arc<K> {
    async fn upsert_article(&self, article: &Article) -> Result<()> {
        (**self).upsert_article(article).await
    }

    async fn remove_article(&self, tenant: TenantId, article: ArticleId) -> Result<()> {
        (**self).remove_article(tenant, article).await
    }

    async fn rebuild(&self, tenant: TenantId, articles: &[Article]) -> Result<()> {
        (**self).rebuild(tenant, articles).await
    }

    async fn search(&self, tenant: TenantId, query: &str, k: usize) -> Result<Vec<ScoredChunk>> {
        (**self).search(tenant, query, k).await
    }
}
