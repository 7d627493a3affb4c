//! Shared set-up of the integration tests: a mock server and a client pointed at it.
#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use helpdesk_llm_openai::mock::MockOpenAi;
use helpdesk_llm_openai::{OpenAiClient, OpenAiClientBuilder};

pub(crate) use helpdesk_llm_http::testing::ms;

helpdesk_llm_http::mock_setup!(
    mock = MockOpenAi,
    client = OpenAiClient,
    builder = OpenAiClientBuilder,
);
