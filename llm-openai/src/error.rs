//! The OpenAI-style error body, the crate's private error enum, and their mapping to core
//! [`ModelError`] kinds.

use std::time::Duration;

use helpdesk_core::{BlockReason, ModelError};
use serde_json::Value;

use crate::transport::TransportError;

/// The provider name used in [`ModelError::Provider`].
pub(crate) const PROVIDER: &str = "openai";

/// A parsed error body, read leniently: OpenAI's `{"error":{"message","type","param","code"}}`,
/// vLLM's top-level `{"object":"error","message","type","code"}`, Ollama's
/// `{"error":"text"}` and FastAPI's `{"detail": …}` all land here.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// The human-readable message (never contains the key).
    pub message: String,
    /// `type`, e.g. `invalid_request_error`.
    pub kind: Option<String>,
    /// `code`, e.g. `model_not_found`, `context_length_exceeded`, `rate_limit_exceeded`
    /// (a number where the server sends one, as text).
    pub code: Option<String>,
    /// `param`, e.g. `messages`.
    pub param: Option<String>,
}

fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl ApiError {
    /// Parses an error body; `None` when it is not JSON or carries no message.
    pub fn parse(text: &str) -> Option<Self> {
        let value: Value = serde_json::from_str(text.trim()).ok()?;
        let object = match value.get("error") {
            Some(Value::String(message)) => {
                return Some(Self {
                    message: message.clone(),
                    ..Self::default()
                });
            }
            Some(inner @ Value::Object(_)) => inner,
            _ => &value,
        };
        let message = text_of(object.get("message"))
            .or_else(|| object.get("detail").map(|d| truncate(&d.to_string(), 500)))?;
        Some(Self {
            message,
            kind: text_of(object.get("type")),
            code: text_of(object.get("code")),
            param: text_of(object.get("param")),
        })
    }

    fn code_is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// Whether the prompt was longer than the context window: OpenAI's and Azure's code
    /// `context_length_exceeded`, llama.cpp server's type `exceed_context_size_error`, and
    /// the wordings of servers that send no code: vLLM ("This model's maximum context
    /// length is …", "… is longer than the maximum model length of …"), llama.cpp server
    /// ("the request exceeds the available context size"), llama-cpp-python ("Requested
    /// tokens (N) exceed context window of M"), Ollama ("the input length exceeds the
    /// context length").
    pub fn is_context_overflow(&self) -> bool {
        let m = self.message.to_ascii_lowercase();
        self.code_is("context_length_exceeded")
            || self.kind.as_deref() == Some("exceed_context_size_error")
            || m.contains("maximum context length")
            || m.contains("context length exceeded")
            || m.contains("exceeds the available context size")
            || m.contains("exceed context window")
            || m.contains("exceeds the context length")
            || m.contains("longer than the maximum model length")
            || (m.contains("context") && m.contains("exceed") && m.contains("token"))
    }

    /// Whether a content filter refused the prompt (Azure's `content_filter`, OpenAI's
    /// `content_policy_violation`).
    pub fn is_content_filter(&self) -> bool {
        self.code_is("content_filter") || self.code_is("content_policy_violation")
    }

    /// Whether the server says it does not support `response_format` of type
    /// `json_schema` (as opposed to rejecting the schema itself).
    pub fn is_response_format_unsupported(&self) -> bool {
        is_response_format_unsupported(&self.message)
    }
}

/// The message test behind [`ApiError::is_response_format_unsupported`].
pub(crate) fn is_response_format_unsupported(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    let about_format = m.contains("response_format") || m.contains("json_schema");
    let unsupported = [
        "not supported",
        "unsupported",
        "not one of",
        "must be one of",
        "unknown variant",
        "unrecognized",
        "not permitted",
        "input should be 'text' or 'json_object'",
        "does not support",
    ]
    .iter()
    .any(|phrase| m.contains(phrase));
    about_format && unsupported && !m.contains("invalid schema")
}

