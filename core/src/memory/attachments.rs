//! The memory store's attachment reads.

use async_trait::async_trait;

use super::MemoryStore;
use crate::domain::Attachment;
use crate::store::AttachmentStore;
use crate::{AttachmentId, Result, TenantId, TicketId};

#[async_trait]
impl AttachmentStore for MemoryStore {
    async fn get_attachment(
        &self,
        tenant: TenantId,
        id: AttachmentId,
    ) -> Result<Option<Attachment>> {
        Ok(self
            .lock()?
            .attachments
            .iter()
            .find(|a| a.tenant_id == tenant && a.id == id)
            .cloned())
    }

    async fn list_attachments(
        &self,
        tenant: TenantId,
        ticket: TicketId,
    ) -> Result<Vec<Attachment>> {
        let mut out: Vec<Attachment> = self
            .lock()?
            .attachments
            .iter()
            .filter(|a| a.tenant_id == tenant && a.ticket_id == ticket)
            .cloned()
            .collect();
        out.sort_by_key(|a| (a.created_at, a.id));
        Ok(out)
    }
}
