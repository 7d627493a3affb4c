//! JSON schemas the language model must answer with. Every allowed value comes from the
//! tenant's settings or from the helpdesk itself, never from ticket, chat or article text.

use serde_json::{Value, json};

use crate::domain::{FieldKind, Priority, Sentiment, TenantSettings};

/// The answer for a dropdown field the model cannot decide, unless the field has an
/// option of that name (then it is that option).
pub const NO_OPTION: &str = "none";

/// A string property restricted to `values` (an unrestricted string when `values` is
/// empty, which the parser then rejects for required enums).
fn string_enum(values: &[String]) -> Value {
    if values.is_empty() {
        json!({ "type": "string" })
    } else {
        json!({ "type": "string", "enum": values })
    }
}

/// The `fields` property of the triage schema: one required string per dropdown field of
/// the tenant, restricted to its options and [`NO_OPTION`]; `None` without dropdowns.
fn dropdown_fields_schema(settings: &TenantSettings) -> Option<Value> {
    let mut properties = serde_json::Map::new();
    let mut keys = Vec::new();
    for def in &settings.custom_fields {
        if let FieldKind::Dropdown { options } = &def.kind {
            let mut allowed = options.clone();
            if !allowed.iter().any(|o| o.eq_ignore_ascii_case(NO_OPTION)) {
                allowed.push(NO_OPTION.into());
            }
            let mut property = string_enum(&allowed);
            if let Some(map) = property.as_object_mut() {
                map.insert("description".into(), Value::String(def.label.clone()));
            }
            properties.insert(def.key.clone(), property);
            keys.push(def.key.clone());
        }
    }
    (!keys.is_empty()).then(|| {
        json!({
            "type": "object",
            "properties": properties,
            "required": keys,
            "additionalProperties": false
        })
    })
}

/// The triage schema of one tenant: `summary`, `category` (the tenant's categories),
/// `priority` (the priority enum), `required_skills` (the tenant's skills), `sentiment`,
/// `language` and `confidence`, all required, nothing else allowed; with dropdown custom
/// fields, also `fields` (each field's options or [`NO_OPTION`]).
pub fn triage_schema(settings: &TenantSettings) -> Value {
    let priorities: Vec<String> = Priority::ALL.iter().map(|p| p.as_str().into()).collect();
    let sentiments: Vec<String> = Sentiment::ALL.iter().map(|s| s.as_str().into()).collect();
    let skills = if settings.skills.is_empty() {
        json!({ "type": "array", "items": { "type": "string" }, "maxItems": 0 })
    } else {
        json!({ "type": "array", "items": string_enum(&settings.skills) })
    };
    let mut schema = json!({
        "type": "object",
        "properties": {
            "summary": { "type": "string", "description": "One line, at most 200 characters." },
            "category": string_enum(&settings.categories),
            "priority": string_enum(&priorities),
            "required_skills": skills,
            "sentiment": string_enum(&sentiments),
            "language": { "type": "string", "description": "BCP-47 code such as en or de-CH." },
            "confidence": { "type": "number", "minimum": 0, "maximum": 1 }
        },
        "required": ["summary", "category", "priority", "required_skills", "sentiment",
                     "language", "confidence"],
        "additionalProperties": false
    });
    if let Some(fields) = dropdown_fields_schema(settings) {
        schema["properties"]["fields"] = fields;
        if let Some(required) = schema["required"].as_array_mut() {
            required.push(Value::String("fields".into()));
        }
    }
    schema
}

fn chunk_ids_schema(retrieved: &[String]) -> Value {
    if retrieved.is_empty() {
        json!({ "type": "array", "items": { "type": "string" }, "maxItems": 0 })
    } else {
        json!({ "type": "array", "items": string_enum(retrieved) })
    }
}

/// The chatbot turn schema: `answer`, `cited_chunk_ids` (only the ids retrieved for this
/// turn), `handoff`, `handoff_reason` and `resolved`.
pub fn chat_schema(retrieved_chunk_ids: &[String]) -> Value {
    json!({
        "type": "object",
        "properties": {
            "answer": { "type": "string" },
            "cited_chunk_ids": chunk_ids_schema(retrieved_chunk_ids),
            "handoff": { "type": "boolean" },
            "handoff_reason": { "type": "string" },
            "resolved": { "type": "boolean" }
        },
        "required": ["answer", "cited_chunk_ids", "handoff", "handoff_reason", "resolved"],
        "additionalProperties": false
    })
}

/// The suggested-reply schema: `reply` and `cited_chunk_ids`.
pub fn draft_schema(retrieved_chunk_ids: &[String]) -> Value {
    json!({
        "type": "object",
        "properties": {
            "reply": { "type": "string" },
            "cited_chunk_ids": chunk_ids_schema(retrieved_chunk_ids)
        },
        "required": ["reply", "cited_chunk_ids"],
        "additionalProperties": false
    })
}

/// The summary schema: `summary` and up to 10 `open_questions`.
pub fn summary_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "summary": { "type": "string" },
            "open_questions": { "type": "array", "items": { "type": "string" }, "maxItems": 10 }
        },
        "required": ["summary", "open_questions"],
        "additionalProperties": false
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn strings(v: &Value) -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn triage_enums_are_the_tenants_values() {
        let settings = TenantSettings {
            categories: vec!["shipping".into(), "returns".into()],
            skills: vec!["logistics".into()],
            ..TenantSettings::default()
        };
        let s = triage_schema(&settings);
        let p = &s["properties"];
        assert_eq!(strings(&p["category"]["enum"]), ["shipping", "returns"]);
        assert_eq!(
            strings(&p["required_skills"]["items"]["enum"]),
            ["logistics"]
        );
        assert_eq!(
            strings(&p["priority"]["enum"]),
            ["low", "medium", "high", "urgent"]
        );
        assert_eq!(
            strings(&p["sentiment"]["enum"]),
            ["negative", "neutral", "positive"]
        );
        assert_eq!(s["additionalProperties"], false);
        assert_eq!(s["required"].as_array().unwrap().len(), 7);
    }

    #[test]
    fn empty_skill_vocabulary_allows_no_skills() {
        let mut settings = TenantSettings::default();
        settings.skills.clear();
        let s = triage_schema(&settings);
        assert_eq!(s["properties"]["required_skills"]["maxItems"], 0);
    }

    #[test]
    fn chat_schema_limits_citations_to_retrieved_ids() {
        let s = chat_schema(&["a:0".into(), "b:1".into()]);
        assert_eq!(
            strings(&s["properties"]["cited_chunk_ids"]["items"]["enum"]),
            ["a:0", "b:1"]
        );
        let none = chat_schema(&[]);
        assert_eq!(none["properties"]["cited_chunk_ids"]["maxItems"], 0);
    }
}
