//! One tenant's index: chunk records, their vectors (HNSW + exact), and BM25; hybrid search.

use std::collections::{BTreeMap, HashMap, HashSet};

use helpdesk_core::{ArticleId, ScoredChunk};
use serde::{Deserialize, Serialize};

use super::graph::{HnswOptions, VectorIndex};
use crate::bm25::Bm25;
use crate::error::KbError;

/// A stored chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ChunkRecord {
    pub(crate) chunk_id: String,
    pub(crate) article_id: ArticleId,
    pub(crate) title: String,
    /// Always `None` since the index loads chunks from the store, where the heading path
    /// is the first line of `text`; kept so that older `meta.json` files still parse.
    #[serde(default)]
    pub(crate) heading: Option<String>,
    pub(crate) text: String,
}

impl ChunkRecord {
    /// What BM25 indexes: title, heading and text.
    pub(crate) fn lexical_text(&self) -> String {
        format!(
            "{} {} {}",
            self.title,
            self.heading.as_deref().unwrap_or_default(),
            self.text
        )
    }
}

/// Search settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchOptions {
    /// Weight of cosine similarity in the fused score; the lexical part gets the rest:
    /// BM25 normalised by the best candidate's, times the share of the query's IDF mass
    /// the chunk matches (so one common word out of a long question counts for little).
    /// `1.0` orders by cosine alone (vector-only search); `0.0` is lexical-only search:
    /// chunks are ordered by the lexical part alone and a chunk that matches no word of
    /// the query is not returned. Either way each result's score is its cosine similarity.
    pub vector_weight: f32,
    /// Up to this many live chunks, search is exact (a scan beats the graph there).
    pub exact_threshold: usize,
    /// Compact the graph when tombstones exceed this fraction of its points.
    pub compaction_ratio: f32,
    /// HNSW settings.
    pub hnsw: HnswOptions,
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self {
            vector_weight: 0.7,
            exact_threshold: 2_000,
            compaction_ratio: 0.25,
            hnsw: HnswOptions::default(),
        }
    }
}

/// One tenant's chunks and indexes.
#[derive(Debug)]
pub(crate) struct TenantIndex {
    pub(crate) model_id: String,
    /// The last store feed change this index reflects (0: none).
    pub(crate) position: u64,
    pub(crate) next_slot: u64,
    pub(crate) chunks: BTreeMap<u64, ChunkRecord>,
    pub(crate) vectors: VectorIndex,
    bm25: Bm25,
    options: SearchOptions,
}

impl TenantIndex {
    /// An empty index.
    pub(crate) fn new(model_id: &str, dims: usize, options: SearchOptions) -> Self {
        Self {
            model_id: model_id.to_string(),
            position: 0,
            next_slot: 0,
            chunks: BTreeMap::new(),
            vectors: VectorIndex::new(dims, options.hnsw),
            bm25: Bm25::default(),
            options,
        }
    }

    /// Reassembles an index from persisted parts (BM25 is recomputed).
    pub(crate) fn from_parts(
        model_id: String,
        position: u64,
        next_slot: u64,
        chunks: BTreeMap<u64, ChunkRecord>,
        vectors: VectorIndex,
        options: SearchOptions,
    ) -> Self {
        let mut bm25 = Bm25::default();
        for (slot, c) in &chunks {
            bm25.insert(*slot, &c.lexical_text());
        }
        Self {
            model_id,
            position,
            next_slot,
            chunks,
            vectors,
            bm25,
            options,
        }
    }

    /// The chunk ids currently indexed for an article, in slot order.
    pub(crate) fn article_chunk_ids(&self, article: ArticleId) -> Vec<(String, String)> {
        self.chunks
            .values()
            .filter(|c| c.article_id == article)
            .map(|c| (c.chunk_id.clone(), c.title.clone()))
            .collect()
    }

    /// Adds chunks with their vectors.
    pub(crate) fn insert(&mut self, records: Vec<(ChunkRecord, Vec<f32>)>) -> Result<(), KbError> {
        for (record, vector) in records {
            let slot = self.next_slot;
            self.vectors.insert(slot, vector)?;
            self.next_slot += 1;
            self.bm25.insert(slot, &record.lexical_text());
            self.chunks.insert(slot, record);
        }
        Ok(())
    }

