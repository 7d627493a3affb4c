//! Shared set-up of the integration tests: a mock server and a client pointed at it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use helpdesk_llm_gemini::mock::MockGemini;
use helpdesk_llm_gemini::{GeminiClient, GeminiClientBuilder, RecordingSleeper};

pub(crate) struct Setup {
    pub(crate) mock: MockGemini,
    pub(crate) client: GeminiClient,
    pub(crate) sleeper: Arc<RecordingSleeper>,
}

/// A mock and a client with a recording sleeper, no deadline (paused-clock friendly) and
/// deterministic backoff (1 s, 2 s, 4 s, ...).
pub(crate) async fn setup() -> Setup {
    setup_with(|b| b).await
}

pub(crate) async fn setup_with(
    configure: impl FnOnce(GeminiClientBuilder) -> GeminiClientBuilder,
) -> Setup {
    let mock = MockGemini::start().await.unwrap();
    let sleeper = Arc::new(RecordingSleeper::new());
    let builder = mock.client_builder().timeout(None).sleeper(sleeper.clone());
    let client = configure(builder).build().unwrap();
    Setup {
        mock,
        client,
        sleeper,
    }
}

pub(crate) fn secs(values: &[u64]) -> Vec<Duration> {
    values.iter().map(|s| Duration::from_secs(*s)).collect()
}
