//! Who is calling: pluggable authentication.
//!
//! The host decides how its users prove who they are. An [`Authenticator`] turns a
//! request's head into an [`Actor`] — the host's own session cookie or JWT, say — and the
//! router asks each configured authenticator in turn. Built in is [`BearerTokens`]:
//! `Authorization: Bearer <token>` with a session token from `POST auth/login` (core's
//! password login) or an API key an admin created (`POST api-keys`).
//!
//! An actor an authenticator returns is not trusted blindly: every use case re-reads the
//! user and refuses an inactive one or one whose stored role or tenant differ.

use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use helpdesk_core::Helpdesk;
use helpdesk_core::domain::Actor;
use helpdesk_core::service::API_KEY_SECRET_PREFIX;

use crate::ApiState;
use crate::problem::Problem;

/// Turns a request into the actor it acts for.
#[async_trait]
pub trait Authenticator: Send + Sync + 'static {
    /// `Ok(Some(actor))` when the request carries this authenticator's credentials and
    /// they are valid; `Ok(None)` when it carries none of its kind (the next authenticator
    /// is asked); `Err` when it carries credentials of its kind that are not valid (the
    /// request is refused with that error, usually `Unauthenticated`).
    async fn authenticate(
        &self,
        helpdesk: &Helpdesk,
        request: &Parts,
    ) -> helpdesk_core::Result<Option<Actor>>;
}

#[async_trait]
impl<A: Authenticator + ?Sized> Authenticator for Arc<A> {
    async fn authenticate(
        &self,
        helpdesk: &Helpdesk,
        request: &Parts,
    ) -> helpdesk_core::Result<Option<Actor>> {
        (**self).authenticate(helpdesk, request).await
    }
}

/// `Authorization: Bearer <token>`: a session token from `POST auth/login`, or an API key
/// (its secret starts with `hdk_`).
#[derive(Debug, Clone, Copy, Default)]
pub struct BearerTokens;

/// The bearer token of a request, if it has an `Authorization: Bearer` header.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

#[async_trait]
impl Authenticator for BearerTokens {
    async fn authenticate(
        &self,
        helpdesk: &Helpdesk,
        request: &Parts,
    ) -> helpdesk_core::Result<Option<Actor>> {
        match bearer_token(&request.headers) {
            Some(key) if key.starts_with(API_KEY_SECRET_PREFIX) => {
                helpdesk.authenticate_api_key(key).await.map(Some)
            }
            Some(token) => helpdesk.authenticate(token).await.map(Some),
            None => Ok(None),
        }
    }
}

/// The authenticated caller of a request; a handler that takes it refuses anonymous
/// requests with 401.
#[derive(Debug, Clone)]
pub struct Caller(pub Actor);

impl FromRequestParts<ApiState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Problem> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        for authenticator in state.authenticators() {
            if let Some(actor) = authenticator
                .authenticate(state.helpdesk(), parts)
                .await
                .map_err(Problem::from)?
            {
                let caller = Caller(actor);
                parts.extensions.insert(caller.clone());
                return Ok(caller);
            }
        }
        Err(Problem::unauthenticated())
    }
}
