//! Triage: the [`Classifier`] trait, the keyword [`RuleClassifier`], and the
//! [`ClassifierChain`] that tries classifiers in order and never fails intake.

mod chain;
mod learned;
mod rules;

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use chain::{ClassifierChain, TriageOutcome};
pub use learned::{FittedModel, LabelledTicket, LearnedTriage};
pub use rules::RuleClassifier;

use crate::domain::{Priority, Sentiment, Tenant, TriageSource};
use crate::llm::UsageTally;
use crate::{BoxError, ModelError};

/// What a classifier reads. Subject and description are untrusted customer text.
#[derive(Debug, Clone, Copy)]
pub struct ClassifyInput<'a> {
    /// The tenant, whose settings bound every allowed value.
    pub tenant: &'a Tenant,
    /// Ticket subject.
    pub subject: &'a str,
    /// Ticket description.
    pub description: &'a str,
    /// Where a classifier that calls a language model counts what the call spent
    /// ([`UsageTally::metered`]); the service commits it with the new ticket.
    pub usage: &'a UsageTally,
}

/// A classifier's answer, before the chain checks it against the tenant's settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// One-line summary.
    pub summary: Option<String>,
    /// Category (must be one of the tenant's).
    pub category: Option<String>,
    /// Priority.
    pub priority: Option<Priority>,
    /// Required skills (unknown ones are dropped by the chain).
    pub required_skills: Vec<String>,
    /// Sentiment.
    pub sentiment: Option<Sentiment>,
    /// BCP-47 language.
    pub language: Option<String>,
    /// Confidence, 0..=1.
    pub confidence: f32,
    /// Dropdown custom fields the classifier filled: field key to one of the field's
    /// options (the language model's classifier only; checked against the tenant's fields).
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, String>,
    /// The language model that answered, for a model's classification (the one of a
    /// [`ModelChain`](crate::ai::ModelChain) that did).
    pub model: Option<String>,
}

/// Why a classifier produced nothing usable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClassifyError {
    /// The model behind it failed.
    #[error("model failed")]
    Model(#[from] ModelError),
    /// The answer broke the schema or the tenant's allowed values.
    #[error("invalid classification: {0}")]
    Invalid(String),
    /// The classifier has no model for this tenant yet (learned triage before training).
    #[error("not trained for this tenant")]
    NotTrained,
    /// The classifier decided it has nothing to say (no rule matched).
    #[error("no match")]
    NoMatch,
    /// Anything else.
    #[error("classifier failed")]
    Other(#[source] BoxError),
}

impl ClassifyError {
    /// The reason recorded on the ticket's triage (`"timeout"`,
    /// `"malformed_output: missing field category"`).
    pub fn reason(&self) -> String {
        match self {
            Self::Model(e) => match e {
                ModelError::MalformedOutput { message } => format!("malformed_output: {message}"),
                ModelError::Blocked { reason } => format!("blocked: {reason}"),
                ModelError::CircuitOpen { reason } => format!("circuit_open: {reason}"),
                other => other.kind_name().to_string(),
            },
            Self::Invalid(message) => format!("invalid: {message}"),
            Self::NotTrained => "not_trained".into(),
            Self::NoMatch => "no_match".into(),
            Self::Other(e) => format!("error: {e}"),
        }
    }
}

/// A ticket classifier.
#[async_trait]
pub trait Classifier: Send + Sync + Debug {
    /// Which kind of classifier this is (recorded on the ticket).
    fn source(&self) -> TriageSource;

    /// Classifies one ticket.
    async fn classify(&self, input: &ClassifyInput<'_>) -> Result<Classification, ClassifyError>;
}

#[async_trait]
impl<C: Classifier + ?Sized> Classifier for Arc<C> {
    fn source(&self) -> TriageSource {
        (**self).source()
    }

    async fn classify(&self, input: &ClassifyInput<'_>) -> Result<Classification, ClassifyError> {
        (**self).classify(input).await
    }
}
