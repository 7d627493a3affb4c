//! Retry policy: which failures are retried, how long to wait, and the injectable
//! [`Sleeper`] that performs (and lets tests observe) the waits.
//!
//! The servers' wait hints come in two shapes: Gemini puts `RetryInfo.retryDelay` in its
//! error body (the provider carries it in the `retry_after` of
//! [`ModelError::RateLimited`]), OpenAI and the servers that copy it send headers
//! (`retry-after-ms`, `retry-after`, `x-ratelimit-reset-*`, passed to
//! [`RetryPolicy::delay_after`] as `hint`). Both are honoured the same way.

use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;
use helpdesk_core::ModelError;

/// When and how failed calls are retried.
///
/// * 500, 502, 503, 504, 408 and connection failures: exponential backoff with jitter, or
///   the server's wait hint when it is longer.
/// * 429: the server's wait hint (in the error, or from the headers) when it is at most
///   [`max_retry_after`](Self::max_retry_after); a 429 without a hint (a daily quota, an
///   exhausted balance) is returned at once.
/// * Any other 4xx, and a prompt over the context window: never retried.
///
/// All attempts and waits must fit in [`total_budget`](Self::total_budget): a wait that would
/// overrun it is not taken and the last error is returned. The defaults are those of
/// Google's SDKs (5 attempts, 1 s doubling up to 60 s, with jitter).
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included (1 = no retry).
    pub max_attempts: u32,
    /// Wait before the second attempt.
    pub initial_backoff: Duration,
    /// Multiplier per further attempt.
    pub multiplier: f64,
    /// Cap of one backoff wait.
    pub max_backoff: Duration,
    /// Jitter as a fraction in `0..=1`: each backoff is drawn uniformly from
    /// `[backoff * (1 - jitter), backoff]`.
    pub jitter: f64,
    /// The longest server wait hint honoured; a longer one returns the error at once.
    pub max_retry_after: Duration,
    /// Time budget for all attempts and waits of one call.
    pub total_budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_secs(1),
            multiplier: 2.0,
            max_backoff: Duration::from_secs(60),
            jitter: 0.5,
            max_retry_after: Duration::from_secs(60),
            total_budget: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the number of attempts (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the first backoff.
    pub fn with_initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// Sets the backoff cap.
    pub fn with_max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// Sets the jitter fraction (clamped to `0..=1`; 0 makes the waits deterministic).
    pub fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self
    }

    /// Sets the total time budget of one call.
    pub fn with_total_budget(mut self, budget: Duration) -> Self {
        self.total_budget = budget;
        self
    }

    /// Sets the longest honoured server wait hint.
    pub fn with_max_retry_after(mut self, delay: Duration) -> Self {
        self.max_retry_after = delay;
        self
    }

    /// The backoff before attempt `failed_attempts + 1`, before jitter.
    pub fn backoff(&self, failed_attempts: u32) -> Duration {
        let exponent = failed_attempts.saturating_sub(1).min(63);
        let factor = self.multiplier.max(1.0).powi(exponent as i32);
        let secs = self.initial_backoff.as_secs_f64() * factor;
        let capped = secs.min(self.max_backoff.as_secs_f64());
        Duration::try_from_secs_f64(capped).unwrap_or(self.max_backoff)
    }

    fn jittered(&self, backoff: Duration) -> Duration {
        if self.jitter <= 0.0 {
            return backoff;
        }
        backoff.mul_f64(1.0 - self.jitter * fastrand::f64())
    }

    /// How long to wait after the `failed_attempts`-th failure with `error` (and the
    /// server's wait hint from the response headers, `hint`, if any), or `None` when the
    /// error must be returned (not retryable, out of attempts, or over the budget given
    /// `elapsed` time so far).
    pub fn delay_after(
        &self,
        error: &ModelError,
        failed_attempts: u32,
        elapsed: Duration,
        hint: Option<Duration>,
    ) -> Option<Duration> {
        if failed_attempts >= self.max_attempts {
            return None;
        }
        let delay = match error {
            ModelError::RateLimited { retry_after, .. } => {
                let hint = retry_after.or(hint)?;
                (hint <= self.max_retry_after).then_some(hint)?
            }
            ModelError::Unavailable { .. }
            | ModelError::Provider {
                temporary: true, ..
            } => {
                let backoff = self.jittered(self.backoff(failed_attempts));
                match hint {
                    Some(h) if h > self.max_retry_after => return None,
                    Some(h) => h.max(backoff),
                    None => backoff,
                }
            }
            _ => return None,
        };
        (elapsed.saturating_add(delay) <= self.total_budget).then_some(delay)
    }
}

