//! Learned triage: [`LearnedClassifier`], trained per tenant on the tenant's own resolved
//! tickets, slots into core's classifier chain; as core's
//! [`LearnedTriage`](helpdesk_core::triage::LearnedTriage) it fits models whose bytes one
//! instance stores and every instance installs.

mod codec;
mod features;
mod learned;
mod model;
mod svm;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use helpdesk_core::domain::TriageSource;
use helpdesk_core::triage::{Classification, Classifier, ClassifyError, ClassifyInput};
use helpdesk_core::{EmbedKind, Embedder, Error, TenantId};

pub use codec::{
    MAX_MODEL_DIMENSIONS, MAX_MODEL_WEIGHTS, MODEL_FORMAT, MODEL_FORMAT_VERSION, MODEL_HEADER_LEN,
    MODEL_MAGIC,
};
pub use features::{FeatureOptions, MAX_CHAR_NGRAM, MAX_WORD_NGRAM};
pub use model::{LabelledText, Prediction, TextClassifierModel, TrainOptions};

use crate::error::KbError;

/// Longest training or ticket text read, in bytes (longer texts are cut at a char boundary).
pub const MAX_TEXT_BYTES: usize = 8 * 1024;

/// Most training examples accepted in one call.
pub const MAX_EXAMPLES: usize = 200_000;

/// One resolved ticket for training: its text and the category it was filed under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingExample {
    /// Ticket text (subject and description).
    pub text: String,
    /// The category agents settled on.
    pub category: String,
}

/// What a training run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingReport {
    /// Examples used.
    pub examples: usize,
    /// Distinct categories learned.
    pub categories: usize,
    /// Seconds spent embedding the texts.
    pub embed_seconds: f64,
    /// Seconds spent fitting the model.
    pub train_seconds: f64,
}

/// A classifier trained on each tenant's own resolved tickets: sentence embeddings plus
/// TF-IDF features and a linear SVM. Before a model is installed for a tenant
/// ([`LearnedTriage::install`](helpdesk_core::triage::LearnedTriage::install), or
/// [`LearnedClassifier::train`] on this instance), [`Classifier::classify`] answers
/// [`ClassifyError::NotTrained`] and the chain moves on. Skills come from the tenant's
/// `category_skills`; the confidence is a softmax over the SVM's decision values.
///
/// Clones share their models.
#[derive(Debug, Clone)]
pub struct LearnedClassifier {
    embedder: Arc<dyn Embedder>,
    options: TrainOptions,
    /// [`MODEL_FORMAT`], the embedder's model id and dimensions.
    format: Arc<str>,
    models: Arc<RwLock<HashMap<TenantId, Installed>>>,
}

/// A tenant's model and the store version it was installed as (`None` when
/// [`LearnedClassifier::train`] fitted it here).
#[derive(Debug, Clone)]
struct Installed {
    model: Arc<TextClassifierModel>,
    version: Option<u64>,
}

impl LearnedClassifier {
    /// A classifier with default training options.
    pub fn new(embedder: Arc<dyn Embedder>) -> Self {
        Self::with_options(embedder, TrainOptions::default())
    }

    /// A classifier with these training options.
    pub fn with_options(embedder: Arc<dyn Embedder>, options: TrainOptions) -> Self {
        let format = format!(
            "{MODEL_FORMAT}+{}@{}",
            embedder.model_id(),
            embedder.dimensions()
        );
        Self {
            embedder,
            options,
            format: format.into(),
            models: Arc::default(),
        }
    }

