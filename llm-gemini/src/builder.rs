//! [`GeminiClientBuilder`]: key, model, base URL, HTTP client, timeout, retries, options,
//! record/replay. `build()` validates and names the faulty field.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use helpdesk_core::Error;
use helpdesk_llm_http::CallPolicy;
use helpdesk_llm_http::http::{check_key, config_error, env_var, http_client, parse_base_url};

use crate::client::{ClientInner, GeminiClient};
use crate::options::{HarmBlockThreshold, HarmCategory, SafetySetting, ThinkingConfig};
use crate::record::{Recorder, Replayer};
use crate::retry::{RetryPolicy, Sleeper};
use crate::transport::{ApiKey, ReqwestTransport, Transport};

/// The default generation model (a current Flash model; configurable with
/// [`GeminiClientBuilder::model`]).
pub const DEFAULT_MODEL: &str = "gemini-2.5-flash";

/// The default API base URL.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";

/// The environment variable read for the key when none is given.
pub const API_KEY_ENV: &str = "GEMINI_API_KEY";

/// The environment variable [`GeminiClientBuilder::base_url_from_env`] reads.
pub const BASE_URL_ENV: &str = "GEMINI_BASE_URL";

/// The default per-call deadline.
pub const DEFAULT_TIMEOUT: Duration = helpdesk_llm_http::DEFAULT_TIMEOUT;

/// Builds a [`GeminiClient`].
#[derive(Debug)]
pub struct GeminiClientBuilder {
    api_key: Option<ApiKey>,
    model: String,
    base_url: String,
    http: Option<reqwest::Client>,
    calls: CallPolicy,
    safety: Vec<SafetySetting>,
    thinking: Option<ThinkingConfig>,
    transport: Option<Arc<dyn Transport>>,
    record_dir: Option<PathBuf>,
}

impl Default for GeminiClientBuilder {
    fn default() -> Self {
        Self {
            api_key: None,
            model: DEFAULT_MODEL.to_owned(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            http: None,
            calls: CallPolicy::default(),
            safety: Vec::new(),
            thinking: None,
            transport: None,
            record_dir: None,
        }
    }
}

impl GeminiClientBuilder {
    /// A builder with the defaults: [`DEFAULT_MODEL`], [`DEFAULT_BASE_URL`],
    /// [`DEFAULT_TIMEOUT`], [`RetryPolicy::default`], the key from `GEMINI_API_KEY`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The API key (otherwise read from `GEMINI_API_KEY` at `build()`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(ApiKey::new(key));
        self
    }

    /// The model id, e.g. `gemini-2.5-flash` or `gemini-3.5-flash`.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// The API base URL (for tests and proxies).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Uses `GEMINI_BASE_URL` as the base URL when it is set and not empty.
    pub fn base_url_from_env(self) -> Self {
        match env_var(BASE_URL_ENV) {
            Some(url) => self.base_url(url),
            None => self,
        }
    }

    /// A host-supplied HTTP client (its own pool, proxy, TLS roots). Its timeouts apply on
    /// top of this client's deadline.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The per-call deadline, retries included, when the request sets none
    /// (`None` = no deadline). Past it a call fails with `ModelError::Timeout`.
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

    /// Adds a safety setting.
    pub fn safety_setting(mut self, category: HarmCategory, threshold: HarmBlockThreshold) -> Self {
        self.safety.retain(|s| s.category != category);
        self.safety.push(SafetySetting {
            category,
            threshold,
        });
        self
    }

    /// The thinking configuration (checked against the model at `build()`).
    pub fn thinking(mut self, thinking: ThinkingConfig) -> Self {
        self.thinking = Some(thinking);
        self
    }

    /// A custom transport (e.g. a [`Replayer`]); the key, base URL and HTTP client are then
    /// not used.
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Serves every call from recordings in `dir` (see [`Replayer`]); no key is needed.
    pub fn replay_from(self, dir: impl Into<PathBuf>) -> Result<Self, Error> {
        let replayer = Replayer::from_dir(dir).map_err(|e| Error::Configuration {
            field: "replay_from".into(),
            message: format!("cannot load recordings: {}", error_chain(&e)),
        })?;
        Ok(self.transport(Arc::new(replayer)))
    }

