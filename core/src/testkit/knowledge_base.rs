use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::domain::Article;
use crate::{ArticleId, EmbedKind, Embedder, KnowledgeBase, Result, ScoredChunk, TenantId};

/// An exact-search knowledge base held in memory, for tests and small host apps.
///
/// * Articles are split into chunks at blank lines (paragraphs); each chunk id is
///   `{article_id}:{n}` (n counts non-empty paragraphs from 0), so ids are stable while an
///   article is unchanged.
/// * Chunks are embedded as documents with the given [`Embedder`] (title and paragraph
///   together), queries as queries.
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
    chunks: Mutex<HashMap<TenantId, Vec<IndexedChunk>>>,
}

#[derive(Debug, Clone)]
struct IndexedChunk {
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
            chunks: Mutex::new(HashMap::new()),
        }
    }

    /// Number of chunks indexed for `tenant`.
    pub fn chunk_count(&self, tenant: TenantId) -> usize {
        self.chunks.lock().unwrap().get(&tenant).map_or(0, Vec::len)
    }

    async fn index(&self, article: &Article) -> Result<Vec<IndexedChunk>> {
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
        Ok(parts
            .into_iter()
            .zip(vectors)
            .enumerate()
            .map(|(n, (text, vector))| IndexedChunk {
                chunk: ScoredChunk {
                    chunk_id: format!("{}:{n}", article.id),
                    article_id: article.id,
                    title: article.title.clone(),
                    text,
                    score: 0.0,
                },
                vector,
            })
            .collect())
    }
}

#[async_trait]
impl KnowledgeBase for InMemoryKnowledgeBase {
    async fn upsert_article(&self, article: &Article) -> Result<()> {
        let indexed = self.index(article).await?;
        let mut all = self.chunks.lock().unwrap();
        let list = all.entry(article.tenant_id).or_default();
        list.retain(|c| c.chunk.article_id != article.id);
        list.extend(indexed);
        Ok(())
    }

    async fn remove_article(&self, tenant: TenantId, article: ArticleId) -> Result<()> {
        if let Some(list) = self.chunks.lock().unwrap().get_mut(&tenant) {
            list.retain(|c| c.chunk.article_id != article);
        }
        Ok(())
    }

    async fn rebuild(&self, tenant: TenantId, articles: &[Article]) -> Result<()> {
        let mut fresh = Vec::new();
        for article in articles.iter().filter(|a| a.tenant_id == tenant) {
            fresh.extend(self.index(article).await?);
        }
        self.chunks.lock().unwrap().insert(tenant, fresh);
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
        let all = self.chunks.lock().unwrap();
        let mut hits: Vec<ScoredChunk> = all
            .get(&tenant)
            .map(|list| {
                list.iter()
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
