//! Structured-output schemas: the JSON Schema subset Gemini's `responseJsonSchema` honours,
//! a sanitiser that enforces it, and a small builder for schemas made from runtime values
//! (a tenant's categories).

use serde_json::{Map, Value, json};

/// Keywords `responseJsonSchema` honours (spec §1); anything else is rewritten, stripped
/// (annotations) or rejected.
pub const JSON_SCHEMA_KEYWORDS: &[&str] = &[
    "$id",
    "$defs",
    "$ref",
    "$anchor",
    "type",
    "format",
    "title",
    "description",
    "enum",
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "anyOf",
    "oneOf",
    "properties",
    "additionalProperties",
    "required",
    "propertyOrdering",
];

/// Annotation keywords that do not constrain output: dropped silently.
const STRIPPED_ANNOTATIONS: &[&str] = &[
    "$schema",
    "$comment",
    "examples",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
];

const JSON_TYPES: &[&str] = &[
    "string", "number", "integer", "boolean", "array", "object", "null",
];

/// A schema that Gemini would not honour, with the JSON pointer of the offending node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported JSON schema at {path}: {message}")]
pub struct SchemaError {
    /// JSON pointer of the node, e.g. `#/properties/category`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl SchemaError {
    fn new(path: &str, message: impl Into<String>) -> Self {
        Self {
            path: path.to_owned(),
            message: message.into(),
        }
    }
}

/// Returns a copy of `schema` restricted to [`JSON_SCHEMA_KEYWORDS`]:
/// annotations (`$schema`, `$comment`, `examples`, `default`, ...) are dropped,
/// `const: v` becomes `enum: [v]`, a `$ref` with siblings is wrapped in `anyOf`, and any other
/// keyword (`pattern`, `allOf`, `not`, `if`, `minLength`, ...) is an error naming its path,
/// because silently dropping a constraint would let invalid output through.
pub fn sanitize_json_schema(schema: &Value) -> Result<Value, SchemaError> {
    sanitize_node(schema, "#")
}

fn sanitize_node(node: &Value, path: &str) -> Result<Value, SchemaError> {
    let object = match node {
        Value::Bool(_) => return Ok(node.clone()),
        Value::Object(object) => object,
        _ => {
            return Err(SchemaError::new(
                path,
                "a schema must be an object or a boolean",
            ));
        }
    };
    let mut out = Map::new();
    for (key, value) in object {
        let child = format!("{path}/{key}");
        match key.as_str() {
            k if STRIPPED_ANNOTATIONS.contains(&k) => {}
            "const" => {
                if object.contains_key("enum") {
                    return Err(SchemaError::new(&child, "`const` next to `enum`"));
                }
                out.insert("enum".into(), Value::Array(vec![value.clone()]));
            }
            "properties" | "$defs" => {
                let Value::Object(map) = value else {
                    return Err(SchemaError::new(&child, "must be an object"));
                };
                let mut sanitized = Map::new();
                for (name, sub) in map {
                    sanitized.insert(
                        name.clone(),
                        sanitize_node(sub, &format!("{child}/{name}"))?,
                    );
                }
                out.insert(key.clone(), Value::Object(sanitized));
            }
            "items" | "additionalProperties" => {
                out.insert(key.clone(), sanitize_node(value, &child)?);
            }
            "anyOf" | "oneOf" | "prefixItems" => {
                let Value::Array(list) = value else {
                    return Err(SchemaError::new(&child, "must be an array"));
                };
                let sanitized = list
                    .iter()
                    .enumerate()
                    .map(|(i, sub)| sanitize_node(sub, &format!("{child}/{i}")))
                    .collect::<Result<Vec<_>, _>>()?;
                out.insert(key.clone(), Value::Array(sanitized));
            }
            "type" => {
                check_type(value, &child)?;
                out.insert(key.clone(), value.clone());
            }
            "required" | "propertyOrdering" => {
                let ok = value
                    .as_array()
                    .is_some_and(|list| list.iter().all(Value::is_string));
                if !ok {
                    return Err(SchemaError::new(&child, "must be an array of strings"));
                }
                out.insert(key.clone(), value.clone());
            }
            "enum" => {
                if value.as_array().is_none_or(|list| list.is_empty()) {
                    return Err(SchemaError::new(&child, "must be a non-empty array"));
                }
                out.insert(key.clone(), value.clone());
            }
            k if JSON_SCHEMA_KEYWORDS.contains(&k) => {
                out.insert(key.clone(), value.clone());
            }
            other => {
                return Err(SchemaError::new(
                    &child,
                    format!("keyword `{other}` is not supported by Gemini structured output"),
                ));
            }
        }
    }
    let has_sibling = out.keys().any(|k| !k.starts_with('$'));
    if has_sibling && let Some(reference) = out.remove("$ref") {
        out.insert("anyOf".into(), json!([{ "$ref": reference }]));
        if object.contains_key("anyOf") || object.contains_key("oneOf") {
            return Err(SchemaError::new(path, "`$ref` next to `anyOf`/`oneOf`"));
        }
    }
    Ok(Value::Object(out))
}

