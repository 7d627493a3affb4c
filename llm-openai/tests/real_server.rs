//! The provider conformance cases a real OpenAI-compatible server can play, against one that
//! nobody here wrote: llama-cpp-python's server running SmolLM2-135M-Instruct, started by
//! `scripts/start-llama.sh` (which `make test` runs). Built without
//! `HELPDESK_OPENAI_COMPAT_URL`, these tests are listed as ignored, with the reason.
//!
//! The tiny model's answers are poor: the cases check the wire format, structured output,
//! streaming and errors, not wisdom. Left out, because a real server cannot be made to play
//! them on demand: the slow answer, the rate limit, the refusal and JSON outside the schema
//! (its grammar keeps the answer inside the schema); and the unknown model, because
//! llama-cpp-python serves its one model whatever model name is asked for
//! (`any_model_name_gets_the_served_model` pins that down).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use async_trait::async_trait;
use helpdesk_core::testkit::llm_conformance::{LlmHarness, Scenario, conformance_schema};
use helpdesk_core::{LanguageModel, LlmRequest, ModelError};
use helpdesk_llm_openai::{OpenAiClient, OpenAiClientBuilder, StructuredOutput};

fn builder() -> OpenAiClientBuilder {
    let url =
        std::env::var("HELPDESK_OPENAI_COMPAT_URL").expect("HELPDESK_OPENAI_COMPAT_URL is set");
    let model = std::env::var("HELPDESK_OPENAI_COMPAT_MODEL")
        .unwrap_or_else(|_| "smollm2-135m-instruct".into());
    OpenAiClient::builder().base_url(url).model(model)
}

struct RealServer;

#[async_trait]
impl LlmHarness for RealServer {
    async fn model_for(&self, scenario: Scenario) -> Arc<dyn LanguageModel> {
        // llama-cpp-python constrains its grammar to a schema given in JSON mode.
        let mode = match scenario {
            Scenario::SchemaAnswer => StructuredOutput::JsonObjectWithSchema,
            _ => StructuredOutput::Auto,
        };
        Arc::new(builder().structured_output(mode).build().unwrap())
    }
}

async fn harness() -> RealServer {
    RealServer
}

helpdesk_core::llm_conformance_tests!(
    #[cfg_attr(
        not(openai_compat_url_set),
        ignore = "set HELPDESK_OPENAI_COMPAT_URL (see scripts/start-llama.sh)"
    )]
    harness = harness,
    cases = [
        plain_answer,
        schema_answer,
        stream_answer,
        truncated,
        context_overflow
    ]
);

#[tokio::test]
#[cfg_attr(
    not(openai_compat_url_set),
    ignore = "set HELPDESK_OPENAI_COMPAT_URL (see scripts/start-llama.sh)"
)]
async fn auto_mode_detects_that_json_schema_is_unsupported() {
    let client = builder().build().unwrap();
    assert_eq!(client.structured_output(), StructuredOutput::Auto);
    let request = LlmRequest::new(
        "Classify the ticket. Answer in JSON.",
        "My invoice is wrong.",
    )
    .with_json_schema(conformance_schema())
    .with_max_output_tokens(64)
    .with_temperature(0.0);
    let result = client.generate(&request).await;
    // llama-cpp-python 0.3 knows `text` and `json_object` only: it answers 500 with a
    // validation error that names response_format (not retried), the client
    // switches to JSON mode, and the tiny model's JSON is then checked against the schema.
    assert_eq!(client.structured_output(), StructuredOutput::JsonObject);
    match result {
        Ok(answer) => assert!(serde_json::from_str::<serde_json::Value>(&answer.text).is_ok()),
        Err(ModelError::MalformedOutput { .. } | ModelError::Truncated) => {}
        Err(other) => panic!("expected an answer or malformed output, got {other:?}"),
    }
}

#[tokio::test]
#[cfg_attr(
    not(openai_compat_url_set),
    ignore = "set HELPDESK_OPENAI_COMPAT_URL (see scripts/start-llama.sh)"
)]
async fn any_model_name_gets_the_served_model() {
    let client = builder().model("no-such-model").build().unwrap();
    let answer = client
        .generate(&LlmRequest::new("Be brief.", "Hi").with_max_output_tokens(8))
        .await;
    assert!(
        answer.is_ok(),
        "llama-cpp-python now refuses unknown models: {answer:?}"
    );
}
