use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::domain::Article;
use crate::store::{ArticleChunks, IndexedChunk as StoredChunk, KbChange};
use crate::{ArticleId, EmbedKind, Embedder, KnowledgeBase, Result, ScoredChunk, TenantId};

/// An exact-search knowledge base held in memory, for tests and small host apps.
///
/// * Articles are split into chunks at blank lines (paragraphs); each chunk id is
///   `{article_id}:{n}` (n counts non-empty paragraphs from 0), so ids are stable while an
///   article is unchanged.
/// * Chunks are embedded as documents with the given [`Embedder`] (title and paragraph
///   together), queries as queries.
/// * It follows a store's change feed like any knowledge base
///   ([`KnowledgeBase::apply_changes`], with its own position per tenant), loading the
///   stored vectors; the direct path embeds on the spot.
/// * Search is an exact cosine scan over one tenant's chunks; the score is the cosine
///   similarity clamped to 0..=1. A tenant never sees another tenant's chunks.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use helpdesk_core::{ArticleId, KnowledgeBase, TenantId, domain::Article};
/// use helpdesk_core::testkit::{FakeEmbedder, InMemoryKnowledgeBase};
/// let kb = InMemoryKnowledgeBase::new(Arc::new(FakeEmbedder::new()));
/// let tenant = TenantId::new();
/// let now = jiff::Timestamp::UNIX_EPOCH;
/// let article = Article {
///     id: ArticleId::new(), tenant_id: tenant, title: "Passwords".into(),
///     body: "Reset your password from the login page.\n\nInvoices are monthly.".into(),
///     tags: vec![], created_at: now, updated_at: now, version: 1,
/// };
/// kb.upsert_article(&article).await.unwrap();
/// let hits = kb.search(tenant, "how do I reset my password", 1).await.unwrap();
/// assert_eq!(hits[0].chunk_id, format!("{}:0", article.id));
/// assert!(kb.search(TenantId::new(), "password", 1).await.unwrap().is_empty());
/// # });
/// ```
#[derive(Debug)]
pub struct InMemoryKnowledgeBase {
    embedder: Arc<dyn Embedder>,
    tenants: Mutex<HashMap<TenantId, TenantChunks>>,
}

/// One tenant's chunks and the feed position they reflect.
#[derive(Debug, Default)]
struct TenantChunks {
    position: u64,
    chunks: Vec<Indexed>,
}

impl TenantChunks {
    fn replace(&mut self, article: ArticleId, chunks: &ArticleChunks) {
        self.chunks.retain(|c| c.chunk.article_id != article);
        self.chunks.extend(chunks.chunks.iter().map(|c| Indexed {
            chunk: ScoredChunk {
                chunk_id: c.chunk_id.clone(),
                article_id: article,
                title: chunks.title.clone(),
                text: c.text.clone(),
                score: 0.0,
            },
            vector: c.embedding.clone(),
        }));
    }
}

