//! Notifications: the [`Notifier`] trait and the outbox dispatcher.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;

use crate::BoxError;
use crate::domain::{OutboxEntry, Tenant};

/// Delivers notifications (e-mail, chat, webhooks). Called by the outbox dispatcher, at
/// least once per entry: implementations should tolerate duplicates.
#[async_trait]
pub trait Notifier: Send + Sync + Debug {
    /// Delivers one entry; an error schedules a retry with backoff.
    async fn deliver(&self, tenant: &Tenant, entry: &OutboxEntry) -> Result<(), BoxError>;
}

#[async_trait]
impl<N: Notifier + ?Sized> Notifier for Arc<N> {
    async fn deliver(&self, tenant: &Tenant, entry: &OutboxEntry) -> Result<(), BoxError> {
        (**self).deliver(tenant, entry).await
    }
}

/// A notifier that only logs (the default when the host configures none).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn deliver(&self, tenant: &Tenant, entry: &OutboxEntry) -> Result<(), BoxError> {
        tracing::info!(
            tenant = %tenant.slug,
            ticket = entry.notification.ticket_number,
            kind = entry.notification.kind.name(),
            recipients = entry.notification.recipients.len(),
            "notification"
        );
        Ok(())
    }
}
