//! The provider conformance suite (core's test kit) against the mock Gemini server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use async_trait::async_trait;
use helpdesk_core::LanguageModel;
use helpdesk_core::testkit::llm_conformance::{
    LlmHarness, SLOW_DELAY, Scenario, outside_schema_answer,
};
use helpdesk_llm_gemini::RetryPolicy;
use helpdesk_llm_gemini::mock::{MockGemini, MockReply};

struct MockHarness {
    mock: MockGemini,
}

#[async_trait]
impl LlmHarness for MockHarness {
    async fn model_for(&self, scenario: Scenario) -> Arc<dyn LanguageModel> {
        let mut builder = self.mock.client_builder();
        match scenario {
            // Answered by the mock's defaults: a text, a value built from the schema, two
            // deltas.
            Scenario::PlainAnswer | Scenario::SchemaAnswer | Scenario::Stream => {}
            Scenario::SlowAnswer => self
                .mock
                .push_reply(MockReply::Text("late".into()).delayed(SLOW_DELAY)),
            Scenario::RateLimited => {
                self.mock.push_reply(MockReply::rate_limited(Some("1s")));
                builder = builder.retry_policy(RetryPolicy::none());
            }
            Scenario::Refusal => self
                .mock
                .push_reply(MockReply::FinishWithoutParts("SAFETY".into())),
            Scenario::Truncated => self
                .mock
                .push_reply(MockReply::MaxTokens(Some("Once upon a".into()))),
            Scenario::JsonOutsideSchema => {
                self.mock
                    .push_reply(MockReply::Json(outside_schema_answer()));
            }
            Scenario::UnknownModel => builder = builder.model("gemini-does-not-exist"),
            // A model with a small window: the mock measures the prompt and answers as the
            // real API does.
            Scenario::ContextOverflow => self.mock.set_input_token_limit(8_192),
            other => panic!("unscripted scenario {other:?}"),
        }
        Arc::new(builder.build().unwrap())
    }
}

async fn harness() -> MockHarness {
    MockHarness {
        mock: MockGemini::start().await.unwrap(),
    }
}

helpdesk_core::llm_conformance_tests!(harness = harness);
