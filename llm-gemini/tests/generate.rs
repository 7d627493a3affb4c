//! generateContent against the mock: what is sent, and the typed outcome of each response shape.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{setup, setup_with};
use helpdesk_core::{BlockReason, FinishReason, LanguageModel, LlmRequest, ModelError, Turn};
use helpdesk_llm_gemini::mock::{Endpoint, MockReply};
use helpdesk_llm_gemini::schema::{ObjectSchema, string_enum};
use helpdesk_llm_gemini::{HarmBlockThreshold, HarmCategory, ThinkingConfig};
use serde_json::{Value, json};

fn classify_request() -> LlmRequest {
    let schema = ObjectSchema::new()
        .required(
            "category",
            string_enum(["hardware", "software", "billing"]).unwrap(),
        )
        .required("summary", json!({"type": "string"}))
        .build();
    LlmRequest::new(
        "Classify helpdesk tickets.",
        "Mon imprimante ne marche plus !",
    )
    .with_json_schema(schema)
    .with_temperature(0.2)
    .with_max_output_tokens(1024)
}

#[tokio::test]
async fn sends_the_documented_body_with_the_key_in_the_header_only() {
    let s = setup_with(|b| {
        b.thinking(ThinkingConfig::budget(0))
            .safety_setting(HarmCategory::Harassment, HarmBlockThreshold::BlockOnlyHigh)
    })
    .await;
    let mut request = classify_request();
    request
        .turns
        .push(Turn::model("{\"category\":\"hardware\"}"));
    request.turns.push(Turn::user("And now?"));
    s.client.generate(&request).await.unwrap();

    let sent = s.mock.last_request().unwrap();
    assert_eq!(sent.endpoint, Endpoint::GenerateContent);
    assert_eq!(
        sent.path_and_query,
        "/v1beta/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(sent.api_key_header.as_deref(), Some(s.mock.api_key()));
    assert!(!sent.key_in_query);
    let body = sent.body;
    assert_eq!(
        body["systemInstruction"],
        json!({"parts": [{"text": "Classify helpdesk tickets."}]})
    );
    assert_eq!(body["contents"][0]["role"], "user");
    assert_eq!(body["contents"][1]["role"], "model");
    assert_eq!(body["contents"][2]["parts"][0]["text"], "And now?");
    let config = &body["generationConfig"];
    assert_eq!(config["responseMimeType"], "application/json");
    assert_eq!(
        config["responseJsonSchema"]["properties"]["category"]["enum"],
        json!(["hardware", "software", "billing"])
    );
    assert!(config.get("responseSchema").is_none());
    assert_eq!(config["maxOutputTokens"], 1024);
    assert!((config["temperature"].as_f64().unwrap() - 0.2).abs() < 1e-6);
    assert_eq!(config["thinkingConfig"], json!({"thinkingBudget": 0}));
    assert_eq!(
        body["safetySettings"],
        json!([{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}])
    );
}

#[tokio::test]
async fn default_mock_answers_follow_the_requested_schema() {
    let s = setup().await;
    let answer = s.client.generate(&classify_request()).await.unwrap();
    let value: Value = serde_json::from_str(&answer.text).unwrap();
    assert_eq!(value["category"], "hardware");
    assert_eq!(answer.finish_reason, FinishReason::Stop);
    assert!(answer.usage.total_tokens >= answer.usage.prompt_tokens);
    let plain = s.client.generate(&LlmRequest::new("", "hi")).await.unwrap();
    assert!(!plain.text.is_empty());
    assert!(
        s.mock
            .last_request()
            .unwrap()
            .body
            .get("systemInstruction")
            .is_none(),
        "empty system prompt is not sent"
    );
}

#[tokio::test]
async fn core_triage_and_chat_schemas_pass_unchanged() {
    let s = setup().await;
    let settings = helpdesk_core::domain::TenantSettings::default();
    for schema in [
        helpdesk_core::ai::schema::triage_schema(&settings),
        helpdesk_core::ai::schema::chat_schema(&["c1".into(), "c2".into()]),
    ] {
        let request = LlmRequest::new("sys", "text").with_json_schema(schema.clone());
        s.client.generate(&request).await.unwrap();
        let sent = s.mock.last_request().unwrap();
        assert_eq!(sent.status, 200);
        assert_eq!(sent.body["generationConfig"]["responseJsonSchema"], schema);
    }
}

#[tokio::test]
async fn unsupported_schema_keywords_fail_before_sending() {
    let s = setup().await;
    let request = LlmRequest::new("sys", "text").with_json_schema(
        json!({"type": "object", "properties": {"code": {"type": "string", "pattern": "^A"}}}),
    );
    let err = s.client.generate(&request).await.unwrap_err();
    match err {
        ModelError::InvalidRequest { message } => {
            assert!(message.contains("#/properties/code/pattern"), "{message}")
        }
        other => panic!("expected invalid request, got {other:?}"),
    }
    assert_eq!(s.mock.count(Endpoint::GenerateContent), 0);
    let err = s
        .client
        .generate(&LlmRequest::new("sys", "t").with_temperature(3.0))
        .await
        .unwrap_err();
    assert_eq!(err.kind_name(), "invalid_request");
    let mut empty = LlmRequest::new("sys", "t");
    empty.turns.clear();
    assert_eq!(
        s.client.generate(&empty).await.unwrap_err().kind_name(),
        "invalid_request"
    );
    assert_eq!(s.mock.count(Endpoint::GenerateContent), 0);
}

#[tokio::test]
async fn a_blocked_prompt_is_a_typed_block() {
    let s = setup().await;
    s.mock
        .push_reply(MockReply::BlockedPrompt("PROHIBITED_CONTENT".into()));
    s.mock
        .push_reply(MockReply::BlockedPrompt("SOMETHING_NEW".into()));
    let err = s.client.generate(&classify_request()).await.unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::Blocked {
                reason: BlockReason::ProhibitedContent
            }
        ),
        "{err:?}"
    );
    let err = s.client.generate(&classify_request()).await.unwrap_err();
    assert!(
        matches!(err, ModelError::Blocked { reason: BlockReason::Other(ref r) } if r == "SOMETHING_NEW"),
        "{err:?}"
    );
    assert_eq!(
        s.mock.count(Endpoint::GenerateContent),
        2,
        "blocks are not retried"
    );
}

