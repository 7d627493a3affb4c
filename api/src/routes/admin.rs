//! The tenant, its users, the audit log and analytics.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use helpdesk_core::domain::{ModelUsageDay, Role, TenantSettings};
use helpdesk_core::service::{MAX_AUDIT_PAGE, NewUser, UserPatch};
use helpdesk_core::store::{AuditCursor, AuditQuery, TimeRange, TriageModel};
use helpdesk_core::{AuditEventId, UserId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ApiState;
use crate::auth::Caller;
use crate::extract::{Json, Path, Query};
use crate::problem::{ApiResult, Problem};
use crate::resources::{TenantResource, UserResource};

/// The caller's tenant (settings for staff only).
#[utoipa::path(get, path = "/tenant", tag = "admin",
    responses(
        (status = 200, body = TenantResource),
    ))]
pub(crate) async fn get_tenant(
    State(state): State<ApiState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<TenantResource>> {
    let tenant = state.helpdesk().get_tenant(&actor).await?;
    Ok(axum::Json(TenantResource::new(tenant, actor.is_staff())))
}

/// Replace the tenant's settings (admins). The body is the whole settings object as
/// `GET tenant` returns it; it is validated as a whole.
#[utoipa::path(put, path = "/tenant/settings", tag = "admin",
    request_body(content = Object, description = "The settings, as `GET tenant` returns them"),
    responses(
        (status = 200, body = TenantResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn update_settings(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Json(settings): Json<TenantSettings>,
) -> ApiResult<axum::Json<TenantResource>> {
    let tenant = state.helpdesk().update_settings(&actor, settings).await?;
    Ok(axum::Json(TenantResource::new(tenant, true)))
}

/// Which users.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct UserParams {
    /// Only this role.
    #[param(inline)]
    role: Option<Role>,
}

/// The tenant's users (staff).
#[utoipa::path(get, path = "/users", tag = "admin", params(UserParams),
    responses(
        (status = 200, body = Vec<UserResource>),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn list_users(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Query(params): Query<UserParams>,
) -> ApiResult<axum::Json<Vec<UserResource>>> {
    let users = state.helpdesk().list_users(&actor, params.role).await?;
    Ok(axum::Json(users.into_iter().map(Into::into).collect()))
}

/// A new user.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUserRequest {
    /// E-mail (unique in the tenant).
    email: String,
    /// Display name.
    name: String,
    /// Role.
    role: Role,
    /// Skills (agents).
    #[serde(default)]
    skills: Vec<String>,
    /// Open tickets the agent takes at most (default 10).
    capacity: Option<u32>,
    /// A first password (at least 8 characters); without one the user cannot log in with
    /// a password.
    #[schema(format = Password)]
    password: Option<String>,
}

/// Add a user (admins).
#[utoipa::path(post, path = "/users", tag = "admin",
    request_body = NewUserRequest,
    responses(
        (status = 201, body = UserResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 409, description = "Conflicts with the current state"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn add_user(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Json(request): Json<NewUserRequest>,
) -> ApiResult<(StatusCode, axum::Json<UserResource>)> {
    let new = NewUser {
        email: request.email,
        name: request.name,
        role: request.role,
        skills: request.skills,
        capacity: request.capacity.unwrap_or(10),
        password: request.password,
    };
    let user = state.helpdesk().add_user(&actor, new).await?;
    Ok((StatusCode::CREATED, axum::Json(user.into())))
}

/// Fields to change; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserPatchRequest {
    /// Display name.
    name: Option<String>,
    /// Role (the last active admin cannot be demoted).
    role: Option<Role>,
    /// Skills.
    skills: Option<Vec<String>>,
    /// Capacity.
    capacity: Option<u32>,
    /// Whether the user may sign in.
    active: Option<bool>,
}

/// Change a user (admins).
#[utoipa::path(patch, path = "/users/{id}", tag = "admin",
    params(("id" = UserId, Path, description = "User id")),
    request_body = UserPatchRequest,
    responses(
        (status = 200, body = UserResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 409, description = "Conflicts with the current state"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn update_user(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<UserId>,
    Json(request): Json<UserPatchRequest>,
) -> ApiResult<axum::Json<UserResource>> {
    let patch = UserPatch {
        name: request.name,
        role: request.role,
        skills: request.skills,
        capacity: request.capacity,
        active: request.active,
    };
    let user = state.helpdesk().update_user(&actor, id, patch).await?;
    Ok(axum::Json(user.into()))
}

/// A new password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordRequest {
    /// At least 8 characters.
    #[schema(format = Password)]
    password: String,
}

/// Set a user's password: one's own, or anyone's in the tenant for admins. The user's
/// other sessions end.
#[utoipa::path(put, path = "/users/{id}/password", tag = "admin",
    params(("id" = UserId, Path, description = "User id")),
    request_body = PasswordRequest,
    responses(
        (status = 204, description = "Set"),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn set_password(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<UserId>,
    Json(request): Json<PasswordRequest>,
) -> ApiResult<StatusCode> {
    state
        .helpdesk()
        .set_password(&actor, id, &request.password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Everything the company holds about one customer (admins): their profile, every ticket
/// they raised with all its messages (internal notes and AI drafts included, by `kind`),
/// the list of its files and its rating, and their chatbot conversations. Recorded in the
/// audit log (`customer_data_exported`). A staff member's id is refused (`user`).
#[utoipa::path(get, path = "/users/{id}/export", tag = "admin",
    params(("id" = UserId, Path, description = "The customer's id")),
    responses(
        (status = 200, description = "The export", body = Object),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 422, description = "Not a customer (`user`)"),
    ))]
pub(crate) async fn export_customer(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<UserId>,
) -> ApiResult<Response> {
    let export = state.helpdesk().export_customer(&actor, id).await?;
    Ok((
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        axum::Json(export),
    )
        .into_response())
}

/// What erasing a customer did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ErasureResource {
    /// Tickets whose personal data this request erased (already erased ones are not
    /// counted, so a repeated request says 0).
    tickets: u64,
    /// Files deleted, metadata and bytes.
    files: u64,
    /// SHA-256 of files whose bytes the blob store failed to delete (nothing refers to
    /// them any more; the operator deletes them), and of retired learned-triage models
    /// likewise. Normally empty.
    blobs_left: Vec<String>,
    /// Learned-triage models retired because they may have learned from the erased
    /// tickets (a new version is trained without them; a repeated request says 0).
    triage_models_retired: u64,
}

/// Erases a customer's personal data (admins; a data subject's erasure request): their
/// name and e-mail are replaced, their account closed (password and sessions deleted),
/// and the texts and files of every ticket they raised erased, in the tickets, their
/// events, messages, outbox and search, one commit per ticket. The tickets stay with
/// their status, times and ratings, so analytics still count them. Recorded in the audit
/// log (`customer_erased`). The tenant's learned-triage models are retired (they may have
/// learned from those tickets) and retrained without them. Repeating it finishes an
/// erasure that stopped half-way and changes nothing after a complete one, except that
/// the models are retired again. A staff member's id is refused (`user`).
#[utoipa::path(post, path = "/users/{id}/erase", tag = "admin",
    params(("id" = UserId, Path, description = "The customer's id")),
    responses(
        (status = 200, description = "What was erased", body = ErasureResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 422, description = "Not a customer (`user`)"),
    ))]
pub(crate) async fn erase_customer(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<UserId>,
) -> ApiResult<axum::Json<ErasureResource>> {
    let report = state.helpdesk().erase_customer(&actor, id).await?;
    Ok(axum::Json(ErasureResource {
        tickets: report.tickets,
        files: report.files,
        blobs_left: report.blobs_left.iter().map(|s| s.to_hex()).collect(),
        triage_models_retired: report.triage_models_retired,
    }))
}

/// A page of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditParams {
    /// Page size, 1 to 200 (default 50).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of administrative changes, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuditPage {
    /// The events (`type` says what changed).
    #[schema(value_type = Vec<Object>)]
    items: Vec<serde_json::Value>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

/// The tenant's audit log: who changed settings, users, roles and articles, and when
/// (admins).
#[utoipa::path(get, path = "/audit", tag = "admin", params(AuditParams),
    responses(
        (status = 200, body = AuditPage),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn list_audit(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Query(params): Query<AuditParams>,
) -> ApiResult<axum::Json<AuditPage>> {
    let limit = params.limit.unwrap_or(50);
    if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
        return Err(Problem::validation(
            "limit",
            format!("must be 1 to {MAX_AUDIT_PAGE}"),
        ));
    }
    let before = params
        .cursor
        .filter(|c| !c.is_empty())
        .map(|c| decode_audit_cursor(&c))
        .transpose()?;
    let events = state
        .helpdesk()
        .list_audit_events(&actor, AuditQuery { limit, before })
        .await?;
    let next_cursor = (events.len() == limit as usize)
        .then(|| events.last().map(|e| format!("{}~{}", e.at, e.id)))
        .flatten();
    Ok(axum::Json(AuditPage {
        items: events
            .iter()
            .filter_map(|e| serde_json::to_value(e).ok())
            .collect(),
        next_cursor,
    }))
}

fn decode_audit_cursor(text: &str) -> ApiResult<AuditCursor> {
    let invalid = || Problem::validation("cursor", "not a cursor this API returned");
    let (at, id) = text.split_once('~').ok_or_else(invalid)?;
    Ok(AuditCursor {
        at: at.parse::<Timestamp>().map_err(|_| invalid())?,
        id: id.parse::<AuditEventId>().map_err(|_| invalid())?,
    })
}

/// A time range.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct RangeParams {
    /// Start (RFC 3339); default 30 days before `to`.
    #[param(value_type = Option<String>, format = DateTime)]
    from: Option<Timestamp>,
    /// End (RFC 3339); default now.
    #[param(value_type = Option<String>, format = DateTime)]
    to: Option<Timestamp>,
}

