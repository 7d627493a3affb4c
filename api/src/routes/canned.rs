//! Canned responses (staff): each agent's own and the ones admins share, picked by name,
//! previewed for a ticket and sent on it with their actions in one change; and bulk
//! changes, the same actions on several tickets.

use axum::extract::State;
use axum::http::StatusCode;
use helpdesk_core::domain::{CannedActions, CannedResponse};
use helpdesk_core::service::CannedResponseInput;
use helpdesk_core::{CannedResponseId, TicketId, UserId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ApiState;
use crate::auth::Caller;
use crate::extract::{Json, Path, Query};
use crate::problem::{ApiResult, Problem};
use crate::resources::{MessageResource, TicketResource};

/// A canned response.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CannedResponseResource {
    /// Id.
    id: CannedResponseId,
    /// Its name, unique among the shared ones and among one agent's own.
    name: String,
    /// The text, with placeholders such as `{{customer.name}}`.
    body: String,
    /// Posted as an internal note instead of a public reply.
    internal: bool,
    /// Shared with every agent of the tenant (else `owner`'s own).
    shared: bool,
    /// The agent it belongs to, when not shared.
    owner: Option<UserId>,
    /// What sending it also changes.
    actions: CannedActions,
    /// Created.
    created_at: Timestamp,
    /// Last changed.
    updated_at: Timestamp,
}

impl From<CannedResponse> for CannedResponseResource {
    fn from(c: CannedResponse) -> Self {
        Self {
            id: c.id,
            name: c.name,
            body: c.body,
            internal: c.internal,
            shared: c.owner.is_none(),
            owner: c.owner,
            actions: c.actions,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A canned response as written.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CannedResponseRequest {
    /// Its name (1 to 100 characters).
    name: String,
    /// The text; placeholders: `customer.name`, `customer.first_name`, `customer.email`,
    /// `ticket.number`, `ticket.subject`, `agent.name`, `agent.first_name`,
    /// `company.name`, each written `{{name}}`. An unknown one is refused.
    body: String,
    /// Post as an internal note instead of a public reply.
    #[serde(default)]
    internal: bool,
    /// Share with every agent (admins only); else the caller's own.
    #[serde(default)]
    shared: bool,
    /// What sending it also changes.
    #[serde(default)]
    actions: CannedActions,
}

impl From<CannedResponseRequest> for CannedResponseInput {
    fn from(r: CannedResponseRequest) -> Self {
        Self {
            name: r.name,
            body: r.body,
            internal: r.internal,
            actions: r.actions,
            shared: r.shared,
        }
    }
}

/// A name search.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct CannedSearch {
    /// Only those whose name contains this (case-insensitively; at most 100 characters).
    q: Option<String>,
}

/// The canned responses the caller may use (shared ones and their own), by name (staff).
#[utoipa::path(get, path = "/canned-responses", tag = "tickets", params(CannedSearch),
    responses(
        (status = 200, body = Vec<CannedResponseResource>),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn list_canned_responses(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Query(search): Query<CannedSearch>,
) -> ApiResult<axum::Json<Vec<CannedResponseResource>>> {
    let q = search.q.unwrap_or_default();
    if q.chars().count() > 100 {
        return Err(Problem::validation("q", "at most 100 characters"));
    }
    let list = state.helpdesk().list_canned_responses(&actor, &q).await?;
    Ok(axum::Json(list.into_iter().map(Into::into).collect()))
}

/// Create a canned response: the caller's own, or shared (admins).
#[utoipa::path(post, path = "/canned-responses", tag = "tickets",
    request_body = CannedResponseRequest,
    responses(
        (status = 201, body = CannedResponseResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 409, description = "The name is taken in its scope"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn create_canned_response(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Json(request): Json<CannedResponseRequest>,
) -> ApiResult<(StatusCode, axum::Json<CannedResponseResource>)> {
    let created = state
        .helpdesk()
        .create_canned_response(&actor, request.into())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(created.into())))
}

/// A canned response the caller may use.
#[utoipa::path(get, path = "/canned-responses/{id}", tag = "tickets",
    params(("id" = CannedResponseId, Path, description = "Canned response id")),
    responses(
        (status = 200, body = CannedResponseResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another agent's own, another tenant's)"),
    ))]
pub(crate) async fn get_canned_response(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<CannedResponseId>,
) -> ApiResult<axum::Json<CannedResponseResource>> {
    let found = state.helpdesk().get_canned_response(&actor, id).await?;
    Ok(axum::Json(found.into()))
}

/// Replace a canned response (an agent their own; shared ones and sharing: admins).
#[utoipa::path(put, path = "/canned-responses/{id}", tag = "tickets",
    params(("id" = CannedResponseId, Path, description = "Canned response id")),
    request_body = CannedResponseRequest,
    responses(
        (status = 200, body = CannedResponseResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another agent's own, another tenant's)"),
        (status = 409, description = "The name is taken in its scope"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn update_canned_response(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<CannedResponseId>,
    Json(request): Json<CannedResponseRequest>,
) -> ApiResult<axum::Json<CannedResponseResource>> {
    let updated = state
        .helpdesk()
        .update_canned_response(&actor, id, request.into())
        .await?;
    Ok(axum::Json(updated.into()))
}

/// Delete a canned response (an agent their own; shared ones: admins).
#[utoipa::path(delete, path = "/canned-responses/{id}", tag = "tickets",
    params(("id" = CannedResponseId, Path, description = "Canned response id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another agent's own, another tenant's)"),
    ))]
pub(crate) async fn delete_canned_response(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<CannedResponseId>,
) -> ApiResult<StatusCode> {
    state.helpdesk().delete_canned_response(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A canned response filled in for a ticket.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CannedPreviewResource {
    /// The response.
    canned_response: CannedResponseResource,
    /// Its text with the placeholders filled in for the ticket.
    body: String,
}

/// A canned response filled in for a ticket, before sending it (staff; nothing is written).
#[utoipa::path(get, path = "/tickets/{id}/canned-responses/{canned}", tag = "tickets",
    params(("id" = TicketId, Path, description = "Ticket id"),
           ("canned" = CannedResponseId, Path, description = "Canned response id")),
    responses(
        (status = 200, body = CannedPreviewResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
    ))]
pub(crate) async fn preview_canned_response(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path((id, canned)): Path<(TicketId, CannedResponseId)>,
) -> ApiResult<axum::Json<CannedPreviewResource>> {
    let preview = state
        .helpdesk()
        .preview_canned_response(&actor, id, canned)
        .await?;
    Ok(axum::Json(CannedPreviewResource {
        canned_response: preview.canned_response.into(),
        body: preview.body,
    }))
}

/// Sending a canned response.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApplyCannedRequest {
    /// The text to send instead of the filled-in one (the agent edited the preview).
    body: Option<String>,
}

/// What sending a canned response did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AppliedCannedResource {
    /// The ticket after the change.
    ticket: TicketResource,
    /// The reply or note posted.
    message: MessageResource,
}

