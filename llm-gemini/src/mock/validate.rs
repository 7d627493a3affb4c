//! Request validation of the mock, with the real API's statuses and messages (spec §1, §4, §5).

use serde_json::{Map, Value, json};

use super::script::error_body;
use crate::embed::MAX_EMBED_BATCH;
use crate::schema::JSON_SCHEMA_KEYWORDS;

/// A rejection: HTTP status and Google error body.
pub(crate) type Rejection = (u16, Value);

fn invalid_argument(message: &str) -> Rejection {
    (400, error_body(400, "INVALID_ARGUMENT", message, vec![]))
}

fn unknown_name(name: &str, at: &str) -> Rejection {
    let location = if at.is_empty() {
        String::new()
    } else {
        format!(" at '{at}'")
    };
    invalid_argument(&format!(
        "Invalid JSON payload received. Unknown name \"{name}\"{location}: Cannot find field."
    ))
}

/// Missing key → 403; wrong key → 400 `API_KEY_INVALID`.
pub(crate) fn check_key(key: Option<&str>, expected: &str) -> Result<(), Rejection> {
    match key {
        None | Some("") => Err((
            403,
            error_body(
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
                vec![],
            ),
        )),
        Some(k) if k == expected => Ok(()),
        Some(_) => Err((
            400,
            error_body(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                vec![json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                            "reason": "API_KEY_INVALID", "domain": "googleapis.com",
                            "metadata": {"service": "generativelanguage.googleapis.com"}})],
            ),
        )),
    }
}

/// Unknown model → 404 with the real message.
pub(crate) fn model_not_found(model: &str, method: &str) -> Rejection {
    (
        404,
        error_body(
            404,
            "NOT_FOUND",
            &format!(
                "models/{model} is not found for API version v1beta, or is not supported for {method}. Call ListModels to see the list of available models and their supported methods."
            ),
            vec![],
        ),
    )
}

/// proto3 JSON accepts snake_case too: compare in camelCase.
fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn get<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(k, _)| camel(k) == name)
        .map(|(_, v)| v)
}

fn check_fields(object: &Map<String, Value>, allowed: &[&str], at: &str) -> Result<(), Rejection> {
    match object
        .keys()
        .find(|k| !allowed.contains(&camel(k).as_str()))
    {
        Some(unknown) => Err(unknown_name(unknown, at)),
        None => Ok(()),
    }
}

const REQUEST_FIELDS: &[&str] = &[
    "contents",
    "systemInstruction",
    "tools",
    "toolConfig",
    "safetySettings",
    "generationConfig",
    "cachedContent",
];

const GENERATION_CONFIG_FIELDS: &[&str] = &[
    "temperature",
    "topP",
    "topK",
    "candidateCount",
    "maxOutputTokens",
    "stopSequences",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "responseLogprobs",
    "logprobs",
    "responseMimeType",
    "responseSchema",
    "responseJsonSchema",
    "thinkingConfig",
    "responseModalities",
    "mediaResolution",
];

/// proto `Schema` fields (`responseSchema`).
const OPENAPI_SCHEMA_FIELDS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "example",
    "default",
    "items",
    "minItems",
    "maxItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "propertyOrdering",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "anyOf",
];

