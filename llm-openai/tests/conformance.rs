//! The provider conformance suite (core's test kit) against the mock server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use helpdesk_core::LanguageModel;
use helpdesk_core::testkit::llm_conformance::{
    LlmHarness, SLOW_DELAY, Scenario, outside_schema_answer,
};
use helpdesk_llm_openai::RetryPolicy;
use helpdesk_llm_openai::mock::{MockOpenAi, MockReply};

struct MockHarness {
    mock: MockOpenAi,
}

#[async_trait]
impl LlmHarness for MockHarness {
    async fn model_for(&self, scenario: Scenario) -> Arc<dyn LanguageModel> {
        let mut builder = self.mock.client_builder();
        match scenario {
            // Answered by the mock's defaults: a text, a value built from the schema, two
            // deltas, an answer cut at `max_tokens`, a prompt over its context window.
            Scenario::PlainAnswer
            | Scenario::SchemaAnswer
            | Scenario::Stream
            | Scenario::Truncated
            | Scenario::ContextOverflow => {}
            Scenario::SlowAnswer => self
                .mock
                .push_reply(MockReply::Text("late".into()).delayed(SLOW_DELAY)),
            Scenario::RateLimited => {
                self.mock
                    .push_reply(MockReply::rate_limited(Some(Duration::from_secs(1))));
                builder = builder.retry_policy(RetryPolicy::none());
            }
            Scenario::Refusal => self.mock.push_reply(MockReply::Refusal(
                "I'm sorry, I can't help with that.".into(),
            )),
            Scenario::JsonOutsideSchema => {
                self.mock
                    .push_reply(MockReply::Json(outside_schema_answer()));
            }
            Scenario::UnknownModel => builder = builder.model("gpt-does-not-exist"),
            other => panic!("unscripted scenario {other:?}"),
        }
        Arc::new(builder.build().unwrap())
    }
}

async fn harness() -> MockHarness {
    MockHarness {
        mock: MockOpenAi::start().await.unwrap(),
    }
}

helpdesk_core::llm_conformance_tests!(harness = harness);
