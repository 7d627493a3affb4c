//! Custom fields on the ticket pages: the inputs of each field (by its kind), the form
//! staff and customers change them with, and reading a posted form into field changes.
//! Which fields a customer sees and may change is core's rule
//! ([`helpdesk_core::fields`]); this module only shows and reads them.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use helpdesk_core::domain::{CustomFieldDef, FieldKind, FieldValue, Role, field_token};
use helpdesk_core::fields::value_from_form;
use helpdesk_core::service::FieldChanges;

use super::agent::{Choice, Refusal};
use super::agent_forms::again;
use super::app::AppState;
use super::error::WebResult;
use super::form::FormError;
use super::portal::ticket_id;
use super::session::{CustomerUser, StaffUser};

/// The routes that change a ticket's fields.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/agent/tickets/{id}/fields", post(save_staff))
        .route("/portal/tickets/{id}/fields", post(save_customer))
}

/// The name of the hidden input listing the fields a form shows.
const KEYS: &str = "field_keys";

/// The input name of a field's value.
fn input_name(key: &str) -> String {
    format!("f.{key}")
}

/// One field on a page: its input (when the viewer may change it) or its value.
#[derive(Debug, Clone)]
pub(crate) struct FieldInput {
    pub(crate) key: String,
    pub(crate) name: String,
    pub(crate) label: String,
    /// `text`, `number`, `date`, `checkbox`, `dropdown` or `multi_select`.
    pub(crate) kind: &'static str,
    /// The text of a text, number or date input.
    pub(crate) value: String,
    pub(crate) checked: bool,
    /// The options of a dropdown or multi-select, the chosen ones selected.
    pub(crate) options: Vec<Choice>,
    pub(crate) required: bool,
    pub(crate) editable: bool,
    /// The value as read ("—" when empty).
    pub(crate) shown: String,
    /// The form error's id part (`fields.plan`).
    pub(crate) error_key: String,
}

impl FieldInput {
    /// The `type` of its `<input>` (text, number and date fields).
    pub(crate) fn input_type(&self) -> &'static str {
        match self.kind {
            "number" => "number",
            "date" => "date",
            _ => "text",
        }
    }
}

/// The fields `role` sees on a ticket with `values`, in the tenant's order; `typed` (a
/// refused form's inputs) replaces the stored values.
pub(crate) fn inputs(
    defs: &[CustomFieldDef],
    values: &BTreeMap<String, FieldValue>,
    role: Role,
    typed: Option<&[(String, String)]>,
) -> Vec<FieldInput> {
    defs.iter()
        .filter(|d| role != Role::Customer || d.customer_visible || d.customer_editable)
        .map(|d| {
            let name = input_name(&d.key);
            let stored = values.get(&d.key);
            let typed_values: Option<Vec<&str>> = typed.map(|pairs| {
                pairs
                    .iter()
                    .filter(|(k, _)| *k == name)
                    .map(|(_, v)| v.as_str())
                    .collect()
            });
            let chosen: Vec<String> = match (&typed_values, stored) {
                (Some(t), _) => t.iter().map(|v| (*v).to_string()).collect(),
                (None, Some(FieldValue::List(items))) => items.clone(),
                (None, Some(v)) => v.canonical(),
                (None, None) => Vec::new(),
            };
            let value = chosen.first().cloned().unwrap_or_default();
            let checked = match (&typed_values, stored) {
                (Some(t), _) => !t.is_empty(),
                (None, v) => matches!(v, Some(FieldValue::Bool(true))),
            };
            let mut options = Vec::new();
            if let FieldKind::Dropdown { .. } = d.kind {
                options.push(Choice::new("", "—", &value));
            }
            for o in d.kind.options() {
                let mut c = Choice::new(o, o, "");
                c.selected = chosen.iter().any(|x| x == o);
                options.push(c);
            }
            FieldInput {
                key: d.key.clone(),
                name,
                label: d.label.clone(),
                kind: d.kind.as_str(),
                value,
                checked,
                options,
                required: d.required_to_resolve,
                editable: role != Role::Customer || d.customer_editable,
                shown: stored.map_or_else(|| "—".to_string(), FieldValue::display),
                error_key: format!("fields.{}", d.key),
            }
        })
        .collect()
}

/// The changes a posted form makes: every field it listed (in [`KEYS`]) gets the value of
/// its inputs, or is emptied. A value that does not fit its field is refused at the field.
pub(crate) fn changes_from_form(
    defs: &[CustomFieldDef],
    pairs: &[(String, String)],
) -> Result<FieldChanges, FormError> {
    let mut changes = FieldChanges::new();
    for (_, key) in pairs.iter().filter(|(k, _)| k == KEYS) {
        let Some(def) = defs.iter().find(|d| d.key == *key) else {
            return Err(FormError::general(
                "The fields changed meanwhile; reload the page and try again.",
            ));
        };
        let name = input_name(key);
        let values: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
            .collect();
        let value = value_from_form(def, &values).map_err(|e| {
            FormError::from_core(&e, &[]).map_or_else(
                || FormError::general(e.to_string()),
                |f| {
                    FormError::new(
                        format!("fields.{key}"),
                        f.message().replace("Invalid input: ", ""),
                    )
                },
            )
        })?;
        changes.insert(key.clone(), value);
    }
    Ok(changes)
}

/// A refused fields form of the agent's page: the error at its field, the inputs kept.
fn refusal(error: FormError, pairs: Vec<(String, String)>) -> Refusal {
    let mut r = Refusal::new(error, String::new());
    r.typed = pairs;
    r
}

