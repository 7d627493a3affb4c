//! Chat completions: the request body built from a core [`LlmRequest`], the wire types of
//! the answer, and the typed outcome of a finished answer (shared with streaming).

use helpdesk_core::{
    BlockReason, FinishReason, LlmRequest, LlmResponse, ModelError, TokenUsage, TurnRole,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::client::ClientInner;
use crate::schema::{check, schema_name, strict_compatible};

/// How this call asks for JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonMode {
    /// `response_format: json_schema`.
    Schema,
    /// `response_format: json_object` plus the schema in the system prompt.
    Object,
    /// [`Object`](Self::Object) with the schema in `response_format.schema` too.
    ObjectWithSchema,
}

fn invalid(message: impl Into<String>) -> ModelError {
    ModelError::InvalidRequest {
        message: message.into(),
    }
}

/// The system prompt of the JSON-mode fallback: the caller's, then the schema.
pub(crate) fn fallback_instructions(system: &str, schema: &Value) -> String {
    let mut text = system.trim().to_owned();
    if !text.is_empty() {
        text.push_str("\n\n");
    }
    text.push_str(
        "Answer with one JSON object and nothing else (no prose, no code fence). \
         The JSON must match this JSON Schema:\n",
    );
    text.push_str(&schema.to_string());
    text
}

/// Builds the `/chat/completions` body.
pub(crate) fn build_chat_body(
    client: &ClientInner,
    request: &LlmRequest,
    mode: Option<JsonMode>,
    stream: bool,
) -> Result<Value, ModelError> {
    if request.turns.is_empty() {
        return Err(invalid("turns: at least one turn is needed"));
    }
    let system = match (mode, &request.json_schema) {
        (Some(JsonMode::Object | JsonMode::ObjectWithSchema), Some(schema)) => {
            fallback_instructions(&request.system, schema)
        }
        _ => request.system.trim().to_owned(),
    };
    let mut messages = Vec::with_capacity(request.turns.len() + 1);
    if !system.is_empty() {
        messages.push(json!({"role": "system", "content": system}));
    }
    for turn in &request.turns {
        let role = match turn.role {
            TurnRole::User => "user",
            TurnRole::Model => "assistant",
        };
        messages.push(json!({"role": role, "content": turn.text}));
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(client.model));
    body.insert("messages".into(), Value::Array(messages));
    if let Some(t) = request.temperature {
        if !(0.0..=2.0).contains(&t) {
            return Err(invalid(format!("temperature: {t} is outside 0..=2")));
        }
        body.insert("temperature".into(), json!(t));
    }
    if let Some(max) = request.max_output_tokens {
        if max == 0 {
            return Err(invalid("max_output_tokens: must be at least 1"));
        }
        body.insert(client.token_field.key().into(), json!(max));
    }
    match (mode, &request.json_schema) {
        (Some(JsonMode::Schema), Some(schema)) => {
            let strict = client.strict && strict_compatible(schema);
            body.insert(
                "response_format".into(),
                json!({"type": "json_schema", "json_schema": {
                    "name": schema_name(schema), "schema": schema, "strict": strict}}),
            );
        }
        (Some(JsonMode::Object), Some(_)) => {
            body.insert("response_format".into(), json!({"type": "json_object"}));
        }
        (Some(JsonMode::ObjectWithSchema), Some(schema)) => {
            body.insert(
                "response_format".into(),
                json!({"type": "json_object", "schema": schema}),
            );
        }
        _ => {}
    }
    if stream {
        body.insert("stream".into(), json!(true));
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    Ok(Value::Object(body))
}

/// A chat completion or one stream chunk (unknown fields ignored).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ChatCompletion {
    #[serde(default)]
    pub(crate) choices: Vec<Choice>,
    #[serde(default)]
    pub(crate) usage: Option<Usage>,
    #[serde(default)]
    pub(crate) model: Option<String>,
    /// An error object sent in a 200 body or a stream event.
    #[serde(default)]
    pub(crate) error: Option<Value>,
}