/// Validates a generateContent / streamGenerateContent body.
pub(crate) fn check_generate_body(body: &Value) -> Result<(), Rejection> {
    let Some(object) = body.as_object() else {
        return Err(invalid_argument(
            "Invalid JSON payload received. Expected an object.",
        ));
    };
    check_fields(object, REQUEST_FIELDS, "")?;
    let contents = get(object, "contents").and_then(Value::as_array);
    if contents.is_none_or(|c| c.is_empty()) {
        return Err(invalid_argument(
            "* GenerateContentRequest.contents: contents is not specified\n",
        ));
    }
    for (i, content) in contents.into_iter().flatten().enumerate() {
        let role = content
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or("user");
        if !matches!(role, "user" | "model" | "function") {
            return Err(invalid_argument(&format!(
                "Please use a valid role: user, model. (contents[{i}].role = {role})"
            )));
        }
    }
    let Some(config) = get(object, "generationConfig") else {
        return Ok(());
    };
    let Some(config) = config.as_object() else {
        return Err(invalid_argument(
            "Invalid value at 'generation_config': expected an object",
        ));
    };
    check_fields(config, GENERATION_CONFIG_FIELDS, "generation_config")?;
    if let Some(t) = get(config, "temperature").and_then(Value::as_f64)
        && !(0.0..=2.0).contains(&t)
    {
        return Err(invalid_argument(&format!(
            "* GenerateContentRequest.generation_config.temperature: temperature must be in [0.0, 2.0], got {t}\n"
        )));
    }
    let schema = get(config, "responseSchema");
    let json_schema = get(config, "responseJsonSchema");
    if schema.is_some() && json_schema.is_some() {
        return Err(invalid_argument(
            "response_schema and response_json_schema are mutually exclusive.",
        ));
    }
    if schema.is_some() || json_schema.is_some() {
        let mime = get(config, "responseMimeType").and_then(Value::as_str);
        if !matches!(mime, Some("application/json" | "text/x.enum")) {
            return Err(invalid_argument(
                "* GenerateContentRequest.generation_config.response_mime_type: response_mime_type must be application/json or text/x.enum when a response schema is set.\n",
            ));
        }
    }
    if let Some(schema) = schema {
        check_schema(
            schema,
            OPENAPI_SCHEMA_FIELDS,
            "generation_config.response_schema",
        )?;
    }
    if let Some(schema) = json_schema {
        check_schema(
            schema,
            JSON_SCHEMA_KEYWORDS,
            "generation_config.response_json_schema",
        )?;
    }
    if let Some(thinking) = get(config, "thinkingConfig").and_then(Value::as_object) {
        check_fields(
            thinking,
            &["includeThoughts", "thinkingBudget", "thinkingLevel"],
            "generation_config.thinking_config",
        )?;
        if get(thinking, "thinkingBudget").is_some() && get(thinking, "thinkingLevel").is_some() {
            return Err(invalid_argument(
                "thinking_budget and thinking_level are not supported together.",
            ));
        }
    }
    Ok(())
}

/// Refuses an input over `limit` tokens (estimated as 4 characters each, of every text in
/// the contents and the system instruction) as the real API does: 400 `INVALID_ARGUMENT`
/// naming both counts.
pub(crate) fn check_input_tokens(body: &Value, limit: usize) -> Result<(), Rejection> {
    fn chars(value: &Value) -> usize {
        match value {
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("text", Value::String(text)) => text.len(),
                    _ => chars(v),
                })
                .sum(),
            Value::Array(items) => items.iter().map(chars).sum(),
            _ => 0,
        }
    }
    let Some(object) = body.as_object() else {
        return Ok(());
    };
    let tokens: usize = ["contents", "systemInstruction"]
        .iter()
        .filter_map(|name| get(object, name))
        .map(chars)
        .sum::<usize>()
        / 4;
    if tokens <= limit {
        return Ok(());
    }
    Err(invalid_argument(&format!(
        "The input token count ({tokens}) exceeds the maximum number of tokens allowed ({limit})."
    )))
}

