//! The knowledge base's stored chunks beyond the conformance suite: a stored embedding
//! whose length is not a whole number of `f32`s is a typed error naming its column, not
//! a panic or a wrong vector.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use helpdesk_core::domain::Article;
use helpdesk_core::store::{ArticleChunks, ArticleStore, IndexedChunk, KbIndexStore, TenantStore};
use helpdesk_core::testkit::fixtures::{t0, tenant};
use helpdesk_core::{ArticleId, Error};
use helpdesk_store_sqlite::SqliteStore;

#[tokio::test]
async fn a_corrupted_embedding_length_is_a_typed_error_naming_the_column() {
    let store = SqliteStore::temporary().await.unwrap();
    let acme = tenant("acme");
    store.create_tenant(&acme).await.unwrap();
    let article = Article {
        id: ArticleId::new(),
        tenant_id: acme.id,
        title: "Reset a password".into(),
        body: "How to reset a password.".into(),
        tags: Vec::new(),
        created_at: t0(),
        updated_at: t0(),
        version: 1,
    };
    store.create_article(&article).await.unwrap();
    let chunks = ArticleChunks {
        article_id: article.id,
        article_version: 1,
        title: article.title.clone(),
        model: "minilm".into(),
        chunks: vec![IndexedChunk {
            chunk_id: "c0".into(),
            text: "How to reset a password.".into(),
            embedding: vec![0.25, -1.0, f32::MIN_POSITIVE],
        }],
    };
    store
        .put_article_chunks(acme.id, &chunks)
        .await
        .unwrap()
        .unwrap();
    let changes = store.kb_changes(acme.id, 0, 10).await.unwrap();
    assert_eq!(changes[0].chunks.as_ref(), Some(&chunks));

    sqlx::query("UPDATE helpdesk_kb_chunks SET embedding = X'0000803F00'")
        .execute(store.pool())
        .await
        .unwrap();
    let err = store.kb_changes(acme.id, 0, 10).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Backend {
                temporary: false,
                ..
            }
        ),
        "{err:?}"
    );
    let text = common::chain(&err);
    assert!(
        text.contains("`embedding`") && text.contains("5 bytes"),
        "{text}"
    );
}