    /// (Re)trains the tenant's model on `examples` and installs it on this instance only,
    /// with no version ([`installed_version`](helpdesk_core::triage::LearnedTriage::installed_version)
    /// is then `None`); the old model keeps answering until the new one is ready. The same
    /// fitting as [`LearnedTriage::fit`](helpdesk_core::triage::LearnedTriage::fit), without
    /// the bytes: for tools and single-instance set-ups. Embedding runs through the
    /// embedder (on blocking threads), fitting on a blocking thread.
    pub async fn train(
        &self,
        tenant: TenantId,
        examples: &[TrainingExample],
    ) -> Result<TrainingReport, Error> {
        let (texts, categories) = learned::checked(
            "examples",
            "text",
            examples
                .iter()
                .map(|e| (Cow::Borrowed(e.text.as_str()), e.category.as_str())),
        )?;
        learned::check_training_categories("examples", &categories)?;
        let started = std::time::Instant::now();
        let embeddings = self.embed(&texts, EmbedKind::Document).await?;
        let embed_seconds = started.elapsed().as_secs_f64();
        let options = self.options.clone();
        let started = std::time::Instant::now();
        let model = tokio::task::spawn_blocking(move || {
            learned::fit_model(&texts, &embeddings, &categories, &options)
        })
        .await
        .map_err(KbError::Join)??;
        let report = TrainingReport {
            examples: examples.len(),
            categories: model.categories().len(),
            embed_seconds,
            train_seconds: started.elapsed().as_secs_f64(),
        };
        self.put(tenant, model, None);
        Ok(report)
    }

    /// Whether the tenant has a model.
    pub fn is_trained(&self, tenant: TenantId) -> bool {
        self.model(tenant).is_some()
    }

    /// Drops the tenant's model (and its installed version).
    pub fn forget(&self, tenant: TenantId) {
        self.models
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&tenant);
    }

    fn model(&self, tenant: TenantId) -> Option<Arc<TextClassifierModel>> {
        self.models
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&tenant)
            .map(|i| Arc::clone(&i.model))
    }

    fn put(&self, tenant: TenantId, model: TextClassifierModel, version: Option<u64>) {
        self.models
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(
                tenant,
                Installed {
                    model: Arc::new(model),
                    version,
                },
            );
    }

    /// Embeds `texts`, one vector each.
    async fn embed(&self, texts: &[String], kind: EmbedKind) -> Result<Vec<Vec<f32>>, Error> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let embeddings = self.embedder.embed(texts, kind).await?;
        if embeddings.len() != texts.len() {
            return Err(KbError::EmbeddingCount {
                got: embeddings.len(),
                want: texts.len(),
            }
            .into());
        }
        Ok(embeddings)
    }
}

/// The text a ticket is classified by: subject and description.
pub fn ticket_text(subject: &str, description: &str) -> String {
    match (subject.trim(), description.trim()) {
        ("", d) => d.to_string(),
        (s, "") => s.to_string(),
        (s, d) => format!("{s}\n{d}"),
    }
}

fn clip(text: &str) -> &str {
    if text.len() <= MAX_TEXT_BYTES {
        return text;
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[async_trait]
impl Classifier for LearnedClassifier {
    fn source(&self) -> TriageSource {
        TriageSource::Learned
    }

    async fn classify(&self, input: &ClassifyInput<'_>) -> Result<Classification, ClassifyError> {
        let model = self
            .model(input.tenant.id)
            .ok_or(ClassifyError::NotTrained)?;
        let text = ticket_text(input.subject, input.description);
        if text.is_empty() {
            return Err(ClassifyError::NoMatch);
        }
        let text = clip(&text).to_string();
        let embedding = self
            .embedder
            .embed(std::slice::from_ref(&text), EmbedKind::Query)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                ClassifyError::Other(Box::new(KbError::EmbeddingCount { got: 0, want: 1 }))
            })?;
        // The nearest-neighbour term scans every training embedding: off the async threads.
        let prediction = tokio::task::spawn_blocking(move || model.predict(&text, &embedding))
            .await
            .map_err(|e| ClassifyError::Other(Box::new(KbError::Join(e))))?
            .map_err(|e| ClassifyError::Other(Box::new(e)))?;
        let settings = &input.tenant.settings;
        let required_skills = settings
            .category_skills
            .iter()
            .find(|m| m.category == prediction.category)
            .map(|m| {
                m.skills
                    .iter()
                    .filter(|s| settings.skills.contains(s))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        Ok(Classification {
            category: Some(prediction.category),
            required_skills,
            confidence: prediction.confidence,
            ..Classification::default()
        })
    }
}
