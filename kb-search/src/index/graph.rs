//! The HNSW graph (hnsw_rs, `DistDot` on unit vectors) with tombstones, exact search for
//! small collections, and dump/reload.

use std::collections::HashMap;
use std::path::Path;

use hnsw_rs::api::AnnT;
use hnsw_rs::filter::FilterT;
use hnsw_rs::hnsw::{DataId, Hnsw};
use hnsw_rs::hnswio::HnswIo;
use hnsw_rs::prelude::DistDot;

use crate::error::KbError;

/// HNSW settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HnswOptions {
    /// Neighbours per node (M).
    pub max_connections: usize,
    /// Candidate list size while building.
    pub ef_construction: usize,
    /// Candidate list size while searching (at least `k` is used).
    pub ef_search: usize,
}

/// The defaults (M = 24, ef_construction = 200, ef_search = 128) favour recall on any data:
/// the recall property test below, on clusters of high intrinsic dimension, needs them (with
/// M = 20, ef_construction = 64 it fell to 0.88-0.92 even at ef_search 64). They suit a
/// help centre of up to tens of thousands of chunks. For a large collection of sentence
/// embeddings, `helpdesk-bench kb` measured on 2 cores (100,000 clustered 384-d vectors,
/// BENCHMARKS.md): M = 20, ef_construction = 64, ef_search = 32 gave recall@10 0.98-0.99, a
/// query p99 under 1 ms and a build of 47-59 s, where the defaults took about 4 ms a query
/// at 20,000 vectors and did not build 100,000 in ten minutes; check recall on your own
/// vectors before lowering them.
impl Default for HnswOptions {
    fn default() -> Self {
        Self {
            max_connections: 24,
            ef_construction: 200,
            ef_search: 128,
        }
    }
}

/// `file_dump` only accepts graphs built with the full layer count.
const MAX_LAYER: usize = 16;

/// Vectors are stored scaled by this, so a dot product of a vector with itself stays
/// below 1 despite rounding (`DistDot` asserts `1 - dot >= 0` in its scalar path).
const SHRINK: f32 = 1.0 - 1e-5;

type DotHnsw<'a> = Hnsw<'a, f32, DistDot>;

self_cell::self_cell!(
    /// A reloaded graph together with the loader it borrows from.
    struct LoadedGraph {
        owner: HnswIo,
        #[not_covariant]
        dependent: DotHnsw,
    }
);

enum Graph {
    Fresh(DotHnsw<'static>),
    Loaded(LoadedGraph),
}

impl Graph {
    fn with<R>(&self, f: impl FnOnce(&DotHnsw<'_>) -> R) -> R {
        match self {
            Self::Fresh(h) => f(h),
            Self::Loaded(l) => l.with_dependent(|_, h| f(h)),
        }
    }
}

/// Live slots, for filtering tombstones out of graph searches.
struct Live<'a>(&'a HashMap<u64, Vec<f32>>);

impl FilterT for Live<'_> {
    fn hnsw_filter(&self, id: &DataId) -> bool {
        self.0.contains_key(&(*id as u64))
    }
}

/// Unit vectors by slot, an HNSW graph over them (which may still hold removed slots:
/// tombstones, filtered at search and dropped by compaction).
///
/// This is the vector half of each tenant's [`KbIndex`](super::KbIndex), public so that
/// benchmarks and tools can measure it on their own: build it with
/// [`bulk_load`](Self::bulk_load) and compare
/// [`search_graph`](Self::search_graph) with [`search_exact`](Self::search_exact). Vectors
/// must be unit length (the score is the dot product). Building and searching are CPU-bound:
/// call them from a blocking thread in async code.
pub struct VectorIndex {
    dims: usize,
    options: HnswOptions,
    vectors: HashMap<u64, Vec<f32>>,
    graph: Option<Graph>,
    /// Points in the graph, live or dead.
    graph_points: usize,
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("dims", &self.dims)
            .field("live", &self.vectors.len())
            .field("graph_points", &self.graph_points)
            .finish_non_exhaustive()
    }
}

/// Dot product with eight independent partial sums, which the compiler turns into SIMD
/// lanes (a plain `zip().sum()` must add in order and stays scalar): `helpdesk-bench kb`'s
/// exact search over 20,000 384-d vectors went from 13.6 to 8.2 ms (p50) with it.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let mut partial = [0.0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (ca, cb) in a_chunks.zip(b_chunks) {
        for lane in 0..LANES {
            partial[lane] += ca[lane] * cb[lane];
        }
    }
    partial.iter().sum::<f32>() + tail
}

