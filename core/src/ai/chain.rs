//! A provider chain: a primary language model and the models that stand in for it.
//!
//! A host that runs Gemini and a local Ollama, or OpenAI and Azure, configures both: when
//! the primary cannot answer (rate limited, unavailable, timed out, its key or model
//! refused, its circuit open) the next model is asked the same request. A failure that is
//! the request's (invalid, blocked by safety filters, truncated, malformed output) is the
//! answer: another model is not asked to do what this one refused. Which model answered is
//! in [`LlmResponse::model`], which triage records on the ticket
//! ([`Triage::model`](crate::domain::Triage::model)), so staff and operators see the
//! switch; every switch is logged with the failure that caused it.
//!
//! Put the circuit breaker around the whole chain: it then opens only when every model of
//! the chain fails.

use std::sync::Arc;

use async_trait::async_trait;

use crate::{DeltaStream, LanguageModel, LlmRequest, LlmResponse, ModelError};

/// A primary model and its stand-ins, asked in order (see the module docs).
#[derive(Debug, Clone)]
pub struct ModelChain {
    models: Vec<Arc<dyn LanguageModel>>,
    id: String,
}

impl ModelChain {
    /// A chain of `primary`, then each of `fallbacks` in order.
    pub fn new(
        primary: Arc<dyn LanguageModel>,
        fallbacks: impl IntoIterator<Item = Arc<dyn LanguageModel>>,
    ) -> Self {
        let mut models = vec![primary];
        models.extend(fallbacks);
        let id = models
            .iter()
            .map(|m| m.model_id())
            .collect::<Vec<_>>()
            .join(" > ");
        Self { models, id }
    }

    /// The models, primary first.
    pub fn models(&self) -> &[Arc<dyn LanguageModel>] {
        &self.models
    }
}

/// Whether a failure is the provider's (another model may answer), not the request's.
///
/// A context overflow counts as the model's: the request did not fit *this* model's
/// window, and the next model of the chain may well have a larger one (a small local model
/// in front of a hosted one); one that does not refuses just as fast.
pub fn stands_in_for(error: &ModelError) -> bool {
    matches!(
        error,
        ModelError::RateLimited { .. }
            | ModelError::Unavailable { .. }
            | ModelError::Timeout(_)
            | ModelError::Authentication { .. }
            | ModelError::NotFound { .. }
            | ModelError::ContextOverflow { .. }
            | ModelError::CircuitOpen { .. }
            | ModelError::Provider { .. }
    )
}

#[async_trait]
impl LanguageModel for ModelChain {
    /// Every model's id, primary first (`gemini-2.5-flash > llama3.2`).
    fn model_id(&self) -> &str {
        &self.id
    }

    async fn generate(&self, request: &LlmRequest) -> Result<LlmResponse, ModelError> {
        let mut last = None;
        for model in &self.models {
            match model.generate(request).await {
                Ok(response) => return Ok(response),
                Err(e) if stands_in_for(&e) => {
                    tracing::warn!(
                        model = model.model_id(),
                        error = %e,
                        "language model failed; asking the next one of the chain"
                    );
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(ModelError::Unavailable {
            status: 0,
            message: "the model chain is empty".into(),
        }))
    }

    /// A stream from the first model that starts one; a stream that fails after it
    /// started is not restarted on another model (its text was already shown).
    async fn stream(&self, request: &LlmRequest) -> Result<DeltaStream, ModelError> {
        let mut last = None;
        for model in &self.models {
            match model.stream(request).await {
                Ok(stream) => return Ok(stream),
                Err(e) if stands_in_for(&e) => {
                    tracing::warn!(
                        model = model.model_id(),
                        error = %e,
                        "language model failed to stream; asking the next one of the chain"
                    );
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(ModelError::Unavailable {
            status: 0,
            message: "the model chain is empty".into(),
        }))
    }
}
