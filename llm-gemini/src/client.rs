//! [`GeminiClient`]: the `LanguageModel` implementation and the shared call path (deadline,
//! retries, error mapping) used by generation, streaming and embeddings.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use helpdesk_core::{DeltaStream, LanguageModel, LlmRequest, LlmResponse, ModelError};
use tokio::time::Instant;

use crate::builder::GeminiClientBuilder;
use crate::embed::GeminiEmbedder;
use crate::error::{ApiError, GeminiError, map_api_error};
use crate::generate::{build_generate_body, interpret_response};
use crate::options::{SafetySetting, ThinkingConfig};
use crate::retry::{RetryPolicy, Sleeper};
use crate::stream::delta_stream;
use crate::transport::{MAX_BODY_BYTES, Transport, WireRequest, WireResponse};
use crate::wire::GenerateContentResponse;

/// Cap on an error body read into memory.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub(crate) struct ClientInner {
    pub(crate) model: String,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) retry: RetryPolicy,
    pub(crate) sleeper: Arc<dyn Sleeper>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) safety: Vec<SafetySetting>,
    pub(crate) thinking: Option<ThinkingConfig>,
}

/// A Gemini API client: implements [`LanguageModel`] (generateContent and
/// streamGenerateContent) and makes [`GeminiEmbedder`]s. Cheap to clone.
#[derive(Clone)]
pub struct GeminiClient {
    inner: Arc<ClientInner>,
}

impl fmt::Debug for GeminiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeminiClient")
            .field("model", &self.inner.model)
            .field("transport", &self.inner.transport)
            .field("retry", &self.inner.retry)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

/// The model path segment: `models/{id}` unless the id already names its collection.
pub(crate) fn model_path(model: &str) -> String {
    if model.contains('/') {
        format!("/v1beta/{model}")
    } else {
        format!("/v1beta/models/{model}")
    }
}

impl GeminiClient {
    /// A builder.
    pub fn builder() -> GeminiClientBuilder {
        GeminiClientBuilder::new()
    }

    pub(crate) fn from_inner(inner: ClientInner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    pub(crate) fn inner(&self) -> &ClientInner {
        &self.inner
    }

    /// An embedder sharing this client's transport and retry policy, with `model`
    /// (e.g. [`DEFAULT_EMBEDDING_MODEL`](crate::DEFAULT_EMBEDDING_MODEL)) and
    /// `dimensions` (`outputDimensionality`).
    pub fn embedder(
        &self,
        model: impl Into<String>,
        dimensions: usize,
    ) -> Result<GeminiEmbedder, helpdesk_core::Error> {
        GeminiEmbedder::new(self.clone(), model.into(), dimensions)
    }

    /// Runs `call` under the request deadline (or the client default).
    pub(crate) async fn with_deadline<T>(
        &self,
        timeout: Option<Duration>,
        call: impl Future<Output = Result<T, ModelError>>,
    ) -> Result<T, ModelError> {
        match timeout.or(self.inner.timeout) {
            Some(limit) => tokio::time::timeout(limit, call)
                .await
                .unwrap_or(Err(ModelError::Timeout(limit))),
            None => call.await,
        }
    }

    /// Sends `request`, retrying per the policy, and returns the first 2xx response. Every
    /// other outcome is mapped to a core error kind.
    pub(crate) async fn send_with_retry(
        &self,
        request: WireRequest,
    ) -> Result<WireResponse, ModelError> {
        let started = Instant::now();
        let mut failed = 0u32;
        loop {
            let error = match self.inner.transport.send(request.clone()).await {
                Ok(response) if (200..300).contains(&response.status) => return Ok(response),
                Ok(response) => error_from_response(response).await,
                Err(e) => {
                    let temporary = e.is_temporary();
                    GeminiError::Transport(e).into_model_error(temporary)
                }
            };
            failed += 1;
            let Some(delay) = self
                .inner
                .retry
                .delay_after(&error, failed, started.elapsed())
            else {
                return Err(error);
            };
            tracing::warn!(
                method = request.method_name(),
                attempt = failed,
                kind = error.kind_name(),
                delay_ms = delay.as_millis() as u64,
                "gemini call failed; retrying"
            );
            self.inner.sleeper.sleep(delay).await;
        }
    }
}

/// Reads an error response and maps it.
async fn error_from_response(response: WireResponse) -> ModelError {
    let status = response.status;
    let body = match response.collect(MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(e) => {
            let temporary = e.is_temporary();
            return GeminiError::Transport(e).into_model_error(temporary);
        }
    };
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX_ERROR_BODY)]);
    match ApiError::parse(&text) {
        Some(api) => {
            tracing::debug!(status, rpc_status = %api.status, details = api.details.len(), "gemini error body");
            map_api_error(status, &api)
        }
        None if status >= 500 || status == 408 => ModelError::Unavailable {
            status,
            message: format!("HTTP {status}"),
        },
        None => GeminiError::UnexpectedStatus { status }.into_model_error(false),
    }
}

#[async_trait]
impl LanguageModel for GeminiClient {
    fn model_id(&self) -> &str {
        &self.inner.model
    }

    async fn generate(&self, request: &LlmRequest) -> Result<LlmResponse, ModelError> {
        let body = build_generate_body(self.inner(), request)?;
        let wire = WireRequest {
            path: format!("{}:generateContent", model_path(&self.inner.model)),
            query: None,
            body,
        };
        self.with_deadline(request.timeout, async {
            let response = self.send_with_retry(wire).await?;
            let bytes = response.collect(MAX_BODY_BYTES).await.map_err(|e| {
                let temporary = e.is_temporary();
                GeminiError::Transport(e).into_model_error(temporary)
            })?;
            let parsed: GenerateContentResponse =
                serde_json::from_slice(&bytes).map_err(|source| {
                    GeminiError::Decode {
                        what: "generateContent",
                        source,
                    }
                    .into_model_error(false)
                })?;
            interpret_response(&parsed, &self.inner.model, request.json_schema.is_some())
        })
        .await
    }

    async fn stream(&self, request: &LlmRequest) -> Result<DeltaStream, ModelError> {
        let body = build_generate_body(self.inner(), request)?;
        let wire = WireRequest {
            path: format!("{}:streamGenerateContent", model_path(&self.inner.model)),
            query: Some("alt=sse".to_owned()),
            body,
        };
        let limit = request.timeout.or(self.inner.timeout);
        let deadline = limit.map(|l| (Instant::now() + l, l));
        let response = self
            .with_deadline(request.timeout, self.send_with_retry(wire))
            .await?;
        Ok(delta_stream(response, deadline))
    }
}
