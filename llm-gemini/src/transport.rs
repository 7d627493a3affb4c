//! The HTTP seam: [`Transport`] sends one API call and returns its status and body stream.
//! [`ReqwestTransport`] is the real one; the [`record`](crate::record) module wraps or
//! replaces it.

use std::fmt;
use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use helpdesk_llm_http::JsonPoster;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};

/// The largest response body read into memory (32 MiB); a larger one is an error.
pub use helpdesk_llm_http::MAX_BODY_BYTES;

/// An API key: kept out of `Debug`, logs and URLs (the providers' shared
/// [`Secret`](helpdesk_llm_http::Secret)).
pub use helpdesk_llm_http::Secret as ApiKey;

/// The header carrying the API key (never the URL).
pub const API_KEY_HEADER: &str = "x-goog-api-key";

/// One API call, without credentials: the transport adds them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireRequest {
    /// The path, e.g. `/v1beta/models/gemini-2.5-flash:generateContent`.
    pub path: String,
    /// The query string without `?`, e.g. `alt=sse`.
    pub query: Option<String>,
    /// The JSON body (always `POST`).
    pub body: serde_json::Value,
}

impl WireRequest {
    /// The API method after the `:` of the path (`generateContent`, ...).
    pub fn method_name(&self) -> &str {
        self.path.rsplit_once(':').map_or("", |(_, m)| m)
    }
}

/// A boxed stream of body bytes.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, TransportError>> + Send>>;

/// The status line and body of a response.
pub struct WireResponse {
    /// HTTP status.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body, as it arrives.
    pub body: BodyStream,
}

impl fmt::Debug for WireResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WireResponse")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

impl WireResponse {
    /// A response whose whole body is already in memory.
    pub fn from_bytes(status: u16, content_type: Option<String>, body: Bytes) -> Self {
        Self {
            status,
            content_type,
            body: Box::pin(futures_util::stream::once(async move { Ok(body) })),
        }
    }

    /// Reads the whole body, failing past `limit` bytes.
    pub async fn collect(self, limit: usize) -> Result<Bytes, TransportError> {
        helpdesk_llm_http::http::collect_body(self.body, limit, |limit| {
            TransportError::BodyTooLarge { limit }
        })
        .await
    }
}

/// Why a call did not produce a response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// reqwest failed (connect, TLS, reset, body read).
    #[error("HTTP request failed")]
    Http(#[source] reqwest::Error),
    /// Reading or writing a recording failed.
    #[error("recording file {path} failed")]
    Recording {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A recording file was not valid JSON.
    #[error("recording file {path} is not a valid recording")]
    RecordingFormat {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A response body was larger than the limit.
    #[error("response body larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The replayer has no recorded response for this request.
    #[error("no recorded response for {path}")]
    NoRecording {
        /// The request path.
        path: String,
    },
}

impl TransportError {
    /// Whether retrying may help (connection-level failures).
    pub fn is_temporary(&self) -> bool {
        match self {
            Self::Http(e) => helpdesk_llm_http::http::is_temporary(e),
            _ => false,
        }
    }
}

/// Sends one API call.
#[async_trait]
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends `request` and returns the status and body stream (any status: the caller
    /// interprets errors).
    async fn send(&self, request: WireRequest) -> Result<WireResponse, TransportError>;
}

/// The real transport: reqwest with rustls, the key in the `x-goog-api-key` header.
#[derive(Clone)]
pub struct ReqwestTransport {
    http: JsonPoster,
}

impl fmt::Debug for ReqwestTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestTransport")
            .field("base_url", &self.http.base_url())
            .finish_non_exhaustive()
    }
}

impl ReqwestTransport {
    /// A transport to `base_url` (no trailing slash needed) sending `key` in the header.
    pub(crate) fn new(
        client: reqwest::Client,
        base_url: &str,
        key: &ApiKey,
    ) -> Result<Self, reqwest::header::InvalidHeaderValue> {
        let mut headers = HeaderMap::new();
        let mut value = HeaderValue::from_str(key.expose())?;
        value.set_sensitive(true);
        headers.insert(API_KEY_HEADER, value);
        headers.insert(
            "x-goog-api-client",
            HeaderValue::from_static(concat!("helpdesk-llm-gemini/", env!("CARGO_PKG_VERSION"))),
        );
        Ok(Self {
            http: JsonPoster::new(client, base_url, None, headers),
        })
    }
}

#[async_trait]
impl Transport for ReqwestTransport {
    async fn send(&self, request: WireRequest) -> Result<WireResponse, TransportError> {
        let response = self
            .http
            .post(&request.path, request.query.as_deref(), &request.body)
            .await
            .map_err(TransportError::Http)?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .bytes_stream()
            .map(|chunk| chunk.map_err(|e| TransportError::Http(e.without_url())));
        Ok(WireResponse {
            status,
            content_type,
            body: Box::pin(body),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_not_in_debug() {
        let key = ApiKey::new("AIzaSecret123");
        assert!(!format!("{key:?}").contains("Secret"));
        let transport = ReqwestTransport::new(reqwest::Client::new(), "http://x/", &key);
        assert!(transport.is_ok_and(|t| !format!("{t:?}").contains("Secret")));
    }
}
