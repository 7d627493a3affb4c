//! The SSE parser and stream state machine behind `GeminiClient::stream`: arbitrary bytes,
//! cut into arbitrary chunks, as the body of a streamGenerateContent response.
//!
//! Properties: no panic; the stream always ends, either with a delta carrying a finish
//! reason or with exactly one error as its last item; no delta before the end carries a
//! finish reason or is empty; at most `ATTEMPTS` requests are made.
#![no_main]

mod common;

use arbitrary::Arbitrary;
use futures_util::StreamExt;
use helpdesk_core::{LanguageModel, LlmRequest};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    status: u8,
    cuts: Vec<u16>,
    body: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let chunks = common::split(&input.body, &input.cuts);
    let status = common::status(input.status);
    let (client, transport) =
        common::scripted_client(vec![(status, chunks.clone()), (status, chunks)]);
    let items: Vec<_> = common::runtime().block_on(async {
        match client.stream(&LlmRequest::new("sys", "hello")).await {
            Ok(stream) => stream.collect().await,
            Err(e) => vec![Err(e)],
        }
    });
    assert!(transport.calls() <= common::ATTEMPTS as usize);
    let (last, before) = items.split_last().expect("a stream ends with an item");
    for item in before {
        let delta = item.as_ref().expect("errors only at the end");
        assert!(delta.finish_reason.is_none());
        assert!(!delta.text.is_empty());
    }
    if let Ok(delta) = last {
        assert!(delta.finish_reason.is_some());
    }
});
