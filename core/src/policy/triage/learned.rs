//! Learned triage's contract: a classifier trained on each tenant's own resolved tickets,
//! whose models the service trains, stores and loads ([`LearnedTriage`]).
//!
//! The service owns the life of a model: its leased training job
//! ([`Helpdesk::train_triage_models`](crate::service::Helpdesk::train_triage_models))
//! gathers the tenant's resolved tickets, holds a slice out, calls
//! [`LearnedTriage::fit`], keeps the bytes in the blob store and records the model in the
//! store ([`TriageModelStore`](crate::store::TriageModelStore)); every instance then
//! [`install`](LearnedTriage::install)s the newest version it finds, and
//! [`uninstall`](LearnedTriage::uninstall)s it once erasure has retired it. The classifier
//! itself only fits, serialises, loads and classifies.

use async_trait::async_trait;

use super::Classifier;
use crate::{Result, TenantId};

/// One resolved ticket to learn from: its text and the category it was resolved under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledTicket {
    /// The ticket's subject.
    pub subject: String,
    /// The ticket's description.
    pub description: String,
    /// The category agents settled on.
    pub category: String,
}

/// A model fitted by [`LearnedTriage::fit`], not yet installed anywhere.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedModel {
    /// The serialised model, as [`LearnedTriage::install`] reads it.
    pub bytes: Vec<u8>,
    /// The categories it predicts, sorted.
    pub categories: Vec<String>,
    /// Held-out tickets whose category it predicted right.
    pub holdout_correct: u64,
}

/// A classifier the service trains per tenant. Implementations do their heavy work
/// (embedding, fitting, decoding) off the async threads.
#[async_trait]
pub trait LearnedTriage: Classifier {
    /// What [`fit`](Self::fit) writes and [`install`](Self::install) reads: the model
    /// format and everything its bytes depend on (the embedding model). A stored model of
    /// another format is never installed; the training job trains a new one instead.
    fn format(&self) -> &str;

    /// Fits a model on `train` (at least two categories) and counts how many of `holdout`
    /// it classifies right. Installs nothing.
    async fn fit(
        &self,
        train: &[LabelledTicket],
        holdout: &[LabelledTicket],
    ) -> Result<FittedModel>;

    /// Makes `bytes` (from [`fit`](Self::fit), possibly on another instance) the tenant's
    /// model as `version`; the previous model answers until it is ready. Bytes that do not
    /// decode to a consistent model are an error, and the previous model stays.
    async fn install(&self, tenant: TenantId, version: u64, bytes: &[u8]) -> Result<()>;

    /// The version installed for the tenant, `None` before the first.
    fn installed_version(&self, tenant: TenantId) -> Option<u64>;

    /// Forgets the tenant's model (it was retired: a ticket it learned from was erased);
    /// until a newer version is installed the tenant's tickets are classified without it.
    fn uninstall(&self, tenant: TenantId);
}
