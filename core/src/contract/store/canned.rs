//! Canned responses: the reads and the usage count. Creating, changing and deleting one
//! are administrative changes with an audit event
//! ([`AdminChange::CreateCannedResponse`](super::AdminChange::CreateCannedResponse) and the
//! two after it).

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::CannedResponse;
use crate::{CannedResponseId, Result, TenantId};

/// How often a canned response was applied in a period: the number of
/// [`EventKind::CannedResponseApplied`](crate::domain::EventKind::CannedResponseApplied)
/// events naming it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedUsage {
    /// The response (it may since have been deleted).
    pub canned_response: CannedResponseId,
    /// Times applied.
    pub uses: u64,
    /// The last time.
    pub last_used_at: Timestamp,
}

/// Canned responses of every tenant.
#[async_trait]
pub trait CannedResponseStore: Send + Sync {
    /// One response of the tenant.
    async fn get_canned_response(
        &self,
        tenant: TenantId,
        id: CannedResponseId,
    ) -> Result<Option<CannedResponse>>;

    /// Every response of the tenant, shared and personal, by folded name
    /// ([`CannedResponse::folded_name`]), then id.
    async fn list_canned_responses(&self, tenant: TenantId) -> Result<Vec<CannedResponse>>;

    /// How often each response of the tenant was applied at or after `since` (events of
    /// kind `canned_response_applied` of the tenant's tickets), most used first, then by id;
    /// responses never applied in the period are left out.
    async fn canned_response_usage(
        &self,
        tenant: TenantId,
        since: Timestamp,
    ) -> Result<Vec<CannedUsage>>;
}
