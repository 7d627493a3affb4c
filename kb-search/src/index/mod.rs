//! [`KbIndex`]: the per-tenant knowledge base (core [`KnowledgeBase`]).

mod feed;
mod graph;
mod persist;
mod tenant;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use async_trait::async_trait;
use helpdesk_core::domain::Article;
use helpdesk_core::store::{ArticleChunks, IndexedChunk, KbChange};
use helpdesk_core::{
    ArticleId, EmbedKind, Embedder, Error, KnowledgeBase, Result, ScoredChunk, TenantId,
};

pub use graph::{HnswOptions, VectorIndex};
pub use tenant::SearchOptions;

use crate::chunk::{ChunkOptions, chunk_article};
use crate::error::KbError;
use crate::progress::{IndexProgress, NoProgress};
use tenant::{ChunkRecord, TenantIndex};

/// Longest article body indexed, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Longest article title, in bytes.
pub const MAX_TITLE_BYTES: usize = 1_000;
/// Longest query, in bytes.
pub const MAX_QUERY_BYTES: usize = 4 * 1024;
/// Most chunks one search returns.
pub const MAX_K: usize = 100;
/// Texts per embedding call while indexing. Small, because the embedder runs one call at a
/// time: a search's query embedding waits behind at most one such batch (64 made chat
/// turns wait seconds while a large article was indexed; issue 16 item 15).
const EMBED_BATCH: usize = 16;

/// Index settings.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct KbIndexOptions {
    /// How articles are split.
    pub chunking: ChunkOptions,
    /// How chunks are searched.
    pub search: SearchOptions,
}

/// Counts for one tenant's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexStats {
    /// Live chunks.
    pub chunks: usize,
    /// Distinct articles.
    pub articles: usize,
    /// Removed chunks still in the HNSW graph (dropped by the next compaction).
    pub tombstones: usize,
}

/// One tenant's index and the lock that orders its writes.
///
/// Writers hold `writer` for a whole mutation (change, then persist) so their saves do not
/// interleave, but hold the `index` write lock only while changing the in-memory index: the
/// save runs under a read lock, so searches are not held up by disk writes.
#[derive(Debug)]
struct TenantSlot {
    index: RwLock<TenantIndex>,
    writer: Mutex<()>,
}

impl TenantSlot {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, TenantIndex> {
        self.index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, TenantIndex> {
        self.index
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

type Shared = Arc<TenantSlot>;

/// A knowledge base with one index per tenant, persisted under `root/{tenant_id}/`.
///
/// Articles are split into chunks (by headings and paragraphs, with overlap), embedded, and
/// indexed in an HNSW graph and a BM25 index. Search fuses cosine similarity with BM25 to
/// order results; each [`ScoredChunk::score`] is the chunk's cosine similarity to the query
/// (clamped to 0..=1), comparable with a tenant's grounding threshold. Every write is
/// persisted before it returns. Index work runs on blocking threads.
///
/// In a helpdesk the index is a cache of the store: [`KnowledgeBase::embed_article`]
/// embeds for the store, [`KnowledgeBase::apply_changes`] loads the store's change feed
/// from the stored vectors, and the feed position is saved with each tenant's folder (see
/// the crate's "Following the store").
#[derive(Debug, Clone)]
pub struct KbIndex {
    root: PathBuf,
    embedder: Arc<dyn Embedder>,
    options: KbIndexOptions,
    tenants: Arc<Mutex<HashMap<TenantId, Shared>>>,
    /// Held while a tenant's index is read from disk, so no load runs while a tenant that
    /// is already in memory saves (a save swaps the folder by renames; a load that read
    /// across the swap would see one save's `meta.json` and another's `vectors.bin`).
    loading: Arc<tokio::sync::Mutex<()>>,
}

fn join_error(e: tokio::task::JoinError) -> Error {
    KbError::Join(e).into()
}

impl KbIndex {
    /// Opens (creating it if needed) an index folder.
    pub fn open(
        root: impl Into<PathBuf>,
        embedder: Arc<dyn Embedder>,
        options: KbIndexOptions,
    ) -> Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(|e| KbError::io(&root, e))?;
        if embedder.dimensions() == 0 {
            return Err(Error::Configuration {
                field: "embedder".into(),
                message: "reports 0 dimensions".into(),
            });
        }
        Ok(Self {
            root,
            embedder,
            options,
            tenants: Arc::default(),
            loading: Arc::default(),
        })
    }

    /// The index folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn tenant_dir(&self, tenant: TenantId) -> PathBuf {
        self.root.join(tenant.to_string())
    }

