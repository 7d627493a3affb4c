//! Counting what language-model calls spend, per use case.
//!
//! A use case that may call a model makes one [`UsageTally`] and calls the model through
//! [`UsageTally::metered`]; every answer the provider gave is counted, also when the
//! answer is then refused (out of the schema, truncated, ungrounded), since its tokens
//! were spent all the same. A call that failed without an answer (rate limited, timed out,
//! refused by the breaker) costs nothing and is not counted. The use case then commits the
//! tally with its write ([`TicketWrite::model_usage`](crate::store::TicketWrite)), or
//! records it on its own when it writes nothing.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use futures_util::StreamExt;
use jiff::Timestamp;

use super::llm::{DeltaStream, LanguageModel, LlmRequest, LlmResponse, TokenUsage};
use crate::ModelError;
use crate::domain::{AiUseCase, ModelUsage};

/// One answered call: the model that answered and what the provider counted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Call {
    model: String,
    usage: TokenUsage,
}

/// The calls one use case made. Cloning shares the tally (a streamed answer keeps a clone
/// to count its usage when the provider reports it, usually on the last delta).
#[derive(Clone, Default)]
pub struct UsageTally {
    calls: Arc<Mutex<Vec<Call>>>,
}

impl fmt::Debug for UsageTally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsageTally")
            .field("calls", &self.lock().len())
            .finish()
    }
}

impl UsageTally {
    /// An empty tally.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one answered call of `model`. For classifiers and other code that calls a
    /// model without [`metered`](Self::metered).
    pub fn record(&self, model: &str, usage: TokenUsage) {
        self.lock().push(Call {
            model: model.to_owned(),
            usage,
        });
    }

    /// `model`, with every answer it gives counted here.
    pub fn metered<'a>(&'a self, model: &'a dyn LanguageModel) -> Metered<'a> {
        Metered { model, tally: self }
    }

    /// The model that gave the latest counted answer.
    pub fn last_model(&self) -> Option<String> {
        self.lock().last().map(|c| c.model.clone())
    }

    /// Whether no call was counted.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// The counted calls as usage records of `use_case` at `at`, emptying the tally.
    pub fn take(&self, use_case: AiUseCase, at: Timestamp) -> Vec<ModelUsage> {
        std::mem::take(&mut *self.lock())
            .into_iter()
            .map(|c| {
                ModelUsage::new(
                    at,
                    use_case,
                    &c.model,
                    c.usage.prompt_tokens,
                    c.usage.output_tokens,
                )
            })
            .collect()
    }

    /// A poisoned lock still holds whole entries (each push is one operation), so its data
    /// is used as it is.
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Call>> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts counting a streamed call, with no tokens until the stream reports some;
    /// returns its place.
    fn open_stream(&self, model: &str) -> usize {
        let mut calls = self.lock();
        calls.push(Call {
            model: model.to_owned(),
            usage: TokenUsage::default(),
        });
        calls.len() - 1
    }

    /// The stream at `index` reported `usage` (cumulative, so it replaces the last report).
    fn stream_reported(&self, index: usize, usage: TokenUsage) {
        if let Some(call) = self.lock().get_mut(index) {
            call.usage = usage;
        }
    }
}

/// A model whose answers are counted in a [`UsageTally`].
#[derive(Debug)]
pub struct Metered<'a> {
    model: &'a dyn LanguageModel,
    tally: &'a UsageTally,
}

#[async_trait]
impl LanguageModel for Metered<'_> {
    fn model_id(&self) -> &str {
        self.model.model_id()
    }

    async fn generate(&self, request: &LlmRequest) -> Result<LlmResponse, ModelError> {
        let response = self.model.generate(request).await?;
        self.tally.record(&response.model, response.usage);
        Ok(response)
    }

    async fn stream(&self, request: &LlmRequest) -> Result<DeltaStream, ModelError> {
        let deltas = self.model.stream(request).await?;
        let index = self.tally.open_stream(self.model.model_id());
        let tally = self.tally.clone();
        Ok(Box::pin(deltas.inspect(move |delta| {
            if let Ok(delta) = delta
                && let Some(usage) = delta.usage
            {
                tally.stream_reported(index, usage);
            }
        })))
    }
}
