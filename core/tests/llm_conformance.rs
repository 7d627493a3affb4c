//! The provider conformance suite run by the scripted mock model: each scenario is one
//! scripted turn.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use helpdesk_core::testkit::llm_conformance::{
    LlmHarness, SLOW_DELAY, Scenario, outside_schema_answer, schema_answer_value,
};
use helpdesk_core::testkit::{MockLanguageModel, MockTurn};
use helpdesk_core::{BlockReason, FinishReason, LanguageModel, ModelError};

struct MockHarness;

#[async_trait]
impl LlmHarness for MockHarness {
    async fn model_for(&self, scenario: Scenario) -> Arc<dyn LanguageModel> {
        let text = || MockTurn::Text("Hello! How can I help you today?".into());
        let turn = match scenario {
            Scenario::PlainAnswer | Scenario::Stream => text(),
            Scenario::SchemaAnswer => MockTurn::Json(schema_answer_value()),
            Scenario::SlowAnswer => MockTurn::Delay(SLOW_DELAY, Box::new(text())),
            Scenario::RateLimited => MockTurn::Error(ModelError::RateLimited {
                retry_after: Some(Duration::from_secs(1)),
                message: "slow down".into(),
            }),
            Scenario::Refusal => MockTurn::Error(ModelError::Blocked {
                reason: BlockReason::Safety,
            }),
            Scenario::Truncated => MockTurn::Finish("Once upon a".into(), FinishReason::MaxTokens),
            Scenario::JsonOutsideSchema => MockTurn::Json(outside_schema_answer()),
            Scenario::UnknownModel => MockTurn::Error(ModelError::NotFound {
                message: "no such model".into(),
            }),
            Scenario::ContextOverflow => MockTurn::Error(ModelError::ContextOverflow {
                message: "the prompt is longer than the context window".into(),
            }),
            other => panic!("unscripted scenario {other:?}"),
        };
        Arc::new(MockLanguageModel::new([turn]))
    }
}

async fn harness() -> MockHarness {
    MockHarness
}

helpdesk_core::llm_conformance_tests!(harness = harness);
