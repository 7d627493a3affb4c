//! [`OpenAiClient`]: the `LanguageModel` implementation and the shared call path (deadline,
//! retries, error mapping, the structured-output fallback) used by chat, streaming and
//! embeddings.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use helpdesk_core::{DeltaStream, LanguageModel, LlmRequest, LlmResponse, ModelError};
use helpdesk_llm_http::http::error_text;
use helpdesk_llm_http::{CallPolicy, Failure, MAX_BODY_BYTES};
use serde_json::Value;

use crate::builder::OpenAiClientBuilder;
use crate::chat::{ChatCompletion, JsonMode, build_chat_body, interpret_completion};
use crate::embed::OpenAiEmbedder;
use crate::error::{
    ApiError, OpenAiError, PROVIDER, is_response_format_unsupported, map_api_error,
    map_bare_status, transport_error,
};
use crate::options::{StructuredOutput, TokenLimitField};
use crate::stream::delta_stream;
use crate::transport::{Http, WireResponse};

/// The chat completions path under the base URL.
const CHAT_PATH: &str = "/chat/completions";

pub(crate) struct ClientInner {
    pub(crate) model: String,
    pub(crate) http: Http,
    pub(crate) calls: CallPolicy,
    pub(crate) structured: StructuredOutput,
    /// Set once a server refused `json_schema` in [`StructuredOutput::Auto`] mode.
    pub(crate) json_schema_unsupported: AtomicBool,
    pub(crate) strict: bool,
    pub(crate) token_field: TokenLimitField,
}

/// A client of an OpenAI-compatible chat completions API: implements [`LanguageModel`]
/// and makes [`OpenAiEmbedder`]s. Cheap to clone (clones share the detected
/// structured-output support).
#[derive(Clone)]
pub struct OpenAiClient {
    inner: Arc<ClientInner>,
}

impl fmt::Debug for OpenAiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiClient")
            .field("model", &self.inner.model)
            .field("http", &self.inner.http)
            .field("retry", &self.inner.calls.retry)
            .field("timeout", &self.inner.calls.timeout)
            .field("structured_output", &self.structured_output())
            .finish_non_exhaustive()
    }
}

impl OpenAiClient {
    /// A builder.
    pub fn builder() -> OpenAiClientBuilder {
        OpenAiClientBuilder::new()
    }

    pub(crate) fn from_inner(inner: ClientInner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    pub(crate) fn inner(&self) -> &ClientInner {
        &self.inner
    }

    /// The base URL calls go to (without its query).
    pub fn base_url(&self) -> &str {
        self.inner.http.base_url()
    }

    /// The structured-output mode in force: the configured one, except that
    /// [`StructuredOutput::Auto`] reads [`StructuredOutput::JsonObject`] once the server
    /// has refused `json_schema`.
    pub fn structured_output(&self) -> StructuredOutput {
        match self.inner.structured {
            StructuredOutput::Auto
                if self.inner.json_schema_unsupported.load(Ordering::Relaxed) =>
            {
                StructuredOutput::JsonObject
            }
            mode => mode,
        }
    }

    /// An embedder sharing this client's base URL, headers and retry policy, with `model`
    /// (e.g. `text-embedding-3-small`) whose vectors have `dimensions` values.
    pub fn embedder(
        &self,
        model: impl Into<String>,
        dimensions: usize,
    ) -> Result<OpenAiEmbedder, helpdesk_core::Error> {
        OpenAiEmbedder::new(self.clone(), model.into(), dimensions)
    }

    fn json_mode(&self, request: &LlmRequest) -> Option<JsonMode> {
        request.json_schema.as_ref()?;
        Some(match self.structured_output() {
            StructuredOutput::JsonObject => JsonMode::Object,
            StructuredOutput::JsonObjectWithSchema => JsonMode::ObjectWithSchema,
            _ => JsonMode::Schema,
        })
    }

    /// Posts `body` to `path`, retrying per the policy, and returns the first 2xx response.
    /// Every other outcome is mapped to a core error kind.
    pub(crate) async fn send_with_retry(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<WireResponse, ModelError> {
        let attempt = || async {
            match self.inner.http.post(path, body).await {
                Ok(response) if (200..300).contains(&response.status) => Ok(response),
                Ok(response) => {
                    let retry_after = response.retry_hint;
                    let error = error_from_response(response).await;
                    Err(Failure { error, retry_after })
                }
                Err(e) => Err(Failure::from(transport_error(e))),
            }
        };
        self.inner.calls.retry(PROVIDER, path, attempt).await
    }

    /// Sends a chat request; in [`StructuredOutput::Auto`] mode a 400 that says
    /// `json_schema` is unsupported switches this client to JSON mode and sends again.
    async fn send_chat(
        &self,
        request: &LlmRequest,
        stream: bool,
    ) -> Result<WireResponse, ModelError> {
        let mode = self.json_mode(request);
        let body = build_chat_body(self.inner(), request, mode, stream)?;
        match self.send_with_retry(CHAT_PATH, &body).await {
            Err(ModelError::InvalidRequest { message })
                if mode == Some(JsonMode::Schema)
                    && self.inner.structured == StructuredOutput::Auto
                    && is_response_format_unsupported(&message) =>
            {
                tracing::info!(
                    base_url = self.base_url(),
                    model = %self.inner.model,
                    "the server does not support json_schema; using JSON mode from now on"
                );
                self.inner
                    .json_schema_unsupported
                    .store(true, Ordering::Relaxed);
                let body = build_chat_body(self.inner(), request, Some(JsonMode::Object), stream)?;
                self.send_with_retry(CHAT_PATH, &body).await
            }
            other => other,
        }
    }
}

/// Reads an error response and maps it.
pub(crate) async fn error_from_response(response: WireResponse) -> ModelError {
    let status = response.status;
    let hint = response.retry_hint;
    let body = match response.collect(MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(e) => return transport_error(e),
    };
    let text = error_text(&body);
    match ApiError::parse(&text) {
        Some(api) => {
            tracing::debug!(status, code = ?api.code, kind = ?api.kind, "openai-compatible error body");
            map_api_error(status, &api, hint)
        }
        None => map_bare_status(status, hint, &text),
    }
}

/// Reads a whole 2xx body as JSON.
pub(crate) async fn read_json<T: serde::de::DeserializeOwned>(
    response: WireResponse,
    what: &'static str,
) -> Result<T, ModelError> {
    let bytes = response
        .collect(MAX_BODY_BYTES)
        .await
        .map_err(transport_error)?;
    serde_json::from_slice(&bytes)
        .map_err(|source| OpenAiError::Decode { what, source }.into_model_error(false))
}

#[async_trait]
impl LanguageModel for OpenAiClient {
    fn model_id(&self) -> &str {
        &self.inner.model
    }

    async fn generate(&self, request: &LlmRequest) -> Result<LlmResponse, ModelError> {
        self.inner
            .calls
            .with_deadline(request.timeout, async {
                let response = self.send_chat(request, false).await?;
                let completion: ChatCompletion = read_json(response, "chat completion").await?;
                interpret_completion(completion, &self.inner.model, request.json_schema.as_ref())
            })
            .await
    }

    async fn stream(&self, request: &LlmRequest) -> Result<DeltaStream, ModelError> {
        let deadline = self.inner.calls.deadline(request.timeout);
        let response = self
            .inner
            .calls
            .with_deadline(request.timeout, self.send_chat(request, true))
            .await?;
        Ok(delta_stream(
            response,
            deadline,
            request.json_schema.clone(),
        ))
    }
}
