//! `kb`: the kb-search vector index ([`VectorIndex`], the HNSW graph every tenant's
//! knowledge base searches) on clustered vectors: build time, query latency, and recall@10
//! against exact search on the same index in the same run.
//!
//! The vectors imitate sentence embeddings: `clusters` topic centres in `dims` dimensions;
//! each point is its centre plus a spread inside a low-dimensional subspace of its own
//! topic (`local_dims` directions, so neighbourhoods have low intrinsic dimension as text
//! embeddings do) plus a little isotropic noise, normalised to unit length. Queries are
//! fresh points drawn the same way. The graph is built with
//! [`VectorIndex::bulk_load`] (hnsw_rs `parallel_insert` on all cores, as kb-search's
//! compaction and reload do) with the knowledge base's default [`HnswOptions`] unless `--m`, `--ef-construction`
//! or `--ef-search` tune them.
//! Latency is of `search_graph(query, 10)`; recall@10 is the share of the exact top 10
//! (`search_exact`) that it returns.

use std::time::Instant;

use helpdesk_kb_search::index::{HnswOptions, VectorIndex};
use serde::Serialize;

use super::{BoxError, PROFILE, Rng, Samples, Step, bar, ms, print_table, spinner};

/// Options of a kb run.
#[derive(Debug, Clone)]
pub struct KbOptions {
    /// Indexed vectors (chunks).
    pub size: usize,
    /// Vector length (384 for MiniLM).
    pub dims: usize,
    /// Topic clusters.
    pub clusters: usize,
    /// Directions of the spread inside each cluster.
    pub local_dims: usize,
    /// Timed graph queries.
    pub queries: usize,
    /// Queries whose recall is checked against exact search (each scans every vector).
    pub recall_queries: usize,
    /// Seed of the generator.
    pub seed: u64,
    /// The graph's settings (the knowledge base's defaults unless tuned).
    pub hnsw: HnswOptions,
}

/// The result of a kb run.
#[derive(Debug, Clone, Serialize)]
pub struct KbReport {
    /// The build profile of the binary.
    pub profile: &'static str,
    /// Indexed vectors.
    pub size: usize,
    /// Vector length.
    pub dims: usize,
    /// Neighbours per node (M).
    pub m: usize,
    /// Candidate list while building.
    pub ef_construction: usize,
    /// Candidate list while searching.
    pub ef_search: usize,
    /// Threads hnsw_rs builds with (the machine's cores).
    pub build_threads: usize,
    /// Seconds to build the graph.
    pub build_s: f64,
    /// Median graph query (top 10).
    pub p50_ms: f64,
    /// 99th percentile graph query.
    pub p99_ms: f64,
    /// Share of the exact top 10 the graph returns.
    pub recall_at_10: f64,
    /// Median exact query (a scan of every vector).
    pub exact_p50_ms: f64,
    /// Timed graph queries.
    pub queries: usize,
    /// Queries checked against exact search.
    pub recall_queries: usize,
}

impl KbReport {
    /// Prints the report as a table.
    pub fn print(&self) {
        let verdict = |ok: bool| if ok { "met" } else { "missed" };
        print_table(
            &format!(
                "kb ({} clustered {}-d vectors, M {}, ef_construction {}, ef_search {}, {} build)",
                self.size, self.dims, self.m, self.ef_construction, self.ef_search, self.profile
            ),
            &[
                (
                    "build",
                    format!(
                        "{:.1} s on {} threads  (goal <= 60 s: {})",
                        self.build_s,
                        self.build_threads,
                        verdict(self.build_s <= 60.0)
                    ),
                ),
                (
                    "HNSW query (k=10)",
                    format!(
                        "p50 {}, p99 {}  (goal p99 <= 1 ms: {})",
                        ms(self.p50_ms),
                        ms(self.p99_ms),
                        verdict(self.p99_ms <= 1.0)
                    ),
                ),
                (
                    "recall@10",
                    format!(
                        "{:.4} over {} queries  (goal >= 0.98: {})",
                        self.recall_at_10,
                        self.recall_queries,
                        verdict(self.recall_at_10 >= 0.98)
                    ),
                ),
                ("exact query", format!("p50 {}", ms(self.exact_p50_ms))),
            ],
        );
    }
}

