//! The admin's custom fields page: the tenant's fields in their order, the form to add or
//! change one (key, label, kind with its options, required to resolve, what customers may
//! do), and deleting one after asking. Saved as a change of the tenant's settings, so core
//! checks them and records an audit event.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use helpdesk_core::domain::{CustomFieldDef, FieldKind};
use serde::Deserialize;

use super::agent::Choice;
use super::app::AppState;
use super::error::WebResult;
use super::form::{self, FormError};
use super::keyed::Keyed;
use super::session::{AdminUser, Ctx};
use super::views::{Page, html};

/// The custom-field routes (admins).
pub(crate) fn routes() -> Router<AppState> {
    FIELDS
        .delete_routes("/admin/fields?done=field-deleted")
        .route("/admin/fields", get(list_page).post(add))
        .route("/admin/fields/{key}", get(edit_page).post(save))
}

/// The form of one field, as typed (every input optional, so a missing one is refused on
/// the form).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct FieldForm {
    key: String,
    label: String,
    kind: String,
    /// One option per line.
    options: String,
    required: String,
    /// `internal`, `visible` or `editable`.
    customers: String,
}

impl FieldForm {
    fn of(def: &CustomFieldDef) -> Self {
        Self {
            key: def.key.clone(),
            label: def.label.clone(),
            kind: def.kind.as_str().into(),
            options: def.kind.options().join("\n"),
            required: if def.required_to_resolve {
                "on".into()
            } else {
                String::new()
            },
            customers: if def.customer_editable {
                "editable"
            } else if def.customer_visible {
                "visible"
            } else {
                "internal"
            }
            .into(),
        }
    }

    /// The definition the form describes (core checks it when the settings are saved).
    fn definition(&self) -> Result<CustomFieldDef, FormError> {
        let options: Vec<String> = self
            .options
            .lines()
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(String::from)
            .collect();
        let kind = match self.kind.as_str() {
            "text" => FieldKind::Text,
            "number" => FieldKind::Number,
            "date" => FieldKind::Date,
            "checkbox" => FieldKind::Checkbox,
            "dropdown" => FieldKind::Dropdown { options },
            "multi_select" => FieldKind::MultiSelect { options },
            _ => return Err(FormError::new("kind", "Choose a kind from the list.")),
        };
        let (visible, editable) = match self.customers.as_str() {
            "" | "internal" => (false, false),
            "visible" => (true, false),
            "editable" => (true, true),
            _ => return Err(FormError::new("customers", "Choose from the list.")),
        };
        Ok(CustomFieldDef {
            key: self.key.trim().to_lowercase(),
            label: self.label.clone(),
            kind,
            required_to_resolve: self.required == "on",
            customer_visible: visible,
            customer_editable: editable,
        })
    }
}

/// A row of the list.
struct Row {
    key: String,
    label: String,
    kind: &'static str,
    options: String,
    required: bool,
    customers: &'static str,
}

#[derive(Template)]
#[template(path = "admin_fields.html")]
struct FieldsPage {
    page: Page,
    rows: Vec<Row>,
    /// The add or edit form.
    form: FieldForm,
    /// The key of the field being changed (empty: adding one).
    editing: String,
    kinds: Vec<Choice>,
    audiences: Vec<Choice>,
    error: FormError,
}

fn rows(defs: &[CustomFieldDef]) -> Vec<Row> {
    defs.iter()
        .map(|d| Row {
            key: d.key.clone(),
            label: d.label.clone(),
            kind: d.kind.as_str(),
            options: d.kind.options().join(", "),
            required: d.required_to_resolve,
            customers: if d.customer_editable {
                "fill in and change"
            } else if d.customer_visible {
                "see"
            } else {
                "—"
            },
        })
        .collect()
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    form: FieldForm,
    editing: &str,
    error: FormError,
) -> WebResult<Response> {
    let defs = state
        .helpdesk()
        .get_tenant(&ctx.actor)
        .await?
        .settings
        .custom_fields;
    let kinds = [
        ("text", "Text"),
        ("number", "Number"),
        ("date", "Date"),
        ("checkbox", "Checkbox"),
        ("dropdown", "Dropdown (one option)"),
        ("multi_select", "Multi-select (any options)"),
    ]
    .iter()
    .map(|(v, l)| Choice::new(v, l, &form.kind))
    .collect();
    let audiences = [
        ("internal", "Staff only"),
        ("visible", "Customers see it"),
        ("editable", "Customers fill it in"),
    ]
    .iter()
    .map(|(v, l)| {
        Choice::new(
            v,
            l,
            if form.customers.is_empty() {
                "internal"
            } else {
                &form.customers
            },
        )
    })
    .collect();
    let title = if editing.is_empty() {
        "Custom fields".to_string()
    } else {
        format!("Custom field: {editing}")
    };
    let refused = error.is_set();
    let page = html(&FieldsPage {
        page: ctx.page(state, &title),
        rows: rows(&defs),
        form,
        editing: editing.to_string(),
        kinds,
        audiences,
        error,
    });
    if refused { form::refused(page) } else { page }
}

