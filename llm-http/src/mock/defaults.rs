//! Default answers of a mock when no reply is scripted.

use serde_json::{Map, Value, json};

/// A value matching `schema` (first enum value, required properties, `minItems` items...).
pub fn value_for_schema(schema: &Value) -> Value {
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

/// A deterministic pseudo-embedding of `text` with values in `-1..=1`, not normalised
/// (like Gemini's below 3072 dimensions), so clients must normalise.
pub fn fake_embedding(text: &str, dims: usize) -> Vec<f32> {
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

/// `text` cut in two at the character boundary at or after its middle: the two deltas of
/// a default streamed answer.
pub fn halves(text: &str) -> [String; 2] {
    let middle = text.len() / 2;
    let split = (middle..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len());
    let (first, second) = text.split_at(split);
    [first.to_owned(), second.to_owned()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_values_that_match_the_schema() {
        let schema = json!({"type": "object", "required": ["category", "skills", "score", "kind"],
            "properties": {
                "category": {"type": "string", "enum": ["hardware", "software"]},
                "skills": {"type": "array", "items": {"type": "string"}, "minItems": 2},
                "score": {"type": "number", "minimum": 0.25},
                "kind": {"$ref": "#/$defs/Kind"},
                "ignored": {"type": "string"}},
            "$defs": {"Kind": {"enum": ["a"]}}});
        assert_eq!(
            value_for_schema(&schema),
            json!({"category": "hardware", "skills": ["mock", "mock"], "score": 0.25, "kind": "a"})
        );
    }

    #[test]
    fn embeddings_are_deterministic_and_text_dependent() {
        assert_eq!(fake_embedding("a", 8), fake_embedding("a", 8));
        assert_ne!(fake_embedding("a", 8), fake_embedding("b", 8));
        assert!(
            fake_embedding("a", 64)
                .iter()
                .all(|v| (-1.0..=1.0).contains(v))
        );
    }

    #[test]
    fn halves_split_on_a_character_boundary() {
        assert_eq!(halves("abcd"), ["ab", "cd"]);
        assert_eq!(halves("aé"), ["a", "é"]);
        assert_eq!(halves(""), ["", ""]);
    }
}