/// The refusal of a core error for the fields form: at the field it names, else at the
/// form.
fn refused_by_core(e: helpdesk_core::Error) -> WebResult<FormError> {
    match &e {
        helpdesk_core::Error::Validation { field, message } if field.starts_with("fields.") => {
            Ok(FormError::new(field.to_string(), message.to_string()))
        }
        _ => match FormError::from_core(&e, &[]) {
            Some(f) => Ok(FormError::new("fields", f.message())),
            None => Err(e.into()),
        },
    }
}

/// `POST /agent/tickets/{id}/fields`.
async fn save_staff(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let id = ticket_id(&id)?;
    let helpdesk = state.helpdesk();
    let defs = helpdesk
        .get_tenant(&ctx.actor)
        .await?
        .settings
        .custom_fields;
    let changes = match changes_from_form(&defs, &pairs) {
        Ok(c) => c,
        Err(error) => return again(&state, &ctx, id, refusal(error, pairs)).await,
    };
    match helpdesk.set_custom_fields(&ctx.actor, id, changes).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/agent/tickets/{id}?done=fields-saved#fields")).into_response(),
        ),
        Err(e) => again(&state, &ctx, id, refusal(refused_by_core(e)?, pairs)).await,
    }
}

/// `POST /portal/tickets/{id}/fields`.
async fn save_customer(
    State(state): State<AppState>,
    CustomerUser(ctx): CustomerUser,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let id = ticket_id(&id)?;
    let helpdesk = state.helpdesk();
    let defs = helpdesk
        .get_tenant(&ctx.actor)
        .await?
        .settings
        .custom_fields;
    let error = match changes_from_form(&defs, &pairs) {
        Ok(changes) => match helpdesk.set_custom_fields(&ctx.actor, id, changes).await {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/portal/tickets/{id}?done=fields-saved#fields"))
                        .into_response(),
                );
            }
            Err(e) => refused_by_core(e)?,
        },
        Err(error) => error,
    };
    super::portal::refused_fields(&state, &ctx, id, error, pairs).await
}

/// The values of the tenant's dropdown fields as `<select>` options (`key=value` tokens,
/// labelled "Label: value"), `current` selected; `staff: false` leaves out the fields
/// customers cannot see. For the filters of the queue and search and the automation form.
pub(crate) fn dropdown_choices(
    settings: &helpdesk_core::domain::TenantSettings,
    current: &str,
    staff: bool,
) -> Vec<Choice> {
    let mut out = Vec::new();
    for def in &settings.custom_fields {
        if let FieldKind::Dropdown { options } = &def.kind
            && (staff || def.customer_visible)
        {
            for o in options {
                out.push(Choice::new(
                    &field_token(&def.key, o),
                    &format!("{}: {o}", def.label),
                    current,
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn def(key: &str, kind: FieldKind) -> CustomFieldDef {
        CustomFieldDef {
            key: key.into(),
            label: key.into(),
            kind,
            required_to_resolve: false,
            customer_visible: false,
            customer_editable: false,
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn a_form_becomes_changes_and_a_bad_value_is_refused_at_its_field() {
        let defs = [
            def("seats", FieldKind::Number),
            def("vip", FieldKind::Checkbox),
            def(
                "modules",
                FieldKind::MultiSelect {
                    options: vec!["CRM".into(), "Billing".into()],
                },
            ),
        ];
        let form = pairs(&[
            ("field_keys", "seats"),
            ("field_keys", "vip"),
            ("field_keys", "modules"),
            ("f.seats", "12"),
            ("f.modules", "Billing"),
            ("f.modules", "CRM"),
        ]);
        let changes = changes_from_form(&defs, &form).unwrap();
        assert_eq!(changes["seats"], Some(FieldValue::Number(12.0)));
        assert_eq!(changes["vip"], None, "an unticked box empties the field");
        assert_eq!(
            changes["modules"],
            Some(FieldValue::List(vec!["CRM".into(), "Billing".into()]))
        );
        let bad = pairs(&[("field_keys", "seats"), ("f.seats", "many")]);
        let e = changes_from_form(&defs, &bad).unwrap_err();
        assert!(e.is("fields.seats"), "{}", e.message());
        let gone = pairs(&[("field_keys", "colour")]);
        assert!(changes_from_form(&defs, &gone).unwrap_err().is(""));
    }

    #[test]
    fn customers_see_only_visible_fields_and_edit_only_editable_ones() {
        let mut order = def("order", FieldKind::Text);
        order.customer_visible = true;
        let mut region = def(
            "region",
            FieldKind::Dropdown {
                options: vec!["EU".into(), "US".into()],
            },
        );
        region.customer_visible = true;
        region.customer_editable = true;
        let defs = [order, region, def("risk", FieldKind::Text)];
        let values = BTreeMap::from([
            ("order".to_string(), FieldValue::Text("A-1".into())),
            ("risk".to_string(), FieldValue::Text("high".into())),
        ]);
        let shown = inputs(&defs, &values, Role::Customer, None);
        let keys: Vec<(&str, bool)> = shown.iter().map(|f| (f.key.as_str(), f.editable)).collect();
        assert_eq!(keys, [("order", false), ("region", true)]);
        assert_eq!(shown[0].shown, "A-1");
        let staff = inputs(&defs, &values, Role::Agent, None);
        assert_eq!(staff.len(), 3);
        let typed = pairs(&[("f.region", "US")]);
        let kept = inputs(&defs, &values, Role::Agent, Some(&typed));
        assert!(
            kept[1]
                .options
                .iter()
                .any(|c| c.value == "US" && c.selected)
        );
    }
}
