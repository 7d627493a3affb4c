//! Saved views: the reads. Creating, changing and deleting one are administrative changes
//! with an audit event ([`AdminChange::CreateSavedView`](super::AdminChange::CreateSavedView)
//! and the two after it). How many tickets a view holds is
//! [`TicketStore::count_tickets`](super::TicketStore::count_tickets) of its query.

use async_trait::async_trait;

use crate::domain::SavedView;
use crate::{Result, SavedViewId, TenantId};

/// Saved views of every tenant.
#[async_trait]
pub trait SavedViewStore: Send + Sync {
    /// One view of the tenant.
    async fn get_saved_view(&self, tenant: TenantId, id: SavedViewId) -> Result<Option<SavedView>>;

    /// Every view of the tenant, shared and personal, by folded name
    /// ([`SavedView::folded_name`]), then id.
    async fn list_saved_views(&self, tenant: TenantId) -> Result<Vec<SavedView>>;
}
