//! KbIndex behaviour with a deterministic bag-of-words embedder (no model needed).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::{article, help_centre};
use helpdesk_core::testkit::FakeEmbedder;
use helpdesk_core::{Embedder, Error, KnowledgeBase, TenantId};
use helpdesk_kb_search::index::SearchOptions;
use helpdesk_kb_search::{KbIndex, KbIndexOptions};

fn open(dir: &std::path::Path) -> KbIndex {
    KbIndex::open(
        dir,
        Arc::new(FakeEmbedder::new()),
        KbIndexOptions::default(),
    )
    .unwrap()
}

#[tokio::test]
async fn search_ranks_the_matching_article_first_with_cosine_scores() {
    let dir = tempfile::tempdir().unwrap();
    let kb = open(dir.path());
    let tenant = TenantId::new();
    let articles = help_centre(tenant);
    kb.rebuild(tenant, &articles).await.unwrap();

    let hits = kb
        .search(tenant, "refund to my payment card", 3)
        .await
        .unwrap();
    assert_eq!(hits[0].article_id, articles[1].id, "{hits:#?}");
    assert_eq!(hits[0].title, "Refund policy");
    assert!(hits.iter().all(|h| (0.0..=1.0).contains(&h.score)));
    assert!(hits[0].score > 0.2);
    assert!(hits.len() <= 3);

    let none = kb.search(tenant, "   ", 3).await.unwrap();
    assert!(none.is_empty());
}

/// `vector_weight` 0 is lexical-only search (chunks without a query word are left out) and
/// 1 is vector-only (ordered by cosine); scores are cosines either way.
#[tokio::test]
async fn vector_weight_zero_is_lexical_only_and_one_is_vector_only() {
    let dir = tempfile::tempdir().unwrap();
    let with = |vector_weight: f32, sub: &str| {
        KbIndex::open(
            dir.path().join(sub),
            Arc::new(FakeEmbedder::new()),
            KbIndexOptions {
                search: SearchOptions {
                    vector_weight,
                    ..SearchOptions::default()
                },
                ..KbIndexOptions::default()
            },
        )
        .unwrap()
    };
    let tenant = TenantId::new();
    let articles = help_centre(tenant);
    let (lexical, vector) = (with(0.0, "lexical"), with(1.0, "vector"));
    lexical.rebuild(tenant, &articles).await.unwrap();
    vector.rebuild(tenant, &articles).await.unwrap();

    // Only the shipping article has "warehouse": lexical search returns it alone.
    let hits = lexical.search(tenant, "warehouse", 10).await.unwrap();
    assert!(!hits.is_empty());
    assert!(
        hits.iter().all(|h| h.article_id == articles[2].id),
        "{hits:#?}"
    );
    assert!(
        lexical
            .search(tenant, "zzzz qqqq", 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Vector-only: ordered by the reported cosine.
    let hits = vector
        .search(tenant, "refund to my card", 10)
        .await
        .unwrap();
    assert!(hits.len() > 1);
    assert!(
        hits.windows(2).all(|w| w[0].score >= w[1].score),
        "{hits:#?}"
    );
}

#[tokio::test]
async fn tenants_never_see_each_others_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let kb = open(dir.path());
    let (a, b) = (TenantId::new(), TenantId::new());
    kb.rebuild(a, &help_centre(a)).await.unwrap();
    kb.upsert_article(&article(
        b,
        "Tenant B secret",
        "Zebra onboarding codes are kept in the vault.",
    ))
    .await
    .unwrap();

    let from_a = kb
        .search(a, "zebra onboarding vault codes", 10)
        .await
        .unwrap();
    assert!(
        from_a.iter().all(|h| h.title != "Tenant B secret"),
        "{from_a:#?}"
    );
    let from_b = kb.search(b, "refund payment card", 10).await.unwrap();
    assert!(
        from_b.iter().all(|h| h.title == "Tenant B secret"),
        "{from_b:#?}"
    );
    assert!(
        kb.search(TenantId::new(), "refund", 5)
            .await
            .unwrap()
            .is_empty()
    );

    // Rebuilding tenant A with an article of tenant B is refused.
    let err = kb.rebuild(a, &[article(b, "x", "y")]).await.unwrap_err();
    assert!(
        matches!(err, Error::Validation { ref field, .. } if field == "articles[0].tenant_id"),
        "{err}"
    );
}

#[tokio::test]
async fn index_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = TenantId::new();
    let articles = help_centre(tenant);
    let before = {
        let kb = open(dir.path());
        kb.rebuild(tenant, &articles).await.unwrap();
        kb.search(tenant, "tracking number for my parcel", 4)
            .await
            .unwrap()
    };
    let kb = open(dir.path());
    let after = kb
        .search(tenant, "tracking number for my parcel", 4)
        .await
        .unwrap();
    assert_eq!(before, after);
    assert_eq!(after[0].article_id, articles[2].id);
    let stats = kb.stats(tenant).await.unwrap();
    assert_eq!(stats.articles, 4);
}

