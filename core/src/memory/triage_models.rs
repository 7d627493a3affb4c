//! The memory store's learned-triage model records.

use async_trait::async_trait;
use jiff::Timestamp;

use super::MemoryStore;
use crate::store::{TriageModel, TriageModelStore};
use crate::{Result, TenantId};

#[async_trait]
impl TriageModelStore for MemoryStore {
    async fn put_triage_model(&self, model: &TriageModel) -> Result<()> {
        model.check()?;
        let mut d = self.lock()?;
        if d.triage_models
            .iter()
            .any(|m| m.tenant_id == model.tenant_id && m.version == model.version)
        {
            return Err(model.version_taken());
        }
        d.triage_models.push(model.clone());
        Ok(())
    }

    async fn list_triage_models(&self, tenant: TenantId, limit: usize) -> Result<Vec<TriageModel>> {
        let d = self.lock()?;
        let mut models: Vec<TriageModel> = d
            .triage_models
            .iter()
            .filter(|m| m.tenant_id == tenant)
            .cloned()
            .collect();
        models.sort_by_key(|m| std::cmp::Reverse(m.version));
        models.truncate(limit);
        Ok(models)
    }

    async fn latest_triage_model(&self, tenant: TenantId) -> Result<Option<TriageModel>> {
        let d = self.lock()?;
        Ok(d.triage_models
            .iter()
            .filter(|m| m.tenant_id == tenant)
            .max_by_key(|m| m.version)
            .cloned())
    }

    async fn retire_triage_models(&self, tenant: TenantId, at: Timestamp) -> Result<u64> {
        let mut d = self.lock()?;
        let mut retired = 0;
        for model in d
            .triage_models
            .iter_mut()
            .filter(|m| m.tenant_id == tenant && m.retired_at.is_none())
        {
            model.retired_at = Some(at);
            retired += 1;
        }
        Ok(retired)
    }
}