/// Send a canned response on a ticket: its text as a reply (or note) and its actions, in
/// one change; a refused action (a status the lifecycle does not allow, a closed ticket)
/// writes nothing (staff).
#[utoipa::path(post, path = "/tickets/{id}/canned-responses/{canned}", tag = "tickets",
    params(("id" = TicketId, Path, description = "Ticket id"),
           ("canned" = CannedResponseId, Path, description = "Canned response id")),
    request_body = ApplyCannedRequest,
    responses(
        (status = 200, body = AppliedCannedResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 409, description = "Conflicts with the ticket's state"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn apply_canned_response(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path((id, canned)): Path<(TicketId, CannedResponseId)>,
    Json(request): Json<ApplyCannedRequest>,
) -> ApiResult<axum::Json<AppliedCannedResource>> {
    let done = state
        .helpdesk()
        .apply_canned_response(&actor, id, canned, request.body)
        .await?;
    Ok(axum::Json(AppliedCannedResource {
        ticket: TicketResource::new(done.ticket, actor.is_staff()),
        message: done.message.into(),
    }))
}

/// A bulk change: the same actions on several tickets.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BulkChangeRequest {
    /// The tickets (1 to 100; one named twice is changed once).
    tickets: Vec<TicketId>,
    /// What to change on each.
    actions: CannedActions,
}

/// What a bulk change did to one ticket: the ticket after it, or why it was refused.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BulkResultResource {
    /// The ticket.
    ticket_id: TicketId,
    /// The ticket after the change (unchanged when it already was as asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket: Option<TicketResource>,
    /// Why this ticket was not changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<Problem>,
}

/// Change several tickets at once (staff): each goes through the same checks as its single
/// change, in its own write; a ticket the change does not suit (a status its lifecycle does
/// not allow, a closed ticket) is left as it was and reported, the others change. Invalid
/// actions refuse the whole request before any ticket changes.
#[utoipa::path(post, path = "/bulk-changes", tag = "tickets",
    request_body = BulkChangeRequest,
    responses(
        (status = 200, body = Vec<BulkResultResource>, description = "A result per ticket, in the order given"),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn bulk_change(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Json(request): Json<BulkChangeRequest>,
) -> ApiResult<axum::Json<Vec<BulkResultResource>>> {
    let outcomes = state
        .helpdesk()
        .bulk_change(&actor, &request.tickets, request.actions)
        .await?;
    Ok(axum::Json(
        outcomes
            .into_iter()
            .map(|o| match o.result {
                Ok(ticket) => BulkResultResource {
                    ticket_id: o.ticket,
                    ticket: Some(TicketResource::new(ticket, actor.is_staff())),
                    problem: None,
                },
                Err(e) => BulkResultResource {
                    ticket_id: o.ticket,
                    ticket: None,
                    problem: Some(e.into()),
                },
            })
            .collect(),
    ))
}
