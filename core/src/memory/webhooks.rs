//! Webhook endpoints of the in-memory store.

use async_trait::async_trait;
use jiff::Timestamp;

use super::{Data, MemoryStore};
use crate::domain::{WebhookEndpoint, WebhookOutcome};
use crate::store::{AdminChange, WebhookStore};
use crate::{DuplicateKind, Error, Result, TenantId, WebhookId};

fn endpoint_mut(d: &mut Data, tenant: TenantId, id: WebhookId) -> Result<&mut WebhookEndpoint> {
    d.webhooks
        .iter_mut()
        .find(|w| w.tenant_id == tenant && w.id == id)
        .ok_or_else(|| Error::not_found("webhook", id))
}

/// Applies one of the webhook changes of [`AdminChange`] (others are not webhook changes
/// and are refused).
pub(super) fn apply(d: &mut Data, change: &AdminChange) -> Result<()> {
    match change {
        AdminChange::CreateWebhook(endpoint) => {
            if d.webhooks.iter().any(|w| w.id == endpoint.id) {
                return Err(Error::Duplicate {
                    kind: DuplicateKind::Id,
                    value: endpoint.id.to_string(),
                });
            }
            d.webhooks.push(endpoint.clone());
        }
        AdminChange::UpdateWebhook {
            tenant,
            id,
            url,
            event_types,
        } => {
            let w = endpoint_mut(d, *tenant, *id)?;
            w.url.clone_from(url);
            w.event_types.clone_from(event_types);
        }
        AdminChange::RotateWebhookSecret {
            tenant,
            id,
            secret,
            at,
        } => {
            let w = endpoint_mut(d, *tenant, *id)?;
            w.previous_secret = Some(std::mem::replace(&mut w.secret, secret.clone()));
            w.rotated_at = Some(*at);
        }
        AdminChange::SetWebhookEnabled {
            tenant,
            id,
            enabled,
            reason,
        } => {
            let w = endpoint_mut(d, *tenant, *id)?;
            w.enabled = *enabled;
            if *enabled {
                w.disabled_reason = None;
                w.consecutive_failures = 0;
                w.next_attempt_at = None;
            } else {
                w.disabled_reason.clone_from(reason);
            }
        }
        AdminChange::DeleteWebhook { tenant, id } => {
            endpoint_mut(d, *tenant, *id)?;
            d.webhooks
                .retain(|w| !(w.tenant_id == *tenant && w.id == *id));
        }
        _ => return Err(Error::Internal("not a webhook change")),
    }
    Ok(())
}

#[async_trait]
impl WebhookStore for MemoryStore {
    async fn get_webhook(
        &self,
        tenant: TenantId,
        id: WebhookId,
    ) -> Result<Option<WebhookEndpoint>> {
        Ok(self
            .lock()?
            .webhooks
            .iter()
            .find(|w| w.tenant_id == tenant && w.id == id)
            .cloned())
    }

    async fn list_webhooks(&self, tenant: TenantId) -> Result<Vec<WebhookEndpoint>> {
        let d = self.lock()?;
        let mut list: Vec<WebhookEndpoint> = d
            .webhooks
            .iter()
            .filter(|w| w.tenant_id == tenant)
            .cloned()
            .collect();
        list.sort_by_key(|w| (w.created_at, w.id));
        Ok(list)
    }

    async fn due_webhooks(&self, now: Timestamp, limit: u32) -> Result<Vec<WebhookEndpoint>> {
        let d = self.lock()?;
        let mut list: Vec<WebhookEndpoint> = d
            .webhooks
            .iter()
            .filter(|w| w.enabled && w.next_attempt_at.is_none_or(|t| t <= now))
            .cloned()
            .collect();
        // `None` sorts first: endpoints with no retry waiting come before retries.
        list.sort_by_key(|w| (w.next_attempt_at, w.id));
        list.truncate(limit.max(1) as usize);
        Ok(list)
    }

    async fn record_webhook_delivery(
        &self,
        tenant: TenantId,
        id: WebhookId,
        outcome: &WebhookOutcome,
    ) -> Result<()> {
        let mut d = self.lock()?;
        let w = endpoint_mut(&mut d, tenant, id)?;
        match outcome {
            WebhookOutcome::Delivered { cursor } => {
                w.cursor = Some(cursor.clone());
                w.consecutive_failures = 0;
                w.next_attempt_at = None;
            }
            WebhookOutcome::Failed {
                next_attempt_at,
                disable,
            } => {
                w.consecutive_failures = w.consecutive_failures.saturating_add(1);
                w.next_attempt_at = Some(*next_attempt_at);
                if let Some(reason) = disable {
                    w.enabled = false;
                    w.disabled_reason = Some(reason.clone());
                }
            }
        }
        Ok(())
    }
}
