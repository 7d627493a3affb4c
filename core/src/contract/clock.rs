//! Injected time, so SLA, auto-close and inactivity are testable without sleeping.

use std::fmt::Debug;
use std::sync::Arc;

use jiff::{Timestamp, Unit};

/// A source of the current time.
pub trait Clock: Send + Sync + Debug {
    /// Now.
    fn now(&self) -> Timestamp;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// Truncates to whole milliseconds: every timestamp the helpdesk stores has millisecond
/// precision, so every backend (MongoDB dates included) round-trips it exactly.
pub fn to_millis(t: Timestamp) -> Timestamp {
    t.round(
        jiff::TimestampRound::new()
            .smallest(Unit::Millisecond)
            .mode(jiff::RoundMode::Trunc),
    )
    .unwrap_or(t)
}