/// Analytics of a range.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AnalyticsResponse {
    /// Start.
    from: Timestamp,
    /// End.
    to: Timestamp,
    /// Volume, status and priority mix, response and resolution times, SLA attainment,
    /// agents, CSAT, AI drafts and the chatbot.
    #[schema(value_type = Object)]
    analytics: serde_json::Value,
    /// What language models cost: calls and tokens in and out per UTC day, use case and
    /// model, ordered by day, use case, model (days without calls are left out).
    model_usage: Vec<ModelUsageDay>,
    /// The tenant's learned-triage models, newest first (at most 10; empty before the
    /// first training), each with its accuracy on the tenant's held-out tickets.
    learned_triage: Vec<TriageModelView>,
}

/// One learned-triage model of the tenant.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TriageModelView {
    /// The tenant's model version (1, 2, ...).
    version: u64,
    /// The classifier format and embedding model that read it.
    format: String,
    /// When training finished.
    trained_at: Timestamp,
    /// Resolved and closed tickets the tenant had when training started.
    resolved_tickets: u64,
    /// Tickets it was trained on.
    training_tickets: u64,
    /// Tickets held out of training to measure it.
    holdout_tickets: u64,
    /// Held-out tickets whose category it predicted right.
    holdout_correct: u64,
    /// `holdout_correct / holdout_tickets`, 0 to 1; absent without held-out tickets.
    accuracy: Option<f64>,
    /// The categories it predicts.
    categories: Vec<String>,
    /// When it was retired because a ticket it may have learned from was erased (it is
    /// never used again); absent while in service.
    retired_at: Option<Timestamp>,
}

