//! Default answers of the mock when no reply is scripted: the schema a request asks for
//! (the values built from it and the fake embeddings are the providers' shared ones, in
//! [`helpdesk_llm_http::mock`]).

use serde_json::{Value, json};

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

#[cfg(test)]
mod tests {
    use super::*;
    use helpdesk_llm_http::mock::value_for_schema;

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
