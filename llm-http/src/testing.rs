//! What the providers' integration tests share (feature `testing`, for dev-dependencies).

use std::time::Duration;

/// Whole seconds as durations (expected retry waits).
pub fn secs(values: &[u64]) -> Vec<Duration> {
    values.iter().map(|s| Duration::from_secs(*s)).collect()
}

/// Milliseconds as durations (expected retry waits).
pub fn ms(values: &[u64]) -> Vec<Duration> {
    values.iter().map(|v| Duration::from_millis(*v)).collect()
}

/// Defines, in a provider's `tests/common` module, `Setup` (a running mock server, a client
/// pointed at it, and the client's [`RecordingSleeper`](crate::RecordingSleeper)),
/// `setup()`, and `setup_with(configure)`, which lets a test change the client builder
/// first.
///
/// The client has no deadline (paused-clock friendly) and the mock's deterministic backoff
/// (1 s, 2 s, 4 s, ...). The mock type needs `start()` and `client_builder()`, the builder
/// `timeout`, `sleeper` and `build`, as both providers' have.
///
/// ```text
/// helpdesk_llm_http::mock_setup!(mock = MockGemini, client = GeminiClient, builder = GeminiClientBuilder);
/// ```
#[macro_export]
macro_rules! mock_setup {
    (mock = $mock:ty, client = $client:ty, builder = $builder:ty $(,)?) => {
        /// A mock server, a client pointed at it, and the client's sleeper.
        pub(crate) struct Setup {
            pub(crate) mock: $mock,
            pub(crate) client: $client,
            pub(crate) sleeper: ::std::sync::Arc<$crate::RecordingSleeper>,
        }

        /// A mock and a client with a recording sleeper and no deadline.
        pub(crate) async fn setup() -> Setup {
            setup_with(|b| b).await
        }

        /// [`setup`], with the client builder changed by `configure` first.
        pub(crate) async fn setup_with(configure: impl FnOnce($builder) -> $builder) -> Setup {
            let mock = <$mock>::start().await.unwrap();
            let sleeper = ::std::sync::Arc::new($crate::RecordingSleeper::new());
            let builder = mock.client_builder().timeout(None).sleeper(sleeper.clone());
            let client = configure(builder).build().unwrap();
            Setup {
                mock,
                client,
                sleeper,
            }
        }
    };
}
