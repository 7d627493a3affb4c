//! Custom field values on ticket documents, and the filter on them.
//!
//! A ticket's values are the subdocument `custom_fields`, keyed by field key, each value
//! in its natural BSON type (a checkbox a boolean, a number a double, text a string, a
//! multi-select an array of strings), so host tools read them as they are and a double
//! keeps every bit of the `f64` (negative zero included). Its `key=value` tokens (core's
//! [`field_tokens`](helpdesk_core::domain::field_tokens)) are the array `field_tokens`, which the multikey index
//! `tenant_field_tokens` covers. Both are fields of the ticket document, so the write that
//! commits the ticket writes them: they change with the ticket's version, in the same
//! single-document write as the `CustomFieldsChanged` or `Created` event that carries them.

use std::collections::BTreeMap;

use bson::{Bson, Document};
use helpdesk_core::Result;
use helpdesk_core::domain::FieldValue;

use crate::codec::FieldError;
use crate::error::malformed;

/// The ticket document's field of the values.
pub(crate) const CUSTOM_FIELDS: &str = "custom_fields";
/// The ticket document's field of the tokens.
pub(crate) const FIELD_TOKENS: &str = "field_tokens";

/// The values as the `custom_fields` subdocument.
pub(crate) fn fields_doc(fields: &BTreeMap<String, FieldValue>) -> Document {
    fields
        .iter()
        .map(|(key, value)| (key.clone(), value_bson(value)))
        .collect()
}

fn value_bson(value: &FieldValue) -> Bson {
    match value {
        FieldValue::Bool(b) => Bson::Boolean(*b),
        FieldValue::Number(n) => Bson::Double(*n),
        FieldValue::Text(t) => Bson::String(t.clone()),
        FieldValue::List(items) => Bson::Array(items.iter().cloned().map(Bson::String).collect()),
    }
}

/// Reads the `custom_fields` subdocument of a document of `collection`: absent (a ticket
/// written before custom fields existed) is no values. Integers (written by a host tool)
/// read as numbers.
pub(crate) fn fields_from(
    d: &Document,
    collection: &'static str,
) -> Result<BTreeMap<String, FieldValue>> {
    let values = match d.get(CUSTOM_FIELDS) {
        None | Some(Bson::Null) => return Ok(BTreeMap::new()),
        Some(Bson::Document(values)) => values,
        Some(other) => {
            return Err(malformed(
                collection,
                CUSTOM_FIELDS,
                FieldError::WrongType {
                    expected: "document",
                    found: other.element_type(),
                },
            ));
        }
    };
    values
        .iter()
        .map(|(key, value)| {
            let value = value_from(value).ok_or_else(|| {
                malformed(
                    collection,
                    CUSTOM_FIELDS,
                    FieldError::BadFieldValue {
                        key: key.clone(),
                        found: value.element_type(),
                    },
                )
            })?;
            Ok((key.clone(), value))
        })
        .collect()
}

fn value_from(value: &Bson) -> Option<FieldValue> {
    Some(match value {
        Bson::Boolean(b) => FieldValue::Bool(*b),
        Bson::Double(n) => FieldValue::Number(*n),
        Bson::Int32(n) => FieldValue::Number(f64::from(*n)),
        Bson::Int64(n) => FieldValue::Number(*n as f64),
        Bson::String(s) => FieldValue::Text(s.clone()),
        Bson::Array(items) => FieldValue::List(
            items
                .iter()
                .map(|item| match item {
                    Bson::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?,
        ),
        _ => return None,
    })
}

/// The filter value on `field_tokens` that keeps the tickets holding every one of
/// `tokens` ([`has_field_tokens`](helpdesk_core::store::has_field_tokens)); `None` when
/// there are none (no condition). One token is a plain equality on the array, which any
/// server answers from `tenant_field_tokens`; several are `$all`, whose first token
/// MongoDB bounds the index with (the others are checked on the documents it reads).
pub(crate) fn tokens_filter(tokens: &[String]) -> Option<Bson> {
    match tokens {
        [] => None,
        [one] => Some(Bson::String(one.clone())),
        many => Some(Bson::Document(bson::doc! { "$all": many.to_vec() })),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    fn values(pairs: &[(&str, FieldValue)]) -> BTreeMap<String, FieldValue> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn values_keep_their_bson_type_and_every_bit() {
        let fields = values(&[
            ("vip", FieldValue::Bool(true)),
            ("seats", FieldValue::Number(-0.0)),
            ("tiny", FieldValue::Number(5e-324)),
            ("plan", FieldValue::Text("Pro".into())),
            (
                "modules",
                FieldValue::List(vec!["CRM".into(), "Billing".into()]),
            ),
            ("none", FieldValue::List(Vec::new())),
        ]);
        let d = bson::doc! { CUSTOM_FIELDS: fields_doc(&fields) };
        let sub = d.get_document(CUSTOM_FIELDS).unwrap();
        assert_eq!(sub.get("vip"), Some(&Bson::Boolean(true)));
        assert!(matches!(sub.get("seats"), Some(Bson::Double(n)) if n.is_sign_negative()));
        assert_eq!(sub.get_str("plan").unwrap(), "Pro");
        let back = fields_from(&d, "tickets").unwrap();
        assert_eq!(back, fields);
        let Some(FieldValue::Number(zero)) = back.get("seats") else {
            panic!("{back:?}");
        };
        assert_eq!(zero.to_bits(), (-0.0_f64).to_bits());
    }

    #[test]
    fn absent_values_are_none_and_bad_ones_name_the_key() {
        assert!(fields_from(&bson::doc! {}, "tickets").unwrap().is_empty());
        let ints = bson::doc! { CUSTOM_FIELDS: { "a": 3_i32, "b": 4_i64 } };
        assert_eq!(
            fields_from(&ints, "tickets").unwrap(),
            values(&[
                ("a", FieldValue::Number(3.0)),
                ("b", FieldValue::Number(4.0))
            ])
        );
        for bad in [
            bson::doc! { CUSTOM_FIELDS: { "when": bson::DateTime::from_millis(0) } },
            bson::doc! { CUSTOM_FIELDS: { "when": [1_i32] } },
            bson::doc! { CUSTOM_FIELDS: "plan=Pro" },
        ] {
            let e = fields_from(&bad, "tickets").unwrap_err();
            let chain = format!("{}", std::error::Error::source(&e).unwrap());
            assert!(chain.contains("custom_fields"), "{chain}");
        }
        let e = fields_from(
            &bson::doc! { CUSTOM_FIELDS: { "when": bson::Bson::Null } },
            "tickets",
        )
        .unwrap_err();
        let source = std::error::Error::source(&e).unwrap();
        let inner = format!("{}", source.source().unwrap());
        assert!(inner.contains("`when`"), "{inner}");
    }

    #[test]
    fn the_filter_is_an_equality_for_one_token_and_all_for_more() {
        assert_eq!(tokens_filter(&[]), None);
        assert_eq!(
            tokens_filter(&["plan=Pro".into()]),
            Some(Bson::String("plan=Pro".into()))
        );
        assert_eq!(
            tokens_filter(&["plan=Pro".into(), "vip=true".into()]),
            Some(Bson::Document(
                bson::doc! { "$all": ["plan=Pro", "vip=true"] }
            ))
        );
    }
}
