//! Changing tickets: edits, replies, notes, lifecycle moves, assignment, merges, ratings.
//! The single-ticket changes honour `If-Match` (the version from the `ETag`).

use std::future::Future;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use helpdesk_core::domain::{Actor, Priority, Ticket, TicketStatus};
use helpdesk_core::service::{NewMessage, NewReply, TicketPatch};
use helpdesk_core::{TicketId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ApiState;
use crate::auth::Caller;
use crate::extract::{Json, Path};
use crate::headers::{IfMatch, etag};
use crate::problem::ApiResult;
use crate::resources::{MessageResource, TicketResource};
use crate::upload::WithFiles;

use super::attachments::{NoteUpload, ReplyUpload};

/// Runs a single-ticket change under the caller's `If-Match`, if any.
pub(crate) async fn conditionally<F>(
    state: &ApiState,
    id: TicketId,
    if_match: IfMatch,
    change: F,
) -> ApiResult<Ticket>
where
    F: Future<Output = helpdesk_core::Result<Ticket>>,
{
    let ticket = match if_match.0 {
        Some(version) => {
            state
                .helpdesk()
                .if_ticket_version(id, version, change)
                .await
        }
        None => change.await,
    };
    Ok(ticket?)
}

pub(crate) fn ticket_response(ticket: Ticket, actor: &Actor) -> Response {
    let version = ticket.version;
    (
        etag(version),
        axum::Json(TicketResource::new(ticket, actor.is_staff())),
    )
        .into_response()
}

/// Fields to change; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TicketPatchRequest {
    /// New priority (the SLA clocks are recomputed).
    priority: Option<Priority>,
    /// New category (one of the tenant's).
    category: Option<String>,
    /// New tags (replaces them).
    tags: Option<Vec<String>>,
}

/// Change a ticket's priority, category or tags (staff).
#[utoipa::path(patch, path = "/tickets/{id}", tag = "tickets",
    params(("id" = TicketId, Path, description = "Ticket id"),
           ("If-Match" = Option<String>, Header, description = "The ETag the change expects")),
    request_body = TicketPatchRequest,
    responses(
        (status = 200, body = TicketResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 409, description = "Conflicts with the current state"),
        (status = 412, description = "The `If-Match` version no longer holds"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn update_ticket(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<TicketId>,
    if_match: IfMatch,
    Json(patch): Json<TicketPatchRequest>,
) -> ApiResult<Response> {
    let patch = TicketPatch {
        priority: patch.priority,
        category: patch.category,
        tags: patch.tags,
    };
    let change = state.helpdesk().update_ticket(&actor, id, patch);
    let ticket = conditionally(&state, id, if_match, change).await?;
    Ok(ticket_response(ticket, &actor))
}

/// A public reply.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplyRequest {
    /// Text.
    body: String,
    /// Status to move to with the reply (staff; e.g. `pending` to wait for the customer).
    status_after: Option<TicketStatus>,
}

/// What a reply did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReplyResponse {
    /// The message.
    message: MessageResource,
    /// The ticket after the reply (a follow-up ticket when the replied one was closed).
    ticket: TicketResource,
    /// Whether the reply reopened a resolved ticket.
    reopened: bool,
    /// Set when the reply opened a follow-up of this closed ticket.
    follow_up_of: Option<TicketId>,
}

/// Reply on a ticket. A customer's reply to a resolved ticket reopens it; to a closed one,
/// opens a linked follow-up.
#[utoipa::path(post, path = "/tickets/{id}/replies", tag = "tickets",
    params(("id" = TicketId, Path, description = "Ticket id")),
    request_body(description = "JSON, or multipart with a `json` part and `attachments` file parts",
        content(
            (ReplyRequest = "application/json"),
            (ReplyUpload = "multipart/form-data"),
        )),
    responses(
        (status = 201, body = ReplyResponse),
        (status = 400, description = "Malformed multipart body"),
        (status = 413, description = "A file or the body is larger than the limits (the problem names the part)"),
        (status = 415, description = "Neither JSON nor multipart"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 409, description = "Conflicts with the current state"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn reply(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<TicketId>,
    WithFiles { request, files }: WithFiles<ReplyRequest>,
) -> ApiResult<(StatusCode, axum::Json<ReplyResponse>)> {
    let outcome = state
        .helpdesk()
        .reply(
            &actor,
            id,
            NewReply {
                body: request.body,
                status_after: request.status_after,
                attachments: files,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ReplyResponse {
            message: outcome.message.into(),
            ticket: TicketResource::new(outcome.ticket, actor.is_staff()),
            reopened: outcome.reopened,
            follow_up_of: outcome.follow_up_of,
        }),
    ))
}

/// An internal note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoteRequest {
    /// Text (staff only ever see it).
    body: String,
}

