//! [`OpenAiClientBuilder`]: base URL, optional key, model, extra headers, timeout, retries,
//! structured-output mode. `build()` validates and names the faulty field.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use helpdesk_core::Error;
use helpdesk_llm_http::http::{check_key, config_error, env_var, http_client, parse_base_url};
use helpdesk_llm_http::{CallPolicy, Secret};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};

use crate::client::{ClientInner, OpenAiClient};
use crate::options::{StructuredOutput, TokenLimitField};
use crate::retry::{RetryPolicy, Sleeper};
use crate::transport::Http;

/// The default base URL (OpenAI's API).
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// The default chat model (configurable with [`OpenAiClientBuilder::model`] or
/// `OPENAI_MODEL`).
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";

/// The default per-call deadline.
pub const DEFAULT_TIMEOUT: Duration = helpdesk_llm_http::DEFAULT_TIMEOUT;

/// The environment variable [`OpenAiClientBuilder::from_env`] reads for the base URL.
pub const BASE_URL_ENV: &str = "OPENAI_BASE_URL";
/// The environment variable [`OpenAiClientBuilder::from_env`] reads for the API key.
pub const API_KEY_ENV: &str = "OPENAI_API_KEY";
/// The environment variable [`OpenAiClientBuilder::from_env`] reads for the model.
pub const MODEL_ENV: &str = "OPENAI_MODEL";

/// Header names whose values are secrets (kept out of `Debug` and marked sensitive).
const SECRET_HEADERS: &[&str] = &["authorization", "api-key", "x-api-key"];

/// Builds an [`OpenAiClient`].
#[derive(Debug)]
pub struct OpenAiClientBuilder {
    base_url: String,
    api_key: Option<Secret>,
    model: String,
    headers: Vec<(String, Secret)>,
    http: Option<reqwest::Client>,
    calls: CallPolicy,
    structured: StructuredOutput,
    strict: bool,
    token_field: TokenLimitField,
}

impl Default for OpenAiClientBuilder {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            model: DEFAULT_MODEL.to_owned(),
            headers: Vec::new(),
            http: None,
            calls: CallPolicy::default(),
            structured: StructuredOutput::default(),
            strict: true,
            token_field: TokenLimitField::default(),
        }
    }
}

impl OpenAiClientBuilder {
    /// A builder with the defaults: [`DEFAULT_BASE_URL`], [`DEFAULT_MODEL`], no key,
    /// [`DEFAULT_TIMEOUT`], [`RetryPolicy::default`], [`StructuredOutput::Auto`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder configured from `OPENAI_BASE_URL`, `OPENAI_API_KEY` and `OPENAI_MODEL`
    /// (each only when set and not empty; the defaults otherwise).
    pub fn from_env() -> Self {
        let mut builder = Self::new();
        if let Some(url) = env_var(BASE_URL_ENV) {
            builder = builder.base_url(url);
        }
        if let Some(key) = env_var(API_KEY_ENV) {
            builder = builder.api_key(key);
        }
        if let Some(model) = env_var(MODEL_ENV) {
            builder = builder.model(model);
        }
        builder
    }

