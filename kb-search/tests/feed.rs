//! KbIndex as a cache of the store: loading the store's change feed from stored vectors,
//! the persisted position, and what is skipped (no model needed).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use common::{article, help_centre};
use helpdesk_core::store::{ArticleChunks, KbChange};
use helpdesk_core::testkit::FakeEmbedder;
use helpdesk_core::{EmbedKind, Embedder, KnowledgeBase, ModelError, TenantId};
use helpdesk_kb_search::{KbIndex, KbIndexOptions};

/// A fake embedder counting the documents it embeds.
#[derive(Debug, Default)]
struct Counting {
    inner: FakeEmbedder,
    documents: AtomicUsize,
}

#[async_trait]
impl Embedder for Counting {
    fn model_id(&self) -> &str {
        self.inner.model_id()
    }

    fn dimensions(&self) -> usize {
        self.inner.dimensions()
    }

    async fn embed(&self, texts: &[String], kind: EmbedKind) -> Result<Vec<Vec<f32>>, ModelError> {
        if kind == EmbedKind::Document {
            self.documents.fetch_add(texts.len(), Ordering::SeqCst);
        }
        self.inner.embed(texts, kind).await
    }
}

fn open(dir: &std::path::Path, embedder: Arc<Counting>) -> KbIndex {
    KbIndex::open(dir, embedder, KbIndexOptions::default()).unwrap()
}

fn change(seq: u64, chunks: ArticleChunks) -> KbChange {
    KbChange {
        seq,
        article_id: chunks.article_id,
        chunks: Some(chunks),
    }
}

const QUERIES: &[&str] = &[
    "refund to my payment card",
    "locked account after failed sign-in",
    "disputed charges",
    "how long does delivery take",
    "app crashes during photo upload",
];

#[tokio::test]
async fn the_feed_loads_stored_vectors_and_searches_like_embedding_them() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = TenantId::new();
    let articles = help_centre(tenant);
    let saver_embedder = Arc::new(Counting::default());
    let saver = open(&dir.path().join("saver"), saver_embedder.clone());
    let mut changes = Vec::new();
    for (i, a) in articles.iter().enumerate() {
        let chunks = saver.embed_article(a).await.unwrap();
        assert_eq!(chunks.model, "fake-bag-of-words");
        assert_eq!((chunks.article_id, chunks.article_version), (a.id, 1));
        assert!(chunks.check().is_ok());
        changes.push(change(i as u64 + 1, chunks));
    }
    // Embedding changes no index.
    assert_eq!(saver.stats(tenant).await.unwrap().chunks, 0);
    assert_eq!(saver.position(tenant).await.unwrap(), 0);
    // The heading path is the text's first line, as search results show it.
    assert!(
        changes[1]
            .chunks
            .as_ref()
            .unwrap()
            .chunks
            .iter()
            .any(|c| c.text.starts_with("Refunds > Disputed charges\n"))
    );
    saver.rebuild(tenant, &articles).await.unwrap();

    let follower_embedder = Arc::new(Counting::default());
    let follower = open(&dir.path().join("follower"), follower_embedder.clone());
    follower.apply_changes(tenant, &changes).await.unwrap();
    assert_eq!(
        follower_embedder.documents.load(Ordering::SeqCst),
        0,
        "the feed is loaded without embedding"
    );
    assert_eq!(follower.position(tenant).await.unwrap(), 4);
    assert_eq!(
        follower.stats(tenant).await.unwrap(),
        saver.stats(tenant).await.unwrap()
    );
    for query in QUERIES {
        let direct = saver.search(tenant, query, 5).await.unwrap();
        let followed = follower.search(tenant, query, 5).await.unwrap();
        assert!(!direct.is_empty());
        assert_eq!(direct, followed, "{query}");
    }
}

#[tokio::test]
async fn changes_replace_and_remove_articles_and_old_changes_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = TenantId::new();
    let kb = open(dir.path(), Arc::new(Counting::default()));
    let mut refunds = article(tenant, "Refunds", "Refunds reach the card in five days.");
    let shipping = article(tenant, "Shipping", "Parcels ship within two days.");
    let first = vec![
        change(1, kb.embed_article(&refunds).await.unwrap()),
        change(2, kb.embed_article(&shipping).await.unwrap()),
    ];
    kb.apply_changes(tenant, &first).await.unwrap();
    let hits = kb.search(tenant, "refunds card", 1).await.unwrap();
    assert_eq!(hits[0].article_id, refunds.id);

    // The edit replaces the article's chunks; the deletion removes the other.
    refunds.body = "Refunds are paid as store credit.".into();
    refunds.version = 2;
    let edit = change(3, kb.embed_article(&refunds).await.unwrap());
    let removal = KbChange {
        seq: 4,
        article_id: shipping.id,
        chunks: None,
    };
    kb.apply_changes(tenant, &[edit, removal]).await.unwrap();
    assert_eq!(kb.position(tenant).await.unwrap(), 4);
    let hits = kb.search(tenant, "refunds store credit", 5).await.unwrap();
    assert_eq!(hits.len(), 1, "{hits:#?}");
    assert!(hits[0].text.contains("store credit"));
    assert!(
        kb.search(tenant, "parcels ship", 5)
            .await
            .unwrap()
            .iter()
            .all(|h| h.article_id != shipping.id)
    );

    // A page at or below the position is already reflected: nothing changes, the position
    // stays.
    kb.apply_changes(tenant, &first).await.unwrap();
    assert_eq!(kb.position(tenant).await.unwrap(), 4);
    let stats = kb.stats(tenant).await.unwrap();
    assert_eq!((stats.articles, stats.chunks), (1, 1));
    let hits = kb.search(tenant, "parcels ship", 5).await.unwrap();
    assert!(hits.iter().all(|h| h.article_id == refunds.id), "{hits:#?}");
    // Another tenant's position is its own.
    assert_eq!(kb.position(TenantId::new()).await.unwrap(), 0);
}