/// Add an internal note (staff).
#[utoipa::path(post, path = "/tickets/{id}/notes", tag = "tickets",
    params(("id" = TicketId, Path, description = "Ticket id")),
    request_body(description = "JSON, or multipart with a `json` part and `attachments` file parts",
        content(
            (NoteRequest = "application/json"),
            (NoteUpload = "multipart/form-data"),
        )),
    responses(
        (status = 201, body = MessageResource),
        (status = 400, description = "Malformed multipart body"),
        (status = 413, description = "A file or the body is larger than the limits (the problem names the part)"),
        (status = 415, description = "Neither JSON nor multipart"),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 409, description = "Conflicts with the current state"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn add_note(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<TicketId>,
    WithFiles { request, files }: WithFiles<NoteRequest>,
) -> ApiResult<(StatusCode, axum::Json<MessageResource>)> {
    let note = NewMessage::new(request.body).with_attachments(files);
    let note = state.helpdesk().add_note(&actor, id, note).await?;
    Ok((StatusCode::CREATED, axum::Json(note.into())))
}

/// A lifecycle move.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TransitionRequest {
    /// The status to move to; the lifecycle table decides what each role may do.
    to: TicketStatus,
}

/// Move a ticket to another status.
#[utoipa::path(post, path = "/tickets/{id}/transitions", tag = "tickets",
    params(("id" = TicketId, Path, description = "Ticket id"),
           ("If-Match" = Option<String>, Header, description = "The ETag the change expects")),
    request_body = TransitionRequest,
    responses(
        (status = 200, body = TicketResource),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 409, description = "Illegal for this status and role"),
        (status = 412, description = "The `If-Match` version no longer holds"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn transition(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<TicketId>,
    if_match: IfMatch,
    Json(request): Json<TransitionRequest>,
) -> ApiResult<Response> {
    let change = state.helpdesk().transition(&actor, id, request.to);
    let ticket = conditionally(&state, id, if_match, change).await?;
    Ok(ticket_response(ticket, &actor))
}

/// An assignment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssignRequest {
    /// The agent, or null to unassign.
    assignee: Option<UserId>,
}

/// Assign a ticket to an agent, or unassign it (staff).
#[utoipa::path(put, path = "/tickets/{id}/assignee", tag = "tickets",
    params(("id" = TicketId, Path, description = "Ticket id"),
           ("If-Match" = Option<String>, Header, description = "The ETag the change expects")),
    request_body = AssignRequest,
    responses(
        (status = 200, body = TicketResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 409, description = "Conflicts with the current state"),
        (status = 412, description = "The `If-Match` version no longer holds"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn assign(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<TicketId>,
    if_match: IfMatch,
    Json(request): Json<AssignRequest>,
) -> ApiResult<Response> {
    let change = state.helpdesk().assign(&actor, id, request.assignee);
    let ticket = conditionally(&state, id, if_match, change).await?;
    Ok(ticket_response(ticket, &actor))
}

/// A merge.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MergeRequest {
    /// The ticket that survives; this one is closed into it.
    into: TicketId,
}

/// Both tickets after a merge.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MergeResponse {
    /// The duplicate, now closed and merged.
    duplicate: TicketResource,
    /// The surviving ticket.
    target: TicketResource,
}

/// Merge this ticket (a duplicate) into another (staff).
#[utoipa::path(post, path = "/tickets/{id}/merge", tag = "tickets",
    params(("id" = TicketId, Path, description = "The duplicate's id")),
    request_body = MergeRequest,
    responses(
        (status = 200, body = MergeResponse),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 409, description = "Conflicts with the current state"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn merge(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<TicketId>,
    Json(request): Json<MergeRequest>,
) -> ApiResult<axum::Json<MergeResponse>> {
    let (duplicate, target) = state.helpdesk().merge(&actor, id, request.into).await?;
    Ok(axum::Json(MergeResponse {
        duplicate: TicketResource::new(duplicate, true),
        target: TicketResource::new(target, true),
    }))
}

/// A rating.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CsatRequest {
    /// 1 (bad) to 5 (great).
    #[schema(minimum = 1, maximum = 5)]
    score: u8,
    /// Optional comment.
    comment: Option<String>,
}

/// Rate a resolved ticket (its requester, once).
#[utoipa::path(post, path = "/tickets/{id}/csat", tag = "tickets",
    params(("id" = TicketId, Path, description = "Ticket id")),
    request_body = CsatRequest,
    responses(
        (status = 200, body = TicketResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 409, description = "Conflicts with the current state"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn rate(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<TicketId>,
    Json(request): Json<CsatRequest>,
) -> ApiResult<Response> {
    let ticket = state
        .helpdesk()
        .record_csat(&actor, id, request.score, request.comment)
        .await?;
    Ok(ticket_response(ticket, &actor))
}
