//! Erasure reaches learned triage. A model fitted on a tenant's tickets keeps derived data
//! of them (their words, their embeddings), so when a ticket's personal data is erased the
//! tenant's models are retired ([`TriageModelStore::retire_triage_models`]):
//!
//! * the erasing instance uninstalls the model at once, every other instance at its next
//!   check (within [`LearnedTriageConfig::check_interval`]), and none installs it again;
//! * the models' bytes are deleted from the blob store;
//! * the training job treats a retired model as none and trains the next version from the
//!   tickets left, erased ones excluded.
//!
//! A customer erasure and a retention batch retire before they erase (the models stop
//! answering while the tickets go) and after (a model recorded meanwhile, trained from
//! tickets read before they were erased, goes too). A training that records its model
//! after the erasure finished reads its tickets again and retires the model itself when
//! one of them was erased, so no order of the two leaves such a model in service.
//!
//! [`TriageModelStore::retire_triage_models`]: crate::store::TriageModelStore::retire_triage_models
//! [`LearnedTriageConfig::check_interval`]: super::LearnedTriageConfig::check_interval

use std::collections::{HashMap, HashSet};

use super::{ErasureReport, Helpdesk};
use crate::blob::BlobKey;
use crate::domain::Sha256;
use crate::{Result, TenantId, TicketId};

/// How many of a tenant's newest models a retirement looks at to delete their bytes: the
/// training job keeps bytes only for its newest few versions and the newest of each
/// format, all among these.
const RETIRED_BLOBS_SEARCH: usize = 20;

impl Helpdesk {
    /// Retires every model of the tenant in service, uninstalls the tenant's model on this
    /// instance, and deletes the bytes of its retired models (unless a model in service
    /// has the same bytes). Idempotent: run again, it retires nothing and deletes what a
    /// failed run left. The report counts the models this call retired
    /// (`triage_models_retired`) and the bytes the blob store kept (`blobs_left`).
    pub(super) async fn retire_learned_models(&self, tenant: TenantId) -> Result<ErasureReport> {
        let store = &self.inner.store;
        let models = store.retire_triage_models(tenant, self.now()).await?;
        if let Some(learned) = self.inner.classifiers.learned() {
            learned.uninstall(tenant);
        }
        let mut retirement = ErasureReport {
            triage_models_retired: models,
            ..ErasureReport::default()
        };
        let listed = store
            .list_triage_models(tenant, RETIRED_BLOBS_SEARCH)
            .await?;
        let in_service: HashSet<Sha256> = listed
            .iter()
            .filter(|m| m.retired_at.is_none())
            .map(|m| m.blob)
            .collect();
        let retired: HashSet<Sha256> = listed
            .iter()
            .filter(|m| m.retired_at.is_some() && !in_service.contains(&m.blob))
            .map(|m| m.blob)
            .collect();
        if retired.is_empty() {
            return Ok(retirement);
        }
        let Some(blobs) = self.blob_store() else {
            tracing::warn!(%tenant, "retired triage models' bytes not deleted: this instance has no blob store");
            retirement.blobs_left.extend(retired);
            return Ok(retirement);
        };
        for sha256 in retired {
            if let Err(e) = blobs.delete(BlobKey { tenant, sha256 }).await {
                tracing::warn!(%tenant, %sha256, error = &e as &dyn std::error::Error, "a retired triage model's bytes could not be deleted; delete them by hand");
                retirement.blobs_left.push(sha256);
            }
        }
        if models > 0 {
            tracing::info!(%tenant, models, "learned triage models retired after an erasure");
        }
        Ok(retirement)
    }

    /// Whether any of the tickets a model was just trained on (`used`) has been erased (or
    /// is gone) since training read them: the resolved tickets are read again, newest
    /// first, and those not among them are looked up one by one.
    pub(super) async fn learned_from_erased(
        &self,
        tenant: TenantId,
        used: &HashSet<TicketId>,
    ) -> Result<bool> {
        let now: HashMap<TicketId, bool> = self
            .resolved_tickets(tenant)
            .await?
            .into_iter()
            .map(|t| (t.id, t.erased_at.is_some()))
            .collect();
        for id in used {
            let erased = match now.get(id) {
                Some(erased) => *erased,
                None => self
                    .inner
                    .store
                    .get_ticket(tenant, *id)
                    .await?
                    .is_none_or(|t| t.erased_at.is_some()),
            };
            if erased {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
