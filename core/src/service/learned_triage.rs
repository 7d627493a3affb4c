//! Learned triage: the leased job that trains each tenant's model from its resolved
//! tickets, and the check by which every instance installs the newest model.
//!
//! * **Training** ([`Helpdesk::train_triage_models`]): under the lease
//!   `"triage-training"`, for each tenant with at least
//!   [`LearnedTriageConfig::min_tickets`] resolved or closed tickets (and, after its first
//!   model, [`LearnedTriageConfig::retrain_percent`] more than the last model saw), the
//!   job reads up to [`LearnedTriageConfig::max_tickets`] of them, newest first, keeps
//!   those filed under one of the tenant's categories with at least
//!   [`LearnedTriageConfig::min_per_category`] examples, holds
//!   [`LearnedTriageConfig::holdout_percent`] of them out (chosen by ticket id, so the same
//!   ticket is always on the same side), fits on the rest and counts how many held-out
//!   tickets the model gets right. The bytes go to the blob store, the record
//!   ([`TriageModel`]) to the store as the next version; the job installs it here, and
//!   deletes the blobs of versions older than the last [`KEPT_MODEL_BLOBS`] (except the
//!   newest of each format, which an instance of that format may still load).
//! * **Installing** ([`Helpdesk::learned_triage_sync`]): before a triage, an instance that
//!   has not looked for [`LearnedTriageConfig::check_interval`] reads the tenant's newest
//!   record of its classifier's format and installs it when it is newer than its own, or
//!   uninstalls its own when that record is retired.
//!   A model trained on instance A classifies on instance B within that interval.
//! * **Retiring**: erasing a ticket's personal data retires the tenant's models, which
//!   learned from it (`learned_retirement`); the job then trains a new version.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::Helpdesk;
use crate::blob::BlobKey;
use crate::domain::{Actor, Ticket, TicketStatus};
use crate::roles::Action;
use crate::store::{TRIAGE_MODEL_ENTITY, TicketQuery, TicketSort, TriageModel};
use crate::triage::{LabelledTicket, LearnedTriage};
use crate::{Error, Result, TenantId, TicketId};

/// How many of a tenant's newest model versions keep their bytes in the blob store.
pub const KEPT_MODEL_BLOBS: usize = 3;

/// When and how learned triage trains ([`Helpdesk::train_triage_models`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnedTriageConfig {
    /// Resolved or closed tickets a tenant needs before its first model (default 100).
    pub min_tickets: u64,
    /// Examples a category needs to be learned (default 5); tickets of rarer categories
    /// are left out, and a tenant needs two learnable categories.
    pub min_per_category: usize,
    /// Most tickets one training reads, newest first (default 5 000).
    pub max_tickets: usize,
    /// Share of the tickets held out to measure the model, in percent (default 20).
    pub holdout_percent: u8,
    /// Growth of the tenant's resolved tickets, in percent of what the last model saw,
    /// that makes the job train again (default 10).
    pub retrain_percent: u64,
    /// How long an instance trusts its installed model before looking for a newer one in
    /// the store (default 30 s; zero: before every triage).
    pub check_interval: Duration,
    /// How long the training lease lasts (default 10 min): a tenant's training should fit
    /// in it; when it does not, a second instance may train the same tenant, and one of
    /// the two records loses as a version conflict.
    pub lease_ttl: Duration,
}

impl Default for LearnedTriageConfig {
    fn default() -> Self {
        Self {
            min_tickets: 100,
            min_per_category: 5,
            max_tickets: 5_000,
            holdout_percent: 20,
            retrain_percent: 10,
            check_interval: Duration::from_secs(30),
            lease_ttl: Duration::from_secs(600),
        }
    }
}