    /// The tenant's index, loaded from disk on first use. An index built with another
    /// embedding model, or without a feed position, is ignored (logged) and starts empty at
    /// position 0: the store's feed (or [`KnowledgeBase::rebuild`]) fills it again.
    async fn tenant(&self, tenant: TenantId) -> Result<Shared> {
        if let Some(t) = self.cached(tenant) {
            return Ok(t);
        }
        // One loader at a time, and only while the tenant is not in memory: once a loader
        // has put it there, saves may start, and no later call loads it again.
        let _loading = self.loading.lock().await;
        if let Some(t) = self.cached(tenant) {
            return Ok(t);
        }
        let dir = self.tenant_dir(tenant);
        let options = self.options.search;
        let model_id = self.embedder.model_id().to_string();
        let dims = self.embedder.dimensions();
        let loaded = tokio::task::spawn_blocking(move || -> Result<TenantIndex, KbError> {
            match persist::load(&dir, options)? {
                Some(index) if index.model_id == model_id && index.vectors.dims() == dims => {
                    Ok(index)
                }
                Some(index) => {
                    tracing::warn!(
                        dir = %dir.display(), found = %index.model_id, want = %model_id,
                        "index built with another embedding model; starting empty at feed position 0"
                    );
                    Ok(TenantIndex::new(&model_id, dims, options))
                }
                None => Ok(TenantIndex::new(&model_id, dims, options)),
            }
        })
        .await
        .map_err(join_error)??;
        let mut map = self
            .tenants
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(Arc::clone(map.entry(tenant).or_insert_with(|| {
            Arc::new(TenantSlot {
                index: RwLock::new(loaded),
                writer: Mutex::new(()),
            })
        })))
    }

    fn cached(&self, tenant: TenantId) -> Option<Shared> {
        self.tenants
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&tenant)
            .cloned()
    }

