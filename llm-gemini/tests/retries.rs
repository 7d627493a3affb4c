//! Retry and error-mapping behaviour against the mock server, with a paused tokio clock: the
//! waits are recorded by the sleeper and elapse instantly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{secs, setup, setup_with};
use helpdesk_core::{LanguageModel, LlmRequest, ModelError};
use helpdesk_llm_gemini::RetryPolicy;
use helpdesk_llm_gemini::mock::{Endpoint, MockReply};
use tokio::time::Instant;

fn request() -> LlmRequest {
    LlmRequest::new("Be brief.", "Hello")
}

#[tokio::test(start_paused = true)]
async fn server_errors_are_retried_with_exponential_backoff() {
    let s = setup().await;
    s.mock.push_reply(MockReply::unavailable());
    s.mock.push_reply(MockReply::internal());
    s.mock.push_reply(MockReply::deadline_exceeded());
    s.mock.push_reply(MockReply::Text("finally".into()));
    let start = Instant::now();
    let answer = s.client.generate(&request()).await.unwrap();
    assert_eq!(answer.text, "finally");
    assert_eq!(s.mock.count(Endpoint::GenerateContent), 4);
    assert_eq!(s.sleeper.waits(), secs(&[1, 2, 4]));
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(7),
        "only the retry waits take time"
    );
}

#[tokio::test(start_paused = true)]
async fn gives_up_after_max_attempts_with_the_last_error() {
    let s = setup().await;
    for _ in 0..6 {
        s.mock.push_reply(MockReply::unavailable());
    }
    let err = s.client.generate(&request()).await.unwrap_err();
    assert!(
        matches!(err, ModelError::Unavailable { status: 503, .. }),
        "{err:?}"
    );
    assert_eq!(s.mock.count(Endpoint::GenerateContent), 5);
    assert_eq!(s.sleeper.waits(), secs(&[1, 2, 4, 8]));
}

#[tokio::test(start_paused = true)]
async fn a_wait_that_would_overrun_the_budget_is_not_taken() {
    let policy = RetryPolicy::default()
        .with_jitter(0.0)
        .with_total_budget(Duration::from_millis(2_500));
    let s = setup_with(|b| b.retry_policy(policy)).await;
    for _ in 0..5 {
        s.mock.push_reply(MockReply::internal());
    }
    let err = s.client.generate(&request()).await.unwrap_err();
    assert_eq!(err.kind_name(), "unavailable");
    // 1 s is taken; 1 s + 2 s would pass 2.5 s.
    assert_eq!(s.sleeper.waits(), secs(&[1]));
    assert_eq!(s.mock.count(Endpoint::GenerateContent), 2);
}