#[tokio::test]
async fn max_tokens_without_content_is_truncated_and_with_text_is_returned() {
    let s = setup().await;
    s.mock.push_reply(MockReply::MaxTokens(None));
    s.mock
        .push_reply(MockReply::MaxTokens(Some("{\"category\": \"hard".into())));
    let err = s.client.generate(&classify_request()).await.unwrap_err();
    assert!(matches!(err, ModelError::Truncated), "{err:?}");
    let answer = s.client.generate(&classify_request()).await.unwrap();
    assert_eq!(answer.finish_reason, FinishReason::MaxTokens);
    assert_eq!(answer.text, "{\"category\": \"hard");
}

#[tokio::test]
async fn parts_less_candidates_never_become_empty_answers() {
    let s = setup().await;
    let cases = [
        ("SAFETY", "blocked"),
        ("RECITATION", "blocked"),
        ("SPII", "blocked"),
        ("STOP", "malformed_output"),
        ("MALFORMED_FUNCTION_CALL", "malformed_output"),
        ("A_FUTURE_REASON", "malformed_output"),
    ];
    for (finish, kind) in cases {
        s.mock
            .push_reply(MockReply::FinishWithoutParts(finish.into()));
        let err = s
            .client
            .generate(&LlmRequest::new("", "hi"))
            .await
            .unwrap_err();
        assert_eq!(err.kind_name(), kind, "{finish}: {err:?}");
    }
}

#[tokio::test]
async fn unknown_enum_values_and_fields_become_other() {
    let s = setup().await;
    s.mock.push_reply(MockReply::Raw {
        status: 200,
        content_type: "application/json".into(),
        body: r#"{"candidates":[{"content":{"parts":[{"text":"thinking...","thought":true},{"text":"Hi"},{"inlineData":{"mimeType":"image/png","data":"AA=="}}],"role":"model"},
                  "finishReason":"NEW_FINISH","safetyRatings":[{"category":"HARM_CATEGORY_NEW","probability":"WEIRD"}],"index":0}],
                  "usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2,"thoughtsTokenCount":17,"totalTokenCount":22,"newCount":1},
                  "modelVersion":"gemini-2.5-flash","responseId":"x","brandNewField":{}}"#
            .into(),
    });
    let answer = s.client.generate(&LlmRequest::new("", "hi")).await.unwrap();
    assert_eq!(
        answer.text, "Hi",
        "thought parts and other part kinds are not answer text"
    );
    assert_eq!(
        answer.finish_reason,
        FinishReason::Other("NEW_FINISH".into())
    );
    assert_eq!(
        (
            answer.usage.prompt_tokens,
            answer.usage.output_tokens,
            answer.usage.total_tokens
        ),
        (3, 19, 22)
    );
}

