//! Canned responses of the in-memory store.

use async_trait::async_trait;
use jiff::Timestamp;

use super::{Data, MemoryStore};
use crate::domain::{CannedResponse, EventKind};
use crate::store::{AdminChange, CannedResponseStore, CannedUsage};
use crate::{CannedResponseId, DuplicateKind, Error, Result, TenantId};

/// Refuses `canned` when another response of its tenant and scope has its folded name.
fn check_name(d: &Data, canned: &CannedResponse) -> Result<()> {
    let name = canned.folded_name();
    let taken = d.canned.iter().any(|c| {
        c.id != canned.id
            && c.tenant_id == canned.tenant_id
            && c.owner == canned.owner
            && c.folded_name() == name
    });
    if taken {
        return Err(Error::Duplicate {
            kind: DuplicateKind::Name,
            value: canned.name.clone(),
        });
    }
    Ok(())
}

fn position(d: &Data, tenant: TenantId, id: CannedResponseId) -> Result<usize> {
    d.canned
        .iter()
        .position(|c| c.tenant_id == tenant && c.id == id)
        .ok_or_else(|| Error::not_found("canned_response", id))
}

/// Applies one of the canned-response changes of [`AdminChange`] (others are refused).
pub(super) fn apply(d: &mut Data, change: &AdminChange) -> Result<()> {
    match change {
        AdminChange::CreateCannedResponse(canned) => {
            if d.canned.iter().any(|c| c.id == canned.id) {
                return Err(Error::Duplicate {
                    kind: DuplicateKind::Id,
                    value: canned.id.to_string(),
                });
            }
            check_name(d, canned)?;
            d.canned.push(canned.clone());
        }
        AdminChange::UpdateCannedResponse(canned) => {
            let at = position(d, canned.tenant_id, canned.id)?;
            check_name(d, canned)?;
            let slot = &mut d.canned[at];
            slot.owner = canned.owner;
            slot.name.clone_from(&canned.name);
            slot.body.clone_from(&canned.body);
            slot.internal = canned.internal;
            slot.actions.clone_from(&canned.actions);
            slot.updated_at = canned.updated_at;
        }
        AdminChange::DeleteCannedResponse { tenant, id } => {
            let at = position(d, *tenant, *id)?;
            d.canned.remove(at);
        }
        _ => return Err(Error::Internal("not a canned-response change")),
    }
    Ok(())
}

#[async_trait]
impl CannedResponseStore for MemoryStore {
    async fn get_canned_response(
        &self,
        tenant: TenantId,
        id: CannedResponseId,
    ) -> Result<Option<CannedResponse>> {
        Ok(self
            .lock()?
            .canned
            .iter()
            .find(|c| c.tenant_id == tenant && c.id == id)
            .cloned())
    }

    async fn list_canned_responses(&self, tenant: TenantId) -> Result<Vec<CannedResponse>> {
        let mut list: Vec<CannedResponse> = self
            .lock()?
            .canned
            .iter()
            .filter(|c| c.tenant_id == tenant)
            .cloned()
            .collect();
        list.sort_by_cached_key(|c| (c.folded_name(), c.id));
        Ok(list)
    }

    async fn canned_response_usage(
        &self,
        tenant: TenantId,
        since: Timestamp,
    ) -> Result<Vec<CannedUsage>> {
        let d = self.lock()?;
        let mut usage: Vec<CannedUsage> = Vec::new();
        let events = d
            .events
            .values()
            .flatten()
            .filter(|e| e.tenant_id == tenant && e.at >= since);
        for event in events {
            let EventKind::CannedResponseApplied {
                canned_response, ..
            } = &event.kind
            else {
                continue;
            };
            match usage
                .iter_mut()
                .find(|u| u.canned_response == *canned_response)
            {
                Some(u) => {
                    u.uses += 1;
                    u.last_used_at = u.last_used_at.max(event.at);
                }
                None => usage.push(CannedUsage {
                    canned_response: *canned_response,
                    uses: 1,
                    last_used_at: event.at,
                }),
            }
        }
        usage.sort_by(|a, b| {
            b.uses
                .cmp(&a.uses)
                .then(a.canned_response.cmp(&b.canned_response))
        });
        Ok(usage)
    }
}