/// Waits between attempts. The default uses `tokio::time::sleep`; tests inject one that
/// records the waits (and still sleeps on a paused tokio clock).
#[async_trait]
pub trait Sleeper: Send + Sync + Debug {
    /// Waits `duration`.
    async fn sleep(&self, duration: Duration);
}

/// Sleeps with `tokio::time::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

#[async_trait]
impl Sleeper for TokioSleeper {
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// Sleeps with `tokio::time::sleep` and records every wait, for tests and metrics.
#[derive(Debug, Default)]
pub struct RecordingSleeper {
    waits: std::sync::Mutex<Vec<Duration>>,
}

impl RecordingSleeper {
    /// A sleeper with no waits recorded.
    pub fn new() -> Self {
        Self::default()
    }

    /// The waits so far, in order.
    pub fn waits(&self) -> Vec<Duration> {
        self.waits.lock().map(|w| w.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl Sleeper for RecordingSleeper {
    async fn sleep(&self, duration: Duration) {
        if let Ok(mut waits) = self.waits.lock() {
            waits.push(duration);
        }
        tokio::time::sleep(duration).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unavailable() -> ModelError {
        ModelError::Unavailable {
            status: 503,
            message: String::new(),
        }
    }

    fn limited(hint: Option<u64>) -> ModelError {
        ModelError::RateLimited {
            retry_after: hint.map(Duration::from_secs),
            message: String::new(),
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::default().with_max_backoff(Duration::from_secs(5));
        let waits: Vec<_> = (1..=5).map(|n| policy.backoff(n)).collect();
        assert_eq!(waits, [1, 2, 4, 5, 5].map(Duration::from_secs).to_vec());
    }

    #[test]
    fn server_hints_decide_rate_limits_and_lengthen_backoff() {
        let p = RetryPolicy::default().with_jitter(0.0);
        let s = Duration::from_secs;
        // A hint in the error (Gemini's RetryInfo) or from the headers.
        assert_eq!(p.delay_after(&limited(None), 1, s(0), None), None);
        assert_eq!(
            p.delay_after(&limited(Some(26)), 1, s(0), None),
            Some(s(26))
        );
        assert_eq!(
            p.delay_after(&limited(None), 1, s(0), Some(s(7))),
            Some(s(7))
        );
        assert_eq!(p.delay_after(&limited(Some(600)), 1, s(0), None), None);
        assert_eq!(p.delay_after(&limited(Some(26)), 1, s(100), None), None);
        assert_eq!(p.delay_after(&unavailable(), 1, s(0), None), Some(s(1)));
        assert_eq!(
            p.delay_after(&unavailable(), 1, s(0), Some(s(5))),
            Some(s(5))
        );
        assert_eq!(p.delay_after(&unavailable(), 1, s(0), Some(s(600))), None);
        assert_eq!(p.delay_after(&unavailable(), 5, s(0), None), None);
        for not_retried in [
            ModelError::InvalidRequest {
                message: String::new(),
            },
            ModelError::ContextOverflow {
                message: String::new(),
            },
        ] {
            assert_eq!(p.delay_after(&not_retried, 1, s(0), Some(s(1))), None);
        }
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let policy = RetryPolicy::default().with_jitter(0.5);
        for _ in 0..200 {
            let d = policy.delay_after(&unavailable(), 2, Duration::ZERO, None);
            assert!(d.is_some_and(|d| d >= Duration::from_secs(1) && d <= Duration::from_secs(2)));
        }
    }
}