#[tokio::test]
async fn invalid_json_for_a_schema_is_malformed_output() {
    let s = setup().await;
    s.mock
        .push_reply(MockReply::Text("Sure! Here is the JSON: {".into()));
    s.mock.push_reply(MockReply::Raw {
        status: 200,
        content_type: "application/json".into(),
        body: "not json".into(),
    });
    let err = s.client.generate(&classify_request()).await.unwrap_err();
    assert_eq!(err.kind_name(), "malformed_output");
    let err = s.client.generate(&classify_request()).await.unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::Provider {
                temporary: false,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_mock_rejects_what_the_real_api_rejects() {
    let s = setup().await;
    let http = reqwest::Client::new();
    let url = format!(
        "{}/v1beta/models/gemini-2.5-flash:generateContent",
        s.mock.base_url()
    );
    let post = |body: Value, key: Option<&str>| {
        let mut request = http.post(&url).body(body.to_string());
        if let Some(key) = key {
            request = request.header("x-goog-api-key", key);
        }
        request.send()
    };
    let ok = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]});
    let key = Some(s.mock.api_key());

    let no_key = post(ok.clone(), None).await.unwrap();
    assert_eq!(no_key.status(), 403);
    let body: Value = json_of(no_key).await;
    assert_eq!(body["error"]["status"], "PERMISSION_DENIED");

    let bad_key = post(ok.clone(), Some("nope")).await.unwrap();
    assert_eq!(bad_key.status(), 400);
    let body: Value = json_of(bad_key).await;
    assert_eq!(body["error"]["details"][0]["reason"], "API_KEY_INVALID");

    let mut unknown = ok.clone();
    unknown["generationConfig"] = json!({"responseMimeType": "application/json",
        "responseSchema": {"type": "OBJECT", "additionalProperties": false}});
    let response = post(unknown, key).await.unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = json_of(response).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Unknown name \"additionalProperties\"")
    );

    let mut field = ok.clone();
    field["generationConfig"] = json!({"maxTokens": 5});
    assert_eq!(post(field, key).await.unwrap().status(), 400);

    let mut both = ok.clone();
    both["generation_config"] =
        json!({"thinking_config": {"thinking_budget": 0, "thinking_level": "LOW"}});
    assert_eq!(post(both, key).await.unwrap().status(), 400);

    // The legacy ?key= query is accepted by the mock (the client never uses it).
    let legacy = http
        .post(format!("{url}?key={}", s.mock.api_key()))
        .body(ok.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(legacy.status(), 200);
    assert!(s.mock.last_request().unwrap().key_in_query);
    assert_eq!(s.mock.count(Endpoint::GenerateContent), 6);
}

async fn json_of(response: reqwest::Response) -> Value {
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

#[tokio::test]
async fn schemas_generated_from_rust_types_are_accepted_by_the_mock() {
    #[derive(schemars::JsonSchema, serde::Deserialize)]
    #[allow(dead_code)]
    struct Answer {
        /// The reply.
        reply: String,
        cited: Vec<String>,
        score: Option<f64>,
        kind: Kind,
    }
    #[derive(schemars::JsonSchema, serde::Deserialize)]
    #[allow(dead_code)]
    enum Kind {
        /// A.
        A,
        /// B.
        B,
    }
    let s = setup().await;
    let schema = helpdesk_llm_gemini::schema::schema_for::<Answer>().unwrap();
    let answer = s
        .client
        .generate(&LlmRequest::new("sys", "q").with_json_schema(schema))
        .await
        .unwrap();
    assert_eq!(s.mock.last_request().unwrap().status, 200);
    let parsed: Answer = serde_json::from_str(&answer.text).unwrap();
    assert!(matches!(parsed.kind, Kind::A));
}
