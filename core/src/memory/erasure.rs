//! The memory store's erasure: checked, then applied, under the store's one lock.

use async_trait::async_trait;
use jiff::Timestamp;

use super::tickets::{apply_write, check_update, check_write};
use super::{Data, MemoryStore};
use crate::domain::{AuditEvent, Sha256, Ticket, User};
use crate::store::{ErasureStore, TicketErasure};
use crate::{Error, Result, TenantId};

#[async_trait]
impl ErasureStore for MemoryStore {
    async fn erase_ticket(&self, expected_version: u64, erasure: &TicketErasure) -> Result<()> {
        erasure.check(expected_version)?;
        let write = &erasure.write;
        check_write(write)?;
        let mut d = self.lock()?;
        check_update(&d, expected_version, write)?;
        let t = &write.ticket;
        let stored = d.events.get(&t.id).map(Vec::as_slice).unwrap_or_default();
        for e in &erasure.events {
            if !stored
                .iter()
                .any(|s| s.id == e.id && s.kind.name() == e.kind.name())
            {
                return Err(TicketErasure::unknown_event(e));
            }
        }
        apply_write(&mut d, write);
        if let Some(events) = d.events.get_mut(&t.id) {
            for e in &erasure.events {
                if let Some(slot) = events.iter_mut().find(|s| s.id == e.id) {
                    slot.kind = e.kind.clone();
                }
            }
        }
        d.attachments.retain(|a| {
            !(a.tenant_id == t.tenant_id
                && a.ticket_id == t.id
                && erasure.attachments.contains(&a.id))
        });
        d.outbox
            .retain(|o| !(o.tenant_id == t.tenant_id && o.notification.ticket_id == t.id));
        Ok(())
    }

    async fn retention_due(
        &self,
        tenant: TenantId,
        before: Timestamp,
        limit: u32,
    ) -> Result<Vec<Ticket>> {
        let d = self.lock()?;
        let mut due: Vec<Ticket> = d
            .tickets
            .values()
            .filter(|t| t.tenant_id == tenant && t.created_at < before && t.erased_at.is_none())
            .cloned()
            .collect();
        due.sort_by_key(|t| (t.created_at, t.id));
        due.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(due)
    }

    async fn blob_in_use(&self, tenant: TenantId, sha256: &Sha256) -> Result<bool> {
        Ok(self
            .lock()?
            .attachments
            .iter()
            .any(|a| a.tenant_id == tenant && a.sha256 == *sha256))
    }
}

/// A customer's erasure (`AdminChange::EraseUser`), applied after every check passed.
pub(super) fn erase_user(d: &mut Data, user: &User, audit: &[AuditEvent]) -> Result<()> {
    for a in audit {
        if !d
            .audit
            .iter()
            .any(|s| s.id == a.id && s.tenant_id == a.tenant_id)
        {
            return Err(Error::not_found("audit_event", a.id));
        }
    }
    super::admin::update_user(d, user)?;
    d.passwords.remove(&user.id);
    d.sessions
        .retain(|_, s| !(s.tenant_id == user.tenant_id && s.user_id == user.id));
    for a in audit {
        if let Some(slot) = d.audit.iter_mut().find(|s| s.id == a.id) {
            slot.kind = a.kind.clone();
        }
    }
    Ok(())
}
