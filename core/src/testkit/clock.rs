use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;

use crate::Clock;

/// A clock that only moves when told to. Starts at the given instant.
///
/// ```
/// use helpdesk_core::{Clock, testkit::ManualClock};
/// let clock = ManualClock::new("2026-03-02T09:00:00Z".parse().unwrap());
/// clock.advance(std::time::Duration::from_secs(60));
/// assert_eq!(clock.now().to_string(), "2026-03-02T09:01:00Z");
/// ```
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap();
        *now = now.checked_add(by).unwrap();
    }

    /// Sets the clock.
    pub fn set(&self, to: Timestamp) {
        *self.now.lock().unwrap() = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap()
    }
}
