//! A data subject's requests, from the users page (admins): the export of a customer's
//! data (one JSON document with everything the company holds about them) and the erasure
//! of their personal data (asked first).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use helpdesk_core::UserId;
use serde::Deserialize;

use super::app::AppState;
use super::error::{WebError, WebResult};
use super::session::AdminUser;
use super::views::{Page, html};

/// The export and erasure routes (admins).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users/{id}/export", get(export))
        .route("/admin/users/{id}/erase", get(confirm_erase).post(erase))
}

fn user_id(raw: &str) -> WebResult<UserId> {
    raw.parse()
        .map_err(|_| WebError::bad_input("user id", "not a user id"))
}

#[derive(Template)]
#[template(path = "admin_user_erase.html")]
struct ConfirmErasePage {
    page: Page,
    id: String,
    name: String,
    email: String,
    tickets: u64,
}

/// `GET /admin/users/{id}/erase`: says what an erasure does and asks (the users page's
/// link leads here). Only customers' data is erased.
async fn confirm_erase(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let id = user_id(&id)?;
    let preview = state.helpdesk().erasure_preview(&ctx.actor, id).await?;
    html(&ConfirmErasePage {
        page: ctx.page(&state, "Erase a customer's data?"),
        id: id.to_string(),
        name: preview.customer.name,
        email: preview.customer.email,
        tickets: preview.tickets,
    })
}

/// The erasure confirmation.
#[derive(Deserialize)]
struct EraseForm {
    #[serde(default)]
    confirm: String,
}

/// `POST /admin/users/{id}/erase`: erases only with `confirm=yes` (from the question
/// page); anything else goes to the question.
async fn erase(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(id): Path<String>,
    Form(form): Form<EraseForm>,
) -> WebResult<Redirect> {
    let id = user_id(&id)?;
    if form.confirm != "yes" {
        return Ok(Redirect::to(&format!("/admin/users/{id}/erase")));
    }
    let report = state.helpdesk().erase_customer(&ctx.actor, id).await?;
    tracing::info!(
        user = %id,
        tickets = report.tickets,
        files = report.files,
        blobs_left = report.blobs_left.len(),
        triage_models_retired = report.triage_models_retired,
        "customer erased"
    );
    Ok(Redirect::to("/admin/users?done=customer-erased"))
}

/// `GET /admin/users/{id}/export`: the customer's data as a JSON download (recorded in
/// the audit log by core; never cached, it is personal data).
async fn export(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let user = user_id(&id)?;
    let export = state.helpdesk().export_customer(&ctx.actor, user).await?;
    let body = serde_json::to_vec_pretty(&export)
        .map_err(|_| helpdesk_core::Error::Internal("the export could not be written"))?;
    // The name says whose data it is without putting their address in a header.
    let file = format!(
        "attachment; filename=\"customer-{}.json\"",
        export.customer.id
    );
    Ok((
        [
            (CONTENT_TYPE, "application/json".to_string()),
            (CONTENT_DISPOSITION, file),
            (CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response())
}
