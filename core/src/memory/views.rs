//! Saved views of the in-memory store.

use async_trait::async_trait;

use super::{Data, MemoryStore};
use crate::domain::SavedView;
use crate::store::{AdminChange, SavedViewStore};
use crate::{DuplicateKind, Error, Result, SavedViewId, TenantId};

/// Refuses `view` when another view of its tenant and scope has its folded name.
fn check_name(d: &Data, view: &SavedView) -> Result<()> {
    let name = view.folded_name();
    let taken = d.views.iter().any(|v| {
        v.id != view.id
            && v.tenant_id == view.tenant_id
            && v.owner == view.owner
            && v.folded_name() == name
    });
    if taken {
        return Err(Error::Duplicate {
            kind: DuplicateKind::Name,
            value: view.name.clone(),
        });
    }
    Ok(())
}

fn position(d: &Data, tenant: TenantId, id: SavedViewId) -> Result<usize> {
    d.views
        .iter()
        .position(|v| v.tenant_id == tenant && v.id == id)
        .ok_or_else(|| Error::not_found("saved_view", id))
}

/// Applies one of the saved-view changes of [`AdminChange`] (others are refused).
pub(super) fn apply(d: &mut Data, change: &AdminChange) -> Result<()> {
    match change {
        AdminChange::CreateSavedView(view) => {
            if d.views.iter().any(|v| v.id == view.id) {
                return Err(Error::Duplicate {
                    kind: DuplicateKind::Id,
                    value: view.id.to_string(),
                });
            }
            check_name(d, view)?;
            d.views.push(view.clone());
        }
        AdminChange::UpdateSavedView(view) => {
            let at = position(d, view.tenant_id, view.id)?;
            check_name(d, view)?;
            let slot = &mut d.views[at];
            slot.owner = view.owner;
            slot.name.clone_from(&view.name);
            slot.filter.clone_from(&view.filter);
            slot.updated_at = view.updated_at;
        }
        AdminChange::DeleteSavedView { tenant, id } => {
            let at = position(d, *tenant, *id)?;
            d.views.remove(at);
        }
        _ => return Err(Error::Internal("not a saved-view change")),
    }
    Ok(())
}

#[async_trait]
impl SavedViewStore for MemoryStore {
    async fn get_saved_view(&self, tenant: TenantId, id: SavedViewId) -> Result<Option<SavedView>> {
        Ok(self
            .lock()?
            .views
            .iter()
            .find(|v| v.tenant_id == tenant && v.id == id)
            .cloned())
    }

    async fn list_saved_views(&self, tenant: TenantId) -> Result<Vec<SavedView>> {
        let mut list: Vec<SavedView> = self
            .lock()?
            .views
            .iter()
            .filter(|v| v.tenant_id == tenant)
            .cloned()
            .collect();
        list.sort_by_cached_key(|v| (v.folded_name(), v.id));
        Ok(list)
    }
}
