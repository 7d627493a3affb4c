//! Embeddings and the knowledge-base contract.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::Article;
use crate::store::{ArticleChunks, KbChange};
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
///
/// # Two ways to fill it
///
/// **As the cache of a store** (what a [`Helpdesk`](crate::Helpdesk) does): the store keeps
/// every article's chunks with their embeddings and a per-tenant change feed
/// ([`KbIndexStore`](crate::store::KbIndexStore)). Whoever saves an article embeds it with
/// [`embed_article`](Self::embed_article) (no index change) and stores the result; every
/// instance then loads the feed into its own index with
/// [`apply_changes`](Self::apply_changes), which embeds nothing, and remembers how far it
/// got ([`position`](Self::position)). An instance therefore never embeds what another
/// one has embedded, and a fresh or restarted instance catches up from the store.
///
/// **Directly**, for an index used without a store (evaluation tools, benches):
/// [`upsert_article`](Self::upsert_article), [`remove_article`](Self::remove_article) and
/// [`rebuild`](Self::rebuild) embed and change the index in one call. They do not move
/// the position, and a helpdesk never calls them: an article changed directly in an index
/// that follows a store is replaced by the store's chunks the next time the feed carries it.
#[async_trait]
pub trait KnowledgeBase: Send + Sync + Debug {
    /// The embedding model's id ([`Embedder::model_id`]): what
    /// [`embed_article`](Self::embed_article) writes into [`ArticleChunks::model`] and the
    /// only model whose stored chunks [`apply_changes`](Self::apply_changes) loads.
    fn model_id(&self) -> &str;

    /// Chunks and embeds one version of an article (as documents), changing no index: what
    /// the saver stores with
    /// [`KbIndexStore::put_article_chunks`](crate::store::KbIndexStore::put_article_chunks).
    /// Inference runs off the async threads. An article the index cannot take (too long,
    /// no title) is a `Validation` error naming the field.
    async fn embed_article(&self, article: &Article) -> Result<ArticleChunks>;

    /// Loads a page of the tenant's change feed into its index without embedding: each
    /// change replaces the article's chunks with the stored ones (from their stored
    /// vectors) or, for a removal, drops them. Changes numbered at or below
    /// [`position`](Self::position) are already reflected and skipped; afterwards the
    /// position is the last change's number. Stored chunks of another embedding model
    /// than [`model_id`](Self::model_id) (or of other dimensions) are skipped with a
    /// warning: the index sweep re-embeds those articles with this model. Searches go on
    /// while a page is applied.
    async fn apply_changes(&self, tenant: TenantId, changes: &[KbChange]) -> Result<()>;

    /// The number of the last feed change this tenant's index reflects (0: none yet, the
    /// whole feed is to be applied). An index that keeps its content across restarts keeps
    /// its position with it, so a restarted instance reads only the changes after it.
    async fn position(&self, tenant: TenantId) -> Result<u64>;

    /// Direct path (no store): chunks, embeds and indexes one article, replacing its
    /// chunks.
    async fn upsert_article(&self, article: &Article) -> Result<()>;

    /// Direct path (no store): removes an article's chunks.
    async fn remove_article(&self, tenant: TenantId, article: ArticleId) -> Result<()>;

    /// Direct path (no store): replaces a tenant's whole index with these articles,
    /// embedded now. The position goes back to 0: the index no longer reflects the feed.
    async fn rebuild(&self, tenant: TenantId, articles: &[Article]) -> Result<()>;

    /// The best `k` chunks for `query`, best first.
    async fn search(&self, tenant: TenantId, query: &str, k: usize) -> Result<Vec<ScoredChunk>>;
}

#[async_trait]
impl<K: KnowledgeBase + ?Sized> KnowledgeBase for Arc<K> {
    fn model_id(&self) -> &str {
        (**self).model_id()
    }

    async fn embed_article(&self, article: &Article) -> Result<ArticleChunks> {
        (**self).embed_article(article).await
    }

    async fn apply_changes(&self, tenant: TenantId, changes: &[KbChange]) -> Result<()> {
        (**self).apply_changes(tenant, changes).await
    }

    async fn position(&self, tenant: TenantId) -> Result<u64> {
        (**self).position(tenant).await
    }

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