fn truncate(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// The crate's private error causes, carried as the `source` of [`ModelError::Provider`] so
/// the chain is kept.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum OpenAiError {
    /// The transport failed (connection refused, reset, body too large).
    #[error("HTTP transport failed")]
    Transport(#[source] TransportError),
    /// A response body was not the JSON the API documents.
    #[error("could not decode the {what} response body")]
    Decode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// A non-success HTTP status without an error body.
    #[error("HTTP status {status} without an error body")]
    UnexpectedStatus { status: u16 },
    /// The stream ended without a finish reason.
    #[error("the response stream ended before a finish reason was sent")]
    StreamIncomplete,
    /// The SSE byte stream was malformed (not UTF-8, endless line).
    #[error("the response stream could not be parsed")]
    StreamFormat(#[source] helpdesk_llm_http::sse::SseError),
}

impl OpenAiError {
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
    OpenAiError::Transport(e).into_model_error(temporary)
}

/// Maps an HTTP status, its parsed error body and the server's wait hint to a core kind.
pub(crate) fn map_api_error(status: u16, api: &ApiError, hint: Option<Duration>) -> ModelError {
    let message = match &api.code {
        Some(code) if !code.chars().all(|c| c.is_ascii_digit()) => {
            format!("{code}: {}", api.message)
        }
        _ => api.message.clone(),
    };
    // Some servers (llama-cpp-python) report an overflow as a 500: it is still the
    // request's size, not an outage, and retrying it would fail the same way.
    if api.is_context_overflow() && (status == 400 || status == 413 || status >= 500) {
        return ModelError::ContextOverflow {
            message: api.message.clone(),
        };
    }
    // llama-cpp-python reports its request validation errors (such as an unknown
    // `response_format` type) as 500 `internal_server_error`: not worth retrying.
    if api.is_response_format_unsupported() {
        return ModelError::InvalidRequest { message };
    }
    if api.is_content_filter() && status < 500 {
        return ModelError::Blocked {
            reason: BlockReason::Safety,
        };
    }
    match status {
        401 | 403 => ModelError::Authentication { message },
        404 => ModelError::NotFound { message },
        429 => ModelError::RateLimited {
            // An exhausted quota will not come back by waiting.
            retry_after: if api.code_is("insufficient_quota") {
                None
            } else {
                hint
            },
            message,
        },
        408 | 500..=599 => ModelError::Unavailable { status, message },
        _ => ModelError::InvalidRequest { message },
    }
}

/// Maps an error object sent with status 200 (in a body or a stream event): its status is
/// read from a numeric `code`, else guessed from its `type` (500 when unknown).
pub(crate) fn error_value(error: &Value) -> ModelError {
    let wrapped = serde_json::json!({ "error": error });
    let api = ApiError::parse(&wrapped.to_string()).unwrap_or_else(|| ApiError {
        message: "an error without a message".into(),
        ..ApiError::default()
    });
    let status = api
        .code
        .as_deref()
        .and_then(|c| c.parse::<u16>().ok())
        .filter(|s| (400..600).contains(s))
        .unwrap_or(match api.kind.as_deref() {
            Some("invalid_request_error") => 400,
            Some("authentication_error") => 401,
            Some("rate_limit_error" | "rate_limit_exceeded" | "tokens") => 429,
            _ => 500,
        });
    map_api_error(status, &api, None)
}

/// Maps a status without a parsable error body.
pub(crate) fn map_bare_status(status: u16, hint: Option<Duration>, body: &str) -> ModelError {
    let message = format!("HTTP {status}: {}", truncate(body.trim(), 200));
    match status {
        401 | 403 => ModelError::Authentication { message },
        404 => ModelError::NotFound { message },
        429 => ModelError::RateLimited {
            retry_after: hint,
            message,
        },
        408 | 500..=599 => ModelError::Unavailable { status, message },
        _ => OpenAiError::UnexpectedStatus { status }.into_model_error(false),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn parses_the_error_shapes_of_common_servers() {
        let openai = ApiError::parse(
            r#"{"error":{"message":"The model `x` does not exist","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#,
        )
        .unwrap();
        assert_eq!(openai.code.as_deref(), Some("model_not_found"));
        let vllm = ApiError::parse(
            r#"{"object":"error","message":"bad","type":"BadRequestError","param":null,"code":400}"#,
        )
        .unwrap();
        assert_eq!(
            (vllm.message.as_str(), vllm.code.as_deref()),
            ("bad", Some("400"))
        );
        let ollama =
            ApiError::parse(r#"{"error":"model \"x\" not found, try pulling it first"}"#).unwrap();
        assert!(ollama.message.contains("not found"));
        let fastapi = ApiError::parse(r#"{"detail":[{"loc":["body"],"msg":"x"}]}"#).unwrap();
        assert!(fastapi.message.contains("msg"));
        assert!(ApiError::parse("<html>502</html>").is_none());
        assert!(ApiError::parse("{}").is_none());
    }

    #[test]
    fn maps_statuses_and_codes_to_core_kinds() {
        let api = |code: Option<&str>, message: &str| ApiError {
            message: message.into(),
            code: code.map(Into::into),
            ..ApiError::default()
        };
        let s = Duration::from_secs;
        let kind = |status, a: &ApiError| map_api_error(status, a, Some(s(2))).kind_name();
        assert_eq!(
            kind(401, &api(Some("invalid_api_key"), "bad key")),
            "authentication"
        );
        assert_eq!(kind(404, &api(Some("model_not_found"), "no")), "not_found");
        assert_eq!(kind(503, &api(None, "overloaded")), "unavailable");
        assert_eq!(
            kind(400, &api(Some("content_filter"), "filtered")),
            "blocked"
        );
        let overflow = map_api_error(
            400,
            &api(
                Some("context_length_exceeded"),
                "This model's maximum context length is 2048 tokens.",
            ),
            None,
        );
        match &overflow {
            ModelError::ContextOverflow { message } => {
                assert_eq!(
                    message,
                    "This model's maximum context length is 2048 tokens."
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(!overflow.is_temporary());
        for (status, wording) in [
            // llama.cpp server
            (
                400,
                "the request exceeds the available context size, try increasing it",
            ),
            // llama-cpp-python (a 500 `internal_server_error`)
            (500, "Requested tokens (4100) exceed context window of 2048"),
            // vLLM, older and newer
            (
                400,
                "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4900 in the messages, 100 in the completion).",
            ),
            (
                400,
                "The decoder prompt (length 5000) is longer than the maximum model length of 4096.",
            ),
            // Ollama
            (400, "the input length exceeds the context length"),
        ] {
            let mapped = map_api_error(status, &api(None, wording), None);
            assert_eq!(mapped.kind_name(), "context_overflow", "{wording}");
        }
        let llama_cpp_typed = ApiError {
            message: "too long".into(),
            kind: Some("exceed_context_size_error".into()),
            ..ApiError::default()
        };
        assert_eq!(
            map_api_error(400, &llama_cpp_typed, None).kind_name(),
            "context_overflow"
        );
        match map_api_error(
            429,
            &api(Some("rate_limit_exceeded"), "slow down"),
            Some(s(2)),
        ) {
            ModelError::RateLimited { retry_after, .. } => assert_eq!(retry_after, Some(s(2))),
            other => panic!("{other:?}"),
        }
        match map_api_error(429, &api(Some("insufficient_quota"), "quota"), Some(s(2))) {
            ModelError::RateLimited { retry_after, .. } => assert_eq!(retry_after, None),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn llama_cpp_pythons_validation_error_is_an_invalid_request() {
        // llama-cpp-python 0.3.36's answer to `response_format: {type: json_schema}`.
        let body = r#"{"error":{"message":"1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', 'ctx': {'expected': \"'text' or 'json_object'\"}}\n\n  File \"/x/llama_cpp/server/app.py\", line 376, in create_chat_completion\n    POST /v1/chat/completions","type":"internal_server_error","param":null,"code":null}}"#;
        let api = ApiError::parse(body).unwrap();
        match map_api_error(500, &api, None) {
            ModelError::InvalidRequest { message } => {
                assert!(is_response_format_unsupported(&message), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tells_an_unsupported_response_format_from_a_bad_schema() {
        for yes in [
            "response_format type json_schema is not supported by this server",
            "Invalid value for 'response_format.type': must be one of 'text', 'json_object'",
            "1 validation error: response_format.type Input should be 'text' or 'json_object'",
        ] {
            assert!(is_response_format_unsupported(yes), "{yes}");
        }
        for no in [
            "Invalid schema for response_format 'answer': 'additionalProperties' is required to be supplied and to be false, which is not supported",
            "This model's maximum context length is 2048 tokens",
        ] {
            assert!(!is_response_format_unsupported(no), "{no}");
        }
    }
}
