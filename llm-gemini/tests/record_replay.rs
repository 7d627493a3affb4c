//! Record a session against the mock, then replay it without the server or a key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use futures_util::StreamExt;
use helpdesk_core::{EmbedKind, Embedder, LanguageModel, LlmRequest};
use helpdesk_llm_gemini::mock::{Endpoint, MockReply, MockStream};
use helpdesk_llm_gemini::{DEFAULT_EMBEDDING_MODEL, GeminiClient, Replayer, RetryPolicy};

#[tokio::test]
async fn a_recorded_session_replays_without_network_or_key() {
    let dir = tempfile::tempdir().unwrap();
    let mock = helpdesk_llm_gemini::mock::MockGemini::start()
        .await
        .unwrap();
    mock.push_reply(MockReply::Text("recorded answer".into()));
    mock.push_reply(MockReply::rate_limited(None));
    mock.push_stream(MockStream::text(["one", " two"]));
    let recording = mock.client_builder().record_to(dir.path()).build().unwrap();

    let hello = LlmRequest::new("sys", "hello");
    let again = LlmRequest::new("sys", "again");
    assert_eq!(
        recording.generate(&hello).await.unwrap().text,
        "recorded answer"
    );
    assert_eq!(
        recording.generate(&again).await.unwrap_err().kind_name(),
        "rate_limited"
    );
    let streamed: Vec<_> = recording.stream(&hello).await.unwrap().collect().await;
    assert_eq!(streamed.len(), 2);
    let embedder = recording.embedder(DEFAULT_EMBEDDING_MODEL, 4).unwrap();
    let vectors = embedder
        .embed(&["doc".into()], EmbedKind::Document)
        .await
        .unwrap();

    let mut files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "0001-generateContent.json",
            "0002-generateContent.json",
            "0003-streamGenerateContent.json",
            "0004-batchEmbedContents.json"
        ]
    );
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(
            !text.contains(mock.api_key()),
            "the key never reaches a recording"
        );
    }
    let total_calls = mock.requests().len();
    drop(mock);

    let replay = GeminiClient::builder()
        .replay_from(dir.path())
        .unwrap()
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    assert_eq!(
        replay.generate(&hello).await.unwrap().text,
        "recorded answer"
    );
    assert_eq!(
        replay.generate(&again).await.unwrap_err().kind_name(),
        "rate_limited"
    );
    let replayed: Vec<_> = replay.stream(&hello).await.unwrap().collect().await;
    assert_eq!(format!("{replayed:?}"), format!("{streamed:?}"));
    let embedder = replay.embedder(DEFAULT_EMBEDDING_MODEL, 4).unwrap();
    assert_eq!(
        embedder
            .embed(&["doc".into()], EmbedKind::Document)
            .await
            .unwrap(),
        vectors
    );
    // Everything was served once; an unrecorded request is an error, not a network call.
    let err = replay.generate(&hello).await.unwrap_err();
    assert_eq!(err.kind_name(), "provider");
    assert_eq!(total_calls, 4);
}

#[tokio::test]
async fn recordings_of_a_real_key_are_scrubbed() {
    let dir = tempfile::tempdir().unwrap();
    let mock = helpdesk_llm_gemini::mock::MockGemini::start()
        .await
        .unwrap();
    // A wrong key that also appears in the prompt: the 400 is recorded, the key is not.
    let key = "AIzaSyTHISisAsecret";
    let client = mock
        .client_builder()
        .api_key(key)
        .record_to(dir.path())
        .build()
        .unwrap();
    assert!(!format!("{client:?}").contains(key), "not in Debug either");
    let err = client
        .generate(&LlmRequest::new("sys", format!("my key is {key}")))
        .await
        .unwrap_err();
    assert_eq!(err.kind_name(), "authentication");
    let file = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = std::fs::read_to_string(file).unwrap();
    assert!(!text.contains(key));
    assert!(text.contains("<redacted>"));
    assert!(text.contains("API_KEY_INVALID"));
    assert_eq!(mock.count(Endpoint::GenerateContent), 1);
}

#[tokio::test]
async fn replay_can_ignore_bodies_and_reports_its_remaining_recordings() {
    let dir = tempfile::tempdir().unwrap();
    let mock = helpdesk_llm_gemini::mock::MockGemini::start()
        .await
        .unwrap();
    let client = mock.client_builder().record_to(dir.path()).build().unwrap();
    client
        .generate(&LlmRequest::new("sys", "first"))
        .await
        .unwrap();
    let replayer = Replayer::from_dir(dir.path()).unwrap().match_bodies(false);
    assert_eq!(replayer.remaining(), 1);
    let replayer = std::sync::Arc::new(replayer);
    let replay = GeminiClient::builder()
        .transport(replayer.clone())
        .build()
        .unwrap();
    assert!(
        replay
            .generate(&LlmRequest::new("sys", "a different prompt"))
            .await
            .is_ok()
    );
    assert_eq!(replayer.remaining(), 0);
    assert!(
        GeminiClient::builder()
            .replay_from(dir.path().join("missing"))
            .is_err()
    );
}
