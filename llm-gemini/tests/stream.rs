//! streamGenerateContent (SSE, CRLF framing) against the mock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::setup;
use futures_util::StreamExt;
use helpdesk_core::{
    BlockReason, FinishReason, LanguageModel, LlmRequest, ModelError, StreamDelta,
};
use helpdesk_llm_gemini::mock::{Endpoint, MockReply, MockStream};

fn request() -> LlmRequest {
    LlmRequest::new("Be kind.", "Ma commande est en retard")
}

async fn collect(stream: helpdesk_core::DeltaStream) -> Vec<Result<StreamDelta, ModelError>> {
    stream.collect().await
}

#[tokio::test]
async fn deltas_arrive_in_order_with_the_last_cumulative_usage() {
    let s = setup().await;
    s.mock.push_stream(MockStream::text([
        "Bonjour, désolé",
        " pour la gêne",
        " occasionnée.",
    ]));
    let items = collect(s.client.stream(&request()).await.unwrap()).await;
    let deltas: Vec<StreamDelta> = items.into_iter().map(Result::unwrap).collect();
    let text: String = deltas.iter().map(|d| d.text.as_str()).collect();
    assert_eq!(text, "Bonjour, désolé pour la gêne occasionnée.");
    assert_eq!(deltas.len(), 3);
    assert!(deltas[..2].iter().all(|d| d.finish_reason.is_none()));
    let last = deltas.last().unwrap();
    assert_eq!(last.finish_reason, Some(FinishReason::Stop));
    // Usage is cumulative: 2, then 2+3, then 2+3+1 words.
    assert_eq!(deltas[0].usage.unwrap().output_tokens, 2);
    assert_eq!(last.usage.unwrap().output_tokens, 6);
    let sent = s.mock.last_request().unwrap();
    assert_eq!(
        sent.path_and_query,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
    assert_eq!(
        sent.body["systemInstruction"]["parts"][0]["text"],
        "Be kind."
    );
}

#[tokio::test]
async fn a_parts_less_final_chunk_ends_the_stream_cleanly() {
    let s = setup().await;
    s.mock
        .push_stream(MockStream::parts_less_final(["Hello", " there"]));
    let deltas: Vec<StreamDelta> = collect(s.client.stream(&request()).await.unwrap())
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(deltas.len(), 3);
    assert_eq!(deltas[2].text, "");
    assert_eq!(deltas[2].finish_reason, Some(FinishReason::Stop));
    assert_eq!(deltas[2].usage.unwrap().output_tokens, 2);
}

#[tokio::test]
async fn a_mid_stream_error_object_is_surfaced_as_an_error() {
    let s = setup().await;
    s.mock
        .push_stream(MockStream::mid_stream_error(["Partial", " answer"]));
    let items = collect(s.client.stream(&request()).await.unwrap()).await;
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].as_ref().unwrap().text, "Partial");
    match &items[2] {
        Err(ModelError::Unavailable {
            status: 500,
            message,
        }) => assert!(message.contains("INTERNAL")),
        other => panic!("expected a 500, got {other:?}"),
    }
    assert_eq!(
        s.mock.count(Endpoint::StreamGenerateContent),
        1,
        "mid-stream errors are not retried"
    );
}

#[tokio::test]
async fn blocked_and_empty_streams_are_typed_errors() {
    let s = setup().await;
    s.mock
        .push_stream(MockStream::BlockedPrompt("SAFETY".into()));
    s.mock.push_stream(MockStream::Chunks {
        texts: vec![],
        finish_reason: "MAX_TOKENS".into(),
        final_without_parts: true,
    });
    s.mock.push_stream(MockStream::Chunks {
        texts: vec![],
        finish_reason: "RECITATION".into(),
        final_without_parts: true,
    });
    let first = collect(s.client.stream(&request()).await.unwrap()).await;
    assert!(
        matches!(
            first.as_slice(),
            [Err(ModelError::Blocked {
                reason: BlockReason::Safety
            })]
        ),
        "{first:?}"
    );
    let second = collect(s.client.stream(&request()).await.unwrap()).await;
    assert!(
        matches!(second.as_slice(), [Err(ModelError::Truncated)]),
        "{second:?}"
    );
    let third = collect(s.client.stream(&request()).await.unwrap()).await;
    assert!(
        matches!(
            third.as_slice(),
            [Err(ModelError::Blocked {
                reason: BlockReason::Recitation
            })]
        ),
        "{third:?}"
    );
}

#[tokio::test]
async fn a_stream_closed_before_its_finish_reason_is_an_error() {
    let s = setup().await;
    s.mock.push_stream(MockStream::RawSse(
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"cut\"}],\"role\": \"model\"},\"index\": 0}]}\n\n".into(),
    ));
    let items = collect(s.client.stream(&request()).await.unwrap()).await;
    assert_eq!(items[0].as_ref().unwrap().text, "cut");
    assert!(
        matches!(
            items[1],
            Err(ModelError::Provider {
                temporary: true,
                ..
            })
        ),
        "{items:?}"
    );
}

#[tokio::test]
async fn lf_and_cr_framing_with_comments_are_accepted() {
    let s = setup().await;
    let chunk = |text: &str, finish: &str| {
        format!(
            "data: {{\"candidates\":[{{\"content\":{{\"parts\":[{{\"text\":\"{text}\"}}]}}{finish}}}]}}"
        )
    };
    s.mock.push_stream(MockStream::RawSse(format!(
        ": proxy comment\n\n{}\n\n:another\r\r{}\r\r",
        chunk("a", ""),
        chunk("b", ",\"finishReason\":\"STOP\"")
    )));
    let deltas: Vec<StreamDelta> = collect(s.client.stream(&request()).await.unwrap())
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        deltas.iter().map(|d| d.text.as_str()).collect::<String>(),
        "ab"
    );
}

#[tokio::test(start_paused = true)]
async fn errors_before_the_stream_starts_are_retried() {
    let s = setup().await;
    s.mock
        .push_stream(MockStream::Reply(MockReply::unavailable()));
    s.mock
        .push_stream(MockStream::Reply(MockReply::rate_limited(Some("1.5s"))));
    s.mock.push_stream(MockStream::text(["ok"]));
    let items = collect(s.client.stream(&request()).await.unwrap()).await;
    assert_eq!(items.len(), 1);
    assert_eq!(s.mock.count(Endpoint::StreamGenerateContent), 3);
    assert_eq!(
        s.sleeper.waits(),
        vec![Duration::from_secs(1), Duration::from_millis(1500)]
    );
}

#[tokio::test]
async fn a_bad_key_fails_the_stream_call_itself() {
    let s = common::setup_with(|b| b.api_key("wrong")).await;
    let err = s.client.stream(&request()).await.err().unwrap();
    assert_eq!(err.kind_name(), "authentication");
}

/// Real time: the deadline also covers opening the stream.
#[tokio::test]
async fn the_deadline_covers_a_slow_stream_start() {
    let s = setup().await;
    s.mock.push_stream(MockStream::Reply(
        MockReply::Text("late".into()).delayed(std::time::Duration::from_secs(30)),
    ));
    let err = s
        .client
        .stream(&request().with_timeout(std::time::Duration::from_millis(200)))
        .await
        .err()
        .unwrap();
    assert_eq!(err.kind_name(), "timeout");
}