#[derive(Debug, Clone)]
struct Indexed {
    chunk: ScoredChunk,
    vector: Vec<f32>,
}
/// Splits a body into paragraphs (blank-line separated, trimmed, non-empty).
fn paragraphs(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in body.lines() {
        if line.trim().is_empty() {
            if !current.trim().is_empty() {
                out.push(current.trim().to_string());
            }
            current.clear();
        } else {
            if !current.is_empty() {
                current.push('\n');
            }
            current.push_str(line);
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    (dot / (na * nb)).clamp(0.0, 1.0)
}

impl InMemoryKnowledgeBase {
    /// An empty knowledge base embedding with `embedder`.
    pub fn new(embedder: Arc<dyn Embedder>) -> Self {
        Self {
            embedder,
            tenants: Mutex::new(HashMap::new()),
        }
    }

    /// Number of chunks indexed for `tenant`.
    pub fn chunk_count(&self, tenant: TenantId) -> usize {
        self.tenants
            .lock()
            .unwrap()
            .get(&tenant)
            .map_or(0, |t| t.chunks.len())
    }
}

#[async_trait]
impl KnowledgeBase for InMemoryKnowledgeBase {
    fn model_id(&self) -> &str {
        self.embedder.model_id()
    }

    async fn embed_article(&self, article: &Article) -> Result<ArticleChunks> {
        let parts = paragraphs(&article.body);
        let texts: Vec<String> = parts
            .iter()
            .map(|p| format!("{}\n\n{p}", article.title))
            .collect();
        let vectors = if texts.is_empty() {
            Vec::new()
        } else {
            self.embedder.embed(&texts, EmbedKind::Document).await?
        };
        Ok(ArticleChunks {
            article_id: article.id,
            article_version: article.version,
            title: article.title.clone(),
            model: self.embedder.model_id().to_string(),
            chunks: parts
                .into_iter()
                .zip(vectors)
                .enumerate()
                .map(|(n, (text, embedding))| StoredChunk {
                    chunk_id: format!("{}:{n}", article.id),
                    text,
                    embedding,
                })
                .collect(),
        })
    }

    async fn apply_changes(&self, tenant: TenantId, changes: &[KbChange]) -> Result<()> {
        let model = self.embedder.model_id();
        let dims = self.embedder.dimensions();
        let mut all = self.tenants.lock().unwrap();
        let state = all.entry(tenant).or_default();
        let from = state.position;
        for change in changes.iter().filter(|c| c.seq > from) {
            match &change.chunks {
                None => state
                    .chunks
                    .retain(|c| c.chunk.article_id != change.article_id),
                Some(chunks)
                    if chunks.model != model || chunks.dimensions().is_some_and(|d| d != dims) =>
                {
                    tracing::warn!(article = %change.article_id, found = %chunks.model, want = %model, "stored chunks of another embedding model skipped; the index sweep re-embeds the article");
                }
                Some(chunks) => state.replace(change.article_id, chunks),
            }
        }
        if let Some(last) = changes.iter().map(|c| c.seq).max() {
            state.position = state.position.max(last);
        }
        Ok(())
    }

    async fn position(&self, tenant: TenantId) -> Result<u64> {
        Ok(self
            .tenants
            .lock()
            .unwrap()
            .get(&tenant)
            .map_or(0, |t| t.position))
    }

    async fn upsert_article(&self, article: &Article) -> Result<()> {
        let chunks = self.embed_article(article).await?;
        let mut all = self.tenants.lock().unwrap();
        all.entry(article.tenant_id)
            .or_default()
            .replace(article.id, &chunks);
        Ok(())
    }

    async fn remove_article(&self, tenant: TenantId, article: ArticleId) -> Result<()> {
        if let Some(state) = self.tenants.lock().unwrap().get_mut(&tenant) {
            state.chunks.retain(|c| c.chunk.article_id != article);
        }
        Ok(())
    }

    async fn rebuild(&self, tenant: TenantId, articles: &[Article]) -> Result<()> {
        let mut fresh = TenantChunks::default();
        for article in articles.iter().filter(|a| a.tenant_id == tenant) {
            fresh.replace(article.id, &self.embed_article(article).await?);
        }
        self.tenants.lock().unwrap().insert(tenant, fresh);
        Ok(())
    }

    async fn search(&self, tenant: TenantId, query: &str, k: usize) -> Result<Vec<ScoredChunk>> {
        if k == 0 || query.trim().is_empty() {
            return Ok(Vec::new());
        }
        let query = self
            .embedder
            .embed(&[query.to_string()], EmbedKind::Query)
            .await?
            .into_iter()
            .next()
            .unwrap_or_default();
        let all = self.tenants.lock().unwrap();
        let mut hits: Vec<ScoredChunk> = all
            .get(&tenant)
            .map(|state| {
                state
                    .chunks
                    .iter()
                    .map(|c| ScoredChunk {
                        score: cosine(&query, &c.vector),
                        ..c.chunk.clone()
                    })
                    .collect()
            })
            .unwrap_or_default();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.chunk_id.cmp(&b.chunk_id))
        });
        hits.truncate(k);
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::FakeEmbedder;

    fn article(tenant: TenantId, title: &str, body: &str) -> Article {
        let now = jiff::Timestamp::UNIX_EPOCH;
        Article {
            id: ArticleId::new(),
            tenant_id: tenant,
            title: title.into(),
            body: body.into(),
            tags: vec![],
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    #[test]
    fn paragraphs_split_on_blank_lines() {
        assert_eq!(
            paragraphs("a\nb\n\n\n  \nc\n"),
            ["a\nb".to_string(), "c".to_string()]
        );
        assert!(paragraphs("  \n\n").is_empty());
    }

    #[test]
    fn cosine_is_clamped_to_0_1() {
        assert_eq!(cosine(&[1.0, 0.0], &[-1.0, 0.0]), 0.0);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
        assert!((cosine(&[1.0, 1.0], &[2.0, 2.0]) - 1.0).abs() < 1e-6);
    }

    #[tokio::test]
    async fn upsert_replaces_remove_and_rebuild_work_per_tenant() {
        let kb = InMemoryKnowledgeBase::new(Arc::new(FakeEmbedder::new()));
        let t = TenantId::new();
        let mut a = article(
            t,
            "Shipping",
            "We ship worldwide.\n\nParcels take five days.",
        );
        kb.upsert_article(&a).await.unwrap();
        assert_eq!(kb.chunk_count(t), 2);
        let hits = kb.search(t, "how long do parcels take", 5).await.unwrap();
        assert_eq!(hits[0].chunk_id, format!("{}:1", a.id));
        assert!(hits[0].score > hits[1].score);
        assert!(hits.iter().all(|h| (0.0..=1.0).contains(&h.score)));

        a.body = "Parcels take two days now.".into();
        kb.upsert_article(&a).await.unwrap();
        assert_eq!(kb.chunk_count(t), 1);
        let b = article(t, "Returns", "Return items within 30 days.");
        kb.upsert_article(&b).await.unwrap();
        kb.remove_article(t, a.id).await.unwrap();
        assert_eq!(kb.chunk_count(t), 1);

        let other = TenantId::new();
        kb.rebuild(other, &[article(other, "X", "one\n\ntwo"), b.clone()])
            .await
            .unwrap();
        // Articles of another tenant are ignored by a rebuild.
        assert_eq!(kb.chunk_count(other), 2);
        assert_eq!(kb.chunk_count(t), 1);
        assert!(kb.search(t, "", 3).await.unwrap().is_empty());
        assert!(kb.search(t, "return", 0).await.unwrap().is_empty());
    }
}
