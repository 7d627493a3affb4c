//! Hardening of the API: idempotency keys only where a retry is safe, CORS only for the
//! configured origin.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::Method;
use serde_json::json;

use common::api;

#[tokio::test]
async fn idempotency_keys_are_refused_where_a_retry_would_not_be_safe() {
    let api = api().await;
    let (id, _) = api.open_ticket(&api.customer, "Keyed").await;
    let refused = api
        .call_with(
            Method::POST,
            &format!("/tickets/{id}/replies"),
            Some(&api.customer),
            Some(json!({"body": "Once"})),
            &[("idempotency-key", "r-1")],
        )
        .await;
    refused.assert_problem(422, "validation");
    assert_eq!(refused.json["field"], "Idempotency-Key");
    let thread = api
        .call(
            Method::GET,
            &format!("/tickets/{id}"),
            Some(&api.customer),
            None,
        )
        .await;
    assert!(
        !thread.json["messages"].to_string().contains("Once"),
        "nothing was written"
    );
}

#[tokio::test]
async fn cors_answers_preflights_only_for_the_configured_origin() {
    use axum::http::{HeaderValue, Request, header};
    use tower_http::cors::CorsLayer;
    let cors = CorsLayer::new()
        .allow_origin(HeaderValue::from_static("https://app.example.test"))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    let api = common::api_with(
        helpdesk_api::ApiConfig::default()
            .rate_limits(helpdesk_api::RateLimits::unlimited())
            .cors(cors),
    )
    .await;
    let preflight = |origin: &'static str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/tickets")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let allowed = api.send(preflight("https://app.example.test")).await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://app.example.test")
    );
    // Another origin is never named: the browser refuses the cross-origin call.
    let other = api.send(preflight("https://evil.example.test")).await;
    assert_ne!(
        other.header("access-control-allow-origin"),
        Some("https://evil.example.test")
    );
    // Without a CORS configuration no CORS header is ever sent.
    let plain = common::api().await;
    let none = plain.send(preflight("https://app.example.test")).await;
    assert_eq!(none.header("access-control-allow-origin"), None);
}