    /// Replaces an article's chunks with `records`, unless it holds chunks of the same ids
    /// and title already (same content: same vectors, and no tombstones for nothing);
    /// returns whether anything changed.
    pub(crate) fn replace_article(
        &mut self,
        article: ArticleId,
        records: Vec<(ChunkRecord, Vec<f32>)>,
    ) -> Result<bool, KbError> {
        let current = self.article_chunk_ids(article);
        let same = current.len() == records.len()
            && current
                .iter()
                .zip(&records)
                .all(|((id, title), (r, _))| *id == r.chunk_id && *title == r.title);
        if same {
            return Ok(false);
        }
        self.remove_article(article);
        self.insert(records)?;
        Ok(true)
    }

    /// Removes an article's chunks (tombstones in the graph); returns how many.
    pub(crate) fn remove_article(&mut self, article: ArticleId) -> usize {
        let slots: Vec<u64> = self
            .chunks
            .iter()
            .filter(|(_, c)| c.article_id == article)
            .map(|(s, _)| *s)
            .collect();
        for slot in &slots {
            self.chunks.remove(slot);
            self.bm25.remove(*slot);
            self.vectors.remove(*slot);
        }
        slots.len()
    }

    /// Compacts the graph when tombstones exceed the configured fraction.
    pub(crate) fn maybe_compact(&mut self) -> bool {
        let points = self.vectors.graph_points();
        let dead = self.vectors.dead();
        if dead > 0 && (dead as f32) > self.options.compaction_ratio * points as f32 {
            self.vectors.compact();
            return true;
        }
        false
    }

    /// Hybrid search: candidates from vectors and BM25, ordered by the fused score, each
    /// reported with its cosine similarity (clamped to 0..=1) as `score`.
    pub(crate) fn search(&self, query_text: &str, query: &[f32], k: usize) -> Vec<ScoredChunk> {
        if k == 0 || self.chunks.is_empty() {
            return Vec::new();
        }
        let pool = (k * 4).max(20);
        let vector_hits = if self.vectors.len() <= self.options.exact_threshold {
            self.vectors.search_exact(query, pool)
        } else {
            self.vectors.search_graph(query, pool)
        };
        let lexical_hits = self.bm25.search(query_text, pool);
        let best_lexical = lexical_hits.first().map_or(0.0, |h| h.1);
        let lexical: HashMap<u64, f32> = lexical_hits
            .into_iter()
            .map(|(slot, score, coverage)| (slot, score * coverage))
            .collect();
        let w = self.options.vector_weight.clamp(0.0, 1.0);
        // Lexical-only search (weight 0) leaves out the chunks no query word matches; they
        // would otherwise fill the results in slot order.
        let mut candidates: HashSet<u64> = if w > 0.0 {
            vector_hits.iter().map(|h| h.0).collect()
        } else {
            HashSet::new()
        };
        candidates.extend(lexical.keys().copied());
        let mut scored: Vec<(f32, f32, u64)> = candidates
            .into_iter()
            .filter_map(|slot| {
                let v = self.vectors.vector(slot)?;
                let cosine: f32 = v.iter().zip(query).map(|(a, b)| a * b).sum();
                let lex = match lexical.get(&slot) {
                    Some(s) if best_lexical > 0.0 => s / best_lexical,
                    _ => 0.0,
                };
                Some((w * cosine.max(0.0) + (1.0 - w) * lex, cosine, slot))
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.2.cmp(&b.2)));
        scored
            .into_iter()
            .take(k)
            .filter_map(|(_, cosine, slot)| {
                self.chunks.get(&slot).map(|c| ScoredChunk {
                    chunk_id: c.chunk_id.clone(),
                    article_id: c.article_id,
                    title: c.title.clone(),
                    text: c.text.clone(),
                    score: cosine.clamp(0.0, 1.0),
                })
            })
            .collect()
    }
}
