//! A circuit breaker around the configured language model.
//!
//! When the provider rate-limits, fails (5xx) or hangs, every use-case that waits for it
//! makes a person wait too, and then falls back anyway. The breaker counts consecutive
//! temporary failures ([`ModelError::is_temporary`], and calls abandoned at a deadline);
//! after [`HelpdeskConfig::breaker_failure_threshold`](crate::service::HelpdeskConfig) of them it
//! opens: calls fail at once with [`ModelError::CircuitOpen`] (the model is not called), so
//! chat turns, drafts, summaries and LLM triage take their offline paths immediately. After
//! the cool-down ([`HelpdeskConfig::breaker_cool_down`](crate::service::HelpdeskConfig), measured on
//! the injected [`Clock`]) one trial call goes through (half-open): success closes the
//! breaker, a failure opens it for another cool-down.
//!
//! The state sits behind a short `std` mutex that is never held across a model call.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::watched_stream::WatchedStream;
use crate::clock::to_millis;
use crate::llm::{DeltaStream, LanguageModel, LlmRequest, LlmResponse};
use crate::{Clock, ModelError};

/// Why the model is considered degraded: the kind of the temporary failure that opened
/// (or last re-opened) the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DegradedReason {
    /// The provider rate-limited the calls.
    RateLimited,
    /// The provider answered with 5xx or could not be reached.
    Unavailable,
    /// Calls did not finish in time (the model hung).
    Timeout,
    /// A local or other provider failure marked temporary.
    Provider,
}

impl DegradedReason {
    /// The machine-friendly name (`"rate_limited"`, `"unavailable"`, `"timeout"`,
    /// `"provider"`), as in [`ModelError::kind_name`].
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Timeout => "timeout",
            Self::Provider => "provider",
        }
    }

    /// Words for a person ("rate limited").
    pub fn describe(self) -> &'static str {
        match self {
            Self::RateLimited => "rate limited",
            Self::Unavailable => "provider unavailable",
            Self::Timeout => "not answering in time",
            Self::Provider => "provider failing",
        }
    }

    fn of(error: &ModelError) -> Option<Self> {
        if !error.is_temporary() {
            return None;
        }
        Some(match error {
            ModelError::RateLimited { .. } => Self::RateLimited,
            ModelError::Unavailable { .. } => Self::Unavailable,
            ModelError::Timeout(_) => Self::Timeout,
            _ => Self::Provider,
        })
    }
}

impl fmt::Display for DegradedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The health of the AI features, for a staff banner ([`Helpdesk::ai_status`](crate::Helpdesk::ai_status)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AiStatus {
    /// No language model is configured: the offline paths are the normal mode.
    NotConfigured,
    /// The model is in use.
    Healthy,
    /// The model failed repeatedly; the offline paths answer until a trial call after
    /// `retry_at` succeeds.
    Degraded {
        /// When the breaker first opened in this outage.
        since: Timestamp,
        /// The kind of the failure that last opened it.
        reason: DegradedReason,
        /// When the next trial call may go through.
        retry_at: Timestamp,
    },
}

impl AiStatus {
    /// Whether the model is skipped right now.
    pub fn is_degraded(&self) -> bool {
        matches!(self, Self::Degraded { .. })
    }
}

/// The breaker's settings (from [`HelpdeskConfig`](crate::service::HelpdeskConfig)).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BreakerSettings {
    pub failure_threshold: u32,
    pub cool_down: Duration,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Closed {
        failures: u32,
    },
    Open {
        since: Timestamp,
        reason: DegradedReason,
        until: Timestamp,
    },
    HalfOpen {
        since: Timestamp,
        reason: DegradedReason,
        until: Timestamp,
        trial_in_flight: bool,
    },
}

/// The breaker state machine (closed, open, half-open), shared by the guarded model and
/// the service.
#[derive(Debug)]
pub(crate) struct Breaker {
    settings: BreakerSettings,
    clock: Arc<dyn Clock>,
    phase: Mutex<Phase>,
}

enum Admission {
    Allowed { trial: bool },
    Rejected { reason: DegradedReason },
}

