//! Conformance cases for the knowledge base's stored chunks and change feed: chunks are
//! kept only for the current version of an article, every accepted change takes the
//! tenant's next number, deletions show in the feed, and a reader polling the feed while
//! writers race never misses a change.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

#[allow(clippy::wildcard_imports)]
use super::*;
use crate::domain::{AuditEvent, AuditKind};
use crate::store::{AdminChange, AdminWrite, ArticleChunks, IndexedChunk, KbChange};

fn article(tenant: TenantId, title: &str) -> Article {
    Article {
        id: ArticleId::new(),
        tenant_id: tenant,
        title: title.into(),
        body: format!("# {title}\n\nHow to {title}."),
        tags: Vec::new(),
        created_at: t0(),
        updated_at: t0(),
        version: 1,
    }
}

/// Chunks of `article` at its version, with vectors whose numbers a lossy encoding would
/// change (tiny, negative, not exactly representable in decimal).
fn chunks_of(article: &Article, model: &str, n: usize) -> ArticleChunks {
    ArticleChunks {
        article_id: article.id,
        article_version: article.version,
        title: article.title.clone(),
        model: model.into(),
        chunks: (0..n)
            .map(|i| IndexedChunk {
                chunk_id: format!("{}:{i}", article.id),
                text: format!("Part {i} of {} ✓", article.title),
                embedding: vec![0.1, -0.333_333_34, 1e-30, i as f32 / 7.0],
            })
            .collect(),
    }
}

async fn feed(store: &S, tenant: TenantId, since: u64) -> Vec<KbChange> {
    store.kb_changes(tenant, since, 1_000).await.unwrap()
}

