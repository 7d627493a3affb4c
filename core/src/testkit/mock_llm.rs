use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use crate::llm::single_delta_stream;
use crate::{
    DeltaStream, FinishReason, LanguageModel, LlmRequest, LlmResponse, ModelError, TokenUsage,
};

/// One scripted reply of a [`MockLanguageModel`].
#[derive(Debug)]
pub enum MockTurn {
    /// Answer with this text (finish reason Stop).
    Text(String),
    /// Answer with this JSON value serialised as text.
    Json(serde_json::Value),
    /// Answer with this text and finish reason.
    Finish(String, FinishReason),
    /// Fail with this error.
    Error(ModelError),
    /// Wait, then play the inner turn (use with a paused tokio clock or a short timeout).
    Delay(Duration, Box<MockTurn>),
}

/// The mock's script ran out: a test made more model calls than it scripted. It travels as
/// the source of a [`ModelError::Provider`], so the production error enum has no variant
/// for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("mock language model script exhausted after {calls} calls")]
pub struct ScriptExhausted {
    /// How many calls were answered.
    pub calls: usize,
}

/// A scripted language model for tests: replays turns in order, records every request, and
/// fails with [`ModelError::Provider`] (provider `"mock"`, source [`ScriptExhausted`]) when
/// the script runs out. A request whose
/// `timeout` is shorter than a [`MockTurn::Delay`] gets [`ModelError::Timeout`].
///
/// ```
/// # tokio_test_block_on(async {
/// use helpdesk_core::{LanguageModel, LlmRequest, testkit::{MockLanguageModel, MockTurn}};
/// let model = MockLanguageModel::new([MockTurn::Text("hello".into())]);
/// let answer = model.generate(&LlmRequest::new("be brief", "hi")).await.unwrap();
/// assert_eq!(answer.text, "hello");
/// assert_eq!(model.requests()[0].turns[0].text, "hi");
/// assert!(model.generate(&LlmRequest::new("", "again")).await.is_err());
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug, Default)]
pub struct MockLanguageModel {
    script: Mutex<VecDeque<MockTurn>>,
    requests: Mutex<Vec<LlmRequest>>,
    calls: Mutex<usize>,
}

impl MockLanguageModel {
    /// A model that plays `turns` in order.
    pub fn new(turns: impl IntoIterator<Item = MockTurn>) -> Self {
        Self {
            script: Mutex::new(turns.into_iter().collect()),
            ..Self::default()
        }
    }

    /// Appends a turn to the script.
    pub fn push(&self, turn: MockTurn) {
        self.script.lock().unwrap().push_back(turn);
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<LlmRequest> {
        self.requests.lock().unwrap().clone()
    }

    /// How many calls were made.
    pub fn calls(&self) -> usize {
        *self.calls.lock().unwrap()
    }

    /// Turns not yet played.
    pub fn remaining(&self) -> usize {
        self.script.lock().unwrap().len()
    }

    async fn play(&self, turn: MockTurn, request: &LlmRequest) -> Result<LlmResponse, ModelError> {
        let mut turn = turn;
        loop {
            match turn {
                MockTurn::Delay(d, inner) => {
                    if let Some(limit) = request.timeout.filter(|limit| *limit < d) {
                        tokio::time::sleep(limit).await;
                        return Err(ModelError::Timeout(limit));
                    }
                    tokio::time::sleep(d).await;
                    turn = *inner;
                }
                MockTurn::Text(text) => return Ok(response(text, FinishReason::Stop)),
                MockTurn::Json(value) => {
                    return Ok(response(value.to_string(), FinishReason::Stop));
                }
                MockTurn::Finish(text, reason) => return Ok(response(text, reason)),
                MockTurn::Error(e) => return Err(e),
            }
        }
    }
}

fn response(text: String, finish_reason: FinishReason) -> LlmResponse {
    let output_tokens = (text.len() / 4) as u32;
    LlmResponse {
        text,
        finish_reason,
        usage: TokenUsage {
            prompt_tokens: 10,
            output_tokens,
            total_tokens: 10 + output_tokens,
        },
        model: "mock".into(),
    }
}

#[async_trait]
impl LanguageModel for MockLanguageModel {
    fn model_id(&self) -> &str {
        "mock"
    }

    async fn generate(&self, request: &LlmRequest) -> Result<LlmResponse, ModelError> {
        self.requests.lock().unwrap().push(request.clone());
        let calls = {
            let mut c = self.calls.lock().unwrap();
            *c += 1;
            *c
        };
        let next = self.script.lock().unwrap().pop_front();
        match next {
            Some(turn) => self.play(turn, request).await,
            None => Err(ModelError::Provider {
                provider: "mock",
                temporary: false,
                source: Box::new(ScriptExhausted { calls: calls - 1 }),
            }),
        }
    }

    async fn stream(&self, request: &LlmRequest) -> Result<DeltaStream, ModelError> {
        let response = self.generate(request).await?;
        Ok(single_delta_stream(response))
    }
}
