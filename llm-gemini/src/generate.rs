//! generateContent: the request body built from a core [`LlmRequest`], and the response
//! turned into a core [`LlmResponse`] or a typed [`ModelError`].

use helpdesk_core::{FinishReason, LlmRequest, LlmResponse, ModelError, TurnRole};
use serde_json::{Map, Value, json};

use crate::client::ClientInner;
use crate::error::block_reason;
use crate::schema::sanitize_json_schema;
use crate::wire::{Candidate, Content, GenerateContentResponse};

fn invalid(message: impl Into<String>) -> ModelError {
    ModelError::InvalidRequest {
        message: message.into(),
    }
}

/// Builds the generateContent / streamGenerateContent body.
pub(crate) fn build_generate_body(
    client: &ClientInner,
    request: &LlmRequest,
) -> Result<Value, ModelError> {
    if request.turns.is_empty() {
        return Err(invalid("turns: at least one turn is needed"));
    }
    let contents: Vec<Content> = request
        .turns
        .iter()
        .map(|turn| {
            let role = match turn.role {
                TurnRole::User => "user",
                TurnRole::Model => "model",
            };
            Content::text(Some(role), &turn.text)
        })
        .collect();
    let mut body = Map::new();
    body.insert("contents".into(), json!(contents));
    if !request.system.trim().is_empty() {
        body.insert(
            "systemInstruction".into(),
            json!(Content::text(None, &request.system)),
        );
    }
    let mut config = Map::new();
    if let Some(t) = request.temperature {
        if !(0.0..=2.0).contains(&t) {
            return Err(invalid(format!("temperature: {t} is outside 0..=2")));
        }
        config.insert("temperature".into(), json!(t));
    }
    if let Some(max) = request.max_output_tokens {
        if max == 0 {
            return Err(invalid("max_output_tokens: must be at least 1"));
        }
        config.insert("maxOutputTokens".into(), json!(max));
    }
    if let Some(schema) = &request.json_schema {
        let schema = sanitize_json_schema(schema)
            .map_err(|e| invalid(format!("json_schema {}: {}", e.path, e.message)))?;
        config.insert("responseMimeType".into(), json!("application/json"));
        config.insert("responseJsonSchema".into(), schema);
    }
    if let Some(thinking) = &client.thinking {
        config.insert("thinkingConfig".into(), json!(thinking));
    }
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    if !client.safety.is_empty() {
        body.insert("safetySettings".into(), json!(client.safety));
    }
    Ok(Value::Object(body))
}

/// Maps a wire `finishReason` to the core one (unknown values become `Other`).
pub(crate) fn finish_reason(value: Option<&str>) -> FinishReason {
    match value {
        Some("STOP") => FinishReason::Stop,
        Some("MAX_TOKENS") => FinishReason::MaxTokens,
        Some("SAFETY") => FinishReason::Safety,
        Some("RECITATION") => FinishReason::Recitation,
        Some(other) => FinishReason::Other(other.to_owned()),
        None => FinishReason::Other("FINISH_REASON_UNSPECIFIED".to_owned()),
    }
}

/// Finish reasons that mean the content was withheld by a filter.
pub(crate) fn is_blocking_finish(value: &str) -> bool {
    matches!(
        value,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY"
    )
}

/// The typed outcome of a finished answer whose text is `text`:
/// an empty answer is never returned as `Ok`.
pub(crate) fn outcome_of_empty(
    candidate_finish: Option<&str>,
    finish_message: Option<&str>,
) -> ModelError {
    match candidate_finish {
        Some("MAX_TOKENS") => ModelError::Truncated,
        Some(reason) if is_blocking_finish(reason) => ModelError::Blocked {
            reason: block_reason(reason),
        },
        other => ModelError::MalformedOutput {
            message: format!(
                "the model returned no text (finish reason {}{})",
                other.unwrap_or("none"),
                finish_message.map(|m| format!(": {m}")).unwrap_or_default()
            ),
        },
    }
}

/// Interprets a complete generateContent response.
pub(crate) fn interpret_response(
    response: &GenerateContentResponse,
    model: &str,
    expects_json: bool,
) -> Result<LlmResponse, ModelError> {
    if let Some(reason) = response.block_reason() {
        return Err(ModelError::Blocked {
            reason: block_reason(reason),
        });
    }
    let Some(candidate) = response.first_candidate() else {
        return Err(ModelError::MalformedOutput {
            message: "the response has no candidates and no block reason".into(),
        });
    };
    let text = candidate.answer_text();
    finished(candidate, text, response, model, expects_json)
}

