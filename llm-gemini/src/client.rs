//! [`GeminiClient`]: the `LanguageModel` implementation and the shared call path (deadline,
//! retries, error mapping) used by generation, streaming and embeddings.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use helpdesk_core::{DeltaStream, LanguageModel, LlmRequest, LlmResponse, ModelError};
use helpdesk_llm_http::http::error_text;
use helpdesk_llm_http::{CallPolicy, Failure};

use crate::builder::GeminiClientBuilder;
use crate::embed::GeminiEmbedder;
use crate::error::{ApiError, GeminiError, PROVIDER, map_api_error, transport_error};
use crate::generate::{build_generate_body, interpret_response};
use crate::options::{SafetySetting, ThinkingConfig};
use crate::stream::delta_stream;
use crate::transport::{MAX_BODY_BYTES, Transport, WireRequest, WireResponse};
use crate::wire::GenerateContentResponse;

pub(crate) struct ClientInner {
    pub(crate) model: String,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) calls: CallPolicy,
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
            .field("retry", &self.inner.calls.retry)
            .field("timeout", &self.inner.calls.timeout)
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

    /// Sends `request`, retrying per the policy, and returns the first 2xx response. Every
    /// other outcome is mapped to a core error kind. Gemini's wait hint travels in the
    /// error body (`RetryInfo`), so no header hint is passed on.
    pub(crate) async fn send_with_retry(
        &self,
        request: WireRequest,
    ) -> Result<WireResponse, ModelError> {
        let attempt = || async {
            match self.inner.transport.send(request.clone()).await {
                Ok(response) if (200..300).contains(&response.status) => Ok(response),
                Ok(response) => Err(Failure::from(error_from_response(response).await)),
                Err(e) => Err(Failure::from(transport_error(e))),
            }
        };
        let call = request.method_name();
        self.inner.calls.retry(PROVIDER, call, attempt).await
    }
}

/// Reads an error response and maps it.
async fn error_from_response(response: WireResponse) -> ModelError {
    let status = response.status;
    let body = match response.collect(MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(e) => return transport_error(e),
    };
    let text = error_text(&body);
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
        self.inner
            .calls
            .with_deadline(request.timeout, async {
                let response = self.send_with_retry(wire).await?;
                let bytes = response
                    .collect(MAX_BODY_BYTES)
                    .await
                    .map_err(transport_error)?;
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
        let deadline = self.inner.calls.deadline(request.timeout);
        let response = self
            .inner
            .calls
            .with_deadline(request.timeout, self.send_with_retry(wire))
            .await?;
        Ok(delta_stream(response, deadline))
    }
}