/// One choice.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Choice {
    #[serde(default)]
    pub(crate) message: Option<Message>,
    #[serde(default)]
    pub(crate) delta: Option<Message>,
    #[serde(default)]
    pub(crate) finish_reason: Option<String>,
}

/// A message or a delta.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Message {
    #[serde(default)]
    pub(crate) content: Option<Value>,
    #[serde(default)]
    pub(crate) refusal: Option<String>,
}

impl Message {
    /// The text: a string, or the text parts of an array of content parts.
    pub(crate) fn text(&self) -> String {
        match &self.content {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect(),
            _ => String::new(),
        }
    }

    pub(crate) fn refusal(&self) -> Option<&str> {
        self.refusal.as_deref().filter(|r| !r.trim().is_empty())
    }
}

/// `usage`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(crate) struct Usage {
    #[serde(default)]
    pub(crate) prompt_tokens: Option<u32>,
    #[serde(default)]
    pub(crate) completion_tokens: Option<u32>,
    #[serde(default)]
    pub(crate) total_tokens: Option<u32>,
}

impl Usage {
    pub(crate) fn to_core(self) -> TokenUsage {
        let prompt = self.prompt_tokens.unwrap_or(0);
        let output = self.completion_tokens.unwrap_or(0);
        TokenUsage {
            prompt_tokens: prompt,
            output_tokens: output,
            total_tokens: self
                .total_tokens
                .unwrap_or_else(|| prompt.saturating_add(output)),
        }
    }
}

/// The refusal as a typed error.
pub(crate) fn refused() -> ModelError {
    ModelError::Blocked {
        reason: BlockReason::Other("refusal".into()),
    }
}

/// Maps a wire `finish_reason`.
pub(crate) fn finish_reason(value: Option<&str>) -> FinishReason {
    match value {
        Some("stop" | "eos" | "end_turn") => FinishReason::Stop,
        Some("length" | "max_tokens") => FinishReason::MaxTokens,
        Some("content_filter") => FinishReason::Safety,
        Some(other) => FinishReason::Other(other.to_owned()),
        None => FinishReason::Other("none".to_owned()),
    }
}