fn finished(
    candidate: &Candidate,
    text: String,
    response: &GenerateContentResponse,
    model: &str,
    expects_json: bool,
) -> Result<LlmResponse, ModelError> {
    let finish = candidate.finish_reason.as_deref();
    if text.trim().is_empty() {
        return Err(outcome_of_empty(
            finish,
            candidate.finish_message.as_deref(),
        ));
    }
    let finish_reason = finish_reason(finish);
    if expects_json
        && finish_reason == FinishReason::Stop
        && let Err(e) = serde_json::from_str::<Value>(&text)
    {
        return Err(ModelError::MalformedOutput {
            message: format!(
                "structured output is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        });
    }
    Ok(LlmResponse {
        text,
        finish_reason,
        usage: response.usage_metadata.unwrap_or_default().to_core(),
        model: response
            .model_version
            .clone()
            .unwrap_or_else(|| model.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use helpdesk_core::BlockReason;

    fn parse(text: &str) -> GenerateContentResponse {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn blocked_prompt_is_a_typed_error() {
        let r = parse(r#"{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"}}"#);
        assert!(matches!(
            interpret_response(&r, "m", false),
            Err(ModelError::Blocked {
                reason: BlockReason::ProhibitedContent
            })
        ));
        let r = parse(r#"{"promptFeedback":{"blockReason":"NEW_REASON"}}"#);
        assert!(matches!(
            interpret_response(&r, "m", false),
            Err(ModelError::Blocked { reason: BlockReason::Other(s) }) if s == "NEW_REASON"
        ));
    }

    #[test]
    fn empty_answers_are_never_ok() {
        let cases = [
            (
                r#"{"candidates":[{"finishReason":"MAX_TOKENS","index":0}]}"#,
                "truncated",
            ),
            (
                r#"{"candidates":[{"content":{"role":"model"},"finishReason":"SAFETY"}]}"#,
                "blocked",
            ),
            (
                r#"{"candidates":[{"finishReason":"MALFORMED_FUNCTION_CALL","finishMessage":"bad"}]}"#,
                "malformed_output",
            ),
            (
                r#"{"candidates":[{"content":{"parts":[]},"finishReason":"STOP"}]}"#,
                "malformed_output",
            ),
            (r#"{"candidates":[]}"#, "malformed_output"),
        ];
        for (body, kind) in cases {
            let err = interpret_response(&parse(body), "m", false).unwrap_err();
            assert_eq!(err.kind_name(), kind, "{body}");
        }
    }

    #[test]
    fn text_with_max_tokens_is_returned_with_the_finish_reason() {
        let r = parse(
            r#"{"candidates":[{"content":{"parts":[{"text":"partial"}]},"finishReason":"MAX_TOKENS"}],
               "usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3,"thoughtsTokenCount":2,"totalTokenCount":10},
               "modelVersion":"gemini-2.5-flash-001"}"#,
        );
        let answer = interpret_response(&r, "m", true).unwrap();
        assert_eq!(answer.finish_reason, FinishReason::MaxTokens);
        assert_eq!(
            (
                answer.usage.prompt_tokens,
                answer.usage.output_tokens,
                answer.usage.total_tokens
            ),
            (5, 5, 10)
        );
        assert_eq!(answer.model, "gemini-2.5-flash-001");
    }

    #[test]
    fn invalid_json_with_stop_is_malformed_and_unknown_finish_is_other() {
        let r = parse(
            r#"{"candidates":[{"content":{"parts":[{"text":"{\"a\":"}]},"finishReason":"STOP"}]}"#,
        );
        assert_eq!(
            interpret_response(&r, "m", true).unwrap_err().kind_name(),
            "malformed_output"
        );
        let r = parse(
            r#"{"candidates":[{"content":{"parts":[{"text":"hi"}]},"finishReason":"BRAND_NEW"}]}"#,
        );
        assert_eq!(
            interpret_response(&r, "m", false).unwrap().finish_reason,
            FinishReason::Other("BRAND_NEW".into())
        );
    }
}