fn check_type(value: &Value, path: &str) -> Result<(), SchemaError> {
    let valid = |v: &Value| v.as_str().is_some_and(|t| JSON_TYPES.contains(&t));
    let ok = match value {
        Value::String(_) => valid(value),
        Value::Array(list) => !list.is_empty() && list.iter().all(valid),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(SchemaError::new(
            path,
            "must be a JSON type name or a list of them",
        ))
    }
}

/// The schema of a Rust type (schemars, JSON Schema 2020-12), restricted by
/// [`sanitize_json_schema`]: `Option` fields become `type: [.., "null"]`, nested types `$defs`
/// and `$ref`, unit enums `enum`.
#[cfg(feature = "schemars")]
pub fn schema_for<T: schemars::JsonSchema>() -> Result<Value, SchemaError> {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    sanitize_json_schema(schema.as_value())
}

/// A string schema.
pub fn string() -> Value {
    json!({ "type": "string" })
}

/// A string schema with a description.
pub fn described_string(description: &str) -> Value {
    json!({ "type": "string", "description": description })
}

/// An array of `items`, at most `max_items` long when given.
pub fn array_of(items: Value, max_items: Option<u32>) -> Value {
    let mut schema = json!({ "type": "array", "items": items });
    if let (Some(max), Value::Object(map)) = (max_items, &mut schema) {
        map.insert("maxItems".into(), max.into());
    }
    schema
}

/// A number in `min..=max`.
pub fn number_range(min: f64, max: f64) -> Value {
    json!({ "type": "number", "minimum": min, "maximum": max })
}

/// A string restricted to `values` (e.g. a tenant's categories). Errors on an empty list, an
/// empty value or a duplicate, naming the offending index.
pub fn string_enum<I, S>(values: I) -> Result<Value, SchemaError>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let values: Vec<String> = values.into_iter().map(Into::into).collect();
    if values.is_empty() {
        return Err(SchemaError::new("#/enum", "at least one value is needed"));
    }
    for (i, value) in values.iter().enumerate() {
        if value.trim().is_empty() {
            return Err(SchemaError::new(&format!("#/enum/{i}"), "empty value"));
        }
        if values[..i].contains(value) {
            return Err(SchemaError::new(
                &format!("#/enum/{i}"),
                format!("duplicate value {value:?}"),
            ));
        }
    }
    Ok(json!({ "type": "string", "enum": values }))
}

/// Builds an object schema with `additionalProperties: false` and `propertyOrdering` in
/// insertion order.
#[derive(Debug, Clone, Default)]
pub struct ObjectSchema {
    description: Option<String>,
    properties: Vec<(String, Value)>,
    required: Vec<String>,
}

impl ObjectSchema {
    /// An empty object schema.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Adds a required property.
    pub fn required(mut self, name: impl Into<String>, schema: Value) -> Self {
        let name = name.into();
        self.required.push(name.clone());
        self.properties.push((name, schema));
        self
    }

    /// Adds an optional property.
    pub fn optional(mut self, name: impl Into<String>, schema: Value) -> Self {
        self.properties.push((name.into(), schema));
        self
    }

