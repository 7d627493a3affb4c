//! The Gemini error body, the crate's private error enum, and their mapping to core
//! [`ModelError`] kinds.

use std::time::Duration;

use helpdesk_core::{BlockReason, ModelError};
use serde::Deserialize;

use crate::transport::TransportError;

/// The provider name used in [`ModelError::Provider`].
pub(crate) const PROVIDER: &str = "gemini";

/// A parsed Google API error body: `{"error":{"code","message","status","details"}}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP code the API put in the body (may differ from the transport status).
    #[serde(default)]
    pub code: u16,
    /// The human-readable message (never contains the key).
    #[serde(default)]
    pub message: String,
    /// The RPC status, e.g. `RESOURCE_EXHAUSTED`.
    #[serde(default)]
    pub status: String,
    /// The typed details (`@type` = `type.googleapis.com/google.rpc.*`), kept raw.
    #[serde(default)]
    pub details: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct ApiErrorEnvelope {
    error: ApiError,
}

impl ApiError {
    /// Parses an error body leniently: `{"error":{…}}` or the same wrapped in a one-item array.
    /// Returns `None` when the text is not a Google error body.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.starts_with('[') {
            // (A derived struct would also accept a JSON array: branch on the shape first.)
            return serde_json::from_str::<Vec<ApiErrorEnvelope>>(text)
                .ok()
                .and_then(|list| list.into_iter().next())
                .map(|envelope| envelope.error);
        }
        serde_json::from_str::<ApiErrorEnvelope>(text)
            .ok()
            .map(|envelope| envelope.error)
    }

    /// The details item whose `@type` ends with `suffix` (e.g. `"google.rpc.RetryInfo"`).
    fn detail(&self, suffix: &str) -> Option<&serde_json::Value> {
        self.details.iter().find(|d| {
            d.get("@type")
                .and_then(serde_json::Value::as_str)
                .is_some_and(|t| t.ends_with(suffix))
        })
    }

    /// `RetryInfo.retryDelay` (a protobuf Duration string such as `"26s"` or `"1.5s"`).
    pub fn retry_delay(&self) -> Option<Duration> {
        self.detail("google.rpc.RetryInfo")
            .and_then(|d| d.get("retryDelay"))
            .and_then(serde_json::Value::as_str)
            .and_then(parse_proto_duration)
    }

    /// `ErrorInfo.reason`, e.g. `API_KEY_INVALID`.
    pub fn error_info_reason(&self) -> Option<&str> {
        self.detail("google.rpc.ErrorInfo")
            .and_then(|d| d.get("reason"))
            .and_then(serde_json::Value::as_str)
    }

    /// Whether the key was rejected (400 `API_KEY_INVALID`).
    pub fn is_bad_key(&self) -> bool {
        self.error_info_reason() == Some("API_KEY_INVALID")
            || self.message.contains("API key not valid")
    }

    /// Whether the prompt was longer than the model's input token limit. The API says so
    /// only in the message of a 400 `INVALID_ARGUMENT` (no reason code): "The input token
    /// count (N) exceeds the maximum number of tokens allowed (M)."; Vertex AI words it
    /// "… the input token count is N but model only supports up to M".
    pub fn is_context_overflow(&self) -> bool {
        let m = self.message.to_ascii_lowercase();
        m.contains("input token count")
            && (m.contains("exceeds the maximum") || m.contains("only supports up to"))
    }
}

/// Parses a protobuf JSON `Duration` (`"26s"`, `"0.5s"`, `"58.93s"`).
pub(crate) fn parse_proto_duration(text: &str) -> Option<Duration> {
    let seconds: f64 = text.trim().strip_suffix('s')?.parse().ok()?;
    (0.0..1e9)
        .contains(&seconds)
        .then(|| Duration::from_secs_f64(seconds))
}

