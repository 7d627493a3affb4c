//! API keys for integrations: admins create them (the secret is shown once), list and
//! revoke them. A key acts as one staff user with the role that user had when it was made.

use axum::extract::State;
use axum::http::StatusCode;
use helpdesk_core::domain::{ApiKey, Role};
use helpdesk_core::service::NewApiKey;
use helpdesk_core::{ApiKeyId, UserId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ApiState;
use crate::auth::Caller;
use crate::extract::{Json, Path};
use crate::problem::ApiResult;

/// An API key (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ApiKeyResource {
    /// Id.
    id: ApiKeyId,
    /// What it is for.
    label: String,
    /// The first characters of the secret, to recognise it.
    prefix: String,
    /// The staff user it acts as.
    user_id: UserId,
    /// That user's role when the key was made; the key stops working if it changes.
    role: Role,
    /// Created.
    created_at: Timestamp,
    /// By whom.
    created_by: UserId,
    /// Last used (recorded at most once a minute).
    last_used_at: Option<Timestamp>,
    /// Revoked.
    revoked_at: Option<Timestamp>,
}

impl From<ApiKey> for ApiKeyResource {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            label: k.label,
            prefix: k.prefix,
            user_id: k.user_id,
            role: k.role,
            created_at: k.created_at,
            created_by: k.created_by,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A new key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewApiKeyRequest {
    /// What it is for (1 to 80 characters).
    label: String,
    /// The agent or admin it acts as (default: the caller).
    user_id: Option<UserId>,
}

/// A key just made, with its secret.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CreatedApiKeyResponse {
    /// The key.
    key: ApiKeyResource,
    /// Send as `Authorization: Bearer <secret>`. Shown this once; only its hash is kept.
    secret: String,
}

/// Create an API key (admins).
#[utoipa::path(post, path = "/api-keys", tag = "admin",
    request_body = NewApiKeyRequest,
    responses(
        (status = 201, body = CreatedApiKeyResponse),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn create_api_key(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Json(request): Json<NewApiKeyRequest>,
) -> ApiResult<(StatusCode, axum::Json<CreatedApiKeyResponse>)> {
    let created = state
        .helpdesk()
        .create_api_key(
            &actor,
            NewApiKey {
                label: request.label,
                user_id: request.user_id,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedApiKeyResponse {
            key: created.key.into(),
            secret: created.secret,
        }),
    ))
}

/// The tenant's API keys, newest first (admins).
#[utoipa::path(get, path = "/api-keys", tag = "admin",
    responses(
        (status = 200, body = Vec<ApiKeyResource>),
        (status = 403, description = "Not allowed for the caller's role"),
    ))]
pub(crate) async fn list_api_keys(
    State(state): State<ApiState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Vec<ApiKeyResource>>> {
    let keys = state.helpdesk().list_api_keys(&actor).await?;
    Ok(axum::Json(keys.into_iter().map(Into::into).collect()))
}

/// Revoke an API key (admins); it stops working at once.
#[utoipa::path(delete, path = "/api-keys/{id}", tag = "admin",
    params(("id" = ApiKeyId, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
    ))]
pub(crate) async fn revoke_api_key(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<ApiKeyId>,
) -> ApiResult<StatusCode> {
    state.helpdesk().revoke_api_key(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
