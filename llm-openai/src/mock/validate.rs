//! Request validation of the mock, with OpenAI's statuses, codes and messages.

use serde_json::{Value, json};

use super::script::error_body;
use crate::schema::strict_compatible;

/// A rejection: HTTP status and error body.
pub(crate) type Rejection = (u16, Value);

fn invalid(code: Option<&str>, param: Option<&str>, message: &str) -> Rejection {
    (
        400,
        error_body("invalid_request_error", code, param, message),
    )
}

const CHAT_FIELDS: &[&str] = &[
    "model",
    "messages",
    "temperature",
    "top_p",
    "n",
    "stream",
    "stream_options",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "user",
    "response_format",
    "seed",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "service_tier",
    "store",
    "metadata",
    "reasoning_effort",
    "modalities",
    "prediction",
];

/// The key from `Authorization: Bearer …` or `api-key`: missing → 401, wrong → 401
/// `invalid_api_key` (the key masked in the message, as OpenAI does).
pub(crate) fn check_key(key: Option<&str>, expected: &str) -> Result<(), Rejection> {
    match key {
        None | Some("") => Err((
            401,
            error_body(
                "invalid_request_error",
                None,
                None,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            ),
        )),
        Some(k) if k == expected => Ok(()),
        Some(k) => {
            let masked: String = if k.len() > 8 {
                format!(
                    "{}***{}",
                    &k[..k.floor_char_boundary(3)],
                    &k[k.ceil_char_boundary(k.len() - 4)..]
                )
            } else {
                "***".into()
            };
            Err((
                401,
                error_body(
                    "invalid_request_error",
                    Some("invalid_api_key"),
                    None,
                    &format!(
                        "Incorrect API key provided: {masked}. You can find your API key at https://platform.openai.com/account/api-keys."
                    ),
                ),
            ))
        }
    }
}

/// Unknown model → 404 `model_not_found`.
pub(crate) fn model_not_found(model: &str) -> Rejection {
    (
        404,
        error_body(
            "invalid_request_error",
            Some("model_not_found"),
            None,
            &format!("The model `{model}` does not exist or you do not have access to it."),
        ),
    )
}

/// The checks of a chat body that do not depend on the model list; returns the estimated
/// prompt tokens.
pub(crate) fn check_chat_body(
    body: &Value,
    json_schema_supported: bool,
    context_window: usize,
) -> Result<u64, Rejection> {
    let Some(object) = body.as_object() else {
        return Err(invalid(
            None,
            None,
            "The request body must be a JSON object.",
        ));
    };
    if let Some(unknown) = object.keys().find(|k| !CHAT_FIELDS.contains(&k.as_str())) {
        return Err(invalid(
            None,
            None,
            &format!("Unrecognized request argument supplied: {unknown}"),
        ));
    }
    let messages = object
        .get("messages")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| invalid(None, Some("messages"), "[] is too short - 'messages'"))?;
    let mut chars = 0usize;
    for (i, message) in messages.iter().enumerate() {
        let role = message.get("role").and_then(Value::as_str).unwrap_or("");
        if !["system", "developer", "user", "assistant", "tool"].contains(&role) {
            return Err(invalid(
                Some("invalid_value"),
                Some(&format!("messages[{i}].role")),
                &format!(
                    "Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'developer'."
                ),
            ));
        }
        let Some(content) = message.get("content").and_then(Value::as_str) else {
            return Err(invalid(
                None,
                Some(&format!("messages[{i}].content")),
                &format!("Invalid type for 'messages[{i}].content': expected a string."),
            ));
        };
        chars += content.len() + 12;
    }
    if object.contains_key("stream_options") && object.get("stream") != Some(&json!(true)) {
        return Err(invalid(
            None,
            Some("stream_options"),
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        ));
    }
    for field in ["max_tokens", "max_completion_tokens"] {
        if object
            .get(field)
            .is_some_and(|v| v.as_u64().is_none_or(|n| n == 0))
        {
            return Err(invalid(
                Some("integer_below_min_value"),
                Some(field),
                &format!("Invalid '{field}': integer below minimum value. Expected a value >= 1."),
            ));
        }
    }
    if let Some(t) = object.get("temperature")
        && t.as_f64().is_none_or(|t| !(0.0..=2.0).contains(&t))
    {
        return Err(invalid(
            Some("decimal_above_max_value"),
            Some("temperature"),
            "Invalid 'temperature': decimal above maximum value. Expected a value <= 2.",
        ));
    }
    if let Some(format) = object.get("response_format") {
        check_response_format(format, messages, json_schema_supported)?;
    }
    let prompt_tokens = chars / 4;
    if prompt_tokens > context_window {
        return Err(invalid(
            Some("context_length_exceeded"),
            Some("messages"),
            &format!(
                "This model's maximum context length is {context_window} tokens. However, your messages resulted in {prompt_tokens} tokens. Please reduce the length of the messages."
            ),
        ));
    }
    Ok(prompt_tokens.max(1) as u64)
}

