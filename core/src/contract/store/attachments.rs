//! Attachment metadata: written with its message in a [`TicketWrite`](super::TicketWrite)
//! (its `attachments`), read here. The bytes are in a [`BlobStore`](crate::blob::BlobStore).

use async_trait::async_trait;

use crate::domain::Attachment;
use crate::{AttachmentId, Result, TenantId, TicketId};

/// Reads of attachment metadata.
#[async_trait]
pub trait AttachmentStore: Send + Sync {
    /// One attachment of the tenant (another tenant's id behaves as an unknown one).
    async fn get_attachment(
        &self,
        tenant: TenantId,
        id: AttachmentId,
    ) -> Result<Option<Attachment>>;

    /// A ticket's attachments (of all its messages, whatever their kind), in creation
    /// order (`created_at`, then id). Callers showing them to a customer keep only those
    /// of messages the customer can see.
    async fn list_attachments(&self, tenant: TenantId, ticket: TicketId)
    -> Result<Vec<Attachment>>;
}
