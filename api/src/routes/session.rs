//! Logging in and out with core's password login, and who the caller is.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ApiState;
use crate::auth::{Caller, bearer_token};
use crate::extract::Json;
use crate::headers::ClientAddress;
use crate::problem::{ApiResult, Problem};
use crate::resources::{TenantResource, UserResource};
use helpdesk_core::domain::Role;
use helpdesk_core::service::{NewTenant, NewUser};

/// Credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    /// The tenant's short name.
    tenant: String,
    /// E-mail.
    email: String,
    /// Password.
    #[schema(format = Password)]
    password: String,
}

/// A new session.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`. Shown once; only its hash is stored.
    token: String,
    /// When the session ends.
    expires_at: Timestamp,
    /// The user.
    user: UserResource,
}

/// Who the caller is.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Me {
    /// The user.
    user: UserResource,
    /// Their tenant.
    tenant: TenantResource,
}

/// Log in with e-mail and password.
///
/// A wrong e-mail and a wrong password get the same answer, in the same time. Tries are
/// limited per account and per client address (429 with `Retry-After`).
#[utoipa::path(post, path = "/auth/login", tag = "session", security(()),
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 422, description = "Invalid input (the problem names the field)"),
        (status = 429, description = "Rate limited (see `Retry-After`)"),
    ))]
pub(crate) async fn login(
    State(state): State<ApiState>,
    ClientAddress(address): ClientAddress,
    Json(request): Json<LoginRequest>,
) -> ApiResult<axum::Json<LoginResponse>> {
    let throttles = state.throttles();
    let account = format!(
        "{}\u{0}{}",
        request.tenant.trim().to_lowercase(),
        request.email.trim().to_lowercase()
    );
    throttles
        .login_address
        .check(&address)
        .and_then(|()| throttles.login_account.check(&account))
        .map_err(Problem::rate_limited)?;
    let outcome = state
        .helpdesk()
        .login(&request.tenant, &request.email, &request.password)
        .await
        .inspect_err(|e| {
            if matches!(e, helpdesk_core::Error::Unauthenticated { .. }) {
                tracing::info!(%address, tenant = %request.tenant, "failed API login");
            }
        })?;
    Ok(axum::Json(LoginResponse {
        token: outcome.token,
        expires_at: outcome.expires_at,
        user: outcome.user.into(),
    }))
}

/// End the caller's session (the bearer token stops working).
#[utoipa::path(post, path = "/auth/logout", tag = "session",
    responses(
        (status = 204, description = "Logged out"),
    ))]
pub(crate) async fn logout(
    State(state): State<ApiState>,
    _caller: Caller,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    if let Some(token) = bearer_token(&headers) {
        state.helpdesk().logout(token).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The caller and their tenant.
#[utoipa::path(get, path = "/me", tag = "session",
    responses(
        (status = 200, body = Me),
    ))]
pub(crate) async fn me(
    State(state): State<ApiState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Me>> {
    let helpdesk = state.helpdesk();
    let tenant = helpdesk.get_tenant(&actor).await?;
    let user = helpdesk
        .store()
        .get_user(actor.tenant_id, actor.user_id)
        .await?
        .ok_or_else(Problem::unauthenticated)?;
    Ok(axum::Json(Me {
        user: user.into(),
        tenant: TenantResource::new(tenant, actor.is_staff()),
    }))
}

/// A new company and its first admin.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TenantSignUp {
    /// The company's name.
    name: String,
    /// Its short name, used to log in (lowercase letters, digits and dashes).
    slug: String,
    /// The admin's e-mail.
    admin_email: String,
    /// The admin's name.
    admin_name: String,
    /// The admin's password (at least 8 characters).
    #[schema(format = Password)]
    admin_password: String,
}

/// The company and its admin.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TenantSignedUp {
    /// The tenant.
    tenant: TenantResource,
    /// Its admin (log in with `auth/login`).
    admin: UserResource,
}

/// Create a tenant with its first admin, when this server has tenant sign-up open
/// (limited per client address).
#[utoipa::path(post, path = "/tenants", tag = "session", security(()),
    request_body = TenantSignUp,
    responses(
        (status = 201, body = TenantSignedUp),
        (status = 403, description = "Tenant sign-up is closed on this server"),
        (status = 409, description = "The short name is taken"),
        (status = 422, description = "Invalid input (the problem names the field)"),
        (status = 429, description = "Rate limited (see `Retry-After`)"),
    ))]
pub(crate) async fn sign_up_tenant(
    State(state): State<ApiState>,
    ClientAddress(address): ClientAddress,
    Json(request): Json<TenantSignUp>,
) -> ApiResult<(StatusCode, axum::Json<TenantSignedUp>)> {
    if !state.tenant_sign_up() {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Not allowed for your role",
        )
        .detail("tenant sign-up is closed on this server"));
    }
    state
        .throttles()
        .tenant_sign_up
        .check(&address)
        .map_err(Problem::rate_limited)?;
    let admin = NewUser {
        email: request.admin_email,
        name: request.admin_name,
        role: Role::Admin,
        skills: Vec::new(),
        capacity: 10,
        password: Some(request.admin_password),
    };
    let (tenant, admin) = state
        .helpdesk()
        .register_tenant(NewTenant {
            name: request.name,
            slug: request.slug,
            admin,
            settings: None,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(TenantSignedUp {
            tenant: TenantResource::new(tenant, true),
            admin: admin.into(),
        }),
    ))
}
