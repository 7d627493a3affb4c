//! What a mock sends back, and how it is written to the wire.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

/// A refused request: the HTTP status and the provider's error body.
pub type Rejection = (u16, Value);

/// One reply of a mock.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// A JSON body with this status and these extra headers (`retry-after`, ...).
    Json(u16, Value, Vec<(String, String)>),
    /// Any status, content type and body, verbatim.
    Raw(u16, String, String),
    /// A `200` event stream of these body pieces (each sent as its own chunk), with a pause
    /// before each piece after the first.
    Sse(Vec<String>, Option<Duration>),
    /// Waits (tokio time), then sends the inner outcome.
    Delay(Duration, Box<Outcome>),
}

impl Outcome {
    /// The status it is sent with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Json(status, ..) | Self::Raw(status, ..) => *status,
            Self::Sse(..) => 200,
            Self::Delay(_, inner) => inner.status(),
        }
    }
}

impl From<Rejection> for Outcome {
    fn from((status, body): Rejection) -> Self {
        Self::Json(status, body, Vec::new())
    }
}

/// The `Content-Type`s a provider's API sends.
#[derive(Debug, Clone, Copy)]
pub struct ContentTypes {
    /// Of JSON bodies, e.g. `application/json; charset=UTF-8`.
    pub json: &'static str,
    /// Of event streams, e.g. `text/event-stream`.
    pub event_stream: &'static str,
}

/// Waits out the delays, then writes the outcome as an HTTP response.
pub async fn render(mut outcome: Outcome, types: ContentTypes) -> Response {
    while let Outcome::Delay(delay, inner) = outcome {
        tokio::time::sleep(delay).await;
        outcome = *inner;
    }
    let (status, content_type, body, extra) = match outcome {
        Outcome::Json(status, value, headers) => (
            status,
            types.json.to_owned(),
            Body::from(value.to_string()),
            headers,
        ),
        Outcome::Raw(status, content_type, text) => {
            (status, content_type, Body::from(text), Vec::new())
        }
        Outcome::Sse(pieces, pause) => {
            let stream = futures_util::stream::unfold(
                (pieces.into_iter(), false),
                move |(mut pieces, started)| async move {
                    let piece = pieces.next()?;
                    if let (true, Some(pause)) = (started, pause) {
                        tokio::time::sleep(pause).await;
                    }
                    Some((Ok::<_, Infallible>(Bytes::from(piece)), (pieces, true)))
                },
            );
            (
                200,
                types.event_stream.to_owned(),
                Body::from_stream(stream),
                Vec::new(),
            )
        }
        // Unreachable: the loop above unwrapped every delay.
        Outcome::Delay(..) => (500, "text/plain".to_owned(), Body::empty(), Vec::new()),
    };
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    for (name, value) in extra {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}