#[tokio::test]
async fn the_position_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = TenantId::new();
    let articles = help_centre(tenant);
    {
        let kb = open(dir.path(), Arc::new(Counting::default()));
        let mut changes = Vec::new();
        for (i, a) in articles.iter().enumerate() {
            changes.push(change(10 + i as u64, kb.embed_article(a).await.unwrap()));
        }
        kb.apply_changes(tenant, &changes).await.unwrap();
    }
    let embedder = Arc::new(Counting::default());
    let kb = open(dir.path(), embedder.clone());
    assert_eq!(kb.position(tenant).await.unwrap(), 13);
    let hits = kb
        .search(tenant, "refund to my payment card", 1)
        .await
        .unwrap();
    assert_eq!(hits[0].article_id, articles[1].id);
    assert_eq!(embedder.documents.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_index_without_a_position_starts_empty_and_is_rebuilt_from_the_feed() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = TenantId::new();
    let articles = help_centre(tenant);
    {
        let kb = open(dir.path(), Arc::new(Counting::default()));
        kb.rebuild(tenant, &articles).await.unwrap();
    }
    // What an older version wrote: no position in meta.json.
    let meta_path = dir.path().join(tenant.to_string()).join("meta.json");
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    assert!(meta.as_object_mut().unwrap().remove("position").is_some());
    std::fs::write(&meta_path, serde_json::to_vec(&meta).unwrap()).unwrap();

    let kb = open(dir.path(), Arc::new(Counting::default()));
    assert_eq!(kb.position(tenant).await.unwrap(), 0);
    assert!(kb.search(tenant, "refund", 5).await.unwrap().is_empty());
    // The feed no longer holds the refund article (deleted meanwhile): no ghost of it.
    let mut changes = Vec::new();
    for (i, a) in articles.iter().enumerate().filter(|(i, _)| *i != 1) {
        changes.push(change(i as u64 + 1, kb.embed_article(a).await.unwrap()));
    }
    kb.apply_changes(tenant, &changes).await.unwrap();
    assert_eq!(kb.stats(tenant).await.unwrap().articles, 3);
    let hits = kb
        .search(tenant, "refund to my payment card", 5)
        .await
        .unwrap();
    assert!(
        hits.iter().all(|h| h.article_id != articles[1].id),
        "{hits:#?}"
    );
}

#[tokio::test]
async fn chunks_of_another_model_are_skipped_but_the_position_moves() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = TenantId::new();
    let kb = open(dir.path(), Arc::new(Counting::default()));
    let a = article(tenant, "Refunds", "Refunds reach the card in five days.");
    let b = article(tenant, "Shipping", "Parcels ship within two days.");
    let mut other_model = kb.embed_article(&a).await.unwrap();
    other_model.model = "another-model".into();
    let mut other_dims = kb.embed_article(&b).await.unwrap();
    for c in &mut other_dims.chunks {
        c.embedding.truncate(8);
    }
    kb.apply_changes(tenant, &[change(1, other_model), change(2, other_dims)])
        .await
        .unwrap();
    assert_eq!(kb.position(tenant).await.unwrap(), 2);
    assert_eq!(kb.stats(tenant).await.unwrap().chunks, 0);
    assert!(kb.search(tenant, "refunds", 5).await.unwrap().is_empty());

    // The sweep re-embeds with this model; that change is loaded.
    kb.apply_changes(tenant, &[change(3, kb.embed_article(&a).await.unwrap())])
        .await
        .unwrap();
    assert_eq!(
        kb.search(tenant, "refunds", 5).await.unwrap()[0].article_id,
        a.id
    );
}

#[tokio::test]
async fn an_article_the_index_cannot_take_is_a_validation_error_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = TenantId::new();
    let kb = open(dir.path(), Arc::new(Counting::default()));
    let err = kb
        .embed_article(&article(tenant, " ", "body"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, helpdesk_core::Error::Validation { ref field, .. } if field == "title"),
        "{err:?}"
    );
}
