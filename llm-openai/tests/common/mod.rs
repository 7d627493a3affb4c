//! Shared set-up of the integration tests: a mock server and a client pointed at it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use helpdesk_llm_openai::mock::MockOpenAi;
use helpdesk_llm_openai::{OpenAiClient, OpenAiClientBuilder, RecordingSleeper};

pub(crate) struct Setup {
    pub(crate) mock: MockOpenAi,
    pub(crate) client: OpenAiClient,
    pub(crate) sleeper: Arc<RecordingSleeper>,
}

/// A mock and a client with a recording sleeper, no deadline (paused-clock friendly) and
/// deterministic backoff (1 s, 2 s, 4 s).
pub(crate) async fn setup() -> Setup {
    setup_with(|b| b).await
}

pub(crate) async fn setup_with(
    configure: impl FnOnce(OpenAiClientBuilder) -> OpenAiClientBuilder,
) -> Setup {
    let mock = MockOpenAi::start().await.unwrap();
    let sleeper = Arc::new(RecordingSleeper::new());
    let builder = mock.client_builder().timeout(None).sleeper(sleeper.clone());
    let client = configure(builder).build().unwrap();
    Setup {
        mock,
        client,
        sleeper,
    }
}

pub(crate) fn ms(values: &[u64]) -> Vec<Duration> {
    values.iter().map(|v| Duration::from_millis(*v)).collect()
}