/// The crate's private error causes, carried as the `source` of
/// [`ModelError::Provider`] so the chain is kept.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum GeminiError {
    /// The transport failed (connection refused, reset, replay miss, ...).
    #[error("HTTP transport failed")]
    Transport(#[source] TransportError),
    /// A response body was not the JSON the API documents.
    #[error("could not decode the {what} response body")]
    Decode {
        /// Which response.
        what: &'static str,
        /// The parser error.
        #[source]
        source: serde_json::Error,
    },
    /// A non-success HTTP status whose body was not a Google error body.
    #[error("HTTP status {status} without a Google error body")]
    UnexpectedStatus {
        /// The HTTP status.
        status: u16,
    },
    /// A raw (not `data:`-framed) object in a stream that is not a Google error body.
    #[error("the response stream carried an unframed object that is not an error body")]
    UnexpectedStreamObject,
    /// The stream ended without a final chunk carrying a finish reason.
    #[error("the response stream ended before a finish reason was sent")]
    StreamIncomplete,
    /// The SSE byte stream was malformed (not UTF-8, endless line).
    #[error("the response stream could not be parsed")]
    StreamFormat(#[source] helpdesk_llm_http::sse::SseError),
}

impl GeminiError {
    pub(crate) fn into_model_error(self, temporary: bool) -> ModelError {
        ModelError::Provider {
            provider: PROVIDER,
            temporary,
            source: Box::new(self),
        }
    }
}

/// A transport failure as a core error.
pub(crate) fn transport_error(e: TransportError) -> ModelError {
    let temporary = e.is_temporary();
    GeminiError::Transport(e).into_model_error(temporary)
}

/// Maps an HTTP status and its (parsed) error body to the core error kind.
pub(crate) fn map_api_error(status: u16, api: &ApiError) -> ModelError {
    let message = if api.status.is_empty() {
        api.message.clone()
    } else {
        format!("{}: {}", api.status, api.message)
    };
    match status {
        400 if api.is_bad_key() => ModelError::Authentication { message },
        400 if api.is_context_overflow() => ModelError::ContextOverflow { message },
        401 | 403 => ModelError::Authentication { message },
        404 => ModelError::NotFound { message },
        402 | 429 => ModelError::RateLimited {
            retry_after: api.retry_delay(),
            message,
        },
        408 | 500..=599 => ModelError::Unavailable { status, message },
        _ => ModelError::InvalidRequest { message },
    }
}

/// Maps a Gemini `blockReason` / blocking `finishReason` to the core reason.
pub(crate) fn block_reason(value: &str) -> BlockReason {
    match value {
        "SAFETY" | "IMAGE_SAFETY" => BlockReason::Safety,
        "BLOCKLIST" => BlockReason::Blocklist,
        "PROHIBITED_CONTENT" => BlockReason::ProhibitedContent,
        "RECITATION" => BlockReason::Recitation,
        "SPII" => BlockReason::Spii,
        other => BlockReason::Other(other.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn parses_retry_info_and_array_wrapped_bodies() {
        let body = r#"[{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED",
          "details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"26.5s"}]}}]"#;
        let api = ApiError::parse(body).unwrap();
        assert_eq!(api.code, 429);
        assert_eq!(api.retry_delay(), Some(Duration::from_millis(26_500)));
        match map_api_error(429, &api) {
            ModelError::RateLimited { retry_after, .. } => {
                assert_eq!(retry_after, Some(Duration::from_millis(26_500)));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn rejects_non_google_bodies_and_bad_durations() {
        assert!(ApiError::parse("<html>502</html>").is_none());
        assert!(ApiError::parse("[]").is_none());
        assert_eq!(parse_proto_duration("-1s"), None);
        assert_eq!(parse_proto_duration("12"), None);
        assert_eq!(parse_proto_duration("NaNs"), None);
    }

    #[test]
    fn maps_bad_key_to_authentication_and_other_400_to_invalid_request() {
        let bad_key = ApiError::parse(
            r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT",
               "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}"#,
        )
        .unwrap();
        assert!(matches!(
            map_api_error(400, &bad_key),
            ModelError::Authentication { .. }
        ));
        let unknown = ApiError {
            code: 400,
            message: "Unknown name \"x\"".into(),
            status: "INVALID_ARGUMENT".into(),
            details: vec![],
        };
        assert!(matches!(
            map_api_error(400, &unknown),
            ModelError::InvalidRequest { .. }
        ));
        assert!(matches!(
            map_api_error(404, &unknown),
            ModelError::NotFound { .. }
        ));
        assert!(matches!(
            map_api_error(503, &unknown),
            ModelError::Unavailable { status: 503, .. }
        ));
    }

    #[test]
    fn an_input_over_the_token_limit_is_a_context_overflow() {
        let api = |message: &str| ApiError {
            code: 400,
            message: message.into(),
            status: "INVALID_ARGUMENT".into(),
            details: vec![],
        };
        for message in [
            "The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).",
            "Unable to submit request because the input token count is 1200000 but model only supports up to 1048576. Reduce the input token count and try again.",
        ] {
            match map_api_error(400, &api(message)) {
                e @ ModelError::ContextOverflow { .. } => {
                    assert!(!e.is_temporary());
                    assert!(e.to_string().contains("1048576"), "{e}");
                }
                other => panic!("{message}: {other:?}"),
            }
        }
        let unrelated = api("* GenerateContentRequest.contents: contents is not specified");
        assert!(matches!(
            map_api_error(400, &unrelated),
            ModelError::InvalidRequest { .. }
        ));
    }
}
