//! Learned-triage models, kept in the store so that every app instance on one database
//! classifies with the same model: each tenant's trained models as numbered versions
//! ([`TriageModel`]). The model's bytes live in the blob store under
//! [`TriageModel::blob`]; the record says which bytes are current and how well they did on
//! the tenant's held-out tickets.
//!
//! The leased training job ([`Helpdesk::train_triage_models`]) records a model as the
//! version after the newest one it read; two trainers racing for the same version get one
//! [`Conflict`](crate::Error::Conflict) on entity [`TRIAGE_MODEL_ENTITY`], so a tenant's
//! versions never fork. Each instance asks for the newest record now and then and loads
//! the model when its version is newer than the one it has.
//!
//! A model learned from tickets whose personal data is later erased keeps derived data of
//! them (words, embeddings), so erasure retires the tenant's models
//! ([`TriageModelStore::retire_triage_models`]): a retired model is never installed again,
//! instances drop it at their next check, its bytes are deleted, and the training job
//! trains a new version from what is left.
//!
//! Backends keep two rules: a tenant has at most one record per version, and a tenant
//! never sees another tenant's records.
//!
//! [`Helpdesk::train_triage_models`]: crate::service::Helpdesk::train_triage_models

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::Sha256;
use jiff::Timestamp;

use crate::{Error, Result, TenantId};

/// The entity a conflicting [`TriageModelStore::put_triage_model`] names.
pub const TRIAGE_MODEL_ENTITY: &str = "triage_model";
/// Longest model format id.
pub const MAX_TRIAGE_FORMAT_CHARS: usize = 200;
/// Most categories one model may know.
pub const MAX_TRIAGE_CATEGORIES: usize = 1_000;
/// Longest category name a model may know.
pub const MAX_TRIAGE_CATEGORY_CHARS: usize = 200;

/// One trained triage model of a tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriageModel {
    /// The tenant whose tickets trained it.
    pub tenant_id: TenantId,
    /// The tenant's model version: 1 for the first model, then one more each time.
    pub version: u64,
    /// What reads the bytes: the learned classifier's format and embedding model
    /// ([`LearnedTriage::format`](crate::triage::LearnedTriage::format)). An instance
    /// loads only models of its own format.
    pub format: String,
    /// SHA-256 of the model's bytes, kept in the blob store under the tenant.
    pub blob: Sha256,
    /// Length of the model's bytes.
    pub size_bytes: u64,
    /// When training finished.
    pub trained_at: Timestamp,
    /// Resolved and closed tickets the tenant had when training started (the training job
    /// retrains once enough more have been resolved).
    pub resolved_tickets: u64,
    /// Tickets the model was trained on.
    pub training_tickets: u64,
    /// Tickets held out of training to measure it.
    pub holdout_tickets: u64,
    /// Held-out tickets whose category the model predicted right.
    pub holdout_correct: u64,
    /// The categories it predicts, sorted.
    pub categories: Vec<String>,
    /// When it was retired because a ticket it may have learned from was erased; `None`
    /// while it is in service. A retired model is never installed, and its bytes are gone.
    #[serde(default)]
    pub retired_at: Option<Timestamp>,
}

impl TriageModel {
    /// Share of held-out tickets predicted right, 0..=1; `None` without held-out tickets.
    pub fn accuracy(&self) -> Option<f64> {
        (self.holdout_tickets > 0)
            .then(|| self.holdout_correct as f64 / self.holdout_tickets as f64)
    }

    /// The error every backend returns when the tenant already has this version: a
    /// [`Conflict`](Error::Conflict) on [`TRIAGE_MODEL_ENTITY`] with id
    /// `"<tenant>/<version>"`, expecting the version before it.
    pub fn version_taken(&self) -> Error {
        Error::Conflict {
            entity: TRIAGE_MODEL_ENTITY,
            id: format!("{}/{}", self.tenant_id, self.version),
            expected: self.version.saturating_sub(1),
        }
    }

    /// The checks every backend runs before storing: version 1 or more, a format id of 1
    /// to [`MAX_TRIAGE_FORMAT_CHARS`] characters, at most as many correct held-out tickets
    /// as held-out tickets, and 1 to [`MAX_TRIAGE_CATEGORIES`] distinct categories of 1 to
    /// [`MAX_TRIAGE_CATEGORY_CHARS`] characters. Errors name the field.
    pub fn check(&self) -> Result<()> {
        if self.version == 0 {
            return Err(Error::validation("version", "starts at 1"));
        }
        let format_chars = self.format.chars().count();
        if format_chars == 0 || format_chars > MAX_TRIAGE_FORMAT_CHARS {
            return Err(Error::validation(
                "format",
                format!("{format_chars} characters, 1 to {MAX_TRIAGE_FORMAT_CHARS} allowed"),
            ));
        }
        if self.holdout_correct > self.holdout_tickets {
            return Err(Error::validation(
                "holdout_correct",
                format!(
                    "{} is more than the {} held-out tickets",
                    self.holdout_correct, self.holdout_tickets
                ),
            ));
        }
        if self.categories.is_empty() || self.categories.len() > MAX_TRIAGE_CATEGORIES {
            return Err(Error::validation(
                "categories",
                format!(
                    "{} categories, 1 to {MAX_TRIAGE_CATEGORIES} allowed",
                    self.categories.len()
                ),
            ));
        }
        let mut seen = std::collections::HashSet::with_capacity(self.categories.len());
        for (i, category) in self.categories.iter().enumerate() {
            let chars = category.chars().count();
            if chars == 0 || chars > MAX_TRIAGE_CATEGORY_CHARS {
                return Err(Error::validation(
                    format!("categories[{i}]"),
                    format!("{chars} characters, 1 to {MAX_TRIAGE_CATEGORY_CHARS} allowed"),
                ));
            }
            if !seen.insert(category.as_str()) {
                return Err(Error::validation(
                    format!("categories[{i}]"),
                    format!("{category:?} is listed twice"),
                ));
            }
        }
        Ok(())
    }
}

/// Stored learned-triage models, per tenant.
#[async_trait]
pub trait TriageModelStore: Send + Sync {
    /// Records `model` as its tenant's version `model.version`. A version the tenant
    /// already has is a `Conflict` on [`TRIAGE_MODEL_ENTITY`] and changes nothing; an
    /// invalid record ([`TriageModel::check`]) is a `Validation` error.
    async fn put_triage_model(&self, model: &TriageModel) -> Result<()>;

    /// The tenant's models, highest version first, at most `limit`.
    async fn list_triage_models(&self, tenant: TenantId, limit: usize) -> Result<Vec<TriageModel>>;

    /// The tenant's highest version, `None` before its first model.
    async fn latest_triage_model(&self, tenant: TenantId) -> Result<Option<TriageModel>>;

    /// Retires every model of the tenant that is not retired yet, in one write: their
    /// `retired_at` becomes `at`. Models already retired keep their time, other tenants'
    /// models are untouched. Returns how many it retired (0 when run again).
    async fn retire_triage_models(&self, tenant: TenantId, at: Timestamp) -> Result<u64>;
}
