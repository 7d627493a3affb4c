//! The JSON HTTP API of the helpdesk engine, as an axum router a host mounts anywhere:
//!
//! ```no_run
//! # async fn host(helpdesk: helpdesk_core::Helpdesk) -> std::io::Result<()> {
//! use std::net::SocketAddr;
//! let app = axum::Router::new()
//!     .route("/", axum::routing::get(|| async { "the host's own page" }))
//!     .nest("/support", helpdesk_api::router(helpdesk, helpdesk_api::ApiConfig::default()));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! // Connection info gives the per-address rate limits each client's own address.
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await
//! # }
//! ```
//!
//! Every use case of [`helpdesk_core::Helpdesk`] is a resource under that prefix, and no
//! link inside the API is absolute, so any prefix works. The OpenAPI 3.1 document, built
//! from the handlers themselves, is served at `openapi.json` and an interactive page at
//! `docs/` (Swagger UI bundled in the crate: no CDN).
//!
//! - **Authentication** is pluggable ([`Authenticator`]); built in are bearer session
//!   tokens from `POST auth/login`.
//! - **Errors** are RFC 9457 `application/problem+json` documents ([`Problem`]) with a
//!   stable `type`: 404 for another tenant's ids exactly as for missing ones, 409 for
//!   illegal transitions, state conflicts and version conflicts, 412 when an `If-Match`
//!   no longer holds, 422 for validation (with the `field`), 429 with `Retry-After` when
//!   rate limited, 503 when the store or the model is unavailable.
//! - **Concurrency**: tickets and articles carry their version as an `ETag`; send it in
//!   `If-Match` to change them only if nobody else did. `Idempotency-Key` on
//!   `POST tickets` makes a retried create return the first ticket instead of a second;
//!   other operations refuse the header (422) rather than pretend a retry is safe.
//! - **Attachments**: the routes that open tickets, reply, add notes and send chat
//!   messages also take `multipart/form-data` (the JSON object as a `json` part, files as
//!   `attachments` parts), held to the tenant's file limits; `tickets/{id}/attachments`
//!   lists them and `attachments/{id}` downloads one with headers that keep it from ever
//!   running in the API's origin ([`attachment_response`]).
//! - **Hardening**: rate limits on login and intake per address and per caller, a body
//!   size limit, optional CORS, a request id (`x-request-id`) and a tracing span on
//!   every request, `Cache-Control: no-store` on every answer.

mod auth;
mod config;
mod docs;
mod download;
mod extract;
mod headers;
mod problem;
mod resources;
mod routes;
mod throttle;
mod upload;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Request, header};
use helpdesk_core::Helpdesk;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use auth::{Authenticator, BearerTokens, Caller, bearer_token};
pub use config::{ApiConfig, RateLimits};
pub use download::{Disposition, attachment_response};
pub use problem::{ApiResult, PROBLEM_JSON, Problem};
pub use resources::*;
pub use throttle::{Limit, Throttle, Tier};
pub use webhooks::{DeliveryReport, WebhookDelivery, WebhookSender};

/// The OpenAPI document of the API, as served at `openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::split().1
}

/// The API's router. Mount it with `Router::nest` under any prefix; it works with any
/// host state type.
pub fn router<S>(helpdesk: Helpdesk, config: ApiConfig) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let (api, openapi) = routes::split();
    let state = ApiState(Arc::new(StateInner {
        helpdesk,
        throttles: config::Throttles::new(&config.limits),
        authenticators: config.authenticators.clone(),
        trust_forwarded_for: config.trust_forwarded_for,
        event_poll_interval: config.event_poll_interval,
        tenant_sign_up: config.tenant_sign_up,
        body_limit: config.body_limit,
        openapi: Arc::new(openapi),
    }));
    let request_id = HeaderName::from_static("x-request-id");
    let mut router = api
        .merge(docs::router(config.docs))
        .layer(axum::middleware::from_fn(
            headers::idempotency_only_where_honoured,
        ))
        .fallback(|| async { Problem::not_found("no such resource") })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed",
            )
            .detail("this resource does not support that method")
        })
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!(
                    "api",
                    method = %request.method(),
                    path = %request.uri().path(),
                    request_id = %id,
                )
            }),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid));
    if let Some(cors) = config.cors {
        router = router.layer(cors);
    }
    router.with_state(state)
}

/// What every handler shares.
#[derive(Clone)]
pub struct ApiState(Arc<StateInner>);

struct StateInner {
    helpdesk: Helpdesk,
    throttles: config::Throttles,
    authenticators: Vec<Arc<dyn Authenticator>>,
    trust_forwarded_for: bool,
    event_poll_interval: std::time::Duration,
    tenant_sign_up: bool,
    body_limit: usize,
    openapi: Arc<utoipa::openapi::OpenApi>,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState").finish_non_exhaustive()
    }
}

impl ApiState {
    /// The engine.
    pub fn helpdesk(&self) -> &Helpdesk {
        &self.0.helpdesk
    }

    pub(crate) fn authenticators(&self) -> &[Arc<dyn Authenticator>] {
        &self.0.authenticators
    }

    pub(crate) fn throttles(&self) -> &config::Throttles {
        &self.0.throttles
    }

    pub(crate) fn client_address(&self, parts: &axum::http::request::Parts) -> String {
        config::client_address(parts, self.0.trust_forwarded_for)
    }

    pub(crate) fn event_poll_interval(&self) -> std::time::Duration {
        self.0.event_poll_interval
    }

    pub(crate) fn tenant_sign_up(&self) -> bool {
        self.0.tenant_sign_up
    }

    /// The body limit of JSON requests (upload routes apply it to their JSON part).
    pub(crate) fn body_limit(&self) -> usize {
        self.0.body_limit
    }

    pub(crate) fn openapi(&self) -> &utoipa::openapi::OpenApi {
        &self.0.openapi
    }
}
