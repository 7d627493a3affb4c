//! Chat completions against the mock: what is sent, the structured-output modes and their
//! fallback, and the typed outcome of each answer shape.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{setup, setup_with};
use helpdesk_core::{BlockReason, FinishReason, LanguageModel, LlmRequest, ModelError, Turn};
use helpdesk_llm_openai::mock::{Endpoint, MockReply};
use helpdesk_llm_openai::{StructuredOutput, TokenLimitField};
use serde_json::{Value, json};

fn schema() -> Value {
    json!({"type": "object", "additionalProperties": false, "required": ["category", "summary"],
        "properties": {"category": {"type": "string", "enum": ["hardware", "software"]},
                       "summary": {"type": "string"}}})
}

fn classify() -> LlmRequest {
    LlmRequest::new(
        "Classify helpdesk tickets.",
        "Mon imprimante ne marche plus !",
    )
    .with_json_schema(schema())
    .with_temperature(0.2)
    .with_max_output_tokens(512)
}

#[tokio::test]
async fn sends_the_documented_body_and_headers() {
    let s = setup_with(|b| {
        b.organization("org-42")
            .project("proj-7")
            .header("x-extra", "1")
    })
    .await;
    let mut request = classify();
    request
        .turns
        .push(Turn::model("{\"category\":\"hardware\"}"));
    request.turns.push(Turn::user("And now?"));
    let answer = s.client.generate(&request).await.unwrap();
    assert_eq!(answer.finish_reason, FinishReason::Stop);
    let value: Value = serde_json::from_str(&answer.text).unwrap();
    assert_eq!(value["category"], "hardware");

    let sent = s.mock.last_request().unwrap();
    assert_eq!(sent.endpoint, Endpoint::ChatCompletions);
    assert_eq!(sent.path_and_query, "/v1/chat/completions");
    assert_eq!(
        sent.header("authorization"),
        Some("Bearer sk-mock-openai-key")
    );
    assert_eq!(sent.header("openai-organization"), Some("org-42"));
    assert_eq!(sent.header("openai-project"), Some("proj-7"));
    assert_eq!(sent.header("x-extra"), Some("1"));
    let body = sent.body;
    assert_eq!(body["model"], "gpt-4o-mini");
    let roles: Vec<&str> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    assert_eq!(body["messages"][0]["content"], "Classify helpdesk tickets.");
    assert_eq!(body["max_tokens"], 512);
    assert!((body["temperature"].as_f64().unwrap() - 0.2).abs() < 1e-6);
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(body["response_format"]["json_schema"]["name"], "answer");
    assert_eq!(body["response_format"]["json_schema"]["strict"], true);
    assert_eq!(body["response_format"]["json_schema"]["schema"], schema());
    assert!(body.get("stream").is_none());
}

#[tokio::test]
async fn open_schemas_go_without_strict_and_core_schemas_pass() {
    let s = setup().await;
    let open = json!({"type": "object", "properties": {"a": {"type": "string"}}});
    s.client
        .generate(&LlmRequest::new("s", "t").with_json_schema(open))
        .await
        .unwrap();
    assert_eq!(
        s.mock.last_request().unwrap().body["response_format"]["json_schema"]["strict"],
        false
    );
    let settings = helpdesk_core::domain::TenantSettings::default();
    for schema in [
        helpdesk_core::ai::schema::triage_schema(&settings),
        helpdesk_core::ai::schema::chat_schema(&["c1".into(), "c2".into()]),
    ] {
        let answer = s
            .client
            .generate(&LlmRequest::new("sys", "text").with_json_schema(schema))
            .await;
        assert!(answer.is_ok(), "{answer:?}");
        assert_eq!(s.mock.last_request().unwrap().status, 200);
    }
}

#[tokio::test]
async fn auto_mode_falls_back_to_json_mode_once_and_remembers() {
    let s = setup().await;
    s.mock.set_json_schema_supported(false);
    assert_eq!(s.client.structured_output(), StructuredOutput::Auto);
    let answer = s.client.generate(&classify()).await.unwrap();
    let value: Value = serde_json::from_str(&answer.text).unwrap();
    assert_eq!(value["category"], "hardware");
    let requests = s.mock.requests();
    assert_eq!(
        requests.iter().map(|r| r.status).collect::<Vec<_>>(),
        [400, 200]
    );
    let fallback = &requests[1].body;
    assert_eq!(fallback["response_format"], json!({"type": "json_object"}));
    let system = fallback["messages"][0]["content"].as_str().unwrap();
    assert!(system.starts_with("Classify helpdesk tickets.") && system.contains("JSON Schema"));
    assert_eq!(s.client.structured_output(), StructuredOutput::JsonObject);
    // Later calls go straight to JSON mode.
    s.client.generate(&classify()).await.unwrap();
    assert_eq!(s.mock.count(Endpoint::ChatCompletions), 3);
}

#[tokio::test]
async fn fixed_modes_do_not_fall_back_and_bad_schemas_are_not_mistaken_for_it() {
    let s = setup_with(|b| b.structured_output(StructuredOutput::JsonSchema)).await;
    s.mock.set_json_schema_supported(false);
    let err = s.client.generate(&classify()).await.unwrap_err();
    assert!(matches!(err, ModelError::InvalidRequest { .. }), "{err:?}");
    assert_eq!(s.mock.count(Endpoint::ChatCompletions), 1);

    let s = setup().await;
    s.mock.push_reply(MockReply::error(400, "invalid_request_error", None,
        "Invalid schema for response_format 'answer': In context=(), 'additionalProperties' is required to be supplied and to be false."));
    assert!(matches!(
        s.client.generate(&classify()).await,
        Err(ModelError::InvalidRequest { .. })
    ));
    assert_eq!(s.client.structured_output(), StructuredOutput::Auto);

    let s = setup_with(|b| b.structured_output(StructuredOutput::JsonObjectWithSchema)).await;
    s.client.generate(&classify()).await.unwrap();
    let format = &s.mock.last_request().unwrap().body["response_format"];
    assert_eq!(format["type"], "json_object");
    assert_eq!(format["schema"], schema());
}