impl LearnedTriageConfig {
    pub(super) fn check(&self) -> Result<()> {
        let bad = |field: &str, message: &str| {
            Err(Error::Configuration {
                field: format!("learned_triage.{field}").into(),
                message: message.into(),
            })
        };
        if self.min_tickets < 2 {
            return bad("min_tickets", "must be at least 2");
        }
        if self.min_per_category == 0 {
            return bad("min_per_category", "must be at least 1");
        }
        if self.max_tickets < 2
            || u64::try_from(self.max_tickets).unwrap_or(u64::MAX) < self.min_tickets
        {
            return bad("max_tickets", "must be at least min_tickets");
        }
        if self.holdout_percent >= 100 {
            return bad("holdout_percent", "must be below 100");
        }
        if self.lease_ttl.is_zero() {
            return bad("lease_ttl", "must be positive");
        }
        Ok(())
    }
}

/// What one training job did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TrainingReport {
    /// The models recorded, one per tenant trained.
    pub trained: Vec<TriageModel>,
    /// Tenants not due (too few resolved tickets, or too few new since the last model).
    pub not_due: u64,
    /// Tenants due whose tickets did not make two learnable categories.
    pub too_few_examples: u64,
    /// Tenants whose training failed (logged; the next job tries again).
    pub failed: u64,
    /// Tenants whose new model was retired as soon as it was recorded, because a ticket
    /// it learned from was erased while it trained (the next job trains again).
    pub discarded: u64,
    /// False when another instance held the lease, or there is no learned classifier.
    pub ran: bool,
}

/// When each tenant last looked for a newer model.
#[derive(Debug, Default)]
pub(super) struct LearnedChecks(Mutex<HashMap<TenantId, Timestamp>>);

impl LearnedChecks {
    /// Marks the tenant checked at `now` and says whether it was due.
    fn due(&self, tenant: TenantId, now: Timestamp, interval: Duration) -> bool {
        let mut checks = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let fresh = checks
            .get(&tenant)
            .is_some_and(|last| last.checked_add(interval).is_ok_and(|until| now < until));
        if !fresh {
            checks.insert(tenant, now);
        }
        !fresh
    }
}

impl Helpdesk {
    /// Trains the learned classifier of every tenant that is due (module docs), under a
    /// lease so that of several instances one trains. Hosts run it periodically with the
    /// other sweeps; it is idempotent (a tenant with no new resolved tickets is not trained
    /// again). Without a learned classifier in the chain it does nothing.
    pub async fn train_triage_models(&self) -> Result<TrainingReport> {
        let Some(learned) = self.inner.classifiers.learned().cloned() else {
            return Ok(TrainingReport::default());
        };
        let store = &self.inner.store;
        let holder = self.inner.instance_id.as_str();
        let ttl = self.inner.config.learned_triage.lease_ttl;
        let mut report = TrainingReport::default();
        for tenant in store.list_tenants().await? {
            // Taken (or extended) per tenant: a long training renews it for the next one.
            if !store
                .try_acquire_lease(LEASE, holder, self.now(), ttl)
                .await?
            {
                break;
            }
            report.ran = true;
            match self.train_tenant(learned.as_ref(), tenant.id).await {
                Ok(Trained::Model(model)) => report.trained.push(*model),
                Ok(Trained::NotDue) => report.not_due += 1,
                Ok(Trained::TooFewExamples) => report.too_few_examples += 1,
                Ok(Trained::Discarded) => report.discarded += 1,
                Err(e) => {
                    tracing::warn!(tenant = %tenant.id, error = %e, "triage training failed; the next job tries again");
                    report.failed += 1;
                }
            }
        }
        if report.ran
            && let Err(e) = store.release_lease(LEASE, holder).await
        {
            tracing::warn!(lease = LEASE, error = %e, "releasing the training lease failed; it expires on its own");
        }
        Ok(report)
    }

    /// Whether the classifier chain has a learned classifier (then the helpdesk trains,
    /// stores and installs its models).
    pub fn learned_triage_enabled(&self) -> bool {
        self.inner.classifiers.learned().is_some()
    }

    /// Runs the training job on behalf of an admin (checks the role matrix).
    pub async fn run_triage_training(&self, actor: &Actor) -> Result<TrainingReport> {
        self.check(actor, Action::RunSweeps).await?;
        self.train_triage_models().await
    }

