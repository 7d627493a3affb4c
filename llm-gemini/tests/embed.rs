//! batchEmbedContents as a core Embedder against the mock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{secs, setup};
use helpdesk_core::{EmbedKind, Embedder};
use helpdesk_llm_gemini::mock::{Endpoint, MockReply};
use helpdesk_llm_gemini::{DEFAULT_EMBEDDING_MODEL, TaskType};
use serde_json::{Value, json};

#[tokio::test]
async fn large_batches_are_split_by_100_and_keep_their_order() {
    let s = setup().await;
    let embedder = s.client.embedder(DEFAULT_EMBEDDING_MODEL, 768).unwrap();
    let texts: Vec<String> = (0..250).map(|i| format!("article chunk {i}")).collect();
    let vectors = embedder.embed(&texts, EmbedKind::Document).await.unwrap();
    assert_eq!(vectors.len(), 250);
    assert_eq!(s.mock.count(Endpoint::BatchEmbedContents), 3);
    let sizes: Vec<usize> = s
        .mock
        .requests()
        .iter()
        .map(|r| r.body["requests"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [100, 100, 50]);
    let sent = &s.mock.requests()[0].body["requests"][0];
    assert_eq!(sent["model"], "models/gemini-embedding-001");
    assert_eq!(sent["taskType"], "RETRIEVAL_DOCUMENT");
    assert_eq!(sent["outputDimensionality"], 768);
    // Order: the 180th vector is the one the text gets on its own.
    let single = embedder
        .embed(&texts[180..181], EmbedKind::Document)
        .await
        .unwrap();
    assert_eq!(vectors[180], single[0]);
    assert_ne!(vectors[180], vectors[181]);
    for v in &vectors {
        assert_eq!(v.len(), 768);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "vectors are L2-normalised");
    }
    assert!(
        embedder
            .embed(&[], EmbedKind::Query)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.mock.count(Endpoint::BatchEmbedContents),
        4,
        "an empty batch sends nothing"
    );
}

#[tokio::test]
async fn query_and_document_task_types_are_configurable() {
    let s = setup().await;
    let embedder = s
        .client
        .embedder(DEFAULT_EMBEDDING_MODEL, 256)
        .unwrap()
        .with_task_types(TaskType::QuestionAnswering, TaskType::RetrievalDocument);
    embedder
        .embed(&["how do I reset?".into()], EmbedKind::Query)
        .await
        .unwrap();
    assert_eq!(
        s.mock.last_request().unwrap().body["requests"][0]["taskType"],
        "QUESTION_ANSWERING"
    );
    assert_eq!(embedder.dimensions(), 256);
    assert_eq!(embedder.model_id(), DEFAULT_EMBEDDING_MODEL);
    assert!(s.client.embedder(DEFAULT_EMBEDDING_MODEL, 0).is_err());
    assert!(s.client.embedder("bad/../model", 8).is_err());
}

#[tokio::test(start_paused = true)]
async fn embedding_errors_are_retried_and_mapped() {
    let s = setup().await;
    let embedder = s.client.embedder(DEFAULT_EMBEDDING_MODEL, 8).unwrap();
    s.mock.push_embed(MockReply::unavailable());
    let vectors = embedder
        .embed(&["a".into()], EmbedKind::Query)
        .await
        .unwrap();
    assert_eq!(vectors.len(), 1);
    assert_eq!(s.sleeper.waits(), secs(&[1]));
    s.mock
        .push_embed(MockReply::error(400, "INVALID_ARGUMENT", "bad"));
    let err = embedder
        .embed(&["a".into()], EmbedKind::Query)
        .await
        .unwrap_err();
    assert_eq!(err.kind_name(), "invalid_request");
    let unknown = s.client.embedder("text-embedding-004", 8).unwrap();
    assert_eq!(
        unknown
            .embed(&["a".into()], EmbedKind::Query)
            .await
            .unwrap_err()
            .kind_name(),
        "not_found"
    );
}

#[tokio::test]
async fn wrong_dimensions_from_the_server_are_malformed_output() {
    let s = setup().await;
    s.mock.push_embed(MockReply::Raw {
        status: 200,
        content_type: "application/json".into(),
        body: r#"{"embeddings":[{"values":[0.1,0.2]}]}"#.into(),
    });
    s.mock.push_embed(MockReply::Raw {
        status: 200,
        content_type: "application/json".into(),
        body: r#"{"embeddings":[]}"#.into(),
    });
    let embedder = s.client.embedder(DEFAULT_EMBEDDING_MODEL, 8).unwrap();
    for _ in 0..2 {
        let err = embedder
            .embed(&["a".into()], EmbedKind::Query)
            .await
            .unwrap_err();
        assert_eq!(err.kind_name(), "malformed_output");
    }
}

#[tokio::test]
async fn the_mock_rejects_batches_over_100_with_the_real_message() {
    let s = setup().await;
    let requests: Vec<Value> = (0..101)
        .map(|i| json!({"model": "models/gemini-embedding-001", "content": {"parts": [{"text": format!("t{i}")}]}}))
        .collect();
    let response = reqwest::Client::new()
        .post(format!(
            "{}/v1beta/models/gemini-embedding-001:batchEmbedContents",
            s.mock.base_url()
        ))
        .header("x-goog-api-key", s.mock.api_key())
        .body(json!({ "requests": requests }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains(
            "BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch"
        )
    );
}
