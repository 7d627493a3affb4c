//! The conditional and idempotent request headers: `ETag`/`If-Match` carry a version,
//! `Idempotency-Key` a client's retry key, and the client address for rate limits.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};

use crate::ApiState;
use crate::problem::Problem;

/// The `ETag` of a resource at `version`: a strong tag, so `If-Match` may use it.
pub(crate) fn etag(version: u64) -> [(header::HeaderName, HeaderValue); 1] {
    // Digits in quotes are always a valid header value.
    let value = HeaderValue::from_str(&format!("\"{version}\""))
        .unwrap_or(HeaderValue::from_static("\"0\""));
    [(header::ETAG, value)]
}

/// The version an `If-Match` header names: `None` without the header or with `*`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IfMatch(pub(crate) Option<u64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(Self(None));
        };
        let text = value
            .to_str()
            .map_err(|_| Problem::bad_request("If-Match is not text"))?
            .trim();
        if text == "*" {
            return Ok(Self(None));
        }
        if text.starts_with("W/") {
            // RFC 9110: If-Match compares strongly, so a weak tag never matches.
            return Err(Problem::precondition_failed(
                "If-Match needs the strong ETag this API sends, not a weak one",
            ));
        }
        let version = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .and_then(|t| t.parse::<u64>().ok())
            .ok_or_else(|| {
                Problem::bad_request("If-Match must be an ETag this API sent, like \"3\"")
            })?;
        Ok(Self(Some(version)))
    }
}

/// The longest `Idempotency-Key` accepted.
const MAX_IDEMPOTENCY_KEY: usize = 200;

/// A client's `Idempotency-Key`: retrying a request with the same key returns what the
/// first one made instead of making it again.
#[derive(Debug, Clone)]
pub(crate) struct IdempotencyKey(pub(crate) Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(Self(None));
        };
        let key = value
            .to_str()
            .map_err(|_| Problem::validation("Idempotency-Key", "must be visible ASCII"))?
            .trim()
            .trim_matches('"');
        if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY {
            return Err(Problem::validation(
                "Idempotency-Key",
                format!("must be 1 to {MAX_IDEMPOTENCY_KEY} characters"),
            ));
        }
        Ok(Self(Some(key.to_string())))
    }
}

/// The operations that honour `Idempotency-Key`: opening a ticket (core keeps the key
/// with the ticket). Elsewhere a retried request would do its work twice, so a request that
/// sends the header to another operation is refused (422) rather than silently given a
/// promise the API does not keep.
pub(crate) async fn idempotency_only_where_honoured(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let honoured =
        request.method() == axum::http::Method::POST && request.uri().path() == "/tickets";
    if !honoured && request.headers().contains_key("idempotency-key") {
        return Problem::validation(
            "Idempotency-Key",
            "only POST tickets honours Idempotency-Key; this request would not be safe to retry",
        )
        .into_response();
    }
    next.run(request).await
}

/// The client's address, for per-address limits.
#[derive(Debug, Clone)]
pub(crate) struct ClientAddress(pub(crate) String);

impl FromRequestParts<ApiState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(state.client_address(parts)))
    }
}
