//! A ticket's team (the teams themselves are part of the tenant's settings,
//! `PUT /tenant/settings`), and the spread of tickets over the teams.

use axum::extract::State;
use axum::response::Response;
use helpdesk_core::TicketId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ApiState;
use crate::auth::Caller;
use crate::extract::{Json, Path};
use crate::headers::IfMatch;
use crate::problem::ApiResult;

use super::ticket_actions::{conditionally, ticket_response};

/// The team to give a ticket to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TeamRequest {
    /// A team's key, or `null` for no team.
    team: Option<String>,
}

/// Give a ticket to a team (staff). An assignee who is not a member of the new team is
/// unassigned in the same change.
#[utoipa::path(put, path = "/tickets/{id}/team", tag = "tickets",
    params(("id" = TicketId, Path, description = "Ticket id"),
           ("If-Match" = Option<String>, Header, description = "The ETag the change expects")),
    request_body = TeamRequest,
    responses(
        (status = 200, body = crate::resources::TicketResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 412, description = "The `If-Match` version no longer holds"),
        (status = 422, description = "Invalid input (`team`: not a team of the tenant)"),
    ))]
pub(crate) async fn set_team(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<TicketId>,
    if_match: IfMatch,
    Json(request): Json<TeamRequest>,
) -> ApiResult<Response> {
    let change = state.helpdesk().set_team(&actor, id, request.team);
    let ticket = conditionally(&state, id, if_match, change).await?;
    Ok(ticket_response(ticket, &actor))
}

/// One team's tickets.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TeamLoadResource {
    /// The team's key; `null` for the tickets of no team.
    key: Option<String>,
    /// Its name.
    name: String,
    /// Its members.
    members: usize,
    /// Open tickets (not resolved or closed).
    open: u64,
    /// Open tickets nobody is assigned.
    unassigned: u64,
    /// All tickets.
    total: u64,
}

/// The spread of tickets over the teams, then the tickets of no team (admins).
#[utoipa::path(get, path = "/analytics/teams", tag = "admin",
    responses(
        (status = 200, body = Vec<TeamLoadResource>),
        (status = 403, description = "Not allowed for the caller's role"),
    ))]
pub(crate) async fn team_breakdown(
    State(state): State<ApiState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Vec<TeamLoadResource>>> {
    let loads = state.helpdesk().team_breakdown(&actor).await?;
    Ok(axum::Json(
        loads
            .into_iter()
            .map(|t| TeamLoadResource {
                key: t.key,
                name: t.name,
                members: t.members,
                open: t.open,
                unassigned: t.unassigned,
                total: t.all,
            })
            .collect(),
    ))
}
