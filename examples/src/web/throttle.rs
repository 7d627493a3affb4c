//! Abuse limits: sign-in per account and per client address, customer and company sign-up
//! per address, sign-up e-mails per recipient, ticket creation per customer.
//!
//! The limiters are the JSON API's ([`helpdesk_api::Throttle`], keyed GCRA limiters of
//! `governor`), so the pages and the API limit the same way. A limit has two tiers: a short
//! one (a small burst, then one try every few seconds) and a long one (a larger burst, then
//! one try every few minutes). Together they make the delays grow: after the first few
//! wrong passwords a guesser waits seconds between tries, after a few dozen it waits
//! minutes. A try refused by a tier tells how long until the next one is allowed
//! (`Retry-After`). The limiters live in process memory: a restart forgets them, and
//! several app processes behind a balancer each keep their own.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
pub(crate) use helpdesk_api::Throttle;
pub use helpdesk_api::{Limit, Tier};

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
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(wait_secs(Duration::from_millis(1)), 1);
        assert_eq!(wait_secs(SECOND * 30), 30);
    }
}