#[tokio::test]
async fn upsert_replaces_and_remove_deletes_without_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let kb = open(dir.path());
    let tenant = TenantId::new();
    let mut articles = help_centre(tenant);
    kb.rebuild(tenant, &articles).await.unwrap();
    let chunks_before = kb.stats(tenant).await.unwrap().chunks;

    // Re-indexing unchanged content keeps chunk ids.
    let ids = |hits: &[helpdesk_core::ScoredChunk]| {
        hits.iter().map(|h| h.chunk_id.clone()).collect::<Vec<_>>()
    };
    let first = ids(&kb.search(tenant, "photo upload crashes", 2).await.unwrap());
    kb.upsert_article(&articles[3]).await.unwrap();
    assert_eq!(
        first,
        ids(&kb.search(tenant, "photo upload crashes", 2).await.unwrap())
    );
    assert_eq!(kb.stats(tenant).await.unwrap().tombstones, 0);

    // Changed content replaces the old chunks.
    articles[2].body = "Parcels travel by carrier pigeon and arrive within seven sunsets.".into();
    kb.upsert_article(&articles[2]).await.unwrap();
    let hits = kb
        .search(tenant, "carrier pigeon sunsets", 1)
        .await
        .unwrap();
    assert_eq!(hits[0].article_id, articles[2].id);
    assert!(hits[0].text.contains("pigeon"));
    let old = kb
        .search(tenant, "warehouse tracking numbers", 10)
        .await
        .unwrap();
    assert!(
        old.iter().all(|h| !h.text.contains("warehouse")),
        "{old:#?}"
    );

    kb.remove_article(tenant, articles[1].id).await.unwrap();
    let hits = kb.search(tenant, "refund payment card", 10).await.unwrap();
    assert!(hits.iter().all(|h| h.article_id != articles[1].id));
    let stats = kb.stats(tenant).await.unwrap();
    assert_eq!(stats.articles, 3);
    assert!(stats.chunks < chunks_before);

    // The deletions survive a reopen.
    drop(kb);
    let kb = open(dir.path());
    let hits = kb.search(tenant, "refund payment card", 10).await.unwrap();
    assert!(hits.iter().all(|h| h.article_id != articles[1].id));
}

#[tokio::test]
async fn tombstones_are_compacted_when_they_pile_up() {
    let dir = tempfile::tempdir().unwrap();
    let options = KbIndexOptions {
        search: SearchOptions {
            compaction_ratio: 0.5,
            ..SearchOptions::default()
        },
        ..KbIndexOptions::default()
    };
    let kb = KbIndex::open(dir.path(), Arc::new(FakeEmbedder::new()), options).unwrap();
    let tenant = TenantId::new();
    let articles: Vec<_> = (0..10)
        .map(|i| {
            article(
                tenant,
                &format!("Article {i}"),
                &format!("Topic number {i} about item{i}."),
            )
        })
        .collect();
    kb.rebuild(tenant, &articles).await.unwrap();
    for a in &articles[..4] {
        kb.remove_article(tenant, a.id).await.unwrap();
    }
    assert_eq!(kb.stats(tenant).await.unwrap().tombstones, 4);
    kb.remove_article(tenant, articles[4].id).await.unwrap();
    kb.remove_article(tenant, articles[5].id).await.unwrap();
    // 6 dead of 10 points > 0.5: compacted.
    let stats = kb.stats(tenant).await.unwrap();
    assert_eq!((stats.tombstones, stats.chunks), (0, 4));
    let hits = kb.search(tenant, "item7", 1).await.unwrap();
    assert_eq!(hits[0].article_id, articles[7].id);
}