impl Breaker {
    pub(crate) fn new(settings: BreakerSettings, clock: Arc<dyn Clock>) -> Self {
        Self {
            settings,
            clock,
            phase: Mutex::new(Phase::Closed { failures: 0 }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Phase> {
        // A panic while holding this short lock cannot leave the phase half-written (it is
        // replaced whole), so a poisoned lock is still usable.
        self.phase
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn now(&self) -> Timestamp {
        to_millis(self.clock.now())
    }

    fn until(&self, now: Timestamp) -> Timestamp {
        let cool = SignedDuration::try_from(self.settings.cool_down).unwrap_or(SignedDuration::MAX);
        now.checked_add(cool).unwrap_or(Timestamp::MAX)
    }

    /// The status for staff.
    pub(crate) fn status(&self) -> AiStatus {
        match *self.lock() {
            Phase::Closed { .. } => AiStatus::Healthy,
            Phase::Open {
                since,
                reason,
                until,
            }
            | Phase::HalfOpen {
                since,
                reason,
                until,
                ..
            } => AiStatus::Degraded {
                since,
                reason,
                retry_at: until,
            },
        }
    }

    /// Whether a call made now would be refused (without reserving the half-open trial):
    /// lets use-cases skip preparing a prompt nobody will read.
    pub(crate) fn refuses_now(&self) -> bool {
        let now = self.now();
        match *self.lock() {
            Phase::Closed { .. } => false,
            Phase::Open { until, .. } => now < until,
            Phase::HalfOpen {
                trial_in_flight, ..
            } => trial_in_flight,
        }
    }

    fn admit(&self) -> Admission {
        let now = self.now();
        let mut phase = self.lock();
        match *phase {
            Phase::Closed { .. } => Admission::Allowed { trial: false },
            Phase::Open {
                since,
                reason,
                until,
            } if now >= until => {
                *phase = Phase::HalfOpen {
                    since,
                    reason,
                    until,
                    trial_in_flight: true,
                };
                Admission::Allowed { trial: true }
            }
            Phase::HalfOpen {
                since,
                reason,
                until,
                trial_in_flight: false,
            } => {
                *phase = Phase::HalfOpen {
                    since,
                    reason,
                    until,
                    trial_in_flight: true,
                };
                Admission::Allowed { trial: true }
            }
            Phase::Open { reason, .. } | Phase::HalfOpen { reason, .. } => {
                Admission::Rejected { reason }
            }
        }
    }

    /// Records how an admitted call ended: `None` when the provider answered (even with a
    /// non-temporary error such as malformed output: it is reachable), else the kind of
    /// temporary failure.
    fn record(&self, trial: bool, failure: Option<DegradedReason>) {
        let now = self.now();
        let mut phase = self.lock();
        let before = *phase;
        let after = match (before, failure) {
            (Phase::Closed { .. }, None) => Phase::Closed { failures: 0 },
            (Phase::Open { .. } | Phase::HalfOpen { .. }, None) => {
                tracing::info!("language model answered again; AI features restored");
                Phase::Closed { failures: 0 }
            }
            (Phase::Closed { failures }, Some(reason)) => {
                let failures = failures.saturating_add(1);
                if failures >= self.settings.failure_threshold.max(1) {
                    tracing::warn!(
                        %reason,
                        failures,
                        cool_down = ?self.settings.cool_down,
                        "language model degraded; using the offline paths for a cool-down"
                    );
                    Phase::Open {
                        since: now,
                        reason,
                        until: self.until(now),
                    }
                } else {
                    Phase::Closed { failures }
                }
            }
            (Phase::HalfOpen { since, .. }, Some(reason)) if trial => {
                tracing::warn!(%reason, "language model trial call failed; staying offline");
                Phase::Open {
                    since,
                    reason,
                    until: self.until(now),
                }
            }
            // A call admitted before the breaker opened, ending late: the outage is
            // already recorded.
            (open @ (Phase::Open { .. } | Phase::HalfOpen { .. }), Some(_)) => open,
        };
        *phase = after;
    }
}

/// Records an admitted call's end; a call dropped before it ended (its caller's deadline
/// passed: the triage chain's, a chat turn's budget) counts as a timeout.
pub(crate) struct Permit {
    breaker: Arc<Breaker>,
    trial: bool,
    done: bool,
}

impl Permit {
    pub(crate) fn finish(mut self, error: Option<&ModelError>) {
        self.done = true;
        self.breaker
            .record(self.trial, error.and_then(DegradedReason::of));
    }
}

#[cfg(test)]
impl Breaker {
    /// A permit for a call the tests make by hand.
    pub(crate) fn permit_for_test(self: &Arc<Self>) -> Permit {
        Permit {
            breaker: Arc::clone(self),
            trial: false,
            done: false,
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.done {
            self.breaker
                .record(self.trial, Some(DegradedReason::Timeout));
        }
    }
}

/// The configured model behind the breaker: what [`Helpdesk`](crate::Helpdesk) and its
/// default triage chain call.
#[derive(Debug)]
pub(crate) struct GuardedModel {
    inner: Arc<dyn LanguageModel>,
    breaker: Arc<Breaker>,
}

impl GuardedModel {
    pub(crate) fn new(inner: Arc<dyn LanguageModel>, breaker: Arc<Breaker>) -> Self {
        Self { inner, breaker }
    }

    fn permit(&self) -> Result<Permit, ModelError> {
        match self.breaker.admit() {
            Admission::Allowed { trial } => Ok(Permit {
                breaker: Arc::clone(&self.breaker),
                trial,
                done: false,
            }),
            Admission::Rejected { reason } => Err(ModelError::CircuitOpen {
                reason: reason.as_str(),
            }),
        }
    }
}

#[async_trait]
impl LanguageModel for GuardedModel {
    fn model_id(&self) -> &str {
        self.inner.model_id()
    }

    async fn generate(&self, request: &LlmRequest) -> Result<LlmResponse, ModelError> {
        let permit = self.permit()?;
        // The request's deadline is enforced here too, so a model that ignores it still
        // counts as timed out (rather than being dropped by an outer deadline).
        let result = match request.timeout {
            Some(limit) => tokio::time::timeout(limit, self.inner.generate(request))
                .await
                .unwrap_or(Err(ModelError::Timeout(limit))),
            None => self.inner.generate(request).await,
        };
        permit.finish(result.as_ref().err());
        result
    }

    async fn stream(&self, request: &LlmRequest) -> Result<DeltaStream, ModelError> {
        // The call ends when the stream does: a failure or hang half-way through an answer
        // counts like one before the first word.
        let permit = self.permit()?;
        match self.inner.stream(request).await {
            Ok(stream) => Ok(Box::pin(WatchedStream::new(stream, permit))),
            Err(e) => {
                permit.finish(Some(&e));
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    /// A settable clock (the testkit's needs the `test-kit` feature).
    #[derive(Debug, Default)]
    struct ManualClock(Mutex<Timestamp>);

    impl ManualClock {
        fn advance(&self, by: Duration) {
            let mut t = self.0.lock().unwrap();
            *t = t
                .checked_add(SignedDuration::try_from(by).unwrap())
                .unwrap();
        }
    }

    impl Clock for ManualClock {
        fn now(&self) -> Timestamp {
            *self.0.lock().unwrap()
        }
    }

    fn breaker(clock: Arc<ManualClock>) -> Breaker {
        Breaker::new(
            BreakerSettings {
                failure_threshold: 2,
                cool_down: Duration::from_secs(30),
            },
            clock,
        )
    }

    #[test]
    fn opens_after_consecutive_failures_and_a_success_resets_the_count() {
        let clock = Arc::new(ManualClock::default());
        let b = breaker(clock.clone());
        b.record(false, Some(DegradedReason::Unavailable));
        b.record(false, None);
        b.record(false, Some(DegradedReason::Unavailable));
        assert_eq!(b.status(), AiStatus::Healthy);
        b.record(false, Some(DegradedReason::RateLimited));
        assert!(matches!(
            b.status(),
            AiStatus::Degraded {
                reason: DegradedReason::RateLimited,
                ..
            }
        ));
        assert!(matches!(b.admit(), Admission::Rejected { .. }));
        assert!(b.refuses_now());
    }

    #[test]
    fn half_open_admits_one_trial_and_a_failed_trial_keeps_the_since_time() {
        let clock = Arc::new(ManualClock::default());
        let b = breaker(clock.clone());
        b.record(false, Some(DegradedReason::Timeout));
        b.record(false, Some(DegradedReason::Timeout));
        let AiStatus::Degraded { since, .. } = b.status() else {
            panic!("not degraded")
        };
        clock.advance(Duration::from_secs(31));
        assert!(!b.refuses_now());
        assert!(matches!(b.admit(), Admission::Allowed { trial: true }));
        assert!(matches!(b.admit(), Admission::Rejected { .. }));
        b.record(true, Some(DegradedReason::Unavailable));
        match b.status() {
            AiStatus::Degraded {
                since: again,
                reason,
                ..
            } => {
                assert_eq!(again, since);
                assert_eq!(reason, DegradedReason::Unavailable);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(b.admit(), Admission::Rejected { .. }));
    }

    #[test]
    fn the_requests_own_failures_are_not_an_outage() {
        let clock = Arc::new(ManualClock::default());
        let b = Arc::new(breaker(clock));
        let overflow = ModelError::ContextOverflow {
            message: "the input token count exceeds the maximum".into(),
        };
        assert_eq!(DegradedReason::of(&overflow), None);
        for _ in 0..3 {
            b.permit_for_test().finish(Some(&overflow));
        }
        assert_eq!(b.status(), AiStatus::Healthy);
    }

    #[test]
    fn an_abandoned_call_counts_as_a_timeout() {
        let clock = Arc::new(ManualClock::default());
        let b = Arc::new(breaker(clock));
        for _ in 0..2 {
            drop(Permit {
                breaker: Arc::clone(&b),
                trial: false,
                done: false,
            });
        }
        assert!(matches!(
            b.status(),
            AiStatus::Degraded {
                reason: DegradedReason::Timeout,
                ..
            }
        ));
    }
}
