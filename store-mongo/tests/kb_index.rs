//! The knowledge base's stored chunks beyond the conformance suite: a stored embedding
//! whose length is not a whole number of `f32`s is a typed error naming its collection and
//! field, not
//! a panic or a wrong vector.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::fresh_mongo;
use helpdesk_core::domain::Article;
use helpdesk_core::store::{ArticleChunks, ArticleStore, IndexedChunk, KbIndexStore, TenantStore};
use helpdesk_core::testkit::fixtures::{t0, tenant};
use helpdesk_core::{ArticleId, Error};

#[tokio::test]
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
async fn a_corrupted_embedding_length_is_a_typed_error_naming_the_field() {
    let store = fresh_mongo().await;
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

    store
        .database()
        .collection::<bson::Document>(&store.collection_name("kb_chunks"))
        .update_many(
            bson::doc! {},
            bson::doc! { "$set": { "embedding": bson::Binary {
                subtype: bson::spec::BinarySubtype::Generic,
                bytes: vec![0, 0, 0x80, 0x3f, 0],
            } } },
        )
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
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    assert!(
        text.contains("`embedding`") && text.contains("kb_chunks") && text.contains("5 bytes"),
        "{text}"
    );
}
