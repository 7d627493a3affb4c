//! Opening, reading and listing tickets.

use axum::extract::{FromRequestParts, OriginalUri, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use helpdesk_core::domain::{Channel, Priority, TicketStatus};
use helpdesk_core::service::NewTicket;
use helpdesk_core::store::{AssigneeFilter, TicketQuery, TicketSort};
use helpdesk_core::{TicketId, UserId};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::ApiState;
use crate::auth::Caller;
use crate::extract::{Path, Query};
use crate::headers::{IdempotencyKey, etag};
use crate::problem::{ApiResult, Problem};
use crate::resources::{EventResource, MessageResource, TicketDetail, TicketPage, TicketResource};
use crate::upload::WithFiles;

use super::attachments::OpenTicketUpload;

/// The most tickets one page holds.
pub(crate) const MAX_PAGE: u32 = 200;
const DEFAULT_PAGE: u32 = 50;

/// The order of a listing.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SortOrder {
    /// Priority (urgent first), then oldest first: the agent queue.
    #[default]
    Queue,
    /// Newest first.
    Newest,
    /// SLA-breached and urgent first.
    Escalated,
}

/// Filters of a ticket listing. Lists are comma-separated (`status=open,pending`).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// Statuses, comma-separated (`new`, `open`, `in_progress`, `pending`, `escalated`,
    /// `resolved`, `closed`).
    status: Option<String>,
    /// Priorities, comma-separated (`low`, `medium`, `high`, `urgent`).
    priority: Option<String>,
    /// `me`, `none`, or a user id.
    assignee: Option<String>,
    /// Only this requester's tickets (staff).
    #[param(inline)]
    requester: Option<UserId>,
    /// Only this category.
    category: Option<String>,
    /// Only this team's tickets, by key (staff).
    team: Option<String>,
    /// Words in the subject or messages.
    q: Option<String>,
    /// A custom field value, `key=value` (a multi-select matches any of its options).
    field: Option<String>,
    /// Order.
    #[param(inline)]
    sort: Option<SortOrder>,
    /// Page size, 1 to 200 (default 50).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// List tickets: staff see the tenant's queue, customers their own tickets.
#[utoipa::path(get, path = "/tickets", tag = "tickets", params(ListParams),
    responses(
        (status = 200, body = TicketPage),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn list_tickets(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Query(params): Query<ListParams>,
) -> ApiResult<axum::Json<TicketPage>> {
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Problem::validation(
            "limit",
            format!("must be 1 to {MAX_PAGE}"),
        ));
    }
    let assignee = match params.assignee.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("me") => Some(AssigneeFilter::User(actor.user_id)),
        Some("none") => Some(AssigneeFilter::Unassigned),
        Some(id) => Some(AssigneeFilter::User(id.parse().map_err(|_| {
            Problem::validation("assignee", "must be `me`, `none` or a user id")
        })?)),
    };
    let query = TicketQuery {
        statuses: parse_list::<TicketStatus>("status", params.status.as_deref())?,
        priorities: parse_list::<Priority>("priority", params.priority.as_deref())?,
        assignee,
        requester: params.requester,
        category: params.category.filter(|c| !c.trim().is_empty()),
        team: params.team.filter(|t| !t.trim().is_empty()),
        text: params.q.filter(|q| !q.trim().is_empty()),
        exclude_bot_chats: false,
        fields: params.field.filter(|f| !f.is_empty()).into_iter().collect(),
        sort: match params.sort.unwrap_or_default() {
            SortOrder::Queue => TicketSort::PriorityThenAge,
            SortOrder::Newest => TicketSort::Newest,
            SortOrder::Escalated => TicketSort::EscalatedFirst,
        },
        limit,
        cursor: params.cursor.filter(|c| !c.is_empty()),
    };
    let page = state.helpdesk().list_tickets(&actor, query).await?;
    let staff = actor.is_staff();
    Ok(axum::Json(TicketPage {
        items: page
            .items
            .into_iter()
            .map(|t| TicketResource::new(t, staff))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

pub(crate) fn parse_list<T: std::str::FromStr>(
    field: &'static str,
    text: Option<&str>,
) -> ApiResult<Vec<T>> {
    text.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse()
                .map_err(|_| Problem::validation(field, format!("unknown value {v:?}")))
        })
        .collect()
}

/// A new ticket.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OpenTicketRequest {
    /// Subject.
    subject: String,
    /// The problem, in the customer's words.
    description: String,
    /// Priority (staff; triage decides otherwise).
    priority: Option<Priority>,
    /// Tags.
    #[serde(default)]
    tags: Vec<String>,
    /// Channel (default `api`-filed tickets count as `web`).
    channel: Option<Channel>,
    /// The customer it is for (staff filing for a customer); customers file for themselves.
    requester: Option<UserId>,
    /// Custom field values by field key (customers: the fields editable by customers).
    #[serde(default)]
    #[schema(value_type = Object)]
    fields: std::collections::BTreeMap<String, helpdesk_core::domain::FieldValue>,
}

