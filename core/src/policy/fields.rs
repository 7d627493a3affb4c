//! Rules for custom fields: definitions an admin may save, values a person may set, what a
//! customer may see and change, and what must be filled in before a ticket is resolved.
//! Every refusal is a validation error naming the field (`fields.plan`,
//! `settings.custom_fields[2].options`).

use std::collections::BTreeMap;

use crate::domain::{CustomFieldDef, FieldKind, FieldValue, Role, TicketStatus};
use crate::{Error, Result, validate};

/// Most fields a tenant may define.
pub const MAX_FIELDS: usize = 50;
/// Most options of a dropdown or multi-select.
pub const MAX_OPTIONS: usize = 100;
/// Longest label or option, in characters.
pub const MAX_LABEL_CHARS: usize = 80;
/// Longest text value, in characters.
pub const MAX_TEXT_CHARS: usize = 500;

/// Checks and normalizes an admin's definitions: keys are identifiers unique in the list,
/// labels one line, options one line each, unique (case-insensitively) and at least one,
/// editable by customers implies visible to them.
pub fn check_definitions(defs: &[CustomFieldDef]) -> Result<Vec<CustomFieldDef>> {
    if defs.len() > MAX_FIELDS {
        return Err(Error::validation(
            "settings.custom_fields",
            format!("at most {MAX_FIELDS} fields"),
        ));
    }
    let mut out: Vec<CustomFieldDef> = Vec::with_capacity(defs.len());
    for (i, def) in defs.iter().enumerate() {
        let at = |part: &str| format!("settings.custom_fields[{i}].{part}");
        let key = validate::identifier(&at("key"), &def.key)?;
        if out.iter().any(|d| d.key == key) {
            return Err(Error::validation(
                at("key"),
                format!("{key:?} is used twice"),
            ));
        }
        let label = validate::required_line(&at("label"), &def.label, MAX_LABEL_CHARS)?;
        let kind = match &def.kind {
            FieldKind::Dropdown { options } => FieldKind::Dropdown {
                options: check_options(&at("options"), options)?,
            },
            FieldKind::MultiSelect { options } => FieldKind::MultiSelect {
                options: check_options(&at("options"), options)?,
            },
            other => other.clone(),
        };
        out.push(CustomFieldDef {
            key,
            label,
            kind,
            required_to_resolve: def.required_to_resolve,
            customer_visible: def.customer_visible || def.customer_editable,
            customer_editable: def.customer_editable,
        });
    }
    Ok(out)
}