fn check_response_format(
    format: &Value,
    messages: &[Value],
    json_schema_supported: bool,
) -> Result<(), Rejection> {
    match format.get("type").and_then(Value::as_str) {
        Some("text") => Ok(()),
        Some("json_object") => {
            let mentions_json = messages.iter().any(|m| {
                m.get("content")
                    .and_then(Value::as_str)
                    .is_some_and(|c| c.to_ascii_lowercase().contains("json"))
            });
            if mentions_json {
                Ok(())
            } else {
                Err(invalid(
                    None,
                    Some("messages"),
                    "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
                ))
            }
        }
        Some("json_schema") if !json_schema_supported => Err(invalid(
            None,
            Some("response_format"),
            "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.",
        )),
        Some("json_schema") => {
            let spec = format.get("json_schema").unwrap_or(&Value::Null);
            let name = spec.get("name").and_then(Value::as_str).unwrap_or("");
            let name_ok = (1..=64).contains(&name.len())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !name_ok {
                return Err(invalid(
                    Some("invalid_value"),
                    Some("response_format.json_schema.name"),
                    "Invalid 'response_format.json_schema.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                ));
            }
            let Some(schema) = spec.get("schema").filter(|s| s.is_object()) else {
                return Err(invalid(
                    None,
                    Some("response_format.json_schema.schema"),
                    "Missing required parameter: 'response_format.json_schema.schema'.",
                ));
            };
            if spec.get("strict") == Some(&json!(true)) && !strict_compatible(schema) {
                return Err(invalid(
                    None,
                    Some("response_format"),
                    &format!(
                        "Invalid schema for response_format '{name}': In context=(), 'additionalProperties' is required to be supplied and to be false, and 'required' is required to be supplied and to be an array including every key in properties."
                    ),
                ));
            }
            Ok(())
        }
        other => Err(invalid(
            Some("invalid_value"),
            Some("response_format.type"),
            &format!(
                "Invalid value: '{}'. Supported values are: 'json_object', 'json_schema', and 'text'.",
                other.unwrap_or("")
            ),
        )),
    }
}

/// The checks of an embeddings body; returns the texts and the dimensions to answer with.
pub(crate) fn check_embed_body(
    body: &Value,
    default_dimensions: usize,
    model: &str,
) -> Result<(Vec<String>, usize), Rejection> {
    let texts: Vec<String> = match body.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => {
            return Err(invalid(
                None,
                Some("input"),
                "'input' must be a string or an array of strings.",
            ));
        }
    };
    if texts.is_empty() || texts.iter().any(String::is_empty) {
        return Err(invalid(
            None,
            Some("input"),
            "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
        ));
    }
    if texts.len() > 2048 {
        return Err(invalid(
            None,
            Some("input"),
            "'$.input' is invalid: at most 2048 inputs are allowed per request.",
        ));
    }
    let dimensions = match body.get("dimensions") {
        None => default_dimensions,
        Some(_) if !model.starts_with("text-embedding-3") => {
            return Err(invalid(
                None,
                Some("dimensions"),
                "This model does not support specifying dimensions.",
            ));
        }
        Some(d) => d
            .as_u64()
            .filter(|d| (1..=default_dimensions as u64).contains(d))
            .ok_or_else(|| invalid(None, Some("dimensions"), "Invalid 'dimensions'."))?
            as usize,
    };
    Ok((texts, dimensions))
}
