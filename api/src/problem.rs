//! Errors as RFC 9457 `application/problem+json` documents.
//!
//! Every error the API returns is a [`Problem`]: a stable `type` a client can branch on, the
//! HTTP status, a human-readable `detail`, and extension members where they help (`field`
//! for validation errors, `code` for state errors, `retry_after` for rate limits). Errors
//! that are not the caller's to fix (storage failures, bugs) are logged with their source
//! chain and answered with a generic detail: internals never reach a client.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use helpdesk_core::Error as CoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document, and the error type of every handler.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Problem {
    /// The kind of problem (`validation`), sent as the stable URI `type`
    /// (`urn:helpdesk:problem:validation`).
    #[serde(rename = "type", serialize_with = "kind_uri")]
    #[schema(value_type = String, example = "urn:helpdesk:problem:validation")]
    pub kind: &'static str,
    /// A short summary of the kind.
    pub title: &'static str,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence.
    pub detail: String,
    /// The request field at fault, for validation errors (`"subject"`, `"tags[3]"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// A finer stable code within the kind (`"ticket_merged"`, `"illegal_transition"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// Seconds to wait before retrying (also sent as `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// A problem of `kind` (the last part of its `urn:helpdesk:problem:` URI).
    pub fn new(status: StatusCode, kind: &'static str, title: &'static str) -> Self {
        Self {
            kind,
            title,
            status: status.as_u16(),
            detail: title.to_string(),
            field: None,
            code: None,
            retry_after: None,
        }
    }

    /// With this detail text.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// With the field at fault.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// With a finer code.
    pub fn code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    /// A 422 validation problem about `field`.
    pub fn validation(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "The request is not valid",
        )
        .detail(detail)
        .field(field)
    }

    /// A 400 problem with a malformed request (a header or body that cannot be parsed).
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", "Malformed request").detail(detail)
    }

    /// A 401 problem: no or bad credentials.
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentication required",
        )
        .detail("send a valid bearer token or API key")
    }

    /// A 404 problem.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Not found").detail(detail)
    }

    /// A 429 problem: try again after `wait`.
    pub fn rate_limited(wait: Duration) -> Self {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut problem = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many requests",
        )
        .detail(format!("too many requests; try again in {secs} s"));
        problem.retry_after = Some(secs.max(1));
        problem
    }

    /// A 412 problem: an `If-Match` precondition does not hold.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            "The resource changed",
        )
        .detail(detail)
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal server error",
        )
        .detail("something went wrong on our side; the error was logged")
    }

    fn unavailable(detail: &str) -> Self {
        let mut problem = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Temporarily unavailable",
        )
        .detail(detail);
        problem.retry_after = Some(1);
        problem
    }
}

impl From<CoreError> for Problem {
    fn from(error: CoreError) -> Self {
        use CoreError as E;
        let conflict = |code: &'static str, detail: String| {
            Self::new(
                StatusCode::CONFLICT,
                "conflict",
                "Conflict with the current state",
            )
            .code(code)
            .detail(detail)
        };
        match &error {
            E::Validation { field, message } => Self::validation(field.as_ref(), message.clone()),
            E::NotFound { entity, .. } => Self::not_found(format!("{entity} not found")),
            E::Unauthenticated { .. } => Self::unauthenticated(),
            E::Forbidden { .. } => Self::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not allowed for your role",
            )
            .detail(error.to_string()),
            E::IllegalTransition { .. } => conflict("illegal_transition", error.to_string()),
            E::InvalidState(state) => conflict(state.code(), error.to_string()),
            E::TicketClosed { .. } => conflict("ticket_closed", error.to_string()),
            E::ChatSessionLinked { .. } => conflict("chat_session_linked", error.to_string()),
            E::Conflict { .. } => conflict(
                "version_conflict",
                "changed concurrently by someone else; read it again and retry".into(),
            ),
            E::Duplicate { kind, .. } => conflict("duplicate", format!("this {kind} is taken")),
            E::PreconditionFailed { .. } => Self::precondition_failed(error.to_string()),
            // Files sent to a helpdesk built without a blob store: the caller can send the
            // request again without them.
            E::Configuration { field, .. } if field == "blob_store" => Self::validation(
                "attachments",
                "this helpdesk does not store files; send the request without attachments",
            ),
            E::Model(model) => {
                tracing::warn!(error = %model, "language model failed");
                Self::unavailable("the AI model is unavailable; try again or work without it")
            }
            E::Backend {
                temporary: true, ..
            } => {
                tracing::warn!(error = ?error, "temporary store failure");
                Self::unavailable("the store is busy or unreachable; try again")
            }
            _ => {
                tracing::error!(error = ?error, "request failed");
                Self::internal()
            }
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = self.retry_after;
        let mut response = (status, axum::Json(&self)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"helpdesk\""),
            );
        }
        response
    }
}

fn kind_uri<S: serde::Serializer>(kind: &&'static str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&format_args!("urn:helpdesk:problem:{kind}"))
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, Problem>;
