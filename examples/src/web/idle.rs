//! The idle timeout of sessions: a session unused for longer than the timeout ends, besides
//! the helpdesk's fixed session lifetime.
//!
//! The last use of each session is kept in process memory, keyed by the token's hash. A
//! session the process has not seen yet (the first request after sign-in, or after a
//! restart) starts its idle clock then: a restart gives open sessions a fresh timeout, never
//! a longer lifetime than the helpdesk allows.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Sessions tracked before the expired ones are dropped.
const PRUNE_ABOVE: usize = 10_000;

/// Last use of each session.
#[derive(Debug)]
pub(crate) struct IdleSessions {
    timeout: Duration,
    last_used: Mutex<HashMap<[u8; 32], Instant>>,
}

impl IdleSessions {
    pub(crate) fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            last_used: Mutex::default(),
        }
    }

    /// Records a use of the session `token` now; false when it had been idle longer than
    /// the timeout (it is then forgotten: the caller ends it).
    pub(crate) fn touch(&self, token: &str) -> bool {
        self.touch_at(token, Instant::now())
    }

    fn touch_at(&self, token: &str, now: Instant) -> bool {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // A poisoned lock only means another request panicked mid-update of a map of
        // timestamps; its content is still usable.
        let mut map = self
            .last_used
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > PRUNE_ABOVE {
            let timeout = self.timeout;
            map.retain(|_, last| now.saturating_duration_since(*last) <= timeout);
        }
        match map.get(&key) {
            Some(last) if now.saturating_duration_since(*last) > self.timeout => {
                map.remove(&key);
                false
            }
            _ => {
                map.insert(key, now);
                true
            }
        }
    }

    /// Forgets a session (at sign-out).
    pub(crate) fn forget(&self, token: &str) {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.last_used
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_used_within_the_timeout_stays_and_an_idle_one_ends() {
        let idle = IdleSessions::new(Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(idle.touch_at("a", t0));
        assert!(idle.touch_at("a", t0 + Duration::from_secs(59)));
        // Each use restarts the clock.
        assert!(idle.touch_at("a", t0 + Duration::from_secs(118)));
        assert!(!idle.touch_at("a", t0 + Duration::from_secs(179)));
        // Forgotten once ended: a fresh sign-in gets a new token anyway.
        assert!(idle.touch_at("b", t0 + Duration::from_secs(179)));
    }
}
