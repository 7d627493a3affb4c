//! Webhook endpoints (admins): where the tenant's events are posted. The signing secret is
//! in the answer of a create or a rotation and never again; delivery state (failures, the
//! next attempt, why an endpoint was disabled) is in every answer.

use axum::extract::State;
use axum::http::StatusCode;
use helpdesk_core::WebhookId;
use helpdesk_core::domain::WebhookEndpoint;
use helpdesk_core::service::{NewWebhook, WebhookPatch};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ApiState;
use crate::auth::Caller;
use crate::extract::{Json, Path};
use crate::problem::ApiResult;

/// A webhook endpoint (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebhookResource {
    /// Id.
    id: WebhookId,
    /// Where events are posted.
    url: String,
    /// The event kinds posted (`message_added`, ...); empty for all.
    event_types: Vec<String>,
    /// Whether events are posted to it.
    enabled: bool,
    /// Why it was disabled.
    disabled_reason: Option<String>,
    /// Failed attempts since the last delivery.
    consecutive_failures: u32,
    /// When the next attempt is due after a failure.
    next_attempt_at: Option<Timestamp>,
    /// When its secret was last rotated (the previous one still signs for a grace period).
    rotated_at: Option<Timestamp>,
    /// Registered.
    created_at: Timestamp,
}

impl From<WebhookEndpoint> for WebhookResource {
    fn from(w: WebhookEndpoint) -> Self {
        Self {
            id: w.id,
            url: w.url,
            event_types: w.event_types,
            enabled: w.enabled,
            disabled_reason: w.disabled_reason,
            consecutive_failures: w.consecutive_failures,
            next_attempt_at: w.next_attempt_at,
            rotated_at: w.rotated_at,
            created_at: w.created_at,
        }
    }
}

/// An endpoint with its signing secret: the answer of a create or a rotation only.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebhookWithSecret {
    /// The endpoint.
    webhook: WebhookResource,
    /// `whsec_...`: verify deliveries with it (Standard Webhooks). Shown this once.
    secret: String,
}

impl From<WebhookEndpoint> for WebhookWithSecret {
    fn from(w: WebhookEndpoint) -> Self {
        let secret = w.secret.as_str().to_string();
        Self {
            webhook: w.into(),
            secret,
        }
    }
}

/// A new endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewWebhookRequest {
    /// `https://...` (or `http://` for a receiver on a private network).
    url: String,
    /// The event kinds to post; empty or absent for all.
    #[serde(default)]
    event_types: Vec<String>,
}

/// Register a webhook endpoint (admins).
#[utoipa::path(post, path = "/webhooks", tag = "admin",
    request_body = NewWebhookRequest,
    responses(
        (status = 201, body = WebhookWithSecret),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn create_webhook(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Json(request): Json<NewWebhookRequest>,
) -> ApiResult<(StatusCode, axum::Json<WebhookWithSecret>)> {
    let created = state
        .helpdesk()
        .create_webhook(
            &actor,
            NewWebhook {
                url: request.url,
                event_types: request.event_types,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(created.into())))
}

/// The tenant's webhook endpoints, oldest first (admins).
#[utoipa::path(get, path = "/webhooks", tag = "admin",
    responses(
        (status = 200, body = Vec<WebhookResource>),
        (status = 403, description = "Not allowed for the caller's role"),
    ))]
pub(crate) async fn list_webhooks(
    State(state): State<ApiState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Vec<WebhookResource>>> {
    let list = state.helpdesk().list_webhooks(&actor).await?;
    Ok(axum::Json(list.into_iter().map(Into::into).collect()))
}

/// A webhook endpoint (admins).
#[utoipa::path(get, path = "/webhooks/{id}", tag = "admin",
    params(("id" = WebhookId, Path, description = "Endpoint id")),
    responses(
        (status = 200, body = WebhookResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
    ))]
pub(crate) async fn get_webhook(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<WebhookId>,
) -> ApiResult<axum::Json<WebhookResource>> {
    let found = state.helpdesk().get_webhook(&actor, id).await?;
    Ok(axum::Json(found.into()))
}

/// Fields to change; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookPatchRequest {
    /// New URL.
    url: Option<String>,
    /// New event kinds (empty for all).
    event_types: Option<Vec<String>>,
}

/// Change an endpoint's URL or event kinds (admins).
#[utoipa::path(patch, path = "/webhooks/{id}", tag = "admin",
    params(("id" = WebhookId, Path, description = "Endpoint id")),
    request_body = WebhookPatchRequest,
    responses(
        (status = 200, body = WebhookResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn update_webhook(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<WebhookId>,
    Json(request): Json<WebhookPatchRequest>,
) -> ApiResult<axum::Json<WebhookResource>> {
    let patch = WebhookPatch {
        url: request.url,
        event_types: request.event_types,
    };
    let updated = state.helpdesk().update_webhook(&actor, id, patch).await?;
    Ok(axum::Json(updated.into()))
}

/// Give an endpoint a new signing secret (admins). Deliveries are signed with both the new
/// and the previous secret for a grace period, so the receiver can switch without losses.
#[utoipa::path(post, path = "/webhooks/{id}/rotate-secret", tag = "admin",
    params(("id" = WebhookId, Path, description = "Endpoint id")),
    responses(
        (status = 200, body = WebhookWithSecret),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
    ))]
pub(crate) async fn rotate_secret(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<WebhookId>,
) -> ApiResult<axum::Json<WebhookWithSecret>> {
    let rotated = state.helpdesk().rotate_webhook_secret(&actor, id).await?;
    Ok(axum::Json(rotated.into()))
}

/// Whether an endpoint is on.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EnabledRequest {
    /// On (clears its failures and the reason it was disabled) or off.
    enabled: bool,
}

/// Turn an endpoint on or off (admins).
#[utoipa::path(put, path = "/webhooks/{id}/enabled", tag = "admin",
    params(("id" = WebhookId, Path, description = "Endpoint id")),
    request_body = EnabledRequest,
    responses(
        (status = 200, body = WebhookResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn set_enabled(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<WebhookId>,
    Json(request): Json<EnabledRequest>,
) -> ApiResult<axum::Json<WebhookResource>> {
    let changed = state
        .helpdesk()
        .set_webhook_enabled(&actor, id, request.enabled)
        .await?;
    Ok(axum::Json(changed.into()))
}

/// Delete an endpoint (admins).
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "admin",
    params(("id" = WebhookId, Path, description = "Endpoint id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
    ))]
pub(crate) async fn delete_webhook(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<WebhookId>,
) -> ApiResult<StatusCode> {
    state.helpdesk().delete_webhook(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
