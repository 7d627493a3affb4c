//! Custom fields: typed ticket fields an admin defines per tenant (plan, order number,
//! renewal date, affected modules ...), and their values on tickets.
//!
//! The definitions live in [`TenantSettings::custom_fields`](super::TenantSettings); the
//! values on [`Ticket::custom_fields`](super::Ticket), keyed by the field's key, changed by
//! [`EventKind::CustomFieldsChanged`](super::EventKind::CustomFieldsChanged) events (so
//! replay rebuilds them). Stores keep each ticket's [`field_tokens`] for filtering.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// What kind of value a field holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FieldKind {
    /// One line of text.
    Text,
    /// A number.
    Number,
    /// A calendar day (`2026-12-03`).
    Date,
    /// A box that is ticked or not.
    Checkbox,
    /// One of the options.
    Dropdown {
        /// The allowed values, in the order shown.
        options: Vec<String>,
    },
    /// Any of the options.
    MultiSelect {
        /// The allowed values, in the order shown.
        options: Vec<String>,
    },
}

impl FieldKind {
    /// The snake_case name (`"dropdown"`, ...).
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Number => "number",
            Self::Date => "date",
            Self::Checkbox => "checkbox",
            Self::Dropdown { .. } => "dropdown",
            Self::MultiSelect { .. } => "multi_select",
        }
    }

    /// The allowed values of a dropdown or multi-select (empty for the other kinds).
    pub fn options(&self) -> &[String] {
        match self {
            Self::Dropdown { options } | Self::MultiSelect { options } => options,
            _ => &[],
        }
    }
}

/// A field an admin defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomFieldDef {
    /// Its key: a lowercase identifier (`plan`, `order_number`), unique in the tenant.
    pub key: String,
    /// The label people see.
    pub label: String,
    /// Its kind, with the options of a dropdown or multi-select.
    pub kind: FieldKind,
    /// Staff cannot resolve a ticket while it is empty.
    #[serde(default)]
    pub required_to_resolve: bool,
    /// Customers see it on their tickets.
    #[serde(default)]
    pub customer_visible: bool,
    /// Customers may fill it in on the new-ticket form and change it on their tickets
    /// (implies visible).
    #[serde(default)]
    pub customer_editable: bool,
}

/// A field's value. Its meaning comes from the field's [`FieldKind`]: a date and a
/// dropdown's option are [`FieldValue::Text`], a multi-select's options
/// [`FieldValue::List`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    /// A checkbox.
    Bool(bool),
    /// A number (finite).
    Number(f64),
    /// Text, a date (`YYYY-MM-DD`) or a dropdown's option.
    Text(String),
    /// A multi-select's options.
    List(Vec<String>),
}

impl FieldValue {
    /// The value as people read it: `yes`/`no`, the number as written, the text, the
    /// options joined by `, `.
    pub fn display(&self) -> String {
        match self {
            Self::Bool(true) => "yes".into(),
            Self::Bool(false) => "no".into(),
            Self::Number(n) => format_number(*n),
            Self::Text(t) => t.clone(),
            Self::List(items) => items.join(", "),
        }
    }

    /// The canonical strings the value stands for in [`field_tokens`]: one for a single
    /// value, one per option of a list.
    pub fn canonical(&self) -> Vec<String> {
        match self {
            Self::Bool(b) => vec![b.to_string()],
            Self::Number(n) => vec![format_number(*n)],
            Self::Text(t) => vec![t.clone()],
            Self::List(items) => items.clone(),
        }
    }

    /// The day of a date field's value.
    pub fn as_date(&self) -> Option<Date> {
        match self {
            Self::Text(t) => t.parse().ok(),
            _ => None,
        }
    }
}

/// A number in its shortest form (`2`, `2.5`, `-0.125`).
pub fn format_number(n: f64) -> String {
    format!("{n}")
}

/// One `key=value` token per value of `fields` (one per option of a list), sorted: what
/// a filter on a field matches exactly ([`TicketQuery::fields`](crate::store::TicketQuery)).
pub fn field_tokens(fields: &BTreeMap<String, FieldValue>) -> Vec<String> {
    let mut tokens: Vec<String> = fields
        .iter()
        .flat_map(|(key, value)| {
            value
                .canonical()
                .into_iter()
                .map(move |v| field_token(key, &v))
        })
        .collect();
    tokens.sort();
    tokens.dedup();
    tokens
}

/// The token of one value of one field: `key=value`.
pub fn field_token(key: &str, value: &str) -> String {
    format!("{key}={value}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_serialize_as_plain_json_and_tokenize() {
        let mut fields = BTreeMap::new();
        fields.insert("plan".to_string(), FieldValue::Text("pro".into()));
        fields.insert("seats".to_string(), FieldValue::Number(12.0));
        fields.insert("vip".to_string(), FieldValue::Bool(true));
        fields.insert(
            "modules".to_string(),
            FieldValue::List(vec!["crm".into(), "billing".into()]),
        );
        let json = serde_json::to_string(&fields).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"modules":["crm","billing"],"plan":"pro","seats":12.0,"vip":true}"#
        );
        let back: BTreeMap<String, FieldValue> = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, fields);
        assert_eq!(
            field_tokens(&fields),
            [
                "modules=billing",
                "modules=crm",
                "plan=pro",
                "seats=12",
                "vip=true"
            ]
        );
        assert_eq!(FieldValue::Number(2.5).display(), "2.5");
        assert_eq!(
            FieldValue::Text("2026-12-03".into()).as_date(),
            "2026-12-03".parse().ok()
        );
    }
}