    /// The API base URL up to and including the version, e.g. `https://api.openai.com/v1`,
    /// `http://localhost:11434/v1` (Ollama), `http://127.0.0.1:8000/v1` (vLLM, llama.cpp),
    /// `https://NAME.openai.azure.com/openai/v1` (Azure). A query (`?api-version=…`) is
    /// kept and sent with every call.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The API key, sent as `Authorization: Bearer KEY` (servers on your own machines
    /// usually need none: without a key no authorization header is sent).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(Secret::new(key));
        self
    }

    /// The model (OpenAI model id, Azure deployment name, Ollama tag such as
    /// `llama3.2:3b`, a llama.cpp server's alias).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// An extra header sent with every call (replacing an earlier one of the same name).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into().to_ascii_lowercase();
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, Secret::new(value)));
        self
    }

    /// Azure OpenAI's key, sent in the `api-key` header (instead of [`api_key`](Self::api_key)).
    pub fn azure_api_key(self, key: impl Into<String>) -> Self {
        self.header("api-key", key)
    }

    /// The `OpenAI-Organization` header.
    pub fn organization(self, organization: impl Into<String>) -> Self {
        self.header("openai-organization", organization)
    }

    /// The `OpenAI-Project` header.
    pub fn project(self, project: impl Into<String>) -> Self {
        self.header("openai-project", project)
    }

    /// A host-supplied HTTP client (its own pool, proxy, TLS roots). Its timeouts apply on
    /// top of this client's deadline.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The per-call deadline, retries included, when the request sets none (`None` = no
    /// deadline). Past it a call fails with `ModelError::Timeout`.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.calls.timeout = timeout;
        self
    }

    /// The retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.calls.retry = policy;
        self
    }

    /// What waits between attempts (default: `tokio::time::sleep`).
    pub fn sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.calls.sleeper = sleeper;
        self
    }

    /// How a requested JSON schema is asked for (default [`StructuredOutput::Auto`]).
    pub fn structured_output(mut self, mode: StructuredOutput) -> Self {
        self.structured = mode;
        self
    }

    /// Whether `json_schema.strict` is set for schemas that qualify (every object closed
    /// and every property required; default `true`). Others are sent with `strict: false`.
    pub fn strict_schemas(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Which field carries the output token cap (default `max_tokens`, which every
    /// compatible server reads; OpenAI's reasoning models need `max_completion_tokens`).
    pub fn token_limit_field(mut self, field: TokenLimitField) -> Self {
        self.token_field = field;
        self
    }

    /// Validates and builds the client.
    pub fn build(self) -> Result<OpenAiClient, Error> {
        validate_model(&self.model)?;
        self.calls.validate()?;
        let (base_url, query) = validate_base_url(&self.base_url)?;
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.api_key {
            check_key(key)?;
            let k = key.expose();
            let mut value = HeaderValue::from_str(&format!("Bearer {k}"))
                .map_err(|_| config_error("api_key", "not a valid header value"))?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        for (name, value) in &self.headers {
            let header_name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| config_error("headers", format!("{name:?} is not a header name")))?;
            let mut header_value = HeaderValue::from_str(value.expose()).map_err(|_| {
                config_error(
                    "headers",
                    format!("the value of {name} is not a header value"),
                )
            })?;
            if SECRET_HEADERS.contains(&name.as_str()) {
                header_value.set_sensitive(true);
            }
            headers.insert(header_name, header_value);
        }
        let http = http_client(self.http)?;
        Ok(OpenAiClient::from_inner(ClientInner {
            model: self.model,
            http: Http::new(http, &base_url, query, headers),
            calls: self.calls,
            structured: self.structured,
            json_schema_unsupported: AtomicBool::new(false),
            strict: self.strict,
            token_field: self.token_field,
        }))
    }
}

/// A model name: 1 to 256 printable characters without whitespace.
pub(crate) fn validate_model(model: &str) -> Result<(), Error> {
    let ok = !model.is_empty()
        && model.len() <= 256
        && model.chars().all(|c| !c.is_whitespace() && !c.is_control());
    if ok {
        Ok(())
    } else {
        Err(config_error(
            "model",
            "must be a model name such as gpt-4o-mini or llama3.2:3b (no whitespace)",
        ))
    }
}

/// The base URL without a trailing slash, and its query (sent with every call).
fn validate_base_url(url: &str) -> Result<(String, Option<String>), Error> {
    let parsed = parse_base_url(url)?;
    if parsed
        .query_pairs()
        .any(|(k, _)| matches!(k.as_ref(), "key" | "api_key" | "api-key"))
    {
        return Err(config_error(
            "base_url",
            "must not carry a key (it goes in a header)",
        ));
    }
    let query = parsed.query().map(str::to_owned);
    let mut without_query = parsed.clone();
    without_query.set_query(None);
    Ok((
        without_query.as_str().trim_end_matches('/').to_owned(),
        query,
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn field_of(result: Result<OpenAiClient, Error>) -> String {
        match result {
            Err(Error::Configuration { field, .. }) => field.into_owned(),
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn build_names_the_faulty_field() {
        let b = OpenAiClientBuilder::new;
        assert_eq!(field_of(b().model("").build()), "model");
        assert_eq!(field_of(b().model("a b").build()), "model");
        assert_eq!(field_of(b().base_url("ftp://x").build()), "base_url");
        assert_eq!(
            field_of(b().base_url("http://x/v1?key=abc").build()),
            "base_url"
        );
        assert_eq!(
            field_of(b().base_url("http://u:p@x/v1").build()),
            "base_url"
        );
        assert_eq!(
            field_of(b().timeout(Some(Duration::ZERO)).build()),
            "timeout"
        );
        assert_eq!(field_of(b().api_key(" ").build()), "api_key");
        assert_eq!(field_of(b().header("bad header", "x").build()), "headers");
        assert_eq!(
            field_of(b().header("x-a", "line\nbreak").build()),
            "headers"
        );
        assert!(b().base_url("http://127.0.0.1:9/v1/").build().is_ok());
        assert!(b().model("hf.co/org/repo:Q4_K_M").build().is_ok());
        assert!(
            b().base_url("https://r.openai.azure.com/openai/v1?api-version=preview")
                .build()
                .is_ok()
        );
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let builder = OpenAiClientBuilder::new()
            .api_key("sk-TopSecret")
            .azure_api_key("AzureSecret")
            .organization("org-1");
        assert!(!format!("{builder:?}").contains("Secret"));
        let client = builder.build().unwrap();
        let debug = format!("{client:?}");
        assert!(
            !debug.contains("TopSecret") && !debug.contains("AzureSecret"),
            "{debug}"
        );
    }
}
