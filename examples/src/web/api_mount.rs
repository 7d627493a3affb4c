//! The JSON API (`helpdesk-api`) mounted at `/api/v1`, and how the app's own pages reach
//! it.
//!
//! Integrations authenticate with bearer tokens (`POST /api/v1/auth/login`) or API keys.
//! The pages' scripts use the signed-in person's session cookie instead, but only for
//! reads (`GET`/`HEAD`, such as the live event stream): a cookie rides along on requests
//! other sites make, and the API has no CSRF tokens, so no cookie ever changes anything.
//! A read through the cookie is refused once the session is idle past its timeout (its
//! `hd_seen` stamp, [`super::idle`]); the API's answers do not stamp it again, the pages do.

use async_trait::async_trait;
use axum::Router;
use axum::http::Method;
use axum::http::request::Parts;
use helpdesk_api::{ApiConfig, Authenticator};
use helpdesk_core::Helpdesk;
use helpdesk_core::domain::Actor;

use super::app::AppState;
use super::session::{SESSION_COOKIE, cookie};

/// Where the API is mounted.
pub(crate) const API_PREFIX: &str = "/api/v1";

/// The API router for the app (mounted by [`super::router`]).
pub(crate) fn api_router(state: &AppState) -> Router {
    let config = ApiConfig::default().authenticator(SessionCookie {
        state: state.clone(),
    });
    helpdesk_api::router(state.helpdesk().clone(), config)
}

/// The session cookie of a signed-in person, for reads only.
struct SessionCookie {
    state: AppState,
}

#[async_trait]
impl Authenticator for SessionCookie {
    async fn authenticate(
        &self,
        helpdesk: &Helpdesk,
        request: &Parts,
    ) -> helpdesk_core::Result<Option<Actor>> {
        if request.method != Method::GET && request.method != Method::HEAD {
            return Ok(None);
        }
        let Some(token) = cookie(&request.headers, SESSION_COOKIE) else {
            return Ok(None);
        };
        let seen = cookie(&request.headers, super::idle::SEEN_COOKIE);
        if !self
            .state
            .idle_clock()
            .still_active(token, seen, super::idle::now_seconds())
        {
            // Idle too long: the session ends for good, as on a page view.
            helpdesk.logout(token).await?;
            return Err(helpdesk_core::Error::Unauthenticated {
                reason: "the session expired",
            });
        }
        helpdesk.authenticate(token).await.map(Some)
    }
}