/// Generates clustered unit vectors (see the module docs).
struct Generator {
    rng: Rng,
    dims: usize,
    centres: Vec<Vec<f32>>,
    /// Per cluster, `local_dims` random directions.
    bases: Vec<Vec<Vec<f32>>>,
}

fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 1e-12 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

impl Generator {
    fn new(options: &KbOptions) -> Self {
        let mut rng = Rng::new(options.seed);
        let dims = options.dims.max(1);
        let unit = |rng: &mut Rng| {
            let mut v: Vec<f32> = (0..dims).map(|_| rng.gaussian()).collect();
            normalise(&mut v);
            v
        };
        let clusters = options.clusters.max(1);
        let centres = (0..clusters).map(|_| unit(&mut rng)).collect();
        let bases = (0..clusters)
            .map(|_| {
                (0..options.local_dims.max(1))
                    .map(|_| unit(&mut rng))
                    .collect()
            })
            .collect();
        Self {
            rng,
            dims,
            centres,
            bases,
        }
    }

    fn point(&mut self) -> Vec<f32> {
        let c = self.rng.below(self.centres.len());
        let mut v = self.centres[c].clone();
        for direction in &self.bases[c] {
            let w = 0.35 * self.rng.gaussian();
            v.iter_mut().zip(direction).for_each(|(x, d)| *x += w * d);
        }
        let noise = 0.02;
        v.iter_mut()
            .for_each(|x| *x += noise * self.rng.gaussian() / (self.dims as f32).sqrt());
        normalise(&mut v);
        v
    }
}

/// Runs the kb benchmark (blocking: CPU-bound, call it off any async runtime).
pub fn run(options: &KbOptions) -> Result<KbReport, BoxError> {
    let mut generator = Generator::new(options);
    let progress = bar(options.size as u64, "vectors");
    let mut vectors = Vec::with_capacity(options.size);
    for slot in 0..options.size as u64 {
        vectors.push((slot, generator.point()));
        if slot % 1024 == 0 {
            progress.set_position(slot);
        }
    }
    progress.finish_and_clear();
    let queries: Vec<Vec<f32>> = (0..options.queries.max(1))
        .map(|_| generator.point())
        .collect();

    let building = spinner("building HNSW");
    let started = Instant::now();
    let index = VectorIndex::bulk_load(options.dims, options.hnsw, vectors)
        .step("building the HNSW index")?;
    let build_s = started.elapsed().as_secs_f64();
    building.finish_and_clear();

    // Warm-up, then timed graph queries.
    for q in queries.iter().take(20) {
        std::hint::black_box(index.search_graph(q, 10));
    }
    let progress = bar(queries.len() as u64, "HNSW queries");
    let mut graph = Samples::with_capacity(queries.len());
    let mut answers = Vec::with_capacity(queries.len());
    for q in &queries {
        let t = Instant::now();
        let hits = index.search_graph(q, 10);
        graph.push(t.elapsed());
        answers.push(hits);
        progress.inc(1);
    }
    progress.finish_and_clear();

    let checked = options.recall_queries.clamp(1, queries.len());
    let progress = bar(checked as u64, "exact queries");
    let mut exact = Samples::with_capacity(checked);
    let (mut found, mut wanted) = (0usize, 0usize);
    for (q, approx) in queries.iter().zip(&answers).take(checked) {
        let t = Instant::now();
        let truth = index.search_exact(q, 10);
        exact.push(t.elapsed());
        wanted += truth.len();
        found += truth
            .iter()
            .filter(|(slot, _)| approx.iter().any(|(s, _)| s == slot))
            .count();
        progress.inc(1);
    }
    progress.finish_and_clear();

    Ok(KbReport {
        profile: PROFILE,
        size: index.len(),
        dims: options.dims,
        m: options.hnsw.max_connections,
        ef_construction: options.hnsw.ef_construction,
        ef_search: options.hnsw.ef_search,
        build_threads: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        build_s,
        p50_ms: graph.median(),
        p99_ms: graph.percentile(0.99),
        recall_at_10: if wanted == 0 {
            0.0
        } else {
            found as f64 / wanted as f64
        },
        exact_p50_ms: exact.median(),
        queries: queries.len(),
        recall_queries: checked,
    })
}
