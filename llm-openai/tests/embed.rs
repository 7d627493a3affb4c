//! Embeddings against the mock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::setup;
use helpdesk_core::{EmbedKind, Embedder, ModelError};
use helpdesk_llm_openai::DEFAULT_EMBEDDING_MODEL;
use helpdesk_llm_openai::mock::{Endpoint, MockReply};

fn texts(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("text number {i}")).collect()
}

#[tokio::test]
async fn batches_are_split_ordered_and_normalised() {
    let s = setup().await;
    let embedder = s
        .client
        .embedder(DEFAULT_EMBEDDING_MODEL, 256)
        .unwrap()
        .with_dimensions_parameter(true)
        .with_batch_size(4)
        .with_prefixes("query: ", "passage: ");
    let input = texts(10);
    let vectors = embedder.embed(&input, EmbedKind::Document).await.unwrap();
    assert_eq!(vectors.len(), 10);
    for v in &vectors {
        assert_eq!(v.len(), 256);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
    }
    assert_eq!(s.mock.count(Endpoint::Embeddings), 3);
    let single = embedder
        .embed(&input[7..8], EmbedKind::Document)
        .await
        .unwrap();
    assert_eq!(
        single[0], vectors[7],
        "same text, same vector, whatever the batch"
    );
    let body = s.mock.last_request().unwrap().body;
    assert_eq!(body["input"][0], "passage: text number 7");
    assert_eq!(
        (
            body["dimensions"].as_u64(),
            body["encoding_format"].as_str()
        ),
        (Some(256), Some("float"))
    );
}

#[tokio::test]
async fn wrong_lengths_and_errors_are_typed() {
    let s = setup().await;
    let wrong = s.client.embedder(DEFAULT_EMBEDDING_MODEL, 256).unwrap();
    let err = wrong.embed(&texts(2), EmbedKind::Query).await.unwrap_err();
    assert!(matches!(err, ModelError::MalformedOutput { .. }), "{err:?}");
    let right = s.client.embedder(DEFAULT_EMBEDDING_MODEL, 1536).unwrap();
    assert_eq!(
        right
            .embed(&texts(2), EmbedKind::Query)
            .await
            .unwrap()
            .len(),
        2
    );
    s.mock.push_embed(MockReply::error(
        400,
        "invalid_request_error",
        None,
        "bad input",
    ));
    assert!(matches!(
        right.embed(&texts(1), EmbedKind::Query).await,
        Err(ModelError::InvalidRequest { .. })
    ));
    let unknown = s.client.embedder("no-such-embedder", 8).unwrap();
    assert!(matches!(
        unknown.embed(&texts(1), EmbedKind::Query).await,
        Err(ModelError::NotFound { .. })
    ));
    assert!(s.client.embedder(DEFAULT_EMBEDDING_MODEL, 0).is_err());
}
