//! Rate limits built on `governor`'s keyed GCRA limiter (a maintained, well-tested rate
//! limiter) rather than a hand-written counter. A [`Limit`] has tiers: a short one (a small
//! burst, then one try every few seconds) and a long one (a larger burst, then one try every
//! few minutes). Together they make the delays grow. A try refused by a tier tells how long
//! until the next one is allowed (`Retry-After`).
//!
//! The limiters live in process memory: a restart forgets them, and several app processes
//! behind a balancer each keep their own. Keys are bounded by dropping those whose limits
//! are fully replenished once a limiter holds many.

use std::num::NonZeroU32;
use std::time::Duration;

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

/// Keys a limiter holds before it drops the fully replenished ones.
const PRUNE_ABOVE: usize = 10_000;

pub(crate) const SECOND: Duration = Duration::from_secs(1);
pub(crate) const MINUTE: Duration = Duration::from_secs(60);

/// The limiters of one [`Limit`].
pub struct Throttle {
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
    pub fn new(limit: &Limit) -> Self {
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
    pub fn check(&self, key: &str) -> Result<(), Duration> {
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
}
