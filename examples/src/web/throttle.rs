//! Abuse limits: sign-in per account and per client address, customer and company sign-up
//! per address, sign-up e-mails per recipient, ticket creation per customer.
//!
//! Each limit is built on `governor`'s keyed GCRA limiter (a maintained, well-tested rate
//! limiter) rather than a hand-written counter. A limit has two tiers: a short one (a small
//! burst, then one try every few seconds) and a long one (a larger burst, then one try every
//! few minutes). Together they make the delays grow: after the first few wrong passwords a
//! guesser waits seconds between tries, after a few dozen it waits minutes. A try refused
//! by a tier tells how long until the next one is allowed (`Retry-After`).
//!
//! The limiters live in process memory: a restart forgets them, and several app processes
//! behind a balancer each keep their own. Keys are bounded by dropping those whose limits
//! are fully replenished once a limiter holds many.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// One tier of a limit: `burst` tries at once, then one more every `every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    /// Tries allowed at once after a quiet period.
    pub burst: u32,
    /// The time that gives back one try.
    pub every: Duration,
}

impl Tier {
    /// `burst` tries, then one every `every`.
    pub const fn new(burst: u32, every: Duration) -> Self {
        Self { burst, every }
    }
}

/// A limit: every tier must allow a try. Tiers with growing periods make growing delays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit(pub Vec<Tier>);

/// The abuse limits of the web app (see the module doc). The defaults are the documented
/// numbers; tests and hosts may change them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbuseLimits {
    /// Sign-in tries per company and e-mail (whether or not such an account exists).
    pub login_per_account: Limit,
    /// Sign-in tries per client address.
    pub login_per_address: Limit,
    /// Customer sign-ups per client address.
    pub register_per_address: Limit,
    /// Sign-up e-mails per recipient address (confirmation links and "you already have an
    /// account" notes): bounds how often anyone can make the app mail one inbox. Past it
    /// the sign-up page answers as always, but nothing is sent.
    pub signup_mail_per_email: Limit,
    /// Company sign-ups per client address.
    pub register_company_per_address: Limit,
    /// Tickets a customer opens from the portal.
    pub tickets_per_customer: Limit,
}

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);

impl Default for AbuseLimits {
    fn default() -> Self {
        Self {
            // 5 tries, then one per 30 s; past 20, one per 5 min.
            login_per_account: Limit(vec![Tier::new(5, SECOND * 30), Tier::new(20, MINUTE * 5)]),
            // An office behind one address: 20 tries, then one per 6 s; past 100, one per 2 min.
            login_per_address: Limit(vec![Tier::new(20, SECOND * 6), Tier::new(100, MINUTE * 2)]),
            // 5 accounts, then one per 2 min; past 20, one per 30 min.
            register_per_address: Limit(vec![Tier::new(5, MINUTE * 2), Tier::new(20, MINUTE * 30)]),
            // 3 e-mails to one address, then one per 10 min; past 10, one per day.
            signup_mail_per_email: Limit(vec![
                Tier::new(3, MINUTE * 10),
                Tier::new(10, MINUTE * 60 * 24),
            ]),
            // 2 companies, then one per hour; past 5, one per day.
            register_company_per_address: Limit(vec![
                Tier::new(2, MINUTE * 60),
                Tier::new(5, MINUTE * 60 * 24),
            ]),
            // 5 tickets, then one per minute; past 30, one per 10 min.
            tickets_per_customer: Limit(vec![Tier::new(5, MINUTE), Tier::new(30, MINUTE * 10)]),
        }
    }
}

/// Keys a limiter holds before it drops the fully replenished ones.
const PRUNE_ABOVE: usize = 10_000;

/// The limiters of one [`Limit`].
pub(crate) struct Throttle {
    tiers: Vec<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("tiers", &self.tiers.len())
            .finish_non_exhaustive()
    }
}

impl Throttle {
    /// Limiters for `limit`. A tier with a zero burst or period is skipped (no limit).
    pub(crate) fn new(limit: &Limit) -> Self {
        let tiers = limit
            .0
            .iter()
            .filter_map(|tier| {
                let burst = NonZeroU32::new(tier.burst)?;
                let quota = Quota::with_period(tier.every)?.allow_burst(burst);
                Some(RateLimiter::keyed(quota))
            })
            .collect();
        Self {
            tiers,
            clock: DefaultClock::default(),
        }
    }

    /// Takes one try for `key`; `Err(wait)` when a tier refuses it, with the time until
    /// that tier allows the next one. Tiers are asked in order and the first refusal
    /// stops: a try the short tier refuses does not use up the long tier's budget.
    pub(crate) fn check(&self, key: &str) -> Result<(), Duration> {
        let key = key.to_string();
        for tier in &self.tiers {
            if tier.len() > PRUNE_ABOVE {
                tier.retain_recent();
            }
            if let Err(not_until) = tier.check_key(&key) {
                return Err(not_until.wait_time_from(self.clock.now()));
            }
        }
        Ok(())
    }
}

/// The limiters of the app, built from [`AbuseLimits`].
#[derive(Debug)]
pub(crate) struct Throttles {
    pub(crate) login_account: Throttle,
    pub(crate) login_address: Throttle,
    pub(crate) register: Throttle,
    pub(crate) signup_mail: Throttle,
    pub(crate) register_company: Throttle,
    pub(crate) tickets: Throttle,
}

impl Throttles {
    pub(crate) fn new(limits: &AbuseLimits) -> Self {
        Self {
            login_account: Throttle::new(&limits.login_per_account),
            login_address: Throttle::new(&limits.login_per_address),
            register: Throttle::new(&limits.register_per_address),
            signup_mail: Throttle::new(&limits.signup_mail_per_email),
            register_company: Throttle::new(&limits.register_company_per_address),
            tickets: Throttle::new(&limits.tickets_per_customer),
        }
    }
}

/// The client's address: the TCP peer, or `unknown` when the server was not started with
/// connection info (as in tests that drive the router directly). A proxy in front of the
/// app makes every client one address: the per-address limits then apply to all together.
#[derive(Debug, Clone)]
pub(crate) struct ClientAddress(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string()),
        ))
    }
}

/// Whole seconds to wait, at least one (for `Retry-After` and the message).
pub(crate) fn wait_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_the_waits_grow_with_the_tiers() {
        let throttle = Throttle::new(&Limit(vec![
            Tier::new(3, SECOND * 10),
            Tier::new(4, MINUTE * 10),
        ]));
        for _ in 0..3 {
            assert_eq!(throttle.check("a"), Ok(()));
        }
        let short = throttle.check("a").unwrap_err();
        assert!(short > SECOND * 9 && short <= SECOND * 10, "{short:?}");
        // Another key has its own budget.
        assert_eq!(throttle.check("b"), Ok(()));
    }

    #[test]
    fn the_long_tier_makes_the_wait_longer() {
        let throttle = Throttle::new(&Limit(vec![
            Tier::new(10, SECOND),
            Tier::new(2, MINUTE * 10),
        ]));
        assert_eq!(throttle.check("a"), Ok(()));
        assert_eq!(throttle.check("a"), Ok(()));
        let wait = throttle.check("a").unwrap_err();
        assert!(wait > MINUTE * 9, "{wait:?}");
    }

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(wait_secs(Duration::from_millis(1)), 1);
        assert_eq!(wait_secs(SECOND * 30), 30);
    }
}
