//! Shared set-up of the integration tests: a mock server and a client pointed at it.
#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use helpdesk_llm_gemini::mock::MockGemini;
use helpdesk_llm_gemini::{GeminiClient, GeminiClientBuilder};

pub(crate) use helpdesk_llm_http::testing::secs;

helpdesk_llm_http::mock_setup!(
    mock = MockGemini,
    client = GeminiClient,
    builder = GeminiClientBuilder,
);
