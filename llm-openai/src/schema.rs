//! Structured output: checking an answer against the requested JSON Schema (every answer is
//! checked, whichever [`StructuredOutput`](crate::StructuredOutput) mode produced it), and
//! whether a schema qualifies for OpenAI's `strict` mode.
//!
//! The checker covers the subset core's `LlmRequest::json_schema` allows (`type`,
//! `properties`, `required`, `items`, `enum`, `minItems`, `maxItems`, `minimum`, `maximum`,
//! `additionalProperties`) plus `const`, `anyOf`/`oneOf` and local `$ref`s; other keywords
//! are not checked.

use serde_json::{Map, Value};

/// Where an answer broke the schema, and how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the answer does not match the schema at {path}: {message}")]
pub struct SchemaViolation {
    /// JSON pointer of the value, e.g. `#/category`.
    pub path: String,
    /// What is wrong (never the whole value).
    pub message: String,
}

/// Checks `value` against `schema`.
pub fn check(value: &Value, schema: &Value) -> Result<(), SchemaViolation> {
    check_node(value, schema, schema, "#", 0)
}

fn violation(path: &str, message: impl Into<String>) -> SchemaViolation {
    SchemaViolation {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn has_type(value: &Value, wanted: &str) -> bool {
    match wanted {
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        other => type_name(value) == other,
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

fn check_node(
    value: &Value,
    node: &Value,
    root: &Value,
    path: &str,
    depth: usize,
) -> Result<(), SchemaViolation> {
    if depth > 32 {
        return Err(violation(path, "the schema nests too deeply"));
    }
    let Some(schema) = node.as_object() else {
        // `true` / `{}`-like schemas accept anything; `false` accepts nothing.
        return if node == &Value::Bool(false) {
            Err(violation(path, "no value is allowed here"))
        } else {
            Ok(())
        };
    };
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        let resolved = target
            .strip_prefix("#/")
            .and_then(|p| p.split('/').try_fold(root, |v, key| v.get(key)))
            .or((target == "#").then_some(root))
            .ok_or_else(|| violation(path, format!("unresolvable $ref {target}")))?;
        check_node(value, resolved, root, path, depth + 1)?;
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let matched = options
                .iter()
                .any(|o| check_node(value, o, root, path, depth + 1).is_ok());
            if !matched {
                return Err(violation(
                    path,
                    format!("matches none of the {key} options"),
                ));
            }
        }
    }
    match schema.get("type") {
        Some(Value::String(t)) if !has_type(value, t) => {
            return Err(violation(
                path,
                format!("expected {t}, found {}", type_name(value)),
            ));
        }
        Some(Value::Array(types))
            if !types
                .iter()
                .filter_map(Value::as_str)
                .any(|t| has_type(value, t)) =>
        {
            return Err(violation(
                path,
                format!("{} is not one of the allowed types", type_name(value)),
            ));
        }
        _ => {}
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        return Err(violation(
            path,
            format!("{} is not one of the allowed values", short(value)),
        ));
    }
    if let Some(constant) = schema.get("const")
        && constant != value
    {
        return Err(violation(
            path,
            format!("{} is not {}", short(value), short(constant)),
        ));
    }
    if let Some(n) = value.as_f64() {
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
            && n < min
        {
            return Err(violation(path, format!("{n} is below the minimum {min}")));
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
            && n > max
        {
            return Err(violation(path, format!("{n} is above the maximum {max}")));
        }
    }
    match value {
        Value::Array(items) => check_array(items, schema, root, path, depth),
        Value::Object(map) => check_object(map, schema, root, path, depth),
        _ => Ok(()),
    }
}

fn check_array(
    items: &[Value],
    schema: &Map<String, Value>,
    root: &Value,
    path: &str,
    depth: usize,
) -> Result<(), SchemaViolation> {
    let len = items.len() as u64;
    if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
        && len < min
    {
        return Err(violation(
            path,
            format!("{len} items, at least {min} needed"),
        ));
    }
    if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
        && len > max
    {
        return Err(violation(
            path,
            format!("{len} items, at most {max} allowed"),
        ));
    }
    if let Some(item_schema) = schema.get("items") {
        for (i, item) in items.iter().enumerate() {
            check_node(item, item_schema, root, &format!("{path}/{i}"), depth + 1)?;
        }
    }
    Ok(())
}

fn check_object(
    map: &Map<String, Value>,
    schema: &Map<String, Value>,
    root: &Value,
    path: &str,
    depth: usize,
) -> Result<(), SchemaViolation> {
    let properties = schema.get("properties").and_then(Value::as_object);
    for name in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !map.contains_key(name) {
            return Err(violation(
                path,
                format!("missing required property {name:?}"),
            ));
        }
    }
    for (name, item) in map {
        let child = format!("{path}/{name}");
        match properties.and_then(|p| p.get(name)) {
            Some(sub) => check_node(item, sub, root, &child, depth + 1)?,
            None => match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    return Err(violation(path, format!("unexpected property {name:?}")));
                }
                Some(sub @ Value::Object(_)) => check_node(item, sub, root, &child, depth + 1)?,
                _ => {}
            },
        }
    }
    Ok(())
}