fn check_options(field: &str, options: &[String]) -> Result<Vec<String>> {
    if options.is_empty() || options.len() > MAX_OPTIONS {
        return Err(Error::validation(
            field.to_string(),
            format!("1 to {MAX_OPTIONS} options"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(options.len());
    for (i, o) in options.iter().enumerate() {
        let o = validate::required_line(&format!("{field}[{i}]"), o, MAX_LABEL_CHARS)?;
        if out.iter().any(|x| x.to_lowercase() == o.to_lowercase()) {
            return Err(Error::validation(
                format!("{field}[{i}]"),
                format!("{o:?} is listed twice"),
            ));
        }
        out.push(o);
    }
    Ok(out)
}

/// The value `raw` as field `def` takes it, normalized; `None` when it empties the field
/// (blank text, an empty list). Dropdown and multi-select values must be options (matched
/// case-insensitively, stored as the option is written); a date is `YYYY-MM-DD`.
pub fn check_value(def: &CustomFieldDef, raw: &FieldValue) -> Result<Option<FieldValue>> {
    let field = format!("fields.{}", def.key);
    let wrong = |expected: &str| {
        Error::validation(field.clone(), format!("{} expects {expected}", def.label))
    };
    let option = |text: &str| -> Result<String> {
        let wanted = text.trim().to_lowercase();
        def.kind
            .options()
            .iter()
            .find(|o| o.to_lowercase() == wanted)
            .cloned()
            .ok_or_else(|| {
                Error::validation(
                    field.clone(),
                    format!(
                        "{text:?} is not one of the options ({})",
                        def.kind.options().join(", ")
                    ),
                )
            })
    };
    let value = match (&def.kind, raw) {
        (FieldKind::Text, FieldValue::Text(t)) => {
            validate::no_control_chars(&field, t)?;
            let t = t.trim();
            if t.chars().count() > MAX_TEXT_CHARS {
                return Err(Error::validation(
                    field,
                    format!("at most {MAX_TEXT_CHARS} characters"),
                ));
            }
            (!t.is_empty()).then(|| FieldValue::Text(t.to_string()))
        }
        (FieldKind::Text, _) => return Err(wrong("text")),
        (FieldKind::Number, FieldValue::Number(n)) if n.is_finite() => Some(FieldValue::Number(*n)),
        (FieldKind::Number, _) => return Err(wrong("a number")),
        (FieldKind::Date, FieldValue::Text(t)) if t.trim().is_empty() => None,
        (FieldKind::Date, FieldValue::Text(t)) => {
            let day: jiff::civil::Date = t
                .trim()
                .parse()
                .map_err(|_| wrong("a date like 2026-12-03"))?;
            Some(FieldValue::Text(day.to_string()))
        }
        (FieldKind::Date, _) => return Err(wrong("a date like 2026-12-03")),
        (FieldKind::Checkbox, FieldValue::Bool(b)) => Some(FieldValue::Bool(*b)),
        (FieldKind::Checkbox, _) => return Err(wrong("true or false")),
        (FieldKind::Dropdown { .. }, FieldValue::Text(t)) if t.trim().is_empty() => None,
        (FieldKind::Dropdown { .. }, FieldValue::Text(t)) => Some(FieldValue::Text(option(t)?)),
        (FieldKind::Dropdown { .. }, _) => return Err(wrong("one of its options")),
        (FieldKind::MultiSelect { options }, FieldValue::List(items)) => {
            let mut chosen = Vec::with_capacity(items.len());
            for item in items {
                chosen.push(option(item)?);
            }
            // Kept in the options' order, each once.
            let ordered: Vec<String> = options
                .iter()
                .filter(|o| chosen.contains(o))
                .cloned()
                .collect();
            (!ordered.is_empty()).then_some(FieldValue::List(ordered))
        }
        (FieldKind::MultiSelect { .. }, _) => return Err(wrong("a list of its options")),
    };
    Ok(value)
}

/// The value of a form's inputs for `def`: a number or a date parsed from its text, `true`
/// for a ticked checkbox (`"on"`, `"true"`) and nothing for an unticked one, a
/// multi-select's options from the values of its inputs. Checked like [`check_value`].
pub fn value_from_form(def: &CustomFieldDef, inputs: &[String]) -> Result<Option<FieldValue>> {
    let first = inputs
        .first()
        .map(String::as_str)
        .unwrap_or_default()
        .trim();
    let raw = match &def.kind {
        FieldKind::Number if first.is_empty() => return Ok(None),
        FieldKind::Number => FieldValue::Number(first.parse().map_err(|_| {
            Error::validation(
                format!("fields.{}", def.key),
                format!("{} expects a number", def.label),
            )
        })?),
        // An unticked box sends nothing: the field is emptied (so a required checkbox
        // must be ticked before resolving).
        FieldKind::Checkbox if matches!(first, "on" | "true" | "yes" | "1") => {
            FieldValue::Bool(true)
        }
        FieldKind::Checkbox => return Ok(None),
        FieldKind::MultiSelect { .. } => FieldValue::List(
            inputs
                .iter()
                .filter(|v| !v.trim().is_empty())
                .cloned()
                .collect(),
        ),
        _ => FieldValue::Text(first.to_string()),
    };
    check_value(def, &raw)
}

/// `current` with `changes` applied (a `None` clears the field), checked against `defs`
/// for `role`: every key must be a defined field, and a customer may change only the
/// fields editable by customers.
pub fn apply_changes(
    defs: &[CustomFieldDef],
    current: &BTreeMap<String, FieldValue>,
    changes: &BTreeMap<String, Option<FieldValue>>,
    role: Role,
) -> Result<BTreeMap<String, FieldValue>> {
    let mut next = current.clone();
    for (key, change) in changes {
        let field = format!("fields.{key}");
        let def = defs
            .iter()
            .find(|d| d.key == *key)
            .ok_or_else(|| Error::validation(field.clone(), "no such field"))?;
        if role == Role::Customer && !def.customer_editable {
            return Err(Error::validation(
                field,
                "customers cannot change this field",
            ));
        }
        match change
            .as_ref()
            .map(|v| check_value(def, v))
            .transpose()?
            .flatten()
        {
            Some(value) => next.insert(key.clone(), value),
            None => next.remove(key),
        };
    }
    Ok(next)
}

/// The first field that must be filled before a move to `to` by staff and is empty:
/// required fields are checked when staff resolve a ticket or close it without resolving
/// (customers, the bot and the sweeps are never held up by them).
pub fn missing_before<'a>(
    defs: &'a [CustomFieldDef],
    fields: &BTreeMap<String, FieldValue>,
    from: TicketStatus,
    to: TicketStatus,
) -> Option<&'a CustomFieldDef> {
    let finishing = to == TicketStatus::Resolved
        || (to == TicketStatus::Closed && from != TicketStatus::Resolved);
    if !finishing {
        return None;
    }
    defs.iter()
        .find(|d| d.required_to_resolve && !fields.contains_key(&d.key))
}

/// The refusal for a required field left empty.
pub fn required_error(def: &CustomFieldDef) -> Error {
    Error::validation(
        format!("fields.{}", def.key),
        format!(
            "{} must be filled in before the ticket is resolved",
            def.label
        ),
    )
}

/// The fields a customer sees of `fields`: those of definitions visible to customers.
pub fn customer_visible(
    defs: &[CustomFieldDef],
    fields: &BTreeMap<String, FieldValue>,
) -> BTreeMap<String, FieldValue> {
    fields
        .iter()
        .filter(|(k, _)| {
            defs.iter()
                .any(|d| d.key == **k && (d.customer_visible || d.customer_editable))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn def(key: &str, kind: FieldKind) -> CustomFieldDef {
        CustomFieldDef {
            key: key.into(),
            label: key.to_uppercase(),
            kind,
            required_to_resolve: false,
            customer_visible: false,
            customer_editable: false,
        }
    }

    fn field_of(e: Error) -> String {
        match e {
            Error::Validation { field, .. } => field.into_owned(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn values_are_checked_against_their_kind() {
        let plan = def(
            "plan",
            FieldKind::Dropdown {
                options: vec!["Free".into(), "Pro".into()],
            },
        );
        assert_eq!(
            check_value(&plan, &FieldValue::Text(" pro ".into())).unwrap(),
            Some(FieldValue::Text("Pro".into()))
        );
        assert_eq!(
            field_of(check_value(&plan, &FieldValue::Text("Gold".into())).unwrap_err()),
            "fields.plan"
        );
        assert!(check_value(&plan, &FieldValue::Number(1.0)).is_err());
        let seats = def("seats", FieldKind::Number);
        assert!(check_value(&seats, &FieldValue::Number(f64::NAN)).is_err());
        assert!(value_from_form(&seats, &["12.5".into()]).unwrap().is_some());
        assert!(value_from_form(&seats, &["twelve".into()]).is_err());
        let day = def("renewal", FieldKind::Date);
        assert!(check_value(&day, &FieldValue::Text("2026-02-30".into())).is_err());
        let modules = def(
            "modules",
            FieldKind::MultiSelect {
                options: vec!["CRM".into(), "Billing".into()],
            },
        );
        assert_eq!(
            check_value(
                &modules,
                &FieldValue::List(vec!["billing".into(), "crm".into(), "CRM".into()])
            )
            .unwrap(),
            Some(FieldValue::List(vec!["CRM".into(), "Billing".into()]))
        );
        let note = def("note", FieldKind::Text);
        assert!(check_value(&note, &FieldValue::Text("a\u{7}b".into())).is_err());
        assert_eq!(
            check_value(&note, &FieldValue::Text("  ".into())).unwrap(),
            None
        );
    }

    #[test]
    fn customers_change_only_editable_fields_and_unknown_keys_are_refused() {
        let mut open = def("order", FieldKind::Text);
        open.customer_editable = true;
        let internal = def("risk", FieldKind::Text);
        let defs = [open, internal];
        let mut changes = BTreeMap::new();
        changes.insert("order".to_string(), Some(FieldValue::Text("A-1".into())));
        let next = apply_changes(&defs, &BTreeMap::new(), &changes, Role::Customer).unwrap();
        assert_eq!(next.len(), 1);
        changes.insert("risk".to_string(), Some(FieldValue::Text("high".into())));
        let e = apply_changes(&defs, &BTreeMap::new(), &changes, Role::Customer).unwrap_err();
        assert_eq!(field_of(e), "fields.risk");
        let next = apply_changes(&defs, &BTreeMap::new(), &changes, Role::Agent).unwrap();
        assert_eq!(next.len(), 2);
        let mut clear = BTreeMap::new();
        clear.insert("risk".to_string(), None);
        assert_eq!(
            apply_changes(&defs, &next, &clear, Role::Agent)
                .unwrap()
                .len(),
            1
        );
        let mut unknown = BTreeMap::new();
        unknown.insert("nope".to_string(), None);
        let e = apply_changes(&defs, &next, &unknown, Role::Admin).unwrap_err();
        assert_eq!(field_of(e), "fields.nope");
        assert_eq!(customer_visible(&defs, &next).len(), 1);
    }

    #[test]
    fn definitions_are_normalized_and_refused_at_their_index() {
        let mut editable = def("order", FieldKind::Text);
        editable.customer_editable = true;
        let checked = check_definitions(&[editable]).unwrap();
        assert!(checked[0].customer_visible);
        let twice = [def("a", FieldKind::Text), def("a", FieldKind::Number)];
        assert_eq!(
            field_of(check_definitions(&twice).unwrap_err()),
            "settings.custom_fields[1].key"
        );
        let empty = [def("a", FieldKind::Dropdown { options: vec![] })];
        assert_eq!(
            field_of(check_definitions(&empty).unwrap_err()),
            "settings.custom_fields[0].options"
        );
        let dup = [def(
            "a",
            FieldKind::Dropdown {
                options: vec!["X".into(), "x".into()],
            },
        )];
        assert_eq!(
            field_of(check_definitions(&dup).unwrap_err()),
            "settings.custom_fields[0].options[1]"
        );
        let bad_key = [def("Bad Key", FieldKind::Text)];
        assert_eq!(
            field_of(check_definitions(&bad_key).unwrap_err()),
            "settings.custom_fields[0].key"
        );
    }

    #[test]
    fn required_fields_hold_up_staff_resolving_only() {
        let mut order = def("order", FieldKind::Text);
        order.required_to_resolve = true;
        let defs = [order];
        let empty = BTreeMap::new();
        use TicketStatus::*;
        assert!(missing_before(&defs, &empty, Open, Resolved).is_some());
        assert!(missing_before(&defs, &empty, Open, Closed).is_some());
        assert!(missing_before(&defs, &empty, Resolved, Closed).is_none());
        assert!(missing_before(&defs, &empty, Open, Pending).is_none());
        let mut filled = BTreeMap::new();
        filled.insert("order".to_string(), FieldValue::Text("A-1".into()));
        assert!(missing_before(&defs, &filled, Open, Resolved).is_none());
    }
}