    /// The actor's tenant's learned-triage models, newest first, at most `limit` (admins;
    /// what analytics shows).
    pub async fn triage_models(&self, actor: &Actor, limit: usize) -> Result<Vec<TriageModel>> {
        self.check(actor, Action::ViewAnalytics).await?;
        self.inner
            .store
            .list_triage_models(actor.tenant_id, limit.min(100))
            .await
    }

    /// Installs the tenant's newest stored model of this instance's classifier's format
    /// when the one installed is older (or none is), uninstalls the one installed when
    /// that newest model is retired, and says which version is installed now. Intake runs
    /// it before triage once per [`LearnedTriageConfig::check_interval`]; call it directly
    /// to pick a new model up at once.
    pub async fn learned_triage_sync(&self, tenant: TenantId) -> Result<Option<u64>> {
        let Some(learned) = self.inner.classifiers.learned() else {
            return Ok(None);
        };
        let installed = learned.installed_version(tenant);
        let Some(model) = self.newest_of_format(tenant, learned.format()).await? else {
            return Ok(installed);
        };
        if model.retired_at.is_some() {
            if installed.is_some() {
                learned.uninstall(tenant);
            }
            return Ok(None);
        }
        if installed >= Some(model.version) {
            return Ok(installed);
        }
        let blobs = self.blob_store_for_learned()?;
        let key = BlobKey {
            tenant,
            sha256: model.blob,
        };
        let bytes = blobs.get(key).await?.ok_or_else(|| {
            Error::not_found("triage model bytes", format!("{tenant}/{}", model.version))
        })?;
        learned.install(tenant, model.version, &bytes).await?;
        Ok(Some(model.version))
    }

    /// [`learned_triage_sync`](Self::learned_triage_sync) when the tenant has not looked
    /// for [`LearnedTriageConfig::check_interval`]; a failure is logged and triage goes on
    /// with the model it has (intake never fails for it).
    pub(super) async fn learned_triage_sync_if_due(&self, tenant: TenantId) {
        if self.inner.classifiers.learned().is_none() {
            return;
        }
        let interval = self.inner.config.learned_triage.check_interval;
        if !interval.is_zero() && !self.inner.learned_checks.due(tenant, self.now(), interval) {
            return;
        }
        if let Err(e) = self.learned_triage_sync(tenant).await {
            tracing::warn!(%tenant, error = %e, "newest triage model not installed; triaging with the one this instance has");
        }
    }

    /// The tenant's newest model of `format` among its last [`FORMAT_SEARCH`] versions:
    /// while instances of two formats run side by side (a rolling upgrade to another
    /// embedding model), each trains and installs its own and neither retrains over the
    /// other's.
    async fn newest_of_format(
        &self,
        tenant: TenantId,
        format: &str,
    ) -> Result<Option<TriageModel>> {
        Ok(self
            .inner
            .store
            .list_triage_models(tenant, FORMAT_SEARCH)
            .await?
            .into_iter()
            .find(|m| m.format == format))
    }

    fn blob_store_for_learned(&self) -> Result<&crate::blob::DynBlobStore> {
        self.inner
            .blob_store
            .as_ref()
            .ok_or_else(|| Error::Configuration {
                field: "blob_store".into(),
                message: "learned triage keeps its models in the blob store".into(),
            })
    }

