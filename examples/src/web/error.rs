//! Errors of the web app and how they become pages. A page never shows internals: only
//! errors meant for the user (validation, not found, forbidden, illegal transitions) keep
//! their message; everything else is logged and shown as a generic failure.

use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{Html, IntoResponse, Response};
use helpdesk_core::Error as CoreError;

use super::views::ErrorPage;

/// An error answering a web request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// The helpdesk refused or failed.
    #[error("helpdesk request failed")]
    Core(#[from] CoreError),
    /// Nobody is signed in (or the session expired): sends the browser to the login page.
    #[error("not signed in")]
    NotSignedIn,
    /// Signed in, but this page is not for the user's role.
    #[error("this page is not available to your role")]
    WrongRole,
    /// A form was posted without a valid CSRF token.
    #[error("the form expired or did not come from this site; reload the page and try again")]
    Csrf,
    /// A form or query field is missing or malformed.
    #[error("invalid {field}: {message}")]
    BadInput {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A template failed to render.
    #[error("page rendering failed")]
    Render(#[from] askama::Error),
}

impl WebError {
    /// Shorthand for [`WebError::BadInput`].
    pub(crate) fn bad_input(field: &'static str, message: impl Into<String>) -> Self {
        Self::BadInput {
            field,
            message: message.into(),
        }
    }

    /// The status and the text shown to the user.
    fn public_view(&self) -> (StatusCode, String) {
        match self {
            Self::Core(e) => match e {
                CoreError::Validation { .. }
                | CoreError::IllegalTransition { .. }
                | CoreError::InvalidState(_)
                | CoreError::TicketClosed { .. }
                | CoreError::Duplicate { .. } => (StatusCode::BAD_REQUEST, e.to_string()),
                CoreError::NotFound { .. } => (
                    StatusCode::NOT_FOUND,
                    "That page or item does not exist.".into(),
                ),
                CoreError::Forbidden { .. } => (StatusCode::FORBIDDEN, e.to_string()),
                CoreError::Unauthenticated { .. } => {
                    (StatusCode::UNAUTHORIZED, "Please sign in again.".into())
                }
                CoreError::Conflict { .. } => (
                    StatusCode::CONFLICT,
                    "Someone else changed this at the same time; reload and try again.".into(),
                ),
                _ => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on our side. Please try again.".into(),
                ),
            },
            Self::NotSignedIn => (StatusCode::UNAUTHORIZED, "Please sign in.".into()),
            Self::WrongRole => (StatusCode::FORBIDDEN, self.to_string()),
            Self::Csrf => (StatusCode::FORBIDDEN, self.to_string()),
            Self::BadInput { .. } => (StatusCode::BAD_REQUEST, self.to_string()),
            Self::Render(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side. Please try again.".into(),
            ),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let session_gone = matches!(
            &self,
            Self::NotSignedIn | Self::Core(CoreError::Unauthenticated { .. })
        );
        if session_gone {
            return (StatusCode::SEE_OTHER, [(LOCATION, "/login")]).into_response();
        }
        let (status, message) = self.public_view();
        if status.is_server_error() {
            // The chain is logged (never shown); core errors carry no secrets.
            tracing::error!(error = ?self, "request failed");
        }
        error_page(status, &message)
    }
}

/// A standalone error page (no user context, so it never depends on a working session).
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    let page = ErrorPage {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("Error"),
        message,
    };
    match askama::Template::render(&page) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = ?e, "error page failed to render");
            (status, "error").into_response()
        }
    }
}

/// The result of a handler.
pub(crate) type WebResult<T> = Result<T, WebError>;