    async fn embed_documents(
        &self,
        texts: Vec<String>,
        progress: &dyn IndexProgress,
    ) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(EMBED_BATCH) {
            let vectors = self.embedder.embed(batch, EmbedKind::Document).await?;
            if vectors.len() != batch.len() {
                return Err(KbError::EmbeddingCount {
                    got: vectors.len(),
                    want: batch.len(),
                }
                .into());
            }
            progress.advance(batch.len() as u64);
            out.extend(vectors);
        }
        Ok(out)
    }

    /// The article's chunks as the index and the store keep them, each with the text to
    /// embed: the heading path is the first line of a chunk's text, so the stored text
    /// and the title give back exactly what was embedded, and BM25 sees the heading words.
    fn chunk_records(&self, article: &Article) -> Result<Vec<(ChunkRecord, String)>> {
        validate_article(article)?;
        Ok(
            chunk_article(article.id, &article.body, self.options.chunking)
                .into_iter()
                .map(|c| {
                    let embed_text = c.embedding_text(&article.title);
                    let text = match c.heading {
                        Some(h) => format!("{h}\n{}", c.text),
                        None => c.text,
                    };
                    (
                        ChunkRecord {
                            chunk_id: c.id,
                            article_id: article.id,
                            title: article.title.clone(),
                            heading: None,
                            text,
                        },
                        embed_text,
                    )
                })
                .collect(),
        )
    }

    /// Runs `f` on the tenant's index under its write lock on a blocking thread, then
    /// persists the index under a read lock (searches go on meanwhile).
    async fn mutate<R: Send + 'static>(
        &self,
        tenant: TenantId,
        f: impl FnOnce(&mut TenantIndex) -> Result<R, KbError> + Send + 'static,
    ) -> Result<R> {
        let shared = self.tenant(tenant).await?;
        let dir = self.tenant_dir(tenant);
        tokio::task::spawn_blocking(move || -> Result<R, KbError> {
            let _writer = shared
                .writer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let out = {
                let mut index = shared.write();
                let out = f(&mut index)?;
                index.maybe_compact();
                out
            };
            persist::save(&dir, &shared.read())?;
            Ok(out)
        })
        .await
        .map_err(join_error)?
        .map_err(Error::from)
    }

    /// Replaces the tenant's index with `articles`, reporting embedding progress (one step
    /// per chunk) to `progress`.
    pub async fn rebuild_with_progress(
        &self,
        tenant: TenantId,
        articles: &[Article],
        progress: &dyn IndexProgress,
    ) -> Result<()> {
        let mut records = Vec::new();
        for (i, a) in articles.iter().enumerate() {
            if a.tenant_id != tenant {
                return Err(Error::validation(
                    format!("articles[{i}].tenant_id"),
                    "belongs to another tenant",
                ));
            }
            records.extend(self.chunk_records(a).map_err(|e| match e {
                Error::Validation { field, message } => {
                    Error::validation(format!("articles[{i}].{field}"), message)
                }
                other => other,
            })?);
        }
        progress.start(records.len() as u64);
        let texts = records.iter().map(|(_, t)| t.clone()).collect();
        let vectors = self.embed_documents(texts, progress).await?;
        let model_id = self.embedder.model_id().to_string();
        let dims = self.embedder.dimensions();
        let options = self.options.search;
        let shared = self.tenant(tenant).await?;
        let dir = self.tenant_dir(tenant);
        // The new index is built with no lock that searches take, then swapped in.
        let result = tokio::task::spawn_blocking(move || -> Result<(), KbError> {
            let _writer = shared
                .writer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut fresh = TenantIndex::new(&model_id, dims, options);
            fresh.next_slot = shared.read().next_slot;
            fresh.insert(records.into_iter().map(|(r, _)| r).zip(vectors).collect())?;
            *shared.write() = fresh;
            persist::save(&dir, &shared.read())
        })
        .await
        .map_err(join_error)
        .and_then(|r| r.map_err(Error::from));
        progress.finish();
        result
    }

    /// Counts for the tenant's index.
    pub async fn stats(&self, tenant: TenantId) -> Result<IndexStats> {
        let shared = self.tenant(tenant).await?;
        // Locks are taken on blocking threads only: a writer may hold one for a while.
        tokio::task::spawn_blocking(move || {
            let index = shared.read();
            let mut articles: Vec<ArticleId> =
                index.chunks.values().map(|c| c.article_id).collect();
            articles.sort_unstable();
            articles.dedup();
            IndexStats {
                chunks: index.chunks.len(),
                articles: articles.len(),
                tombstones: index.vectors.dead(),
            }
        })
        .await
        .map_err(join_error)
    }

    /// Rebuilds the tenant's graph without tombstones now.
    pub async fn compact(&self, tenant: TenantId) -> Result<()> {
        self.mutate(tenant, |index| {
            index.vectors.compact();
            Ok(())
        })
        .await
    }

    /// Drops the in-memory copy of every tenant (the next call reloads from disk).
    pub fn evict_all(&self) {
        self.tenants
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

fn validate_article(article: &Article) -> Result<()> {
    if article.title.trim().is_empty() {
        return Err(Error::validation("title", "is empty"));
    }
    if article.title.len() > MAX_TITLE_BYTES {
        return Err(Error::validation(
            "title",
            format!("longer than {MAX_TITLE_BYTES} bytes"),
        ));
    }
    if article.body.len() > MAX_BODY_BYTES {
        return Err(Error::validation(
            "body",
            format!("longer than {MAX_BODY_BYTES} bytes"),
        ));
    }
    Ok(())
}

#[async_trait]
impl KnowledgeBase for KbIndex {
    fn model_id(&self) -> &str {
        self.embedder.model_id()
    }

    async fn embed_article(&self, article: &Article) -> Result<ArticleChunks> {
        let records = self.chunk_records(article)?;
        let texts = records.iter().map(|(_, t)| t.clone()).collect();
        let vectors = self.embed_documents(texts, &NoProgress).await?;
        Ok(ArticleChunks {
            article_id: article.id,
            article_version: article.version,
            title: article.title.clone(),
            model: self.embedder.model_id().to_string(),
            chunks: records
                .into_iter()
                .zip(vectors)
                .map(|((r, _), embedding)| IndexedChunk {
                    chunk_id: r.chunk_id,
                    text: r.text,
                    embedding,
                })
                .collect(),
        })
    }

    async fn apply_changes(&self, tenant: TenantId, changes: &[KbChange]) -> Result<()> {
        self.apply_feed_page(tenant, changes).await
    }

    async fn position(&self, tenant: TenantId) -> Result<u64> {
        let shared = self.tenant(tenant).await?;
        tokio::task::spawn_blocking(move || shared.read().position)
            .await
            .map_err(join_error)
    }

    async fn upsert_article(&self, article: &Article) -> Result<()> {
        let records = self.chunk_records(article)?;
        let tenant = article.tenant_id;
        let article_id = article.id;
        // Unchanged content gives the same chunk ids: nothing to embed or write.
        let shared = self.tenant(tenant).await?;
        // Never wait for a tenant lock on an async worker: a writer may hold it a while, and
        // a blocked worker stalls every other request on it (issue 16 item 15).
        let current =
            tokio::task::spawn_blocking(move || shared.read().article_chunk_ids(article_id))
                .await
                .map_err(join_error)?;
        let same = current.len() == records.len()
            && current
                .iter()
                .zip(&records)
                .all(|((id, title), (r, _))| *id == r.chunk_id && *title == r.title);
        if same && !records.is_empty() {
            return Ok(());
        }
        let texts = records.iter().map(|(_, t)| t.clone()).collect();
        let vectors = self.embed_documents(texts, &NoProgress).await?;
        self.mutate(tenant, move |index| {
            let records = records.into_iter().map(|(r, _)| r).zip(vectors).collect();
            index.replace_article(article_id, records).map(|_| ())
        })
        .await
    }

    async fn remove_article(&self, tenant: TenantId, article: ArticleId) -> Result<()> {
        self.mutate(tenant, move |index| {
            index.remove_article(article);
            Ok(())
        })
        .await
    }

    async fn rebuild(&self, tenant: TenantId, articles: &[Article]) -> Result<()> {
        self.rebuild_with_progress(tenant, articles, &NoProgress)
            .await
    }

    async fn search(&self, tenant: TenantId, query: &str, k: usize) -> Result<Vec<ScoredChunk>> {
        if k > MAX_K {
            return Err(Error::validation("k", format!("must be at most {MAX_K}")));
        }
        if query.len() > MAX_QUERY_BYTES {
            return Err(Error::validation(
                "query",
                format!("longer than {MAX_QUERY_BYTES} bytes"),
            ));
        }
        if query.trim().is_empty() || k == 0 {
            return Ok(Vec::new());
        }
        let shared = self.tenant(tenant).await?;
        let probe = Arc::clone(&shared);
        let empty = tokio::task::spawn_blocking(move || probe.read().chunks.is_empty())
            .await
            .map_err(join_error)?;
        if empty {
            return Ok(Vec::new());
        }
        let text = query.to_string();
        let vector = self
            .embedder
            .embed(std::slice::from_ref(&text), EmbedKind::Query)
            .await?
            .into_iter()
            .next()
            .ok_or(KbError::EmbeddingCount { got: 0, want: 1 })?;
        tokio::task::spawn_blocking(move || {
            let index = shared.read();
            if vector.len() != index.vectors.dims() {
                return Err(KbError::Dimensions {
                    got: vector.len(),
                    want: index.vectors.dims(),
                }
                .into());
            }
            Ok(index.search(&text, &vector, k))
        })
        .await
        .map_err(join_error)?
    }
}