    async fn train_tenant(&self, learned: &dyn LearnedTriage, tenant: TenantId) -> Result<Trained> {
        let store = &self.inner.store;
        let config = &self.inner.config.learned_triage;
        let Some(settings) = store.get_tenant(tenant).await?.map(|t| t.settings) else {
            return Ok(Trained::NotDue);
        };
        let latest = store.latest_triage_model(tenant).await?;
        let own = match &latest {
            Some(m) if m.format == learned.format() => Some(m.clone()),
            _ => self.newest_of_format(tenant, learned.format()).await?,
        }
        .filter(|m| m.retired_at.is_none());
        let resolved = store.count_tickets(tenant, &resolved_query()).await?;
        if !is_due(config, own.as_ref(), resolved) {
            return Ok(Trained::NotDue);
        }
        let tickets = self.resolved_tickets(tenant).await?;
        let examples = learnable(&tickets, &settings.categories, config.min_per_category);
        let (train, holdout): (Vec<_>, Vec<_>) = examples
            .into_iter()
            .partition(|(ticket, _)| !held_out(ticket, config.holdout_percent));
        let categories: std::collections::BTreeSet<&str> =
            train.iter().map(|(_, l)| l.category.as_str()).collect();
        if (train.len() + holdout.len()) < usize::try_from(config.min_tickets).unwrap_or(usize::MAX)
            || categories.len() < 2
        {
            return Ok(Trained::TooFewExamples);
        }
        let used: HashSet<TicketId> = train
            .iter()
            .chain(&holdout)
            .map(|(ticket, _)| ticket.id)
            .collect();
        let train: Vec<LabelledTicket> = train.into_iter().map(|(_, l)| l).collect();
        let holdout: Vec<LabelledTicket> = holdout.into_iter().map(|(_, l)| l).collect();
        let fitted = learned.fit(&train, &holdout).await?;
        let blobs = self.blob_store_for_learned()?;
        let bytes: Arc<[u8]> = fitted.bytes.into();
        let key = {
            let bytes = bytes.clone();
            tokio::task::spawn_blocking(move || BlobKey::of(tenant, &bytes))
                .await
                .map_err(|_| Error::Internal("the hashing task of a triage model failed"))?
        };
        blobs.put(key, bytes.clone()).await?;
        let model = TriageModel {
            tenant_id: tenant,
            version: latest.as_ref().map_or(1, |m| m.version + 1),
            format: learned.format().to_string(),
            blob: key.sha256,
            size_bytes: bytes.len() as u64,
            trained_at: self.now(),
            resolved_tickets: resolved,
            training_tickets: train.len() as u64,
            holdout_tickets: holdout.len() as u64,
            holdout_correct: fitted.holdout_correct.min(holdout.len() as u64),
            categories: fitted.categories,
            retired_at: None,
        };
        match store.put_triage_model(&model).await {
            Ok(()) => {}
            Err(Error::Conflict { entity, .. }) if entity == TRIAGE_MODEL_ENTITY => {
                // Another instance recorded this version first (its lease ran out while
                // it trained); its model stands, and this one's bytes go unless shared.
                let winner = store.latest_triage_model(tenant).await?;
                if winner.is_none_or(|w| w.blob != model.blob) {
                    blobs.delete(key).await?;
                }
                return Ok(Trained::NotDue);
            }
            Err(e) => return Err(e),
        }
        if self.learned_from_erased(tenant, &used).await? {
            self.retire_learned_models(tenant).await?;
            tracing::info!(%tenant, version = model.version, "the model just trained learned from a ticket erased meanwhile; retired");
            return Ok(Trained::Discarded);
        }
        if let Err(e) = learned.install(tenant, model.version, &bytes).await {
            tracing::warn!(%tenant, version = model.version, error = %e, "the model just trained did not install here");
        }
        self.delete_old_model_blobs(tenant).await;
        tracing::info!(%tenant, version = model.version, training = model.training_tickets, holdout = model.holdout_tickets, accuracy = ?model.accuracy(), "triage model trained");
        Ok(Trained::Model(Box::new(model)))
    }

    /// Reads up to `max_tickets` resolved or closed tickets, newest first.
    pub(super) async fn resolved_tickets(&self, tenant: TenantId) -> Result<Vec<Ticket>> {
        let max = self.inner.config.learned_triage.max_tickets;
        let mut query = TicketQuery {
            sort: TicketSort::Newest,
            limit: TicketQuery::MAX_LIMIT,
            ..resolved_query()
        };
        let mut tickets = Vec::new();
        loop {
            let page = self.inner.store.list_tickets(tenant, &query).await?;
            tickets.extend(page.items);
            match page.next_cursor {
                Some(cursor) if tickets.len() < max => query.cursor = Some(cursor),
                _ => break,
            }
        }
        tickets.truncate(max);
        Ok(tickets)
    }