#[tokio::test]
async fn invalid_inputs_are_rejected_with_the_field_named() {
    let dir = tempfile::tempdir().unwrap();
    let kb = open(dir.path());
    let tenant = TenantId::new();
    let err = kb.search(tenant, "x", 101).await.unwrap_err();
    assert!(matches!(err, Error::Validation { ref field, .. } if field == "k"));
    let err = kb.search(tenant, &"x".repeat(5000), 1).await.unwrap_err();
    assert!(matches!(err, Error::Validation { ref field, .. } if field == "query"));
    let err = kb
        .upsert_article(&article(tenant, " ", "body"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation { ref field, .. } if field == "title"));
}

#[tokio::test]
async fn an_index_of_another_model_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = TenantId::new();
    {
        let kb = open(dir.path());
        kb.rebuild(tenant, &help_centre(tenant)).await.unwrap();
    }
    let other = Arc::new(FakeEmbedder::with_dimensions(64));
    assert_eq!(other.dimensions(), 64);
    let kb = KbIndex::open(dir.path(), other, KbIndexOptions::default()).unwrap();
    assert!(kb.search(tenant, "refund", 5).await.unwrap().is_empty());
    kb.rebuild(tenant, &help_centre(tenant)).await.unwrap();
    assert!(!kb.search(tenant, "refund", 5).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_corrupt_index_is_a_backend_error() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = TenantId::new();
    {
        let kb = open(dir.path());
        kb.rebuild(tenant, &help_centre(tenant)).await.unwrap();
    }
    std::fs::write(
        dir.path().join(tenant.to_string()).join("meta.json"),
        b"{not json",
    )
    .unwrap();
    let kb = open(dir.path());
    let err = kb.search(tenant, "refund", 5).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Backend {
                backend: "hnsw",
                ..
            }
        ),
        "{err:?}"
    );
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(source.contains("meta.json"), "{source}");
}

#[derive(Default)]
struct Counter {
    total: std::sync::atomic::AtomicU64,
    done: std::sync::atomic::AtomicU64,
    finished: std::sync::atomic::AtomicBool,
}

impl helpdesk_kb_search::IndexProgress for Counter {
    fn start(&self, total: u64) {
        self.total.store(total, std::sync::atomic::Ordering::SeqCst);
    }
    fn advance(&self, n: u64) {
        self.done.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
    }
    fn finish(&self) {
        self.finished
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test]
async fn rebuild_reports_progress_per_chunk() {
    use std::sync::atomic::Ordering::SeqCst;
    let dir = tempfile::tempdir().unwrap();
    let kb = open(dir.path());
    let tenant = TenantId::new();
    let progress = Counter::default();
    kb.rebuild_with_progress(tenant, &help_centre(tenant), &progress)
        .await
        .unwrap();
    let chunks = kb.stats(tenant).await.unwrap().chunks as u64;
    assert!(chunks >= 4);
    assert_eq!(progress.total.load(SeqCst), chunks);
    assert_eq!(progress.done.load(SeqCst), chunks);
    assert!(progress.finished.load(SeqCst));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_upserts_are_all_kept() {
    let dir = tempfile::tempdir().unwrap();
    let kb = open(dir.path());
    let tenant = TenantId::new();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16 {
        let kb = kb.clone();
        tasks.spawn(async move {
            let a = article(
                tenant,
                &format!("Note {i}"),
                &format!("Unique token tok{i}x appears here."),
            );
            kb.upsert_article(&a).await.map(|()| a.id)
        });
    }
    let mut ids = Vec::new();
    while let Some(r) = tasks.join_next().await {
        ids.push(r.unwrap().unwrap());
    }
    assert_eq!(kb.stats(tenant).await.unwrap().articles, 16);
    drop(kb);
    let kb = open(dir.path());
    assert_eq!(kb.stats(tenant).await.unwrap().articles, 16);
    let hits = kb.search(tenant, "tok7x", 1).await.unwrap();
    assert!(ids.contains(&hits[0].article_id));
    assert_eq!(hits[0].title, "Note 7");
}
