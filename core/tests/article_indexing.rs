//! Issue 16 item 15: saving a large article must not hold the request (or anyone else's)
//! while the knowledge base embeds it; the import size limit is enforced.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use helpdesk_core::service::{
    ArticleInput, MAX_ARTICLE_BODY_CHARS, MAX_IMPORT_BYTES, check_import_size,
};
use helpdesk_core::store::TicketQuery;
use helpdesk_core::testkit::{InMemoryKnowledgeBase, SlowEmbedder};
use helpdesk_core::{Error, KnowledgeBase};

use common::world_with;

/// Each embedding call takes this long on a blocking thread.
const PER_CALL: Duration = Duration::from_millis(1500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saving_an_article_returns_before_indexing_and_other_requests_go_on() {
    let kb = Arc::new(InMemoryKnowledgeBase::new(Arc::new(SlowEmbedder::new(
        PER_CALL,
    ))));
    let handle: Arc<dyn KnowledgeBase> = kb.clone();
    let w = world_with(|b| b.knowledge_base(handle)).await;

    let started = Instant::now();
    let body = "Refunds go back to the original card within five days.\n\n".repeat(2_000);
    let article = tokio::time::timeout(
        PER_CALL / 2,
        w.hd.create_article(&w.admin, ArticleInput::new("Refund manual", &body)),
    )
    .await
    .expect("the save returns once stored, not after indexing")
    .unwrap();
    assert_eq!(w.hd.index_status().pending, 1);

    // An agent's queue while the article is being embedded.
    let queue = tokio::time::timeout(
        PER_CALL / 2,
        w.hd.list_tickets(&w.agent, TicketQuery::default()),
    )
    .await
    .expect("other requests are not held up by indexing");
    assert!(queue.is_ok(), "{queue:?}");
    assert_eq!(
        w.hd.index_status().pending,
        1,
        "the concurrent request finished while indexing was still running"
    );

    w.hd.index_settled().await;
    assert!(started.elapsed() >= PER_CALL);
    assert_eq!(w.hd.index_status().pending, 0);
    let hits = kb.search(w.tenant.id, "refunds card", 3).await.unwrap();
    assert_eq!(hits.first().map(|h| h.article_id), Some(article.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_successive_changes_leave_the_index_at_the_latest_content() {
    let kb = Arc::new(InMemoryKnowledgeBase::new(Arc::new(SlowEmbedder::new(
        Duration::from_millis(50),
    ))));
    let handle: Arc<dyn KnowledgeBase> = kb.clone();
    let w = world_with(|b| b.knowledge_base(handle)).await;
    let a =
        w.hd.create_article(
            &w.admin,
            ArticleInput::new("Shipping", "Parcels ship daily."),
        )
        .await
        .unwrap();
    w.hd.update_article(
        &w.admin,
        a.id,
        1,
        ArticleInput::new("Shipping", "Warehouse closed."),
    )
    .await
    .unwrap();
    let b =
        w.hd.create_article(&w.admin, ArticleInput::new("Gone", "Temporary note."))
            .await
            .unwrap();
    w.hd.delete_article(&w.admin, b.id).await.unwrap();
    w.hd.index_settled().await;
    let hits = kb.search(w.tenant.id, "warehouse closed", 5).await.unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(hits[0].text.contains("Warehouse"), "{hits:?}");
    assert!(
        kb.search(w.tenant.id, "parcels daily", 5)
            .await
            .unwrap()
            .iter()
            .all(|h| !h.text.contains("Parcels"))
    );
    let hits = kb.search(w.tenant.id, "temporary note", 5).await.unwrap();
    assert!(hits.iter().all(|h| h.article_id != b.id), "{hits:?}");
}

#[test]
fn imports_over_the_documented_limit_are_refused_naming_the_field() {
    assert_eq!(MAX_IMPORT_BYTES, 1024 * 1024);
    assert!(check_import_size("markdown", &"a".repeat(MAX_IMPORT_BYTES)).is_ok());
    match check_import_size("markdown", &"a".repeat(MAX_IMPORT_BYTES + 1)) {
        Err(Error::Validation { field, message }) => {
            assert_eq!(field, "markdown");
            assert!(message.contains("1048577 bytes"), "{message}");
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    assert_eq!(MAX_ARTICLE_BODY_CHARS, 200_000);
}

#[tokio::test]
async fn an_article_over_the_body_limit_is_refused_before_anything_is_indexed() {
    let kb = Arc::new(InMemoryKnowledgeBase::new(Arc::new(SlowEmbedder::new(
        Duration::from_millis(1),
    ))));
    let handle: Arc<dyn KnowledgeBase> = kb.clone();
    let w = world_with(|b| b.knowledge_base(handle)).await;
    let body = "x".repeat(MAX_ARTICLE_BODY_CHARS + 1);
    match w
        .hd
        .create_article(&w.admin, ArticleInput::new("Big", &body))
        .await
    {
        Err(Error::Validation { field, .. }) => assert_eq!(field, "body"),
        other => panic!("expected a body validation error, got {other:?}"),
    }
    assert_eq!(w.hd.index_status().pending, 0);
}