/// Open a ticket.
///
/// With an `Idempotency-Key` header, a retry with the same key returns the ticket the
/// first request opened (200) instead of opening another (201).
#[utoipa::path(post, path = "/tickets", tag = "tickets",
    request_body(description = "JSON, or multipart with a `json` part and `attachments` file parts",
        content(
            (OpenTicketRequest = "application/json"),
            (OpenTicketUpload = "multipart/form-data"),
        )),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses(
        (status = 201, body = TicketResource, description = "Opened"),
        (status = 200, body = TicketResource, description = "Opened before with this Idempotency-Key"),
        (status = 400, description = "Malformed multipart body"),
        (status = 413, description = "A file or the body is larger than the limits (the problem names the part)"),
        (status = 415, description = "Neither JSON nor multipart"),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 422, description = "Invalid input (the problem names the field)"),
        (status = 429, description = "Rate limited (see `Retry-After`)"),
    ))]
pub(crate) async fn open_ticket(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    _: IntakeAllowed,
    OriginalUri(uri): OriginalUri,
    IdempotencyKey(key): IdempotencyKey,
    WithFiles { request, files }: WithFiles<OpenTicketRequest>,
) -> ApiResult<Response> {
    let outcome = state
        .helpdesk()
        .open_ticket(
            &actor,
            NewTicket {
                subject: request.subject,
                description: request.description,
                priority: request.priority,
                tags: request.tags,
                channel: request.channel,
                requester: request.requester,
                idempotency_key: key,
                fields: request.fields,
                attachments: files,
            },
        )
        .await?;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let location = format!("{}/{}", uri.path().trim_end_matches('/'), outcome.ticket.id);
    let version = outcome.ticket.version;
    let body = TicketResource::new(outcome.ticket, actor.is_staff());
    let mut response = (status, etag(version), axum::Json(body)).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The intake rate limits (per client address and per caller), checked before the body is
/// read: a refused request uploads nothing.
pub(crate) struct IntakeAllowed;

impl FromRequestParts<ApiState> for IntakeAllowed {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Problem> {
        let Caller(actor) = Caller::from_request_parts(parts, state).await?;
        let address = state.client_address(parts);
        let throttles = state.throttles();
        throttles
            .intake_address
            .check(&address)
            .and_then(|()| throttles.intake_caller.check(&actor.user_id.to_string()))
            .map_err(Problem::rate_limited)?;
        Ok(Self)
    }
}

/// A ticket with its thread (and, for staff, its history). The `ETag` is its version.
#[utoipa::path(get, path = "/tickets/{id}", tag = "tickets",
    params(("id" = TicketId, Path, description = "Ticket id")),
    responses(
        (status = 200, body = TicketDetail),
        (status = 404, description = "Not found (another tenant's ids too)"),
    ))]
pub(crate) async fn get_ticket(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<TicketId>,
) -> ApiResult<Response> {
    let view = state.helpdesk().get_ticket(&actor, id).await?;
    Ok(detail(view, actor.is_staff()))
}

pub(crate) fn detail(view: helpdesk_core::service::TicketView, staff: bool) -> Response {
    let version = view.ticket.version;
    let body = TicketDetail {
        ticket: TicketResource::new(view.ticket, staff),
        messages: view
            .messages
            .into_iter()
            .map(MessageResource::from)
            .collect(),
        events: view.events.into_iter().map(EventResource::from).collect(),
    };
    (etag(version), axum::Json(body)).into_response()
}

/// A ticket by its number within the tenant (`#42`).
#[utoipa::path(get, path = "/tickets/by-number/{number}", tag = "tickets",
    params(("number" = u64, Path, description = "Ticket number")),
    responses(
        (status = 200, body = TicketDetail),
        (status = 404, description = "Not found (another tenant's ids too)"),
    ))]
pub(crate) async fn get_ticket_by_number(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(number): Path<u64>,
) -> ApiResult<Response> {
    let helpdesk = state.helpdesk();
    let ticket = helpdesk
        .store()
        .get_ticket_by_number(actor.tenant_id, number)
        .await?
        .ok_or_else(|| Problem::not_found("ticket not found"))?;
    // The use case checks visibility (a customer's own tickets only) and the role.
    let view = helpdesk.get_ticket(&actor, ticket.id).await?;
    Ok(detail(view, actor.is_staff()))
}

/// A ticket's history, oldest first (staff).
#[utoipa::path(get, path = "/tickets/{id}/events", tag = "tickets",
    params(("id" = TicketId, Path, description = "Ticket id")),
    responses(
        (status = 200, body = Vec<EventResource>),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
    ))]
pub(crate) async fn list_events(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<TicketId>,
) -> ApiResult<axum::Json<Vec<EventResource>>> {
    if !actor.is_staff() {
        return Err(Problem::from(helpdesk_core::Error::Forbidden {
            action: "read a ticket's history",
            role: actor.role,
        }));
    }
    let view = state.helpdesk().get_ticket(&actor, id).await?;
    Ok(axum::Json(
        view.events.into_iter().map(EventResource::from).collect(),
    ))
}