    /// The schema.
    pub fn build(self) -> Value {
        let ordering: Vec<&String> = self.properties.iter().map(|(n, _)| n).collect();
        let mut schema = json!({
            "type": "object",
            "additionalProperties": false,
            "propertyOrdering": ordering,
            "required": self.required,
        });
        let properties: Map<String, Value> = self.properties.into_iter().collect();
        if let Value::Object(map) = &mut schema {
            map.insert("properties".into(), Value::Object(properties));
            if let Some(description) = self.description {
                map.insert("description".into(), description.into());
            }
        }
        schema
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn keeps_supported_keywords_and_rewrites_the_rest() {
        let input = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "kind": {"const": "ticket", "description": "d", "default": "ticket"},
                "category": {"$ref": "#/$defs/Category", "description": "the category"},
                "skills": {"type": ["array", "null"], "items": {"type": "string"}, "maxItems": 5}
            },
            "required": ["kind"],
            "$defs": {"Category": {"type": "string", "enum": ["a", "b"]}}
        });
        let out = sanitize_json_schema(&input).unwrap();
        assert!(out.get("$schema").is_none());
        assert_eq!(
            out["properties"]["kind"],
            json!({"enum": ["ticket"], "description": "d"})
        );
        assert_eq!(
            out["properties"]["category"],
            json!({"anyOf": [{"$ref": "#/$defs/Category"}], "description": "the category"})
        );
        assert_eq!(out["properties"]["skills"], input["properties"]["skills"]);
        assert_eq!(out["$defs"], input["$defs"]);
    }

    #[test]
    fn rejects_constraints_gemini_ignores_with_their_path() {
        let input = json!({"type": "object", "properties": {"code": {"type": "string", "pattern": "^[A-Z]+$"}}});
        let err = sanitize_json_schema(&input).unwrap_err();
        assert_eq!(err.path, "#/properties/code/pattern");
        let err = sanitize_json_schema(&json!({"anyOf": [{"type": "strin"}]})).unwrap_err();
        assert_eq!(err.path, "#/anyOf/0/type");
        let err = sanitize_json_schema(&json!({"allOf": []})).unwrap_err();
        assert!(err.message.contains("allOf"));
        assert!(sanitize_json_schema(&json!("string")).is_err());
        assert!(sanitize_json_schema(&json!({"enum": []})).is_err());
    }

    #[cfg(feature = "schemars")]
    #[test]
    fn schemas_generated_from_rust_types_are_accepted() {
        #[derive(schemars::JsonSchema)]
        #[allow(dead_code)]
        #[serde(deny_unknown_fields)]
        struct Triage {
            /// One line.
            summary: String,
            category: Category,
            skills: Vec<String>,
            confidence: Option<f32>,
            attempts: u32,
        }
        #[derive(schemars::JsonSchema)]
        #[allow(dead_code)]
        #[serde(rename_all = "snake_case")]
        enum Category {
            /// Printers, laptops.
            Hardware,
            /// Apps.
            Software,
        }
        let schema = schema_for::<Triage>().unwrap();
        assert!(schema.get("$schema").is_none());
        assert_eq!(schema["additionalProperties"], json!(false));
        assert_eq!(schema["properties"]["summary"]["description"], "One line.");
        let text = schema.to_string();
        assert!(
            text.contains("hardware") && text.contains("software"),
            "{text}"
        );
        assert!(!text.contains("\"const\""), "{text}");
        assert_eq!(sanitize_json_schema(&schema).unwrap(), schema, "idempotent");
    }

    #[test]
    fn builds_enum_object_schemas_from_runtime_values() {
        let schema = ObjectSchema::new()
            .required("category", string_enum(["hardware", "software"]).unwrap())
            .optional("skills", array_of(string(), Some(5)))
            .build();
        assert_eq!(schema["propertyOrdering"], json!(["category", "skills"]));
        assert_eq!(schema["required"], json!(["category"]));
        assert_eq!(
            schema["properties"]["category"]["enum"],
            json!(["hardware", "software"])
        );
        assert_eq!(sanitize_json_schema(&schema).unwrap(), schema);
        assert_eq!(string_enum(["a", "a"]).unwrap_err().path, "#/enum/1");
        assert!(string_enum(Vec::<String>::new()).is_err());
        assert!(string_enum([" "]).is_err());
    }
}
