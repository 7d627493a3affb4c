//! Retries on a paused clock: the waits taken, the hints honoured, the budget kept.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{ms, setup, setup_with};
use helpdesk_core::{LanguageModel, LlmRequest, ModelError};
use helpdesk_llm_openai::RetryPolicy;
use helpdesk_llm_openai::mock::{Endpoint, MockReply};

fn hi() -> LlmRequest {
    LlmRequest::new("", "hi")
}

#[tokio::test(start_paused = true)]
async fn rate_limits_wait_the_servers_hint() {
    let s = setup().await;
    s.mock
        .push_reply(MockReply::rate_limited(Some(Duration::from_millis(1500))));
    s.mock.push_reply(MockReply::rate_limited_until_reset("2s"));
    s.mock.push_reply(MockReply::Text("ok".into()));
    assert_eq!(s.client.generate(&hi()).await.unwrap().text, "ok");
    assert_eq!(s.sleeper.waits(), ms(&[1500, 2000]));
}

#[tokio::test(start_paused = true)]
async fn server_errors_back_off_and_respect_retry_after() {
    let s = setup().await;
    s.mock.push_reply(MockReply::internal());
    s.mock.push_reply(MockReply::unavailable(false));
    s.mock.push_reply(MockReply::unavailable(true));
    s.mock.push_reply(MockReply::Text("ok".into()));
    assert_eq!(s.client.generate(&hi()).await.unwrap().text, "ok");
    // 1 s, 2 s, then max(4 s backoff, retry-after 1 s).
    assert_eq!(s.sleeper.waits(), ms(&[1000, 2000, 4000]));
}

#[tokio::test(start_paused = true)]
async fn what_is_not_retried() {
    let s = setup().await;
    s.mock.push_reply(MockReply::rate_limited(None));
    s.mock.push_reply(MockReply::insufficient_quota());
    s.mock
        .push_reply(MockReply::rate_limited(Some(Duration::from_secs(600))));
    s.mock.push_reply(MockReply::context_overflow());
    for _ in 0..4 {
        assert!(s.client.generate(&hi()).await.is_err());
    }
    assert_eq!(s.mock.count(Endpoint::ChatCompletions), 4);
    assert!(s.sleeper.waits().is_empty());
}

#[tokio::test(start_paused = true)]
async fn attempts_and_budget_are_bounded() {
    let s = setup_with(|b| {
        b.retry_policy(RetryPolicy::default().with_jitter(0.0).with_max_attempts(3))
    })
    .await;
    for _ in 0..5 {
        s.mock.push_reply(MockReply::internal());
    }
    let err = s.client.generate(&hi()).await.unwrap_err();
    assert!(matches!(err, ModelError::Unavailable { status: 500, .. }));
    assert_eq!(s.mock.count(Endpoint::ChatCompletions), 3);
    assert_eq!(s.sleeper.waits(), ms(&[1000, 2000]));
}

#[tokio::test]
async fn the_deadline_covers_retries() {
    let s = setup_with(|b| b.timeout(Some(Duration::from_millis(300)))).await;
    s.mock
        .push_reply(MockReply::rate_limited(Some(Duration::from_secs(5))));
    let started = std::time::Instant::now();
    let err = s.client.generate(&hi()).await.unwrap_err();
    assert!(
        matches!(err, ModelError::Timeout(d) if d == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}