/// Chunks are stored for the article's current version only and come back exactly; each
/// accepted put and each deletion takes the tenant's next number; the feed shows every
/// article once in its latest state; what is left to embed is listed per model; another
/// tenant sees and changes nothing.
pub async fn kb_chunks_follow_article_versions_through_the_feed(store: S) {
    let (a, _, _) = seed_tenant(&store, "acme").await;
    let (b, _, _) = seed_tenant(&store, "globex").await;
    let mut reset = article(a.id, "reset a password");
    let refund = article(a.id, "ask for a refund");
    store.create_article(&reset).await.unwrap();
    store.create_article(&refund).await.unwrap();
    let mut todo = store.articles_to_index(a.id, "minilm", 10).await.unwrap();
    todo.sort();
    let mut both = vec![reset.id, refund.id];
    both.sort();
    assert_eq!(todo, both, "nothing embedded yet");
    assert!(feed(&store, a.id, 0).await.is_empty());

    let first = chunks_of(&reset, "minilm", 3);
    let s1 = store
        .put_article_chunks(a.id, &first)
        .await
        .unwrap()
        .expect("current version accepted");
    let s2 = store
        .put_article_chunks(a.id, &chunks_of(&refund, "minilm", 1))
        .await
        .unwrap()
        .expect("current version accepted");
    assert!(s2 > s1, "numbers grow: {s1} then {s2}");
    let changes = feed(&store, a.id, 0).await;
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0].seq, s1);
    assert_eq!(changes[0].article_id, reset.id);
    assert_eq!(changes[0].chunks.as_ref(), Some(&first), "exact round trip");
    assert_eq!(feed(&store, a.id, s1).await.len(), 1);
    assert!(feed(&store, a.id, s2).await.is_empty());
    assert_eq!(
        store.kb_changes(a.id, 0, 1).await.unwrap().len(),
        1,
        "limit"
    );
    assert!(
        store
            .articles_to_index(a.id, "minilm", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .articles_to_index(a.id, "other-model", 10)
            .await
            .unwrap()
            .len(),
        2,
        "chunks of another model are to be embedded again"
    );

    // Chunks of an older or newer version than the stored article are refused.
    let mut ahead = chunks_of(&reset, "minilm", 1);
    ahead.article_version = 2;
    assert_eq!(store.put_article_chunks(a.id, &ahead).await.unwrap(), None);
    reset.body = "Changed.".into();
    reset.version = 2;
    reset.updated_at = at(5);
    store.update_article(1, &reset).await.unwrap();
    assert_eq!(
        store.articles_to_index(a.id, "minilm", 10).await.unwrap(),
        vec![reset.id],
        "an edited article is to be embedded again"
    );
    assert_eq!(
        store.put_article_chunks(a.id, &first).await.unwrap(),
        None,
        "stale"
    );
    let second = chunks_of(&reset, "minilm", 2);
    let s3 = store
        .put_article_chunks(a.id, &second)
        .await
        .unwrap()
        .expect("current version accepted");
    assert!(s3 > s2);
    let changes = feed(&store, a.id, 0).await;
    assert_eq!(changes.len(), 2, "each article once: {changes:?}");
    assert_eq!(changes[1].seq, s3);
    assert_eq!(changes[1].chunks.as_ref(), Some(&second));

    // Another tenant: its feed is empty and it cannot write to these articles.
    assert!(feed(&store, b.id, 0).await.is_empty());
    assert_eq!(store.put_article_chunks(b.id, &second).await.unwrap(), None);
    assert!(
        store
            .articles_to_index(b.id, "minilm", 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Deleting removes the chunks and shows in the feed, on both delete paths.
    store.delete_article(a.id, reset.id).await.unwrap();
    let changes = feed(&store, a.id, s3).await;
    assert_eq!(changes.len(), 1);
    assert!(changes[0].seq > s3);
    assert_eq!(changes[0].article_id, reset.id);
    assert_eq!(changes[0].chunks, None);
    assert_eq!(
        store.put_article_chunks(a.id, &second).await.unwrap(),
        None,
        "gone"
    );
    let s4 = changes[0].seq;
    let audit = AuditEvent {
        id: crate::AuditEventId::new(),
        tenant_id: a.id,
        actor: None,
        at: at(9),
        kind: AuditKind::ArticleDeleted {
            article: refund.id,
            title: refund.title.clone(),
        },
    };
    store
        .commit_admin_change(&AdminWrite::new(
            AdminChange::DeleteArticle(refund.id),
            audit,
        ))
        .await
        .unwrap();
    let changes = feed(&store, a.id, s4).await;
    assert_eq!(changes.len(), 1);
    assert_eq!(
        (changes[0].article_id, changes[0].chunks.is_none()),
        (refund.id, true)
    );
    assert!(
        store
            .articles_to_index(a.id, "minilm", 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Invalid chunks are refused with the field named, and nothing is written.
pub async fn invalid_kb_chunks_write_nothing(store: S) {
    let (a, _, _) = seed_tenant(&store, "acme").await;
    let art = article(a.id, "print an invoice");
    store.create_article(&art).await.unwrap();
    let good = chunks_of(&art, "minilm", 2);
    let mut ragged = good.clone();
    ragged.chunks[1].embedding.push(0.5);
    let mut twice = good.clone();
    twice.chunks[1].chunk_id = twice.chunks[0].chunk_id.clone();
    let mut nan = good.clone();
    nan.chunks[0].embedding[0] = f32::NAN;
    let mut unnamed = good.clone();
    unnamed.model = String::new();
    for (bad, field) in [
        (ragged, "chunks[1].embedding"),
        (twice, "chunks[1].chunk_id"),
        (nan, "chunks[0].embedding"),
        (unnamed, "model"),
    ] {
        match store.put_article_chunks(a.id, &bad).await {
            Err(Error::Validation { field: f, .. }) => assert_eq!(f, field),
            other => panic!("expected a validation error on {field}, got {other:?}"),
        }
    }
    assert!(feed(&store, a.id, 0).await.is_empty());
    let empty = chunks_of(&art, "minilm", 0);
    assert!(
        store
            .put_article_chunks(a.id, &empty)
            .await
            .unwrap()
            .is_some(),
        "no chunks is valid"
    );
}

/// Writers race on one tenant while a reader follows the feed from the last number it
/// saw: every change reaches the reader (no change becomes visible after a larger number
/// already has), and the numbers are unique.
pub async fn kb_feed_readers_miss_no_change_under_concurrent_writers(store: S) {
    const WRITERS: usize = 4;
    const EACH: usize = 8;
    let (a, _, _) = seed_tenant(&store, "acme").await;
    let mut articles = Vec::new();
    for i in 0..WRITERS * EACH {
        let art = article(a.id, &format!("topic {i}"));
        store.create_article(&art).await.unwrap();
        articles.push(art);
    }
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let store = store.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut since = 0;
            let mut seen: BTreeMap<ArticleId, u64> = BTreeMap::new();
            loop {
                let finished = done.load(std::sync::atomic::Ordering::Acquire);
                for change in store.kb_changes(a.id, since, 5).await.unwrap() {
                    assert!(change.seq > since, "feed out of order");
                    since = change.seq;
                    seen.insert(change.article_id, change.seq);
                }
                if finished && store.kb_changes(a.id, since, 1).await.unwrap().is_empty() {
                    return seen;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let mut writers = Vec::new();
    for part in articles.chunks(EACH) {
        let store = store.clone();
        let part = part.to_vec();
        writers.push(tokio::spawn(async move {
            let mut numbers = Vec::new();
            for art in &part {
                let seq = store
                    .put_article_chunks(art.tenant_id, &chunks_of(art, "minilm", 2))
                    .await
                    .unwrap()
                    .expect("current version accepted");
                numbers.push((art.id, seq));
            }
            numbers
        }));
    }
    let mut written: BTreeMap<ArticleId, u64> = BTreeMap::new();
    for w in writers {
        written.extend(w.await.unwrap());
    }
    done.store(true, std::sync::atomic::Ordering::Release);
    let seen = reader.await.unwrap();
    let unique: BTreeSet<u64> = written.values().copied().collect();
    assert_eq!(
        unique.len(),
        WRITERS * EACH,
        "every change has its own number"
    );
    assert_eq!(seen, written, "the reader saw every change with its number");
}
