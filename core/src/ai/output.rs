//! Calling the model for structured output and checking the answer strictly.

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::{BlockReason, FinishReason, LanguageModel, LlmRequest, ModelError};

/// Generates and returns the answer text, turning non-`Stop` finish reasons into typed
/// errors: `MaxTokens` is [`ModelError::Truncated`], safety and recitation stops are
/// [`ModelError::Blocked`], anything else is malformed output.
pub(crate) async fn generate_text(
    model: &dyn LanguageModel,
    request: &LlmRequest,
) -> Result<String, ModelError> {
    generate_answer(model, request).await.map(|(text, _)| text)
}

/// [`generate_text`] with the id of the model that answered (a
/// [`ModelChain`](crate::ai::ModelChain) names the one of its models that did).
pub(crate) async fn generate_answer(
    model: &dyn LanguageModel,
    request: &LlmRequest,
) -> Result<(String, String), ModelError> {
    let response = model.generate(request).await?;
    match response.finish_reason {
        FinishReason::Stop => Ok((response.text, response.model)),
        FinishReason::MaxTokens => Err(ModelError::Truncated),
        FinishReason::Safety => Err(ModelError::Blocked {
            reason: BlockReason::Safety,
        }),
        FinishReason::Recitation => Err(ModelError::Blocked {
            reason: BlockReason::Recitation,
        }),
        other => Err(ModelError::MalformedOutput {
            message: format!("unexpected finish reason {other:?}"),
        }),
    }
}

/// Generates and parses a JSON answer into `T` (whose fields must all be required and
/// which must reject unknown fields).
pub(crate) async fn generate_json<T: DeserializeOwned>(
    model: &dyn LanguageModel,
    request: &LlmRequest,
) -> Result<T, ModelError> {
    let text = generate_text(model, request).await?;
    parse_strict(&text)
}

/// [`generate_json`] with a deadline: the request carries `timeout` for the model, and the
/// call is also cut off here (slightly later) in case the model ignores it.
pub(crate) async fn generate_json_within<T: DeserializeOwned>(
    model: &dyn LanguageModel,
    request: LlmRequest,
    timeout: Duration,
) -> Result<T, ModelError> {
    let request = request.with_timeout(timeout);
    let grace = timeout.saturating_add(Duration::from_millis(100));
    match tokio::time::timeout(grace, generate_json(model, &request)).await {
        Ok(result) => result,
        Err(_) => Err(ModelError::Timeout(timeout)),
    }
}

/// Parses model output strictly: it must be one JSON value (an optional markdown code
/// fence around it is tolerated) that deserialises into `T`. The error message names what
/// did not match, never the whole output.
pub(crate) fn parse_strict<T: DeserializeOwned>(text: &str) -> Result<T, ModelError> {
    let trimmed = strip_fence(text.trim());
    let value: serde_json::Value =
        serde_json::from_str(trimmed).map_err(|e| ModelError::MalformedOutput {
            message: if e.is_eof() {
                "the JSON ends early (truncated)".into()
            } else {
                format!("not valid JSON ({} at line {})", category(&e), e.line())
            },
        })?;
    if !value.is_object() {
        return Err(ModelError::MalformedOutput {
            message: "expected a JSON object".into(),
        });
    }
    serde_json::from_value(value).map_err(|e| ModelError::MalformedOutput {
        message: schema_message(&e),
    })
}

/// Model text made safe to store: control characters (except line breaks) removed, at
/// most `max` characters, trimmed.
pub(crate) fn bounded(text: &str, max: usize) -> String {
    text.chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .take(max)
        .collect::<String>()
        .trim()
        .to_string()
}

fn category(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "io",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "data error",
        serde_json::error::Category::Eof => "unexpected end",
    }
}

/// serde's message for a schema mismatch (`missing field `category``), without echoing
/// long values.
fn schema_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let mut short: String = text.chars().take(160).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

fn strip_fence(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("```") else {
        return text;
    };
    let rest = rest.strip_prefix("json").unwrap_or(rest);
    rest.strip_suffix("```").unwrap_or(rest).trim()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Out {
        #[allow(dead_code)]
        a: String,
    }

    fn message(e: ModelError) -> String {
        match e {
            ModelError::MalformedOutput { message } => message,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn parses_fenced_json() {
        assert!(parse_strict::<Out>("```json\n{\"a\":\"x\"}\n```").is_ok());
    }

    #[test]
    fn rejects_truncated_invalid_missing_and_unknown() {
        assert!(message(parse_strict::<Out>("{\"a\": \"x").unwrap_err()).contains("truncated"));
        assert!(message(parse_strict::<Out>("sure! here").unwrap_err()).contains("not valid"));
        assert!(message(parse_strict::<Out>("{}").unwrap_err()).contains("missing field"));
        assert!(
            message(parse_strict::<Out>("{\"a\":\"x\",\"b\":1}").unwrap_err())
                .contains("unknown field")
        );
        assert!(message(parse_strict::<Out>("[1]").unwrap_err()).contains("object"));
    }
}
