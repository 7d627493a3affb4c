//! Saved views (staff): a queue filter and order an agent keeps, or an admin shares, with
//! how many tickets each holds now.

use axum::extract::State;
use axum::http::StatusCode;
use helpdesk_core::SavedViewId;
use helpdesk_core::UserId;
use helpdesk_core::domain::{SavedView, ViewFilter};
use helpdesk_core::service::SavedViewInput;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ApiState;
use crate::auth::Caller;
use crate::extract::{Json, Path};
use crate::problem::ApiResult;

/// A saved view.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SavedViewResource {
    /// Id.
    id: SavedViewId,
    /// Its name.
    name: String,
    /// Shared with every agent (else `owner`'s own).
    shared: bool,
    /// The agent it belongs to, when not shared.
    owner: Option<UserId>,
    /// The team a shared view is published to (its members and the admins see it);
    /// `null`: every agent.
    team: Option<String>,
    /// What it shows.
    filter: ViewFilter,
    /// How many tickets it holds for the caller now (in lists only).
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
    /// Created.
    created_at: Timestamp,
    /// Last changed.
    updated_at: Timestamp,
}

impl SavedViewResource {
    fn new(v: SavedView, count: Option<u64>) -> Self {
        Self {
            id: v.id,
            name: v.name,
            shared: v.owner.is_none(),
            owner: v.owner,
            team: v.team,
            filter: v.filter,
            count,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

/// A saved view as written.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SavedViewRequest {
    /// Its name (1 to 60 characters).
    name: String,
    /// What it shows.
    #[serde(default)]
    filter: ViewFilter,
    /// Share with every agent (admins only); else the caller's own.
    #[serde(default)]
    shared: bool,
    /// With `shared`: publish it to this team only (a team's key).
    #[serde(default)]
    team: Option<String>,
}

impl From<SavedViewRequest> for SavedViewInput {
    fn from(r: SavedViewRequest) -> Self {
        Self {
            name: r.name,
            filter: r.filter,
            shared: r.shared,
            team: r.team,
        }
    }
}

/// The views the caller sees (shared ones and their own), by name, each with its count.
#[utoipa::path(get, path = "/views", tag = "tickets",
    responses(
        (status = 200, body = Vec<SavedViewResource>),
        (status = 403, description = "Not allowed for the caller's role"),
    ))]
pub(crate) async fn list_views(
    State(state): State<ApiState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Vec<SavedViewResource>>> {
    let views = state.helpdesk().saved_views_with_counts(&actor).await?;
    Ok(axum::Json(
        views
            .into_iter()
            .map(|(v, n)| SavedViewResource::new(v, Some(n)))
            .collect(),
    ))
}

/// Save a view: the caller's own, or shared (admins).
#[utoipa::path(post, path = "/views", tag = "tickets",
    request_body = SavedViewRequest,
    responses(
        (status = 201, body = SavedViewResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 409, description = "The name is taken in its scope"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn create_view(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Json(request): Json<SavedViewRequest>,
) -> ApiResult<(StatusCode, axum::Json<SavedViewResource>)> {
    let view = state
        .helpdesk()
        .create_saved_view(&actor, request.into())
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(SavedViewResource::new(view, None)),
    ))
}

/// A view the caller sees. List its tickets with `GET /tickets` and the view's filter.
#[utoipa::path(get, path = "/views/{id}", tag = "tickets",
    params(("id" = SavedViewId, Path, description = "View id")),
    responses(
        (status = 200, body = SavedViewResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another agent's own, another tenant's)"),
    ))]
pub(crate) async fn get_view(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<SavedViewId>,
) -> ApiResult<axum::Json<SavedViewResource>> {
    let view = state.helpdesk().get_saved_view(&actor, id).await?;
    Ok(axum::Json(SavedViewResource::new(view, None)))
}

/// Replace a view (an agent their own; shared ones and sharing: admins).
#[utoipa::path(put, path = "/views/{id}", tag = "tickets",
    params(("id" = SavedViewId, Path, description = "View id")),
    request_body = SavedViewRequest,
    responses(
        (status = 200, body = SavedViewResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another agent's own, another tenant's)"),
        (status = 409, description = "The name is taken in its scope"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn update_view(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<SavedViewId>,
    Json(request): Json<SavedViewRequest>,
) -> ApiResult<axum::Json<SavedViewResource>> {
    let view = state
        .helpdesk()
        .update_saved_view(&actor, id, request.into())
        .await?;
    Ok(axum::Json(SavedViewResource::new(view, None)))
}

/// Delete a view (an agent their own; shared ones: admins).
#[utoipa::path(delete, path = "/views/{id}", tag = "tickets",
    params(("id" = SavedViewId, Path, description = "View id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another agent's own, another tenant's)"),
    ))]
pub(crate) async fn delete_view(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<SavedViewId>,
) -> ApiResult<StatusCode> {
    state.helpdesk().delete_saved_view(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
