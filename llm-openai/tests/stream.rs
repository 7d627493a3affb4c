//! Streamed chat completions against the mock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{setup, setup_with};
use futures_util::StreamExt;
use helpdesk_core::{FinishReason, LanguageModel, LlmRequest, ModelError, StreamDelta};
use helpdesk_llm_openai::mock::{MockReply, MockStream};
use serde_json::json;

async fn collect(s: &common::Setup, request: &LlmRequest) -> Vec<Result<StreamDelta, ModelError>> {
    s.client.stream(request).await.unwrap().collect().await
}

#[tokio::test]
async fn deltas_then_one_final_delta_with_usage() {
    let s = setup().await;
    s.mock
        .push_stream(MockStream::text(["Hel", "lo ", "there"]));
    let deltas = collect(&s, &LlmRequest::new("", "hi")).await;
    let deltas: Vec<StreamDelta> = deltas.into_iter().map(Result::unwrap).collect();
    let text: String = deltas.iter().map(|d| d.text.as_str()).collect();
    assert_eq!(text, "Hello there");
    let last = deltas.last().unwrap();
    assert_eq!(last.finish_reason, Some(FinishReason::Stop));
    assert_eq!(last.usage.map(|u| u.output_tokens), Some(3));
    assert!(
        deltas[..deltas.len() - 1]
            .iter()
            .all(|d| d.finish_reason.is_none())
    );
    let body = s.mock.last_request().unwrap().body;
    assert_eq!(
        (body["stream"].clone(), body["stream_options"].clone()),
        (json!(true), json!({"include_usage": true}))
    );
}

#[tokio::test]
async fn the_last_item_is_the_typed_outcome() {
    let s = setup().await;
    s.mock
        .push_stream(MockStream::Refusal(vec!["I can't".into(), " help.".into()]));
    s.mock.push_stream(MockStream::Chunks {
        texts: vec!["bad".into()],
        finish_reason: "content_filter".into(),
    });
    s.mock.push_stream(MockStream::Chunks {
        texts: vec![],
        finish_reason: "length".into(),
    });
    s.mock.push_stream(MockStream::mid_stream_error(["part"]));
    s.mock.push_stream(MockStream::Cut(vec!["part".into()]));
    s.mock
        .push_stream(MockStream::RawSse("data: {not json}\n\n".into()));
    let kinds = [
        "blocked",
        "blocked",
        "truncated",
        "unavailable",
        "provider",
        "provider",
    ];
    for kind in kinds {
        let deltas = collect(&s, &LlmRequest::new("", "hi")).await;
        let last = deltas.last().unwrap().as_ref().unwrap_err();
        assert_eq!(last.kind_name(), kind, "{deltas:?}");
        assert!(deltas[..deltas.len() - 1].iter().all(Result::is_ok));
    }
}

#[tokio::test]
async fn schema_streams_are_checked_at_the_end() {
    let s = setup().await;
    let schema =
        json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}});
    let request = LlmRequest::new("", "hi").with_json_schema(schema);
    s.mock.push_stream(MockStream::text(["{\"a\":", "1}"]));
    s.mock.push_stream(MockStream::text(["{\"a\":", "\"x\"}"]));
    let ok = collect(&s, &request).await;
    assert_eq!(
        ok.last().unwrap().as_ref().unwrap().finish_reason,
        Some(FinishReason::Stop)
    );
    let bad = collect(&s, &request).await;
    assert_eq!(
        bad.last().unwrap().as_ref().unwrap_err().kind_name(),
        "malformed_output"
    );
}

#[tokio::test]
async fn errors_before_the_stream_and_the_deadline_inside_it() {
    let s = setup_with(|b| b.retry_policy(helpdesk_llm_openai::RetryPolicy::none())).await;
    s.mock
        .push_stream(MockStream::Reply(MockReply::rate_limited(Some(
            Duration::from_secs(1),
        ))));
    let err = s
        .client
        .stream(&LlmRequest::new("", "hi"))
        .await
        .err()
        .unwrap();
    assert!(matches!(
        err,
        ModelError::RateLimited {
            retry_after: Some(_),
            ..
        }
    ));
    s.mock.push_stream(MockStream::Paced(
        Duration::from_secs(5),
        Box::new(MockStream::text(["a", "b"])),
    ));
    let request = LlmRequest::new("", "hi").with_timeout(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let deltas = collect(&s, &request).await;
    assert!(
        matches!(deltas.last().unwrap(), Err(ModelError::Timeout(_))),
        "{deltas:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_server_that_sends_no_usage_still_finishes() {
    let s = setup().await;
    s.mock.push_stream(MockStream::RawSse(
        "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}\n\n\
         data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"
            .into(),
    ));
    let deltas = collect(&s, &LlmRequest::new("", "hi")).await;
    let last = deltas.last().unwrap().as_ref().unwrap();
    assert_eq!(
        (last.finish_reason.clone(), last.usage),
        (Some(FinishReason::Stop), None)
    );
}