#[tokio::test(start_paused = true)]
async fn jittered_waits_stay_within_their_bounds() {
    let policy = RetryPolicy::default().with_jitter(0.5);
    let s = setup_with(|b| b.retry_policy(policy)).await;
    s.mock.push_reply(MockReply::unavailable());
    s.mock.push_reply(MockReply::unavailable());
    s.mock.push_reply(MockReply::Text("ok".into()));
    s.client.generate(&request()).await.unwrap();
    let waits = s.sleeper.waits();
    assert_eq!(waits.len(), 2);
    assert!(waits[0] >= Duration::from_millis(500) && waits[0] <= Duration::from_secs(1));
    assert!(waits[1] >= Duration::from_secs(1) && waits[1] <= Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn rate_limit_with_retry_info_waits_the_given_delay() {
    let s = setup().await;
    s.mock.push_reply(MockReply::rate_limited(Some("26s")));
    s.mock.push_reply(MockReply::Text("after quota".into()));
    let start = Instant::now();
    let answer = s.client.generate(&request()).await.unwrap();
    assert_eq!(answer.text, "after quota");
    assert_eq!(s.sleeper.waits(), secs(&[26]));
    assert_eq!(start.elapsed(), Duration::from_secs(26));
    assert_eq!(s.mock.count(Endpoint::GenerateContent), 2);
}

#[tokio::test(start_paused = true)]
async fn daily_quota_without_retry_info_is_not_retried() {
    let s = setup().await;
    s.mock.push_reply(MockReply::rate_limited(None));
    s.mock.push_reply(MockReply::Text("never served".into()));
    let err = s.client.generate(&request()).await.unwrap_err();
    match err {
        ModelError::RateLimited {
            retry_after,
            message,
        } => {
            assert_eq!(retry_after, None);
            assert!(message.contains("RESOURCE_EXHAUSTED"), "{message}");
        }
        other => panic!("expected rate limited, got {other:?}"),
    }
    assert_eq!(s.mock.count(Endpoint::GenerateContent), 1);
    assert!(s.sleeper.waits().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_retry_delay_over_the_cap_returns_the_hint_at_once() {
    let s = setup().await;
    s.mock.push_reply(MockReply::rate_limited(Some("3600s")));
    let err = s.client.generate(&request()).await.unwrap_err();
    assert!(matches!(
        err,
        ModelError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(3600)
    ));
    assert_eq!(s.mock.count(Endpoint::GenerateContent), 1);
}

#[tokio::test(start_paused = true)]
async fn client_errors_are_never_retried_and_map_to_their_kind() {
    let cases = [
        (
            MockReply::error(
                400,
                "INVALID_ARGUMENT",
                "Invalid JSON payload received. Unknown name \"x\": Cannot find field.",
            ),
            "invalid_request",
        ),
        (
            MockReply::error(
                400,
                "FAILED_PRECONDITION",
                "User location is not supported for the API use.",
            ),
            "invalid_request",
        ),
        (
            MockReply::error(
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers",
            ),
            "authentication",
        ),
        (
            MockReply::error(404, "NOT_FOUND", "models/x is not found"),
            "not_found",
        ),
    ];
    for (reply, kind) in cases {
        let s = setup().await;
        s.mock.push_reply(reply);
        s.mock.push_reply(MockReply::Text("never served".into()));
        let err = s.client.generate(&request()).await.unwrap_err();
        assert_eq!(err.kind_name(), kind, "{err:?}");
        assert_eq!(
            s.mock.count(Endpoint::GenerateContent),
            1,
            "{kind} must not be retried"
        );
        assert!(s.sleeper.waits().is_empty());
    }
}

#[tokio::test(start_paused = true)]
async fn a_bad_key_is_an_authentication_error_from_the_real_validation() {
    let s = setup_with(|b| b.api_key("AIzaWrongKey")).await;
    let err = s.client.generate(&request()).await.unwrap_err();
    match err {
        ModelError::Authentication { message } => {
            assert!(message.contains("API key not valid"), "{message}");
            assert!(!message.contains("AIzaWrongKey"));
        }
        other => panic!("expected authentication, got {other:?}"),
    }
    assert_eq!(s.mock.count(Endpoint::GenerateContent), 1);
    assert_eq!(s.mock.last_request().unwrap().status, 400);
}

#[tokio::test(start_paused = true)]
async fn an_unknown_model_is_not_found() {
    let s = setup_with(|b| b.model("gemini-9-ultra")).await;
    let err = s.client.generate(&request()).await.unwrap_err();
    match err {
        ModelError::NotFound { message } => {
            assert!(message.contains("models/gemini-9-ultra is not found"))
        }
        other => panic!("expected not found, got {other:?}"),
    }
    assert_eq!(s.mock.count(Endpoint::GenerateContent), 1);
}

#[tokio::test(start_paused = true)]
async fn a_non_google_error_body_still_maps_by_status() {
    let s = setup().await;
    s.mock.push_reply(MockReply::Raw {
        status: 502,
        content_type: "text/html".into(),
        body: "<html>Bad Gateway</html>".into(),
    });
    s.mock.push_reply(MockReply::Raw {
        status: 418,
        content_type: "text/plain".into(),
        body: "teapot".into(),
    });
    let err = s.client.generate(&request()).await.unwrap_err();
    assert_eq!(err.kind_name(), "provider", "{err:?}");
    assert_eq!(
        s.mock.count(Endpoint::GenerateContent),
        2,
        "the 502 was retried, the 418 not"
    );
    assert_eq!(s.sleeper.waits(), secs(&[1]));
}

#[tokio::test(start_paused = true)]
async fn connection_failures_are_retried_then_reported_as_temporary() {
    // A port with nothing listening: bind, read the port, close.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let s = setup_with(|b| b.base_url(format!("http://127.0.0.1:{port}"))).await;
    let err = s.client.generate(&request()).await.unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::Provider {
                temporary: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_temporary());
    assert_eq!(s.sleeper.waits(), secs(&[1, 2, 4, 8]));
}

/// Real time here: the deadline covers attempts and waits.
#[tokio::test]
async fn the_request_deadline_cuts_a_slow_answer() {
    let s = setup().await;
    s.mock
        .push_reply(MockReply::Text("late".into()).delayed(Duration::from_secs(30)));
    let started = std::time::Instant::now();
    let err = s
        .client
        .generate(&request().with_timeout(Duration::from_millis(300)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ModelError::Timeout(d) if d == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}