/// Whether OpenAI's `strict` structured outputs accept `schema` as it is: every object
/// lists all its properties in `required` and sets `additionalProperties: false`.
pub(crate) fn strict_compatible(schema: &Value) -> bool {
    fn walk(node: &Value, depth: usize) -> bool {
        if depth > 32 {
            return false;
        }
        match node {
            Value::Object(map) => {
                let is_object = map.get("type").and_then(Value::as_str) == Some("object")
                    || map.contains_key("properties");
                if is_object {
                    let properties = map.get("properties").and_then(Value::as_object);
                    let required: Vec<&str> = map
                        .get("required")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect();
                    let all_required =
                        properties.is_none_or(|p| p.keys().all(|k| required.contains(&k.as_str())));
                    if !all_required || map.get("additionalProperties") != Some(&Value::Bool(false))
                    {
                        return false;
                    }
                }
                map.values().all(|v| walk(v, depth + 1))
            }
            Value::Array(items) => items.iter().all(|v| walk(v, depth + 1)),
            _ => true,
        }
    }
    walk(schema, 0)
}

/// The `json_schema.name` sent: the schema's `title` when it is a valid name
/// (`[a-zA-Z0-9_-]{1,64}`), else `answer`.
pub(crate) fn schema_name(schema: &Value) -> String {
    schema
        .get("title")
        .and_then(Value::as_str)
        .filter(|t| {
            (1..=64).contains(&t.len())
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
        .unwrap_or("answer")
        .to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "additionalProperties": false,
            "required": ["category", "tags", "confidence"],
            "properties": {
                "category": {"type": "string", "enum": ["billing", "technical"]},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                "kind": {"$ref": "#/$defs/Kind"}},
            "$defs": {"Kind": {"anyOf": [{"type": "null"}, {"enum": ["a"]}]}}})
    }

    #[test]
    fn accepts_matching_answers() {
        let ok = json!({"category": "billing", "tags": ["x"], "confidence": 1, "kind": null});
        assert_eq!(check(&ok, &schema()), Ok(()));
    }

    #[test]
    fn names_the_first_violation() {
        let cases = [
            (
                json!({"category": "weather", "tags": [], "confidence": 0.5}),
                "#/category",
            ),
            (
                json!({"category": "billing", "tags": [], "confidence": 1.5}),
                "#/confidence",
            ),
            (
                json!({"category": "billing", "tags": [1], "confidence": 0.5}),
                "#/tags/0",
            ),
            (
                json!({"category": "billing", "tags": ["a", "b", "c"], "confidence": 0}),
                "#/tags",
            ),
            (json!({"category": "billing", "tags": []}), "#"),
            (
                json!({"category": "billing", "tags": [], "confidence": 0, "x": 1}),
                "#",
            ),
            (
                json!({"category": "billing", "tags": [], "confidence": 0, "kind": "b"}),
                "#/kind",
            ),
            (json!(["not", "an", "object"]), "#"),
        ];
        for (value, path) in cases {
            let err = check(&value, &schema()).unwrap_err();
            assert_eq!(err.path, path, "{value}: {err}");
        }
    }

    #[test]
    fn strict_mode_needs_closed_objects_with_every_property_required() {
        assert!(!strict_compatible(&schema()), "kind is optional");
        let closed = json!({"type": "object", "additionalProperties": false, "required": ["a"],
            "properties": {"a": {"type": "object", "additionalProperties": false,
                "required": [], "properties": {}}}});
        assert!(strict_compatible(&closed));
        let open =
            json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}});
        assert!(!strict_compatible(&open));
        let optional = json!({"type": "object", "additionalProperties": false, "required": [],
            "properties": {"a": {"type": "string"}}});
        assert!(!strict_compatible(&optional));
    }

    #[test]
    fn schema_names() {
        assert_eq!(
            schema_name(&json!({"title": "triage_answer"})),
            "triage_answer"
        );
        assert_eq!(schema_name(&json!({"title": "with space"})), "answer");
        assert_eq!(schema_name(&json!({})), "answer");
    }
}
