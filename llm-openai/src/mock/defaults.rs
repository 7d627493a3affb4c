//! Default answers of the mock when no reply is scripted. `value_for_schema` and
//! `fake_embedding` are the same algorithms as in llm-gemini's mock (kept in step by hand).

use serde_json::{Map, Value, json};

/// The default text answer.
pub(crate) const DEFAULT_TEXT: &str = "This is a mock answer from an OpenAI-compatible server.";

/// The schema the request asks for: `response_format.json_schema.schema`, or (JSON mode)
/// the first JSON object in the system message that looks like a schema.
pub(crate) fn requested_schema(body: &Value) -> Option<Value> {
    let format = body.get("response_format")?;
    match format.get("type").and_then(Value::as_str) {
        Some("json_schema") => format.get("json_schema")?.get("schema").cloned(),
        Some("json_object") => {
            if let Some(schema) = format.get("schema") {
                return Some(schema.clone());
            }
            let messages = body.get("messages")?.as_array()?;
            messages
                .iter()
                .filter(|m| m.get("role").and_then(Value::as_str) == Some("system"))
                .filter_map(|m| m.get("content").and_then(Value::as_str))
                .find_map(schema_in_text)
                .or(Some(json!({"type": "object"})))
        }
        _ => None,
    }
}

/// The first JSON object in `text` that has `type` or `properties`.
fn schema_in_text(text: &str) -> Option<Value> {
    text.match_indices('{').find_map(|(i, _)| {
        let mut values = serde_json::Deserializer::from_str(&text[i..]).into_iter::<Value>();
        match values.next() {
            Some(Ok(v)) if v.get("type").is_some() || v.get("properties").is_some() => Some(v),
            _ => None,
        }
    })
}

/// A value matching `schema` (first enum value, required properties, `minItems` items...).
pub(crate) fn value_for_schema(schema: &Value) -> Value {
    value_for(schema, schema, 0)
}

fn value_for(node: &Value, root: &Value, depth: usize) -> Value {
    if depth > 16 {
        return Value::Null;
    }
    let Some(object) = node.as_object() else {
        return Value::Null;
    };
    if let Some(first) = object
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    if let Some(target) = object.get("$ref").and_then(Value::as_str) {
        let resolved = target
            .strip_prefix("#/")
            .map(|p| p.split('/').try_fold(root, |v, key| v.get(key)))
            .unwrap_or(None);
        return resolved.map_or(Value::Null, |r| value_for(r, root, depth + 1));
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(first) = object
            .get(key)
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            return value_for(first, root, depth + 1);
        }
    }
    let kind = match object.get("type") {
        Some(Value::String(t)) => t.to_ascii_lowercase(),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null")
            .to_owned(),
        _ if object.contains_key("properties") => "object".into(),
        _ => "string".into(),
    };
    let minimum = object.get("minimum").cloned();
    match kind.as_str() {
        "object" => {
            let properties = object.get("properties").and_then(Value::as_object);
            let required: Vec<&str> = object
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut out = Map::new();
            for (name, sub) in properties.into_iter().flatten() {
                if required.is_empty() || required.contains(&name.as_str()) {
                    out.insert(name.clone(), value_for(sub, root, depth + 1));
                }
            }
            Value::Object(out)
        }
        "array" => {
            let count = object
                .get("minItems")
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .min(16);
            let item = object
                .get("items")
                .map_or(json!("mock"), |i| value_for(i, root, depth + 1));
            Value::Array(vec![item; count as usize])
        }
        "integer" => minimum.unwrap_or(json!(0)),
        "number" => minimum.unwrap_or(json!(0.5)),
        "boolean" => json!(false),
        "null" => Value::Null,
        _ => json!("mock"),
    }
}

/// A deterministic pseudo-embedding of `text` (not normalised, like the real API below 3072).
pub(crate) fn fake_embedding(text: &str, dims: usize) -> Vec<f32> {
    // FNV-1a seed, then xorshift64*.
    let mut state = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    }) | 1;
    (0..dims)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let x = state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40;
            (x as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_values_that_match_the_schema() {
        let schema = json!({"type": "object", "required": ["category", "skills", "score"],
            "properties": {
                "category": {"type": "string", "enum": ["hardware", "software"]},
                "skills": {"type": "array", "items": {"type": "string"}, "minItems": 2},
                "score": {"type": "number", "minimum": 0.25},
                "ignored": {"type": "string"}}});
        let value = value_for_schema(&schema);
        assert_eq!(
            value,
            json!({"category": "hardware", "skills": ["mock", "mock"], "score": 0.25})
        );
        assert_eq!(crate::schema::check(&value, &schema), Ok(()));
    }

    #[test]
    fn finds_the_schema_in_a_json_mode_prompt() {
        let body = json!({"response_format": {"type": "json_object"}, "messages": [
            {"role": "system", "content": "Be brief {not json}. Match this JSON Schema:\n{\"type\":\"object\",\"properties\":{}}"},
            {"role": "user", "content": "{\"type\": \"user text is not the schema\"}"}]});
        assert_eq!(
            requested_schema(&body),
            Some(json!({"type": "object", "properties": {}}))
        );
    }
}
