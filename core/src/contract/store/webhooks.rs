//! Webhook endpoints: the reads and the delivery record. Registering, changing, rotating,
//! enabling and deleting an endpoint are administrative changes with an audit event
//! ([`AdminChange::CreateWebhook`](super::AdminChange::CreateWebhook) and the ones after
//! it).

use async_trait::async_trait;
use jiff::Timestamp;

use crate::domain::{WebhookEndpoint, WebhookOutcome};
use crate::{Result, TenantId, WebhookId};

/// Webhook endpoints of every tenant and how delivery to them stands.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// One endpoint of the tenant.
    async fn get_webhook(&self, tenant: TenantId, id: WebhookId)
    -> Result<Option<WebhookEndpoint>>;

    /// The tenant's endpoints, oldest first (`created_at`, then id).
    async fn list_webhooks(&self, tenant: TenantId) -> Result<Vec<WebhookEndpoint>>;

    /// Enabled endpoints of every tenant with no retry waiting after `now`
    /// (`next_attempt_at` unset or at or before `now`), those with no retry waiting first,
    /// then by `next_attempt_at`, then id; at most `limit` (a backend may treat 0 as 1).
    /// What a delivery worker reads.
    async fn due_webhooks(&self, now: Timestamp, limit: u32) -> Result<Vec<WebhookEndpoint>>;

    /// Records a delivery attempt ([`WebhookOutcome`]); no audit event. Another tenant's
    /// endpoint, or an unknown id, is `NotFound`.
    async fn record_webhook_delivery(
        &self,
        tenant: TenantId,
        id: WebhookId,
        outcome: &WebhookOutcome,
    ) -> Result<()>;
}
