//! Webhook endpoints a tenant's admins register: where the tenant's events are posted,
//! signed with the endpoint's secret, and how delivery to it stands.

use jiff::Timestamp;

use crate::{TenantId, WebhookId};

/// The signing secret of a webhook endpoint. It is stored (the sender needs it to sign),
/// but not serializable, and `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// Wraps a secret as stored.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret, to sign with.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

/// A webhook endpoint of one tenant, with its delivery state. Not serializable (it holds
/// its secrets); `Debug` redacts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// Id (time ordered).
    pub id: WebhookId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// Where events are posted.
    pub url: String,
    /// The event kinds it wants ([`EventKind::name`](super::EventKind::name)); empty for
    /// every kind.
    pub event_types: Vec<String>,
    /// The current signing secret.
    pub secret: WebhookSecret,
    /// The secret before the last rotation, still signed with during the grace period
    /// after `rotated_at`, so a receiver can switch without losing deliveries.
    pub previous_secret: Option<WebhookSecret>,
    /// When the secret was last rotated.
    pub rotated_at: Option<Timestamp>,
    /// Whether events are delivered to it.
    pub enabled: bool,
    /// Why it was disabled (shown to admins), when it was disabled for failing.
    pub disabled_reason: Option<String>,
    /// Failed attempts since the last successful delivery.
    pub consecutive_failures: u32,
    /// The event feed cursor ([`FeedCursor`](crate::service::FeedCursor) text) after the
    /// last delivered event; `None` before the first delivery.
    pub cursor: Option<String>,
    /// When the next attempt is due after a failure; `None` when no retry is waiting.
    pub next_attempt_at: Option<Timestamp>,
    /// When it was registered.
    pub created_at: Timestamp,
}

/// The outcome of one delivery attempt, recorded with
/// [`WebhookStore::record_webhook_delivery`](crate::store::WebhookStore::record_webhook_delivery).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookOutcome {
    /// Delivered up to `cursor`: failures reset to 0, no retry waiting.
    Delivered {
        /// The feed cursor after the last delivered event.
        cursor: String,
    },
    /// A failed attempt: failures go up by one and the next attempt waits until
    /// `next_attempt_at`; with `disable`, the endpoint is disabled with that reason.
    Failed {
        /// When to try again.
        next_attempt_at: Timestamp,
        /// Disables the endpoint with this reason (the sender decides after how many
        /// failures).
        disable: Option<String>,
    },
}
