//! The idle timeout of sessions: a session unused for longer than the timeout ends, besides
//! the helpdesk's fixed session lifetime.
//!
//! The time of a session's last use travels with the browser, signed: every response to a
//! signed-in request sets the `hd_seen` cookie to `<unix seconds>.<tag>`, where the tag is
//! the [`WebSecret`]'s signature of the session token and that time. Any instance sharing
//! the secret checks it the same way, so a load balancer may send each request anywhere,
//! and no instance keeps a table of sessions. The stamp cannot be moved forward without the
//! secret; a browser that sends none (or a broken one) is treated as seen now, as the
//! first request of a session is: the timeout protects a session someone walked away from,
//! whose browser still holds its last stamp.

use std::time::Duration;

use super::secret::WebSecret;

/// The cookie holding the signed time of the session's last use.
pub const SEEN_COOKIE: &str = "hd_seen";

const PURPOSE: &str = "idle-stamp";

/// Stamps and checks the last use of sessions.
#[derive(Debug, Clone)]
pub(crate) struct IdleClock {
    timeout: Duration,
    secret: WebSecret,
}

impl IdleClock {
    pub(crate) fn new(timeout: Duration, secret: WebSecret) -> Self {
        Self { timeout, secret }
    }

    fn message(token: &str, seconds: i64) -> Vec<u8> {
        let mut message = token.as_bytes().to_vec();
        message.push(0);
        message.extend_from_slice(&seconds.to_be_bytes());
        message
    }

    /// The `hd_seen` value for session `token` used at `now` (unix seconds).
    pub(crate) fn stamp(&self, token: &str, now: i64) -> String {
        let tag = self.secret.sign(PURPOSE, &Self::message(token, now));
        format!("{now}.{tag}")
    }

    /// Whether session `token`, last stamped `stamp`, may go on at `now`: false only for a
    /// genuine stamp of this session older than the timeout.
    pub(crate) fn still_active(&self, token: &str, stamp: Option<&str>, now: i64) -> bool {
        let Some((seconds, tag)) = stamp.and_then(|s| s.split_once('.')) else {
            return true;
        };
        let Ok(seconds) = seconds.parse::<i64>() else {
            return true;
        };
        if !self
            .secret
            .verify(PURPOSE, &Self::message(token, seconds), tag)
        {
            return true;
        }
        let idle = now.saturating_sub(seconds);
        u64::try_from(idle).map_or(true, |idle| idle <= self.timeout.as_secs())
    }
}

/// Now, in unix seconds.
pub(crate) fn now_seconds() -> i64 {
    jiff::Timestamp::now().as_second()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn clock(secret: u8) -> IdleClock {
        IdleClock::new(
            Duration::from_secs(60),
            WebSecret::new(&[secret; 32]).unwrap(),
        )
    }

    #[test]
    fn a_session_used_within_the_timeout_stays_and_an_idle_one_ends() {
        let idle = clock(1);
        let stamp = idle.stamp("a", 1_000);
        assert!(idle.still_active("a", Some(&stamp), 1_059));
        assert!(idle.still_active("a", Some(&stamp), 1_060));
        assert!(!idle.still_active("a", Some(&stamp), 1_061));
        // Each use stamps again and restarts the clock.
        let later = idle.stamp("a", 1_059);
        assert!(idle.still_active("a", Some(&later), 1_118));
    }

    #[test]
    fn any_instance_with_the_secret_checks_a_stamp_the_same_way() {
        let a = clock(1);
        let b = clock(1);
        let stamp = a.stamp("s", 1_000);
        assert!(
            !b.still_active("s", Some(&stamp), 1_500),
            "B sees A's stamp"
        );
        assert!(b.still_active("s", Some(&stamp), 1_030));
    }

    #[test]
    fn a_stamp_cannot_be_moved_forward_or_borrowed() {
        let idle = clock(1);
        let old = idle.stamp("s", 1_000);
        let tag = old.split_once('.').unwrap().1;
        let forged = format!("1500.{tag}");
        // A forged stamp counts as none: treated as seen now, like a fresh browser...
        assert!(idle.still_active("s", Some(&forged), 1_500));
        // ...and the genuine old one still ends the session.
        assert!(!idle.still_active("s", Some(&old), 1_500));
        // Another session's stamp, or another secret's, is no stamp of this one.
        let other = idle.stamp("t", 1_000);
        assert!(idle.still_active("s", Some(&other), 1_500));
        let elsewhere = clock(2).stamp("s", 1_000);
        assert!(idle.still_active("s", Some(&elsewhere), 1_500));
        assert!(idle.still_active("s", None, 1_500));
        assert!(idle.still_active("s", Some("garbage"), 1_500));
    }
}
