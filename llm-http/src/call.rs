//! How a provider makes one API call: under a deadline, through the retry loop.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use helpdesk_core::{Error, ModelError};
use tokio::time::Instant;

use crate::http::config_error;
use crate::retry::{RetryPolicy, Sleeper, TokioSleeper};

/// The default per-call deadline of the providers, retries included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// One failed attempt: the error, and the wait the server asked for in its response
/// headers (`None` when it sent none, or when the hint travels in the error itself).
#[derive(Debug)]
pub struct Failure {
    /// The failure as a core error.
    pub error: ModelError,
    /// The server's wait hint from the response headers.
    pub retry_after: Option<Duration>,
}

impl From<ModelError> for Failure {
    fn from(error: ModelError) -> Self {
        Self {
            error,
            retry_after: None,
        }
    }
}

/// A client's deadline, retry policy and sleeper: the part of a provider's builder and
/// client that does not depend on the provider.
#[derive(Clone)]
pub struct CallPolicy {
    /// The per-call deadline, retries included, when the request sets none (`None` = no
    /// deadline).
    pub timeout: Option<Duration>,
    /// When failed attempts are retried.
    pub retry: RetryPolicy,
    /// What waits between attempts.
    pub sleeper: Arc<dyn Sleeper>,
}

impl Default for CallPolicy {
    /// [`DEFAULT_TIMEOUT`], [`RetryPolicy::default`], [`TokioSleeper`].
    fn default() -> Self {
        Self {
            timeout: Some(DEFAULT_TIMEOUT),
            retry: RetryPolicy::default(),
            sleeper: Arc::new(TokioSleeper),
        }
    }
}

impl fmt::Debug for CallPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallPolicy")
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl CallPolicy {
    /// The builder check: a deadline of zero is a configuration error naming `timeout`.
    pub fn validate(&self) -> Result<(), Error> {
        if self.timeout.is_some_and(|t| t.is_zero()) {
            return Err(config_error("timeout", "must be greater than zero"));
        }
        Ok(())
    }

    /// The deadline of a call whose request asked for `timeout` (else the client's), as the
    /// instant it passes and the limit it stands for.
    pub fn deadline(&self, timeout: Option<Duration>) -> Option<(Instant, Duration)> {
        timeout
            .or(self.timeout)
            .map(|limit| (Instant::now() + limit, limit))
    }

    /// Runs `call` under the request's deadline `timeout` (else the client's); past it the
    /// call is dropped and fails with [`ModelError::Timeout`].
    pub async fn with_deadline<T>(
        &self,
        timeout: Option<Duration>,
        call: impl Future<Output = Result<T, ModelError>>,
    ) -> Result<T, ModelError> {
        match timeout.or(self.timeout) {
            Some(limit) => tokio::time::timeout(limit, call)
                .await
                .unwrap_or(Err(ModelError::Timeout(limit))),
            None => call.await,
        }
    }

    /// Makes attempts until one succeeds or fails in a way the policy does not retry
    /// (or attempts or budget run out), waiting in between; every retry is logged with
    /// the `provider`, the `call` and the failure's kind.
    pub async fn retry<T, F, Fut>(
        &self,
        provider: &'static str,
        call: &str,
        mut attempt: F,
    ) -> Result<T, ModelError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let started = Instant::now();
        let mut failed = 0u32;
        loop {
            let failure = match attempt().await {
                Ok(value) => return Ok(value),
                Err(failure) => failure,
            };
            failed += 1;
            let Some(delay) = self.retry.delay_after(
                &failure.error,
                failed,
                started.elapsed(),
                failure.retry_after,
            ) else {
                return Err(failure.error);
            };
            tracing::warn!(
                provider,
                call,
                attempt = failed,
                kind = failure.error.kind_name(),
                delay_ms = delay.as_millis() as u64,
                "model call failed; retrying"
            );
            self.sleeper.sleep(delay).await;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::retry::RecordingSleeper;

    fn unavailable() -> Failure {
        ModelError::Unavailable {
            status: 503,
            message: String::new(),
        }
        .into()
    }

    #[tokio::test(start_paused = true)]
    async fn retries_with_the_servers_hint_until_an_answer() {
        let sleeper = Arc::new(RecordingSleeper::new());
        let calls = CallPolicy {
            retry: RetryPolicy::default().with_jitter(0.0),
            sleeper: sleeper.clone(),
            ..CallPolicy::default()
        };
        let mut script = vec![
            Err(unavailable()),
            Err(Failure {
                retry_after: Some(Duration::from_secs(3)),
                ..unavailable()
            }),
            Ok("answer"),
        ]
        .into_iter();
        let answer = calls
            .retry("test", "call", || {
                std::future::ready(script.next().unwrap())
            })
            .await;
        assert_eq!(answer.unwrap(), "answer");
        assert_eq!(sleeper.waits(), [1, 3].map(Duration::from_secs).to_vec());
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_ends_a_slow_call_and_names_its_limit() {
        let calls = CallPolicy::default();
        let limit = Duration::from_millis(300);
        let slow = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        };
        match calls.with_deadline(Some(limit), slow).await {
            Err(ModelError::Timeout(l)) => assert_eq!(l, limit),
            other => panic!("{other:?}"),
        }
        let zero = CallPolicy {
            timeout: Some(Duration::ZERO),
            ..CallPolicy::default()
        };
        assert!(
            matches!(zero.validate(), Err(Error::Configuration { field, .. }) if field == "timeout")
        );
    }
}