    /// Records every call and its response into `dir` (key scrubbed), see [`Recorder`].
    pub fn record_to(mut self, dir: impl Into<PathBuf>) -> Self {
        self.record_dir = Some(dir.into());
        self
    }

    /// Validates and builds the client.
    pub fn build(self) -> Result<GeminiClient, Error> {
        validate_model(&self.model)?;
        if let Some(thinking) = &self.thinking {
            thinking
                .validate_for(&self.model)
                .map_err(|m| config_error("thinking", m))?;
        }
        self.calls.validate()?;
        let mut key = None;
        let transport: Arc<dyn Transport> = match self.transport {
            Some(transport) => transport,
            None => {
                let api_key = match self.api_key {
                    Some(k) => k,
                    None => ApiKey::new(std::env::var(API_KEY_ENV).map_err(|_| {
                        config_error("api_key", format!("not given and {API_KEY_ENV} is not set"))
                    })?),
                };
                check_key(&api_key)?;
                let base_url = validate_base_url(&self.base_url)?;
                let http = http_client(self.http)?;
                let transport = ReqwestTransport::new(http, &base_url, &api_key)
                    .map_err(|_| config_error("api_key", "not a valid header value"))?;
                key = Some(api_key);
                Arc::new(transport)
            }
        };
        let transport: Arc<dyn Transport> = match self.record_dir {
            Some(dir) => {
                let mut recorder = Recorder::new(transport, dir);
                if let Some(key) = &key {
                    recorder = recorder.scrub(key.expose());
                }
                Arc::new(recorder)
            }
            None => transport,
        };
        Ok(GeminiClient::from_inner(ClientInner {
            model: self.model,
            transport,
            calls: self.calls,
            safety: self.safety,
            thinking: self.thinking,
        }))
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A model id: `name` or `models/name`, `tunedModels/name`; letters, digits, `.`, `-`, `_`.
pub(crate) fn validate_model(model: &str) -> Result<(), Error> {
    let bare = model
        .strip_prefix("models/")
        .or_else(|| model.strip_prefix("tunedModels/"))
        .unwrap_or(model);
    let ok = !bare.is_empty()
        && bare.len() <= 128
        && bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(config_error(
            "model",
            "must be a model id such as gemini-2.5-flash (letters, digits, '.', '-', '_')",
        ))
    }
}

/// The base URL without a trailing slash; a query is refused (the key goes in a header).
fn validate_base_url(url: &str) -> Result<String, Error> {
    let parsed = parse_base_url(url)?;
    if parsed.query().is_some() {
        return Err(config_error(
            "base_url",
            "must not carry a query (the key goes in a header)",
        ));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn field_of(result: Result<GeminiClient, Error>) -> String {
        match result {
            Err(Error::Configuration { field, .. }) => field.into_owned(),
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn build_names_the_faulty_field() {
        let b = || GeminiClientBuilder::new().api_key("k");
        assert_eq!(field_of(b().model("models/../x").build()), "model");
        assert_eq!(field_of(b().base_url("ftp://x").build()), "base_url");
        assert_eq!(
            field_of(b().base_url("http://x/?key=abc").build()),
            "base_url"
        );
        assert_eq!(
            field_of(b().timeout(Some(Duration::ZERO)).build()),
            "timeout"
        );
        assert_eq!(
            field_of(GeminiClientBuilder::new().api_key(" ").build()),
            "api_key"
        );
        assert_eq!(
            field_of(GeminiClientBuilder::new().api_key("a b").build()),
            "api_key"
        );
        assert_eq!(
            field_of(
                b().model("gemini-2.0-flash")
                    .thinking(ThinkingConfig::budget(0))
                    .build()
            ),
            "thinking"
        );
        assert!(b().base_url("http://127.0.0.1:9/proxy/").build().is_ok());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let client = GeminiClientBuilder::new()
            .api_key("AIzaTopSecret")
            .build()
            .unwrap();
        let builder = GeminiClientBuilder::new().api_key("AIzaTopSecret");
        assert!(!format!("{client:?}").contains("TopSecret"));
        assert!(!format!("{builder:?}").contains("TopSecret"));
    }
}