/// The typed outcome of a finished answer `text` with the wire finish reason `finish`:
/// a content filter is `Blocked`, an empty answer is `Truncated` (length) or
/// `MalformedOutput`, never `Ok`; a `Stop` answer to a schema request must be JSON that
/// matches the schema. Returns the (fence-stripped, for JSON) text and the finish reason.
pub(crate) fn finished(
    text: String,
    finish: Option<&str>,
    schema: Option<&Value>,
) -> Result<(String, FinishReason), ModelError> {
    let reason = finish_reason(finish);
    if reason == FinishReason::Safety {
        return Err(ModelError::Blocked {
            reason: BlockReason::Safety,
        });
    }
    if text.trim().is_empty() {
        return Err(match reason {
            FinishReason::MaxTokens => ModelError::Truncated,
            _ => ModelError::MalformedOutput {
                message: format!(
                    "the model returned no text (finish reason {})",
                    finish.unwrap_or("none")
                ),
            },
        });
    }
    let Some(schema) = schema.filter(|_| reason == FinishReason::Stop) else {
        return Ok((text, reason));
    };
    let json_text = strip_fence(text.trim()).to_owned();
    let value: Value =
        serde_json::from_str(&json_text).map_err(|e| ModelError::MalformedOutput {
            message: format!(
                "structured output is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        })?;
    check(&value, schema).map_err(|v| ModelError::MalformedOutput {
        message: v.to_string(),
    })?;
    Ok((json_text, reason))
}

fn strip_fence(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("```") else {
        return text;
    };
    let rest = rest.strip_prefix("json").unwrap_or(rest);
    rest.strip_suffix("```").unwrap_or(rest).trim()
}

/// Interprets a complete (non-streamed) chat completion.
pub(crate) fn interpret_completion(
    completion: ChatCompletion,
    model: &str,
    schema: Option<&Value>,
) -> Result<LlmResponse, ModelError> {
    if let Some(error) = completion.error.as_ref().filter(|e| !e.is_null()) {
        return Err(crate::error::error_value(error));
    }
    let Some(choice) = completion.choices.into_iter().next() else {
        return Err(ModelError::MalformedOutput {
            message: "the response has no choices".into(),
        });
    };
    let message = choice.message.unwrap_or_default();
    if message.refusal().is_some() {
        return Err(refused());
    }
    let (text, finish_reason) = finished(message.text(), choice.finish_reason.as_deref(), schema)?;
    Ok(LlmResponse {
        text,
        finish_reason,
        usage: completion.usage.unwrap_or_default().to_core(),
        model: completion.model.unwrap_or_else(|| model.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn parse(text: &str) -> ChatCompletion {
        serde_json::from_str(text).unwrap()
    }

    fn kind(text: &str, schema: Option<&Value>) -> &'static str {
        match interpret_completion(parse(text), "m", schema) {
            Ok(_) => "ok",
            Err(e) => e.kind_name(),
        }
    }

    #[test]
    fn typed_outcomes_of_each_answer_shape() {
        let schema =
            json!({"type": "object", "required": ["a"], "properties": {"a": {"enum": [1]}}});
        let s = Some(&schema);
        let msg = |content: &str, finish: &str| {
            format!(
                r#"{{"choices":[{{"message":{{"role":"assistant","content":{content}}},"finish_reason":"{finish}"}}]}}"#
            )
        };
        assert_eq!(kind(&msg("\"hi\"", "stop"), None), "ok");
        assert_eq!(kind(&msg("null", "length"), None), "truncated");
        assert_eq!(kind(&msg("\"\"", "stop"), None), "malformed_output");
        assert_eq!(kind(&msg("\"part\"", "content_filter"), None), "blocked");
        assert_eq!(kind(&msg(r#""{\"a\":1}""#, "stop"), s), "ok");
        assert_eq!(kind(&msg(r#""{\"a\":2}""#, "stop"), s), "malformed_output");
        assert_eq!(kind(&msg(r#""{\"a\":""#, "stop"), s), "malformed_output");
        assert_eq!(kind(&msg(r#""{\"a\":""#, "length"), s), "ok");
        let refusal = r#"{"choices":[{"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}]}"#;
        assert_eq!(kind(refusal, s), "blocked");
        assert_eq!(kind(r#"{"choices":[]}"#, None), "malformed_output");
        assert_eq!(
            kind(
                r#"{"error":{"message":"boom","type":"server_error"}}"#,
                None
            ),
            "unavailable"
        );
    }

    #[test]
    fn usage_fenced_json_and_unknown_finish_reasons() {
        let r = interpret_completion(
            parse(
                r#"{"model":"gpt-x","choices":[{"message":{"content":"```json\n{\"a\":1}\n```"},"finish_reason":"stop"}],
                   "usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10,"prompt_tokens_details":{}}}"#,
            ),
            "m",
            Some(&json!({"type": "object"})),
        )
        .unwrap();
        assert_eq!(r.text, "{\"a\":1}");
        assert_eq!(
            (
                r.usage.prompt_tokens,
                r.usage.output_tokens,
                r.usage.total_tokens
            ),
            (7, 3, 10)
        );
        assert_eq!(r.model, "gpt-x");
        let r = interpret_completion(
            parse(r#"{"choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},"finish_reason":"tool_calls"}]}"#),
            "m",
            None,
        )
        .unwrap();
        assert_eq!(
            (r.text.as_str(), r.finish_reason),
            ("ab", FinishReason::Other("tool_calls".into()))
        );
    }
}
