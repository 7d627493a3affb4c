//! The memory store's e-mail quarantine.

use async_trait::async_trait;

use super::MemoryStore;
use crate::store::{QuarantineStore, QuarantinedMail};
use crate::{DuplicateKind, Error, QuarantineId, Result, TenantId};

#[async_trait]
impl QuarantineStore for MemoryStore {
    async fn put_quarantined(&self, mail: &QuarantinedMail) -> Result<()> {
        let mut d = self.lock()?;
        if d.quarantine.iter().any(|q| q.id == mail.id) {
            return Err(Error::Duplicate {
                kind: DuplicateKind::Id,
                value: mail.id.to_string(),
            });
        }
        d.quarantine.push(mail.clone());
        Ok(())
    }

    async fn get_quarantined(
        &self,
        tenant: TenantId,
        id: QuarantineId,
    ) -> Result<Option<QuarantinedMail>> {
        Ok(self
            .lock()?
            .quarantine
            .iter()
            .find(|q| q.tenant_id == tenant && q.id == id)
            .cloned())
    }

    async fn list_quarantined(
        &self,
        tenant: TenantId,
        held_only: bool,
        limit: u32,
    ) -> Result<Vec<QuarantinedMail>> {
        let mut out: Vec<QuarantinedMail> = self
            .lock()?
            .quarantine
            .iter()
            .filter(|q| q.tenant_id == tenant && (!held_only || q.is_held()))
            .cloned()
            .collect();
        out.sort_by(|a, b| b.received_at.cmp(&a.received_at).then(b.id.cmp(&a.id)));
        out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(out)
    }

    async fn update_quarantined(&self, mail: &QuarantinedMail) -> Result<()> {
        let mut d = self.lock()?;
        let stored = d
            .quarantine
            .iter_mut()
            .find(|q| q.tenant_id == mail.tenant_id && q.id == mail.id)
            .ok_or_else(|| Error::not_found(QuarantineId::KIND, mail.id))?;
        stored.status = mail.status.clone();
        Ok(())
    }
}
