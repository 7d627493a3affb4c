//! The memory store's record of language-model usage.

use async_trait::async_trait;

use super::MemoryStore;
use crate::domain::{ModelUsage, ModelUsageDay};
use crate::store::{ModelUsageStore, TimeRange};
use crate::{Result, TenantId};

#[async_trait]
impl ModelUsageStore for MemoryStore {
    async fn record_model_usage(&self, tenant: TenantId, usage: &[ModelUsage]) -> Result<()> {
        let mut d = self.lock()?;
        d.model_usage
            .extend(usage.iter().map(|u| (tenant, u.clone())));
        Ok(())
    }

    async fn model_usage_per_day(
        &self,
        tenant: TenantId,
        range: TimeRange,
    ) -> Result<Vec<ModelUsageDay>> {
        let d = self.lock()?;
        let records: Vec<ModelUsage> = d
            .model_usage
            .iter()
            .filter(|(t, u)| *t == tenant && range.contains(u.at))
            .map(|(_, u)| u.clone())
            .collect();
        Ok(ModelUsageDay::sum(&records))
    }
}