impl VectorIndex {
    /// An empty index.
    pub(crate) fn new(dims: usize, options: HnswOptions) -> Self {
        Self {
            dims,
            options,
            vectors: HashMap::new(),
            graph: None,
            graph_points: 0,
        }
    }

    fn new_graph(&self, capacity: usize) -> DotHnsw<'static> {
        Hnsw::new(
            self.options.max_connections.clamp(4, 256),
            capacity.max(1024),
            MAX_LAYER,
            self.options.ef_construction.max(16),
            DistDot,
        )
    }

    /// An index over `vectors` (slot, unit vector), its graph built in one parallel pass
    /// on all cores (hnsw_rs `parallel_insert`, as compaction and reloads do), which is much
    /// faster than inserting the points one by one. Fails (a backend error naming both
    /// lengths) when a vector's length is not `dims`.
    pub fn bulk_load(
        dims: usize,
        options: HnswOptions,
        vectors: impl IntoIterator<Item = (u64, Vec<f32>)>,
    ) -> Result<Self, helpdesk_core::Error> {
        let mut index = Self::new(dims, options);
        for (slot, vector) in vectors {
            index.check_dims(&vector)?;
            index.vectors.insert(slot, vector);
        }
        index.compact();
        Ok(index)
    }

    /// Fails with [`KbError::Dimensions`] when `vector` is not `dims` long.
    fn check_dims(&self, vector: &[f32]) -> Result<(), KbError> {
        if vector.len() == self.dims {
            return Ok(());
        }
        Err(KbError::Dimensions {
            got: vector.len(),
            want: self.dims,
        })
    }

    /// Vector length.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Live vectors.
    pub fn len(&self) -> usize {
        self.vectors.len()
    }

    /// Whether there are no live vectors.
    pub fn is_empty(&self) -> bool {
        self.vectors.is_empty()
    }

    /// Removed slots still in the graph.
    pub(crate) fn dead(&self) -> usize {
        self.graph_points.saturating_sub(self.vectors.len())
    }

    /// Points in the graph, live or dead.
    pub(crate) fn graph_points(&self) -> usize {
        self.graph_points
    }

    /// The live vector of a slot.
    pub(crate) fn vector(&self, slot: u64) -> Option<&[f32]> {
        self.vectors.get(&slot).map(Vec::as_slice)
    }

    /// Adds a unit vector under a new slot (slots are never reused).
    pub(crate) fn insert(&mut self, slot: u64, vector: Vec<f32>) -> Result<(), KbError> {
        self.check_dims(&vector)?;
        if self.graph.is_none() {
            self.graph = Some(Graph::Fresh(self.new_graph(1024)));
        }
        let scaled: Vec<f32> = vector.iter().map(|x| x * SHRINK).collect();
        if let Some(g) = &self.graph {
            g.with(|h| h.insert((&scaled, slot as usize)));
            self.graph_points += 1;
        }
        self.vectors.insert(slot, vector);
        Ok(())
    }

    /// Tombstones a slot: its vector is dropped, its graph node is filtered out.
    pub(crate) fn remove(&mut self, slot: u64) {
        self.vectors.remove(&slot);
    }

    /// Rebuilds the graph from live vectors only.
    pub(crate) fn compact(&mut self) {
        let mut slots: Vec<u64> = self.vectors.keys().copied().collect();
        slots.sort_unstable();
        if slots.is_empty() {
            self.graph = None;
            self.graph_points = 0;
            return;
        }
        let graph = self.new_graph(slots.len());
        let scaled: Vec<(Vec<f32>, usize)> = slots
            .iter()
            .filter_map(|s| {
                self.vectors
                    .get(s)
                    .map(|v| (v.iter().map(|x| x * SHRINK).collect(), *s as usize))
            })
            .collect();
        let refs: Vec<(&Vec<f32>, usize)> = scaled.iter().map(|(v, s)| (v, *s)).collect();
        graph.parallel_insert(&refs);
        self.graph_points = refs.len();
        self.graph = Some(Graph::Fresh(graph));
    }

    /// Exact top-`k` live slots by dot product, best first.
    pub fn search_exact(&self, query: &[f32], k: usize) -> Vec<(u64, f32)> {
        let mut all: Vec<(u64, f32)> = self
            .vectors
            .iter()
            .map(|(s, v)| (*s, dot(query, v)))
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        all.truncate(k);
        all
    }

    /// Approximate top-`k` live slots from the graph, best first (scores are exact dots).
    /// When tombstones starve the graph search of results, falls back to the exact scan.
    pub fn search_graph(&self, query: &[f32], k: usize) -> Vec<(u64, f32)> {
        let out = self.graph_candidates(query, k);
        if out.len() < k.min(self.vectors.len()) {
            return self.search_exact(query, k);
        }
        out
    }

    /// The graph's own answer, without the exact fallback.
    fn graph_candidates(&self, query: &[f32], k: usize) -> Vec<(u64, f32)> {
        let Some(graph) = &self.graph else {
            return Vec::new();
        };
        if k == 0 || self.vectors.is_empty() {
            return Vec::new();
        }
        let ef = self.options.ef_search.max(k);
        // The tombstone filter costs a hash lookup per visited node (about half the search
        // time, measured with helpdesk-bench kb): only pay it when the graph holds dead points.
        let found = if self.dead() == 0 {
            graph.with(|h| h.search(query, k, ef))
        } else {
            let live = Live(&self.vectors);
            graph.with(|h| h.search_filter(query, k, ef, Some(&live)))
        };
        let mut out: Vec<(u64, f32)> = found
            .into_iter()
            .filter_map(|n| {
                let slot = n.d_id as u64;
                self.vectors.get(&slot).map(|v| (slot, dot(query, v)))
            })
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// Dumps the graph into `dir` as `{basename}.hnsw.graph` / `.hnsw.data`; returns the
    /// basename used, or `None` when there is no graph.
    pub(crate) fn dump_graph(&self, dir: &Path, basename: &str) -> Result<Option<String>, KbError> {
        let Some(graph) = &self.graph else {
            return Ok(None);
        };
        if self.graph_points == 0 {
            return Ok(None);
        }
        graph
            .with(|h| h.file_dump(dir, basename))
            .map(Some)
            .map_err(|e| KbError::Hnsw {
                action: "dump",
                path: dir.to_path_buf(),
                source: e.into(),
            })
    }

    /// Restores an index from its live vectors and, when given, a dumped graph. A graph
    /// whose point count disagrees with `graph_points` is replaced by a fresh one.
    pub(crate) fn restore(
        dims: usize,
        options: HnswOptions,
        vectors: HashMap<u64, Vec<f32>>,
        graph: Option<(&Path, &str, usize)>,
    ) -> Result<Self, KbError> {
        let mut index = Self {
            dims,
            options,
            vectors,
            graph: None,
            graph_points: 0,
        };
        if let Some((dir, basename, points)) = graph {
            let loader = HnswIo::new(dir, basename);
            let loaded =
                LoadedGraph::try_new(loader, |io| io.load_hnsw_with_dist::<f32, DistDot>(DistDot));
            match loaded {
                Ok(g) if g.with_dependent(|_, h| h.get_nb_point()) == points => {
                    index.graph = Some(Graph::Loaded(g));
                    index.graph_points = points;
                    return Ok(index);
                }
                Ok(_) => {
                    tracing::warn!(dir = %dir.display(), "HNSW dump point count differs from metadata; rebuilding the graph")
                }
                Err(e) => {
                    tracing::warn!(dir = %dir.display(), error = %e, "HNSW dump unreadable; rebuilding the graph")
                }
            }
        }
        index.compact();
        Ok(index)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use proptest::prelude::*;

    #[test]
    fn dot_agrees_with_the_plain_sum_for_every_length() {
        for len in [0usize, 1, 7, 8, 9, 15, 16, 17, 384, 385] {
            let a: Vec<f32> = (0..len)
                .map(|i| ((i * 37 % 11) as f32 - 5.0) / 7.0)
                .collect();
            let b: Vec<f32> = (0..len)
                .map(|i| ((i * 53 % 13) as f32 - 6.0) / 5.0)
                .collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            let fast = super::dot(&a, &b);
            assert!(
                (plain - fast).abs() <= 1e-4 * (1.0 + plain.abs()),
                "len {len}: {plain} vs {fast}"
            );
        }
    }

    use super::*;

    fn unit(mut v: Vec<f32>) -> Vec<f32> {
        crate::embedder::normalise(&mut v);
        v
    }

    /// `clusters` centres, points scattered around them (noise `spread`), unit length.
    fn clustered(seed: u64, n: usize, dims: usize, clusters: usize, spread: f32) -> Vec<Vec<f32>> {
        let mut s = seed | 1;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f32 / (1u64 << 53) as f32 * 2.0 - 1.0
        };
        let centres: Vec<Vec<f32>> = (0..clusters)
            .map(|_| (0..dims).map(|_| next()).collect())
            .collect();
        (0..n)
            .map(|i| {
                unit(
                    centres[i % clusters]
                        .iter()
                        .map(|c| c + spread * next())
                        .collect(),
                )
            })
            .collect()
    }

    fn recall_at_10(index: &VectorIndex, queries: &[Vec<f32>]) -> f32 {
        let mut found = 0;
        for q in queries {
            let exact: Vec<u64> = index.search_exact(q, 10).iter().map(|h| h.0).collect();
            // The graph alone: the exact fallback must not make this pass.
            let approx: Vec<u64> = index.graph_candidates(q, 10).iter().map(|h| h.0).collect();
            found += exact.iter().filter(|s| approx.contains(s)).count();
        }
        found as f32 / (queries.len() * 10) as f32
    }

    proptest! {
        // Few cases: each builds a 2,000-point graph (slow in debug builds).
        #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]
        #[test]
        fn hnsw_recall_at_10_is_at_least_095_on_clustered_data(
            seed in any::<u64>(),
            clusters in 5usize..40,
            spread in 0.2f32..1.0,
        ) {
            let dims = 48;
            let points = clustered(seed, 2_000, dims, clusters, spread);
            let mut index = VectorIndex::new(dims, HnswOptions::default());
            for (i, p) in points.iter().enumerate() {
                index.insert(i as u64, p.clone()).unwrap();
            }
            let queries = clustered(seed ^ 0xABCD, 50, dims, clusters, spread);
            let recall = recall_at_10(&index, &queries);
            prop_assert!(recall >= 0.95, "recall@10 {recall}");
        }
    }

    #[test]
    fn identical_vectors_and_tombstones_are_handled() {
        let v = unit(vec![1.0, 2.0, 3.0, 4.0]);
        let mut index = VectorIndex::new(4, HnswOptions::default());
        for slot in 0..50 {
            index.insert(slot, v.clone()).unwrap();
        }
        let hits = index.search_graph(&v, 5);
        assert_eq!(hits.len(), 5);
        assert!(hits.iter().all(|h| (h.1 - 1.0).abs() < 1e-5));
        for slot in 0..48 {
            index.remove(slot);
        }
        let hits: Vec<u64> = index.search_graph(&v, 5).iter().map(|h| h.0).collect();
        assert_eq!(hits, [48, 49]);
        assert_eq!(index.dead(), 48);
        index.compact();
        assert_eq!((index.dead(), index.graph_points()), (0, 2));
        let err = index.insert(99, vec![1.0]).unwrap_err();
        assert!(matches!(err, KbError::Dimensions { got: 1, want: 4 }));
    }

    #[test]
    fn dump_and_reload_gives_the_same_answers() {
        let dir = tempfile::tempdir().unwrap();
        let points = clustered(42, 500, 16, 8, 0.5);
        let mut index = VectorIndex::new(16, HnswOptions::default());
        for (i, p) in points.iter().enumerate() {
            index.insert(i as u64, p.clone()).unwrap();
        }
        index.remove(3);
        let basename = index.dump_graph(dir.path(), "graph").unwrap().unwrap();
        let live: HashMap<u64, Vec<f32>> = (0..500u64)
            .filter(|s| *s != 3)
            .map(|s| (s, points[s as usize].clone()))
            .collect();
        let reloaded = VectorIndex::restore(
            16,
            HnswOptions::default(),
            live,
            Some((dir.path(), &basename, 500)),
        )
        .unwrap();
        assert!(matches!(reloaded.graph, Some(Graph::Loaded(_))));
        for q in &points[..20] {
            assert_eq!(index.search_graph(q, 10), reloaded.search_graph(q, 10));
        }
        // A reloaded graph still takes inserts.
        let mut reloaded = reloaded;
        reloaded.insert(1000, points[0].clone()).unwrap();
        assert!(
            reloaded
                .search_graph(&points[0], 2)
                .iter()
                .any(|h| h.0 == 1000)
        );
        // A dump that disagrees with the metadata is rebuilt rather than trusted.
        let live: HashMap<u64, Vec<f32>> = (0..10u64)
            .map(|s| (s, points[s as usize].clone()))
            .collect();
        let rebuilt = VectorIndex::restore(
            16,
            HnswOptions::default(),
            live,
            Some((dir.path(), &basename, 7)),
        )
        .unwrap();
        assert!(matches!(rebuilt.graph, Some(Graph::Fresh(_))));
        assert_eq!(rebuilt.graph_points(), 10);
    }
}