#[tokio::test]
async fn answers_outside_the_schema_are_malformed_in_every_mode() {
    for mode in [StructuredOutput::JsonSchema, StructuredOutput::JsonObject] {
        let s = setup_with(|b| b.structured_output(mode)).await;
        s.mock.push_reply(MockReply::Json(
            json!({"category": "weather", "summary": "x"}),
        ));
        s.mock.push_reply(MockReply::Text(
            "Sure! Here is the JSON you asked for".into(),
        ));
        for _ in 0..2 {
            let err = s.client.generate(&classify()).await.unwrap_err();
            assert!(
                matches!(err, ModelError::MalformedOutput { .. }),
                "{mode:?}: {err:?}"
            );
        }
    }
}

#[tokio::test]
async fn typed_errors_of_the_failure_modes() {
    let s = setup_with(|b| b.retry_policy(helpdesk_llm_openai::RetryPolicy::none())).await;
    s.mock
        .push_reply(MockReply::Refusal("I can't help with that.".into()));
    s.mock.push_reply(MockReply::ContentFilter(None));
    s.mock
        .push_reply(MockReply::ContentFilter(Some("partial".into())));
    s.mock.push_reply(MockReply::Length(None));
    s.mock
        .push_reply(MockReply::Length(Some("Once upon".into())));
    s.mock.push_reply(MockReply::internal());
    s.mock.push_reply(MockReply::context_overflow());
    s.mock.push_reply(MockReply::insufficient_quota());
    let request = LlmRequest::new("s", "hi");
    let mut outcomes = Vec::new();
    for _ in 0..8 {
        outcomes.push(s.client.generate(&request).await);
    }
    assert!(
        matches!(&outcomes[0], Err(ModelError::Blocked { reason: BlockReason::Other(r) }) if r == "refusal")
    );
    assert!(matches!(
        &outcomes[1],
        Err(ModelError::Blocked {
            reason: BlockReason::Safety
        })
    ));
    assert!(matches!(
        &outcomes[2],
        Err(ModelError::Blocked {
            reason: BlockReason::Safety
        })
    ));
    assert!(matches!(&outcomes[3], Err(ModelError::Truncated)));
    assert!(
        matches!(&outcomes[4], Ok(a) if a.finish_reason == FinishReason::MaxTokens && a.text == "Once upon")
    );
    assert!(matches!(
        &outcomes[5],
        Err(ModelError::Unavailable { status: 500, .. })
    ));
    assert!(
        matches!(&outcomes[6], Err(ModelError::ContextOverflow { .. })),
        "{:?}",
        outcomes[6]
    );
    assert!(matches!(
        &outcomes[7],
        Err(ModelError::RateLimited {
            retry_after: None,
            ..
        })
    ));
}

#[tokio::test]
async fn keys_models_and_servers_without_auth() {
    let s = setup().await;
    let wrong = s
        .mock
        .client_builder()
        .api_key("sk-wrong-key-123")
        .build()
        .unwrap();
    let err = wrong
        .generate(&LlmRequest::new("", "hi"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ModelError::Authentication { ref message } if message.contains("invalid_api_key") && !message.contains("wrong-key")),
        "{err:?}"
    );
    let none = helpdesk_llm_openai::OpenAiClient::builder()
        .base_url(s.mock.base_url())
        .build()
        .unwrap();
    assert!(matches!(
        none.generate(&LlmRequest::new("", "hi")).await,
        Err(ModelError::Authentication { .. })
    ));
    let azure = helpdesk_llm_openai::OpenAiClient::builder()
        .base_url(format!("{}?api-version=2024-10-21", s.mock.base_url()))
        .azure_api_key(s.mock.api_key())
        .build()
        .unwrap();
    azure.generate(&LlmRequest::new("", "hi")).await.unwrap();
    let sent = s.mock.last_request().unwrap();
    assert_eq!(
        sent.path_and_query,
        "/v1/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(
        (sent.header("api-key"), sent.header("authorization")),
        (Some(s.mock.api_key()), None)
    );
    s.mock.set_require_key(false);
    none.generate(&LlmRequest::new("", "hi")).await.unwrap();
    let o_series = s
        .mock
        .client_builder()
        .model("o4-mini")
        .token_limit_field(TokenLimitField::MaxCompletionTokens)
        .build()
        .unwrap();
    o_series
        .generate(&LlmRequest::new("", "hi").with_max_output_tokens(100))
        .await
        .unwrap();
    assert_eq!(
        s.mock.last_request().unwrap().body["max_completion_tokens"],
        100
    );
}

#[tokio::test]
async fn requests_are_checked_before_sending() {
    let s = setup().await;
    for request in [
        LlmRequest {
            turns: vec![],
            ..LlmRequest::new("s", "x")
        },
        LlmRequest::new("s", "x").with_temperature(3.0),
        LlmRequest::new("s", "x").with_max_output_tokens(0),
    ] {
        assert!(matches!(
            s.client.generate(&request).await,
            Err(ModelError::InvalidRequest { .. })
        ));
    }
    assert_eq!(s.mock.count(Endpoint::ChatCompletions), 0);
}
