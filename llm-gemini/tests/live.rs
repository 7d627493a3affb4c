//! One test against the live Gemini API; runs only when `GEMINI_API_KEY` is set at build time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use futures_util::StreamExt;
use helpdesk_core::{EmbedKind, Embedder, LanguageModel, LlmRequest};
use helpdesk_llm_gemini::schema::{ObjectSchema, string_enum};
use helpdesk_llm_gemini::{DEFAULT_EMBEDDING_MODEL, GeminiClient, RetryPolicy};

#[tokio::test]
#[cfg_attr(
    not(gemini_live),
    ignore = "set GEMINI_API_KEY to run: calls the live Gemini API"
)]
async fn live_generate_stream_and_embed() {
    let client = GeminiClient::builder()
        .base_url_from_env()
        .model(
            std::env::var("GEMINI_MODEL")
                .unwrap_or_else(|_| helpdesk_llm_gemini::DEFAULT_MODEL.into()),
        )
        .retry_policy(RetryPolicy::default().with_max_attempts(3))
        .build()
        .unwrap();
    let schema = ObjectSchema::new()
        .required(
            "category",
            string_enum(["hardware", "software", "billing"]).unwrap(),
        )
        .build();
    let request = LlmRequest::new(
        "Classify the helpdesk ticket.",
        "My printer stopped working after the update.",
    )
    .with_json_schema(schema)
    .with_temperature(0.0);
    let answer = client.generate(&request).await.unwrap();
    let value: serde_json::Value = serde_json::from_str(&answer.text).unwrap();
    assert!(["hardware", "software", "billing"].contains(&value["category"].as_str().unwrap()));
    assert!(answer.usage.total_tokens > 0);

    let deltas: Vec<_> = client
        .stream(&LlmRequest::new("Be brief.", "Say hello."))
        .await
        .unwrap()
        .collect()
        .await;
    let last = deltas.last().unwrap().as_ref().unwrap();
    assert!(last.finish_reason.is_some());

    let embedder = client.embedder(DEFAULT_EMBEDDING_MODEL, 768).unwrap();
    let vectors = embedder
        .embed(&["reset my password".into()], EmbedKind::Query)
        .await
        .unwrap();
    assert_eq!(vectors[0].len(), 768);
}
