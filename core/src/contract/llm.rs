//! The language-model contract: one request type, one response type, streaming deltas.

use std::fmt::Debug;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_core::Stream;
use serde::{Deserialize, Serialize};

use crate::ModelError;

pub use super::llm_usage::{Metered, UsageTally};

/// Who said a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnRole {
    /// The user (customer, agent, or the helpdesk quoting data).
    User,
    /// The model's own earlier turn.
    Model,
}

/// One conversation turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// Who said it.
    pub role: TurnRole,
    /// What was said.
    pub text: String,
}

impl Turn {
    /// A user turn.
    pub fn user(text: impl Into<String>) -> Self {
        Self {
            role: TurnRole::User,
            text: text.into(),
        }
    }

    /// A model turn.
    pub fn model(text: impl Into<String>) -> Self {
        Self {
            role: TurnRole::Model,
            text: text.into(),
        }
    }
}

/// A request to a language model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmRequest {
    /// Fixed system instructions (never contains untrusted text).
    pub system: String,
    /// The conversation; untrusted text is quoted inside user turns.
    pub turns: Vec<Turn>,
    /// When set, the model must answer with JSON matching this JSON Schema (restricted to
    /// `type`, `properties`, `required`, `items`, `enum`, `description`, `minItems`,
    /// `maxItems`, `minimum`, `maximum`, `additionalProperties`).
    pub json_schema: Option<serde_json::Value>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Output token cap.
    pub max_output_tokens: Option<u32>,
    /// Per-call deadline; the implementation returns [`ModelError::Timeout`] past it.
    pub timeout: Option<Duration>,
}

impl LlmRequest {
    /// A request with a system prompt and one user turn.
    pub fn new(system: impl Into<String>, user: impl Into<String>) -> Self {
        Self {
            system: system.into(),
            turns: vec![Turn::user(user)],
            json_schema: None,
            temperature: None,
            max_output_tokens: None,
            timeout: None,
        }
    }

    /// Asks for JSON output matching `schema`.
    pub fn with_json_schema(mut self, schema: serde_json::Value) -> Self {
        self.json_schema = Some(schema);
        self
    }

    /// Sets the temperature.
    pub fn with_temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Sets the output token cap.
    pub fn with_max_output_tokens(mut self, max: u32) -> Self {
        self.max_output_tokens = Some(max);
        self
    }

    /// Sets the per-call deadline.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FinishReason {
    /// Natural end.
    Stop,
    /// Hit the output token cap; the text is truncated.
    MaxTokens,
    /// Stopped by safety filters.
    Safety,
    /// Stopped for reciting training data.
    Recitation,
    /// Anything else, as the provider named it (unknown values land here).
    Other(String),
}

/// Token accounting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Output tokens (including thoughts, where the provider counts them).
    pub output_tokens: u32,
    /// Total as reported.
    pub total_tokens: u32,
}

/// A complete model answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmResponse {
    /// The answer text (JSON when a schema was requested).
    pub text: String,
    /// Why it stopped.
    pub finish_reason: FinishReason,
    /// Tokens used.
    pub usage: TokenUsage,
    /// The model that answered.
    pub model: String,
}

/// One piece of a streamed answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamDelta {
    /// New text since the previous delta.
    pub text: String,
    /// Set on the last delta.
    pub finish_reason: Option<FinishReason>,
    /// Cumulative usage so far, when the provider reports it.
    pub usage: Option<TokenUsage>,
}

/// A boxed stream of deltas.
pub type DeltaStream = Pin<Box<dyn Stream<Item = Result<StreamDelta, ModelError>> + Send>>;

/// A language model. Safety blocks, truncation and rate limits are typed errors or finish
/// reasons, never strings in `text`.
#[async_trait]
pub trait LanguageModel: Send + Sync + Debug {
    /// The model id, for logs and analytics.
    fn model_id(&self) -> &str;

    /// Generates a complete answer.
    async fn generate(&self, request: &LlmRequest) -> Result<LlmResponse, ModelError>;

    /// Streams the answer as deltas. Implementations without native streaming may return
    /// the whole answer as one delta.
    async fn stream(&self, request: &LlmRequest) -> Result<DeltaStream, ModelError>;
}

/// A shared handle is itself a model.
#[async_trait]
impl<M: LanguageModel + ?Sized> LanguageModel for Arc<M> {
    fn model_id(&self) -> &str {
        (**self).model_id()
    }

    async fn generate(&self, request: &LlmRequest) -> Result<LlmResponse, ModelError> {
        (**self).generate(request).await
    }

    async fn stream(&self, request: &LlmRequest) -> Result<DeltaStream, ModelError> {
        (**self).stream(request).await
    }
}

/// A stream that yields one complete response as a single delta (for models without native
/// streaming).
pub fn single_delta_stream(response: LlmResponse) -> DeltaStream {
    Box::pin(futures_util::stream::once(async move {
        Ok(StreamDelta {
            text: response.text,
            finish_reason: Some(response.finish_reason),
            usage: Some(response.usage),
        })
    }))
}
