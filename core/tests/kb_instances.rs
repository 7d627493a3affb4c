//! Issue 22: several helpdesk instances over one store, each with its own knowledge-base
//! index that follows the store's change feed. What one instance saves another finds,
//! without embedding it again; deletions reach every instance; a stale embedding never
//! overwrites newer chunks; the index sweep embeds what no instance did.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use helpdesk_core::domain::Article;
use helpdesk_core::service::{ArticleInput, HelpdeskConfig};
use helpdesk_core::store::{ArticleChunks, KbChange};
use helpdesk_core::testkit::{FakeEmbedder, InMemoryKnowledgeBase};
use helpdesk_core::{
    ArticleId, EmbedKind, Embedder, Error, Helpdesk, KnowledgeBase, ModelError, Result,
    ScoredChunk, TenantId,
};
use tokio::sync::Semaphore;

use common::{World, world_with};

/// A fake embedder that counts the documents it embeds, can report another model id, fail,
/// or hold every document call until the test lets it go.
#[derive(Debug)]
struct TestEmbedder {
    inner: FakeEmbedder,
    model: &'static str,
    documents: AtomicUsize,
    failing: AtomicBool,
    /// When set, a document call adds a permit to `entered` and waits for one of `go`.
    held: AtomicBool,
    entered: Semaphore,
    go: Semaphore,
}

impl TestEmbedder {
    fn new() -> Arc<Self> {
        Self::with_model("fake-bag-of-words")
    }

    fn with_model(model: &'static str) -> Arc<Self> {
        Arc::new(Self {
            inner: FakeEmbedder::new(),
            model,
            documents: AtomicUsize::new(0),
            failing: AtomicBool::new(false),
            held: AtomicBool::new(false),
            entered: Semaphore::new(0),
            go: Semaphore::new(0),
        })
    }

