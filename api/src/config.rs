//! What a host configures: authentication, CORS, limits, the docs page.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use tower_http::cors::CorsLayer;

use crate::auth::{Authenticator, BearerTokens};
use crate::throttle::{Limit, MINUTE, SECOND, Throttle, Tier};

/// How the API is mounted and protected. [`ApiConfig::default`] is a sound start: bearer
/// session tokens and API keys, no CORS headers (same-origin callers only), 2 MiB bodies,
/// the documented rate limits, the docs page on.
#[derive(Clone)]
pub struct ApiConfig {
    pub(crate) authenticators: Vec<Arc<dyn Authenticator>>,
    pub(crate) cors: Option<CorsLayer>,
    pub(crate) body_limit: usize,
    pub(crate) limits: RateLimits,
    pub(crate) docs: bool,
    pub(crate) trust_forwarded_for: bool,
    pub(crate) event_poll_interval: std::time::Duration,
    pub(crate) tenant_sign_up: bool,
}

impl std::fmt::Debug for ApiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiConfig")
            .field("authenticators", &self.authenticators.len())
            .field("cors", &self.cors.is_some())
            .field("body_limit", &self.body_limit)
            .field("limits", &self.limits)
            .field("docs", &self.docs)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("event_poll_interval", &self.event_poll_interval)
            .field("tenant_sign_up", &self.tenant_sign_up)
            .finish()
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            authenticators: vec![Arc::new(BearerTokens)],
            cors: None,
            body_limit: 2 * 1024 * 1024,
            limits: RateLimits::default(),
            docs: true,
            trust_forwarded_for: false,
            event_poll_interval: std::time::Duration::from_secs(1),
            tenant_sign_up: false,
        }
    }
}

impl ApiConfig {
    /// The defaults (see the type's doc).
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks `authenticator` first, before the ones already configured (the built-in
    /// bearer tokens). A host's own session cookie or JWT goes here.
    pub fn authenticator(mut self, authenticator: impl Authenticator) -> Self {
        self.authenticators.insert(0, Arc::new(authenticator));
        self
    }

    /// Only the host's authenticator: the built-in bearer tokens and API keys are off.
    pub fn only_authenticator(mut self, authenticator: impl Authenticator) -> Self {
        self.authenticators = vec![Arc::new(authenticator)];
        self
    }

    /// CORS headers for browsers on other origins (none by default).
    pub fn cors(mut self, cors: CorsLayer) -> Self {
        self.cors = Some(cors);
        self
    }

    /// The largest request body accepted, in bytes (larger ones get 413). The routes that
    /// take files apply it to their JSON and hold files to the tenant's limits instead.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The rate limits.
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Whether `openapi.json`'s interactive page is served at `docs/` (the document
    /// itself is always served).
    pub fn docs_page(mut self, on: bool) -> Self {
        self.docs = on;
        self
    }

    /// How often an open event stream asks the store for new events (default 1 s): the
    /// most a live event waits before it is sent.
    pub fn event_poll_interval(mut self, every: std::time::Duration) -> Self {
        self.event_poll_interval = every.max(std::time::Duration::from_millis(10));
        self
    }

    /// Whether anyone may create a tenant (a company with its first admin) with
    /// `POST tenants`, limited per client address. Off by default: a host usually creates
    /// tenants itself, with `Helpdesk::register_tenant`.
    pub fn tenant_sign_up(mut self, open: bool) -> Self {
        self.tenant_sign_up = open;
        self
    }

    /// Take the client address from the first `X-Forwarded-For` entry. Turn on only
    /// behind a proxy that sets it: otherwise a client can pick its own address and
    /// escape the per-address limits.
    pub fn trust_forwarded_for(mut self, on: bool) -> Self {
        self.trust_forwarded_for = on;
        self
    }
}

/// The abuse limits of the API. The defaults are the documented numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// Login tries per tenant and e-mail (whether or not such an account exists).
    pub login_per_account: Limit,
    /// Login tries per client address.
    pub login_per_address: Limit,
    /// Tickets opened per caller (user or API key).
    pub intake_per_caller: Limit,
    /// Tickets opened per client address, over all callers.
    pub intake_per_address: Limit,
    /// Tenants created per client address (when tenant sign-up is open).
    pub tenant_sign_up_per_address: Limit,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            // 5 tries, then one per 30 s; past 20, one per 5 min.
            login_per_account: Limit(vec![Tier::new(5, SECOND * 30), Tier::new(20, MINUTE * 5)]),
            // An office behind one address: 20 tries, then one per 6 s; past 100, one per 2 min.
            login_per_address: Limit(vec![Tier::new(20, SECOND * 6), Tier::new(100, MINUTE * 2)]),
            // An integration may file bursts: 60 tickets, then 2 per second; past 600,
            // one per 10 s.
            intake_per_caller: Limit(vec![Tier::new(60, SECOND / 2), Tier::new(600, SECOND * 10)]),
            // 120 tickets, then 4 per second.
            intake_per_address: Limit(vec![Tier::new(120, SECOND / 4)]),
            // 2 companies, then one per hour; past 5, one per day.
            tenant_sign_up_per_address: Limit(vec![
                Tier::new(2, MINUTE * 60),
                Tier::new(5, MINUTE * 60 * 24),
            ]),
        }
    }
}

impl RateLimits {
    /// No limits at all (benchmarks, tests of other things).
    pub fn unlimited() -> Self {
        Self {
            login_per_account: Limit(Vec::new()),
            login_per_address: Limit(Vec::new()),
            intake_per_caller: Limit(Vec::new()),
            intake_per_address: Limit(Vec::new()),
            tenant_sign_up_per_address: Limit(Vec::new()),
        }
    }
}

/// The limiters built from [`RateLimits`].
#[derive(Debug)]
pub(crate) struct Throttles {
    pub(crate) login_account: Throttle,
    pub(crate) login_address: Throttle,
    pub(crate) intake_caller: Throttle,
    pub(crate) intake_address: Throttle,
    pub(crate) tenant_sign_up: Throttle,
}

impl Throttles {
    pub(crate) fn new(limits: &RateLimits) -> Self {
        Self {
            login_account: Throttle::new(&limits.login_per_account),
            login_address: Throttle::new(&limits.login_per_address),
            intake_caller: Throttle::new(&limits.intake_per_caller),
            intake_address: Throttle::new(&limits.intake_per_address),
            tenant_sign_up: Throttle::new(&limits.tenant_sign_up_per_address),
        }
    }
}

/// The client's address: the TCP peer (when the host serves with
/// `into_make_service_with_connect_info::<SocketAddr>()`), or the first `X-Forwarded-For`
/// entry when the config trusts it, or `unknown` — then all clients share the
/// per-address limits.
pub(crate) fn client_address(parts: &Parts, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for
        && let Some(first) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| v.parse::<std::net::IpAddr>().is_ok())
    {
        return first.to_string();
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string())
}
