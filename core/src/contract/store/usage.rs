//! The record of what language models cost ([`ModelUsage`]): appended with the write of the
//! use case that called the model ([`TicketWrite::model_usage`](super::TicketWrite)), or on
//! its own when that use case writes nothing (a summary) or failed after the call, and read
//! back added up per day.

use async_trait::async_trait;

use super::TimeRange;
use crate::domain::{ModelUsage, ModelUsageDay};
use crate::{Result, TenantId};

/// Language-model usage, per tenant.
#[async_trait]
pub trait ModelUsageStore: Send + Sync {
    /// Appends `usage` to the tenant's record, all of it or none (nothing for an empty
    /// slice).
    async fn record_model_usage(&self, tenant: TenantId, usage: &[ModelUsage]) -> Result<()>;

    /// The tenant's usage with `at` in `range`, added up per UTC day, use case and model,
    /// ordered as [`ModelUsageDay::sum`] orders them (and equal to what it gives).
    async fn model_usage_per_day(
        &self,
        tenant: TenantId,
        range: TimeRange,
    ) -> Result<Vec<ModelUsageDay>>;
}