async fn list_page(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
) -> WebResult<Response> {
    let form = FieldForm {
        kind: "text".into(),
        ..FieldForm::default()
    };
    render(&state, &ctx, form, "", FormError::default()).await
}

async fn edit_page(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(key): Path<String>,
) -> WebResult<Response> {
    let defs = state
        .helpdesk()
        .get_tenant(&ctx.actor)
        .await?
        .settings
        .custom_fields;
    let def = defs
        .iter()
        .find(|d| d.key == key)
        .ok_or_else(|| helpdesk_core::Error::not_found("custom_field", &key))?;
    render(&state, &ctx, FieldForm::of(def), &key, FormError::default()).await
}

/// Saves the tenant's fields with `change` applied to the list; a refusal comes back on
/// the form with what was typed.
async fn commit(
    state: &AppState,
    ctx: &Ctx,
    form: FieldForm,
    editing: &str,
    change: impl FnOnce(&mut Vec<CustomFieldDef>, CustomFieldDef) -> Result<(), FormError>,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let mut settings = helpdesk.get_tenant(&ctx.actor).await?.settings;
    let outcome = match form.definition() {
        Ok(def) => match change(&mut settings.custom_fields, def) {
            Ok(()) => helpdesk
                .update_settings(&ctx.actor, settings)
                .await
                .map(drop)
                .map_err(|e| {
                    // `settings.custom_fields[3].options[1]` is refused at the form's input.
                    let part = match &e {
                        helpdesk_core::Error::Validation { field, .. } => field
                            .rsplit('.')
                            .next()
                            .map(|p| p.split('[').next().unwrap_or_default().to_string())
                            .unwrap_or_default(),
                        _ => String::new(),
                    };
                    match (&e, FormError::from_core(&e, &[])) {
                        (helpdesk_core::Error::Validation { message, .. }, _)
                            if ["key", "label", "options"].contains(&part.as_str()) =>
                        {
                            Ok(FormError::new(part, message.to_string()))
                        }
                        (_, Some(f)) => Ok(f),
                        (_, None) => Err(e),
                    }
                }),
            Err(f) => Err(Ok(f)),
        },
        Err(f) => Err(Ok(f)),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to("/admin/fields?done=field-saved").into_response()),
        Err(Ok(error)) => render(state, ctx, form, editing, error).await,
        Err(Err(e)) => Err(e.into()),
    }
}

async fn add(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Form(form): Form<FieldForm>,
) -> WebResult<Response> {
    commit(&state, &ctx, form, "", |defs, def| FIELDS.insert(defs, def)).await
}

async fn save(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(key): Path<String>,
    Form(mut form): Form<FieldForm>,
) -> WebResult<Response> {
    // The key names the values on tickets: it is never changed.
    form.key.clone_from(&key);
    let editing = key.clone();
    commit(&state, &ctx, form, &editing, move |defs, def| {
        FIELDS.replace(defs, &key, def)
    })
    .await
}

/// The custom fields as keyed entries of the settings.
static FIELDS: Keyed<CustomFieldDef> = Keyed {
    entity: "custom_field",
    what: "the field",
    page: "/admin/fields",
    note: "Tickets keep their values in their history, but the field is no longer shown, \
           filled in or filtered on.",
    list: field_list,
    key_name: field_key_name,
};

fn field_list(s: &mut helpdesk_core::domain::TenantSettings) -> &mut Vec<CustomFieldDef> {
    &mut s.custom_fields
}

fn field_key_name(d: &CustomFieldDef) -> (&str, &str) {
    (&d.key, &d.label)
}