impl From<TriageModel> for TriageModelView {
    fn from(m: TriageModel) -> Self {
        Self {
            version: m.version,
            accuracy: m.accuracy(),
            format: m.format,
            trained_at: m.trained_at,
            resolved_tickets: m.resolved_tickets,
            training_tickets: m.training_tickets,
            holdout_tickets: m.holdout_tickets,
            holdout_correct: m.holdout_correct,
            categories: m.categories,
            retired_at: m.retired_at,
        }
    }
}

/// The tenant's analytics over a range (staff with analytics access).
#[utoipa::path(get, path = "/analytics", tag = "admin", params(RangeParams),
    responses(
        (status = 200, body = AnalyticsResponse),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn analytics(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Query(params): Query<RangeParams>,
) -> ApiResult<axum::Json<AnalyticsResponse>> {
    let helpdesk = state.helpdesk();
    let to = params.to.unwrap_or_else(|| helpdesk.now());
    let from = match params.from {
        Some(from) => from,
        None => to
            .checked_sub(jiff::SignedDuration::from_hours(24 * 30))
            .map_err(|_| Problem::validation("to", "out of range"))?,
    };
    if from >= to {
        return Err(Problem::validation("from", "must be before `to`"));
    }
    let report = helpdesk.analytics(&actor, TimeRange { from, to }).await?;
    Ok(axum::Json(AnalyticsResponse {
        from: report.range.from,
        to: report.range.to,
        analytics: serde_json::to_value(&report.analytics).unwrap_or_default(),
        model_usage: report.model_usage,
        learned_triage: report
            .triage_models
            .into_iter()
            .map(TriageModelView::from)
            .collect(),
    }))
}
