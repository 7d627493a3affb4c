//! The admin's export of a customer's data (a data subject's access request): one JSON
//! document with everything the company holds about them, downloaded from the users page.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::app::AppState;
use super::error::{WebError, WebResult};
use super::session::AdminUser;

/// The export route (admins).
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/admin/users/{id}/export", get(export))
}

/// `GET /admin/users/{id}/export`: the customer's data as a JSON download (recorded in
/// the audit log by core; never cached, it is personal data).
async fn export(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let user = id
        .parse()
        .map_err(|_| WebError::bad_input("user id", "not a user id"))?;
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
