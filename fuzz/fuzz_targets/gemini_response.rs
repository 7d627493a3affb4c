//! The generateContent response parser (and error-body parser) behind
//! `GeminiClient::generate`: an arbitrary status and body.
//!
//! Properties: no panic; an error status is never an answer; an answer is never empty; a
//! structured (JSON-schema) answer that finished with STOP is valid JSON; at most
//! `ATTEMPTS` requests are made, and only failures are retried. The same bytes also go to
//! `ApiError::parse` and its retry-delay reader.
#![no_main]

mod common;

use arbitrary::Arbitrary;
use helpdesk_core::{FinishReason, LanguageModel, LlmRequest};
use helpdesk_llm_gemini::ApiError;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    status: u8,
    expects_json: bool,
    cuts: Vec<u16>,
    body: Vec<u8>,
}

fuzz_target!(|input: Input| {
    if let Some(api) = ApiError::parse(&String::from_utf8_lossy(&input.body)) {
        let _ = api.retry_delay();
        let _ = api.is_bad_key();
    }
    let status = common::status(input.status);
    let chunks = common::split(&input.body, &input.cuts);
    let (client, transport) =
        common::scripted_client(vec![(status, chunks.clone()), (status, chunks)]);
    let mut request = LlmRequest::new("sys", "hello");
    if input.expects_json {
        request = request.with_json_schema(serde_json::json!({
            "type": "object",
            "properties": {"summary": {"type": "string"}},
            "required": ["summary"]
        }));
    }
    let result = common::runtime().block_on(client.generate(&request));
    let calls = transport.calls();
    assert!((1..=common::ATTEMPTS as usize).contains(&calls));
    if !(200..300).contains(&status) {
        assert!(result.is_err());
    }
    if calls > 1 {
        assert!(!(200..300).contains(&status));
    }
    match result {
        Ok(answer) => {
            assert!(!answer.text.trim().is_empty());
            if input.expects_json && answer.finish_reason == FinishReason::Stop {
                assert!(serde_json::from_str::<serde_json::Value>(&answer.text).is_ok());
            }
        }
        Err(e) => {
            let _ = e.kind_name();
        }
    }
});