/// Walks a schema: keys of `properties`/`$defs` are names, everything else must be allowed.
fn check_schema(node: &Value, allowed: &[&str], at: &str) -> Result<(), Rejection> {
    let object = match node {
        Value::Object(object) => object,
        Value::Bool(_) if allowed.contains(&"$ref") => return Ok(()),
        _ => {
            return Err(invalid_argument(&format!(
                "Invalid value at '{at}': expected a schema object"
            )));
        }
    };
    for (key, value) in object {
        if !allowed.contains(&key.as_str()) {
            return Err(unknown_name(key, at));
        }
        let child = format!("{at}.{key}");
        match key.as_str() {
            "properties" | "$defs" => {
                for (name, sub) in value.as_object().into_iter().flatten() {
                    check_schema(sub, allowed, &format!("{child}[{name}]"))?;
                }
            }
            "items" | "additionalProperties" if value.is_object() => {
                check_schema(value, allowed, &child)?
            }
            "anyOf" | "oneOf" | "prefixItems" => {
                for (i, sub) in value.as_array().into_iter().flatten().enumerate() {
                    check_schema(sub, allowed, &format!("{child}[{i}]"))?;
                }
            }
            "type" if value.is_array() && !allowed.contains(&"$ref") => {
                return Err(invalid_argument(&format!(
                    "Invalid JSON payload received. Proto field is not repeating, cannot start list. at '{child}'"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Validates a batchEmbedContents body for `model`; returns the texts' count and dimensions.
pub(crate) fn check_embed_body(
    body: &Value,
    model: &str,
) -> Result<(usize, Option<usize>), Rejection> {
    let Some(object) = body.as_object() else {
        return Err(invalid_argument(
            "Invalid JSON payload received. Expected an object.",
        ));
    };
    check_fields(object, &["requests"], "")?;
    let requests = get(object, "requests")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if requests.len() > MAX_EMBED_BATCH {
        return Err(invalid_argument(
            "* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch\n",
        ));
    }
    let mut dims = None;
    for (i, request) in requests.iter().enumerate() {
        let Some(request) = request.as_object() else {
            return Err(invalid_argument(&format!(
                "Invalid value at 'requests[{i}]'"
            )));
        };
        check_fields(
            request,
            &[
                "model",
                "content",
                "taskType",
                "title",
                "outputDimensionality",
            ],
            &format!("requests[{i}]"),
        )?;
        let inner = get(request, "model").and_then(Value::as_str).unwrap_or("");
        if inner != format!("models/{model}") {
            return Err(invalid_argument(&format!(
                "* BatchEmbedContentsRequest.requests[{i}].model: Model names should match the model in the URL: \"{inner}\" vs \"models/{model}\"\n"
            )));
        }
        if get(request, "title").is_some()
            && get(request, "taskType").and_then(Value::as_str) != Some("RETRIEVAL_DOCUMENT")
        {
            return Err(invalid_argument(
                "title is only supported for RETRIEVAL_DOCUMENT task type",
            ));
        }
        dims = get(request, "outputDimensionality")
            .and_then(Value::as_u64)
            .map(|d| d as usize);
    }
    Ok((requests.len(), dims))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn unknown_schema_keys_are_rejected_like_the_real_api() {
        let body = json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}],
            "generation_config": {"response_mime_type": "application/json",
                "responseSchema": {"type": "OBJECT", "additionalProperties": false}}});
        let (status, err) = check_generate_body(&body).unwrap_err();
        assert_eq!(status, 400);
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Unknown name \"additionalProperties\"")
        );
        let body = json!({"contents": [{"parts": [{"text": "x"}]}], "bogus": 1});
        assert!(check_generate_body(&body).is_err());
        let body = json!({"contents": [{"parts": [{"text": "x"}]}],
            "generationConfig": {"responseJsonSchema": {"type": "object"}}});
        assert!(
            check_generate_body(&body).is_err(),
            "schema without mime type"
        );
    }

    #[test]
    fn an_input_over_the_token_limit_is_refused_with_the_real_message() {
        let body = json!({"systemInstruction": {"parts": [{"text": "x".repeat(40)}]},
            "contents": [{"role": "user", "parts": [{"text": "y".repeat(400)}]}]});
        assert!(check_input_tokens(&body, 110).is_ok());
        let (status, err) = check_input_tokens(&body, 100).unwrap_err();
        assert_eq!(status, 400);
        assert_eq!(err["error"]["status"], "INVALID_ARGUMENT");
        assert_eq!(
            err["error"]["message"],
            "The input token count (110) exceeds the maximum number of tokens allowed (100)."
        );
    }
}