    fn documents(&self) -> usize {
        self.documents.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Embedder for TestEmbedder {
    fn model_id(&self) -> &str {
        self.model
    }

    fn dimensions(&self) -> usize {
        self.inner.dimensions()
    }

    async fn embed(
        &self,
        texts: &[String],
        kind: EmbedKind,
    ) -> std::result::Result<Vec<Vec<f32>>, ModelError> {
        if kind == EmbedKind::Document {
            if self.failing.load(Ordering::SeqCst) {
                return Err(ModelError::Unavailable {
                    status: 503,
                    message: "embedder down".into(),
                });
            }
            if self.held.load(Ordering::SeqCst) {
                self.entered.add_permits(1);
                self.go.acquire().await.unwrap().forget();
            }
            self.documents.fetch_add(texts.len(), Ordering::SeqCst);
        }
        self.inner.embed(texts, kind).await
    }
}

/// A knowledge base whose feed loading can be made to fail.
#[derive(Debug)]
struct FlakyKb {
    inner: InMemoryKnowledgeBase,
    fail_apply: AtomicBool,
}

#[async_trait]
impl KnowledgeBase for FlakyKb {
    fn model_id(&self) -> &str {
        self.inner.model_id()
    }
    async fn embed_article(&self, article: &Article) -> Result<ArticleChunks> {
        self.inner.embed_article(article).await
    }
    async fn apply_changes(&self, tenant: TenantId, changes: &[KbChange]) -> Result<()> {
        if self.fail_apply.load(Ordering::SeqCst) {
            return Err(Error::Internal("index disk full"));
        }
        self.inner.apply_changes(tenant, changes).await
    }
    async fn position(&self, tenant: TenantId) -> Result<u64> {
        self.inner.position(tenant).await
    }
    async fn upsert_article(&self, article: &Article) -> Result<()> {
        self.inner.upsert_article(article).await
    }
    async fn remove_article(&self, tenant: TenantId, article: ArticleId) -> Result<()> {
        self.inner.remove_article(tenant, article).await
    }
    async fn rebuild(&self, tenant: TenantId, articles: &[Article]) -> Result<()> {
        self.inner.rebuild(tenant, articles).await
    }
    async fn search(&self, tenant: TenantId, query: &str, k: usize) -> Result<Vec<ScoredChunk>> {
        self.inner.search(tenant, query, k).await
    }
}

fn config(interval: Duration) -> HelpdeskConfig {
    HelpdeskConfig {
        kb_sync_interval: interval,
        ..HelpdeskConfig::default()
    }
}

fn kb_of(embedder: &Arc<TestEmbedder>) -> Arc<dyn KnowledgeBase> {
    Arc::new(InMemoryKnowledgeBase::new(embedder.clone()))
}

/// Instance A of the world, with its own knowledge base.
async fn first(embedder: &Arc<TestEmbedder>, interval: Duration) -> World {
    let kb = kb_of(embedder);
    world_with(|b| b.knowledge_base(kb).config(config(interval))).await
}

/// Another instance over the world's store and clock, with its own knowledge base.
fn another(w: &World, kb: Arc<dyn KnowledgeBase>, interval: Duration) -> Helpdesk {
    Helpdesk::builder(w.store.clone())
        .clock(w.clock.clone())
        .knowledge_base(kb)
        .config(config(interval))
        .build()
        .unwrap()
}

async fn search(hd: &Helpdesk, w: &World, query: &str) -> Vec<ScoredChunk> {
    hd.search_knowledge_base(&w.agent, query, 5).await.unwrap()
}

fn finds(hits: &[ScoredChunk], article: ArticleId, text: &str) -> bool {
    hits.iter()
        .any(|h| h.article_id == article && h.text.contains(text))
}

#[tokio::test]
async fn instances_find_each_others_articles_without_embedding_them_again() {
    let embed_a = TestEmbedder::new();
    let w = first(&embed_a, Duration::ZERO).await;
    let embed_b = TestEmbedder::new();
    let b = another(&w, kb_of(&embed_b), Duration::ZERO);

    // Saved on A: found on B, which embedded no document.
    let article =
        w.hd.create_article(
            &w.admin,
            ArticleInput::new("Refunds", "Refunds reach the original card in five days."),
        )
        .await
        .unwrap();
    w.hd.index_settled().await;
    assert_eq!(embed_a.documents(), 1);
    let hits = search(&b, &w, "refund original card").await;
    assert!(finds(&hits, article.id, "five days"), "{hits:#?}");
    assert_eq!(embed_b.documents(), 0, "B loads A's stored vectors");

    // Edited on B: A finds the new text and not the old, without embedding it.
    let before_a = embed_a.documents();
    b.update_article(
        &w.admin,
        article.id,
        1,
        ArticleInput::new("Refunds", "Refunds are paid as store credit within a week."),
    )
    .await
    .unwrap();
    b.index_settled().await;
    assert_eq!(embed_b.documents(), 1);
    let hits = search(&w.hd, &w, "refund store credit").await;
    assert!(finds(&hits, article.id, "store credit"), "{hits:#?}");
    assert!(
        hits.iter().all(|h| !h.text.contains("five days")),
        "{hits:#?}"
    );
    assert_eq!(embed_a.documents(), before_a);

    // A second article, then the first deleted on A: B no longer finds it.
    let shipping =
        w.hd.create_article(
            &w.admin,
            ArticleInput::new("Shipping", "Parcels leave the warehouse within two days."),
        )
        .await
        .unwrap();
    w.hd.delete_article(&w.admin, article.id).await.unwrap();
    w.hd.index_settled().await;
    let hits = search(&b, &w, "refund store credit").await;
    assert!(hits.iter().all(|h| h.article_id != article.id), "{hits:#?}");
    assert!(finds(
        &search(&b, &w, "parcels warehouse").await,
        shipping.id,
        "two days"
    ));
    assert_eq!(embed_b.documents(), 1, "B embedded only its own edit");

    // A fresh instance finds everything from the store, embedding nothing.
    let embed_c = TestEmbedder::new();
    let kb_c = kb_of(&embed_c);
    let c = another(&w, kb_c.clone(), Duration::from_secs(60));
    assert_eq!(kb_c.position(w.tenant.id).await.unwrap(), 0);
    let hits = search(&c, &w, "parcels warehouse").await;
    assert!(finds(&hits, shipping.id, "two days"), "{hits:#?}");
    assert!(hits.iter().all(|h| h.article_id != article.id), "{hits:#?}");
    assert_eq!(embed_c.documents(), 0);
    assert!(kb_c.position(w.tenant.id).await.unwrap() > 0);
}

#[tokio::test]
async fn with_an_interval_a_search_catches_up_only_once_it_has_passed() {
    let embed_a = TestEmbedder::new();
    let w = first(&embed_a, Duration::ZERO).await;
    let b = another(&w, kb_of(&TestEmbedder::new()), Duration::from_secs(10));
    // B's first search catches up (nothing yet) and starts its interval.
    assert!(search(&b, &w, "warehouse").await.is_empty());

    let article =
        w.hd.create_article(
            &w.admin,
            ArticleInput::new("Shipping", "Parcels leave the warehouse within two days."),
        )
        .await
        .unwrap();
    w.hd.index_settled().await;
    w.clock.advance(Duration::from_secs(9));
    assert!(
        search(&b, &w, "parcels warehouse").await.is_empty(),
        "B trusts its index within the interval"
    );
    w.clock.advance(Duration::from_secs(1));
    let hits = search(&b, &w, "parcels warehouse").await;
    assert!(finds(&hits, article.id, "two days"), "{hits:#?}");
    // An explicit catch-up does not wait for the interval.
    w.hd.delete_article(&w.admin, article.id).await.unwrap();
    w.hd.index_settled().await;
    assert!(b.kb_sync(w.tenant.id).await.unwrap() >= 2);
    assert!(search(&b, &w, "parcels warehouse").await.is_empty());
}

#[tokio::test]
async fn a_failed_catch_up_searches_the_index_as_it_is() {
    let w = first(&TestEmbedder::new(), Duration::ZERO).await;
    let flaky = Arc::new(FlakyKb {
        inner: InMemoryKnowledgeBase::new(TestEmbedder::new()),
        fail_apply: AtomicBool::new(false),
    });
    let b = another(&w, flaky.clone(), Duration::ZERO);
    let first_article =
        w.hd.create_article(
            &w.admin,
            ArticleInput::new("Refunds", "Refunds take five days."),
        )
        .await
        .unwrap();
    w.hd.index_settled().await;
    assert!(finds(
        &search(&b, &w, "refunds").await,
        first_article.id,
        "five"
    ));

    flaky.fail_apply.store(true, Ordering::SeqCst);
    let second =
        w.hd.create_article(
            &w.admin,
            ArticleInput::new("Shipping", "Parcels ship daily."),
        )
        .await
        .unwrap();
    w.hd.index_settled().await;
    // The search succeeds on what the index holds.
    assert!(finds(
        &search(&b, &w, "refunds").await,
        first_article.id,
        "five"
    ));
    assert!(
        search(&b, &w, "parcels ship")
            .await
            .iter()
            .all(|h| h.article_id != second.id)
    );
    assert!(matches!(
        b.kb_sync(w.tenant.id).await,
        Err(Error::Internal("index disk full"))
    ));

    flaky.fail_apply.store(false, Ordering::SeqCst);
    assert!(finds(
        &search(&b, &w, "parcels ship").await,
        second.id,
        "daily"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_embedding_does_not_overwrite_newer_chunks() {
    let embed_a = TestEmbedder::new();
    let w = first(&embed_a, Duration::ZERO).await;
    let b = another(&w, kb_of(&TestEmbedder::new()), Duration::ZERO);

    // A embeds version 1 and is held there while B saves version 2 and stores its chunks.
    embed_a.held.store(true, Ordering::SeqCst);
    let article =
        w.hd.create_article(
            &w.admin,
            ArticleInput::new("Returns", "Old: returns within 14 days."),
        )
        .await
        .unwrap();
    embed_a.entered.acquire().await.unwrap().forget();
    b.update_article(
        &w.admin,
        article.id,
        1,
        ArticleInput::new("Returns", "New: returns within 30 days."),
    )
    .await
    .unwrap();
    b.index_settled().await;
    let stored = w.store.kb_changes(w.tenant.id, 0, 10).await.unwrap();
    assert_eq!(stored.len(), 1);
    let seq = stored[0].seq;
    embed_a.go.add_permits(1);
    w.hd.index_settled().await;

    // A's version 1 chunks were refused: the feed still holds version 2 only.
    let stored = w.store.kb_changes(w.tenant.id, 0, 10).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].seq, seq);
    let chunks = stored[0].chunks.as_ref().unwrap();
    assert_eq!(chunks.article_version, 2);
    for hd in [&w.hd, &b] {
        let hits = search(hd, &w, "returns days").await;
        assert!(finds(&hits, article.id, "30 days"), "{hits:#?}");
        assert!(
            hits.iter().all(|h| !h.text.contains("14 days")),
            "{hits:#?}"
        );
    }
}

/// Articles written straight to the store, as a store from before chunks were kept (or an
/// instance that stopped before embedding) leaves them.
async fn unembedded_articles(w: &World, n: usize) -> Vec<Article> {
    let mut out = Vec::new();
    for i in 0..n {
        let now = w.hd.now();
        let article = Article {
            id: ArticleId::new(),
            tenant_id: w.tenant.id,
            title: format!("Topic {i}"),
            body: format!("Warehouse procedure number{i} explained."),
            tags: vec![],
            created_at: now,
            updated_at: now,
            version: 1,
        };
        w.store.create_article(&article).await.unwrap();
        out.push(article);
    }
    out
}

#[tokio::test]
async fn the_index_sweep_embeds_what_no_instance_did_once_under_a_lease() {
    let embed_a = TestEmbedder::new();
    let w = first(&embed_a, Duration::ZERO).await;
    let embed_b = TestEmbedder::new();
    let b = another(&w, kb_of(&embed_b), Duration::ZERO);
    let articles = unembedded_articles(&w, 3).await;
    assert!(search(&b, &w, "warehouse procedure").await.is_empty());

    // While B holds the sweep's lease, A's sweep does nothing.
    let now = b.now();
    let held = b
        .with_lease("kb-index-sweep", now, async { w.hd.index_sweep().await })
        .await
        .unwrap()
        .unwrap();
    assert!(!held.ran);
    assert_eq!(embed_a.documents(), 0);

    let report = w.hd.index_sweep().await.unwrap();
    assert!(report.ran);
    assert_eq!((report.embedded, report.stale, report.failed), (3, 0, 0));
    assert_eq!(embed_a.documents(), 3);
    let hits = search(&b, &w, "warehouse procedure number1").await;
    assert_eq!(hits[0].article_id, articles[1].id, "{hits:#?}");
    assert_eq!(embed_b.documents(), 0);

    // Idempotent: nothing left to embed, on either instance.
    for hd in [&w.hd, &b] {
        let again = hd.index_sweep().await.unwrap();
        assert!(again.ran);
        assert_eq!(again.embedded, 0);
    }
    assert_eq!(embed_a.documents() + embed_b.documents(), 3);
}

#[tokio::test]
async fn a_failing_embedder_leaves_the_articles_to_the_next_sweep() {
    let embed_a = TestEmbedder::new();
    let w = first(&embed_a, Duration::ZERO).await;
    unembedded_articles(&w, 2).await;
    embed_a.failing.store(true, Ordering::SeqCst);
    let report = w.hd.index_sweep().await.unwrap();
    assert!(report.ran);
    assert_eq!((report.embedded, report.failed), (0, 2));
    assert!(
        w.store
            .kb_changes(w.tenant.id, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );

    embed_a.failing.store(false, Ordering::SeqCst);
    let report = w.hd.index_sweep().await.unwrap();
    assert_eq!((report.embedded, report.failed), (2, 0));
    assert_eq!(
        w.store.kb_changes(w.tenant.id, 0, 10).await.unwrap().len(),
        2
    );
}

#[tokio::test]
async fn another_embedding_model_re_embeds_through_the_sweep() {
    let embed_a = TestEmbedder::new();
    let w = first(&embed_a, Duration::ZERO).await;
    let article =
        w.hd.create_article(
            &w.admin,
            ArticleInput::new("Refunds", "Refunds take five days."),
        )
        .await
        .unwrap();
    w.hd.index_settled().await;

    // An instance with another model skips the stored chunks, then its sweep re-embeds.
    let embed_new = TestEmbedder::with_model("fake-v2");
    let upgraded = another(&w, kb_of(&embed_new), Duration::ZERO);
    assert!(search(&upgraded, &w, "refunds").await.is_empty());
    let report = upgraded.index_sweep().await.unwrap();
    assert_eq!(report.embedded, 1);
    assert_eq!(embed_new.documents(), 1);
    assert!(finds(
        &search(&upgraded, &w, "refunds").await,
        article.id,
        "five"
    ));
    let stored = w.store.kb_changes(w.tenant.id, 0, 10).await.unwrap();
    assert_eq!(stored[0].chunks.as_ref().unwrap().model, "fake-v2");
}

#[tokio::test]
async fn a_reindex_re_embeds_every_article_with_progress_and_needs_an_admin() {
    let embed_a = TestEmbedder::new();
    let w = first(&embed_a, Duration::ZERO).await;
    unembedded_articles(&w, 2).await;
    let steps = std::sync::Mutex::new(Vec::new());
    let report =
        w.hd.reindex_articles(&w.admin, |done, total| {
            steps.lock().unwrap().push((done, total))
        })
        .await
        .unwrap();
    assert_eq!((report.articles, report.embedded), (2, 2));
    assert_eq!(*steps.lock().unwrap(), [(1, 2), (2, 2)]);
    assert_eq!(embed_a.documents(), 2);
    assert_eq!(search(&w.hd, &w, "warehouse procedure").await.len(), 2);

    let err =
        w.hd.reindex_articles(&w.agent, |_, _| {})
            .await
            .unwrap_err();
    assert!(matches!(err, Error::Forbidden { .. }), "{err:?}");
    let bare = world_with(|b| b).await;
    let err = bare
        .hd
        .reindex_articles(&bare.admin, |_, _| {})
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Configuration { ref field, .. } if field == "knowledge_base"),
        "{err:?}"
    );
}