    /// Deletes the bytes of the tenant's models older than the newest
    /// [`KEPT_MODEL_BLOBS`], unless a kept version has the same bytes. Failures are
    /// logged: an old blob left behind costs space, never correctness.
    async fn delete_old_model_blobs(&self, tenant: TenantId) {
        let Ok(blobs) = self.blob_store_for_learned() else {
            return;
        };
        let models = match self
            .inner
            .store
            .list_triage_models(tenant, KEPT_MODEL_BLOBS + OLD_BLOBS_PER_RUN)
            .await
        {
            Ok(models) => models,
            Err(e) => {
                tracing::warn!(%tenant, error = %e, "old triage model blobs not listed");
                return;
            }
        };
        let (kept, old) = models.split_at(models.len().min(KEPT_MODEL_BLOBS));
        for (i, model) in old.iter().enumerate() {
            let newest_of_its_format = !models[..KEPT_MODEL_BLOBS + i]
                .iter()
                .any(|m| m.format == model.format);
            if newest_of_its_format || kept.iter().any(|k| k.blob == model.blob) {
                continue;
            }
            let key = BlobKey {
                tenant,
                sha256: model.blob,
            };
            if let Err(e) = blobs.delete(key).await {
                tracing::warn!(%tenant, version = model.version, error = %e, "old triage model blob not deleted");
            }
        }
    }
}

const LEASE: &str = "triage-training";
/// How many of a tenant's newest versions are searched for one of a given format.
const FORMAT_SEARCH: usize = 20;
/// Old versions whose blobs one training deletes (deleting a missing blob is harmless).
const OLD_BLOBS_PER_RUN: usize = 5;

enum Trained {
    Model(Box<TriageModel>),
    NotDue,
    TooFewExamples,
    Discarded,
}

/// The tenant's resolved and closed tickets: what training counts and learns from.
fn resolved_query() -> TicketQuery {
    TicketQuery {
        statuses: vec![TicketStatus::Resolved, TicketStatus::Closed],
        ..TicketQuery::default()
    }
}

/// Whether a tenant with `resolved` resolved or closed tickets is due for training, given
/// its newest model of this instance's format.
fn is_due(config: &LearnedTriageConfig, own: Option<&TriageModel>, resolved: u64) -> bool {
    if resolved < config.min_tickets {
        return false;
    }
    match own {
        None => true,
        Some(model) => {
            let growth = model
                .resolved_tickets
                .saturating_mul(config.retrain_percent)
                / 100;
            resolved >= model.resolved_tickets.saturating_add(growth.max(1))
        }
    }
}

/// The tickets to learn from with their labels: not erased or merged, with text, filed
/// under one of the tenant's categories that has at least `min_per_category` of them.
fn learnable<'a>(
    tickets: &'a [Ticket],
    categories: &[String],
    min_per_category: usize,
) -> Vec<(&'a Ticket, LabelledTicket)> {
    let usable: Vec<&Ticket> = tickets
        .iter()
        .filter(|t| t.erased_at.is_none() && t.merged_into.is_none())
        .filter(|t| !(t.subject.trim().is_empty() && t.description.trim().is_empty()))
        .filter(|t| t.category.as_ref().is_some_and(|c| categories.contains(c)))
        .collect();
    let mut per_category: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &usable {
        if let Some(c) = &t.category {
            *per_category.entry(c.as_str()).or_default() += 1;
        }
    }
    usable
        .into_iter()
        .filter_map(|t| {
            let category = t.category.as_deref()?;
            (per_category.get(category).copied().unwrap_or(0) >= min_per_category).then(|| {
                (
                    t,
                    LabelledTicket {
                        subject: t.subject.clone(),
                        description: t.description.clone(),
                        category: category.to_string(),
                    },
                )
            })
        })
        .collect()
}

/// Whether the ticket is in the held-out slice: chosen by the random bits of its id, so
/// a ticket stays on its side from one training to the next.
fn held_out(ticket: &Ticket, percent: u8) -> bool {
    let bytes = ticket.id.as_uuid().into_bytes();
    let mut tail = [0u8; 8];
    tail.copy_from_slice(&bytes[8..]);
    u64::from_le_bytes(tail) % 100 < u64::from(percent)
}
