//! Learned triage: [`LearnedClassifier`], trained per tenant on the tenant's own resolved
//! tickets, slots into core's classifier chain.

mod features;
mod model;
mod svm;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use helpdesk_core::domain::TriageSource;
use helpdesk_core::triage::{Classification, Classifier, ClassifyError, ClassifyInput};
use helpdesk_core::{EmbedKind, Embedder, Error, TenantId};

pub use features::FeatureOptions;
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
/// TF-IDF features and a linear SVM. Before [`LearnedClassifier::train`] has run for a
/// tenant, [`Classifier::classify`] answers [`ClassifyError::NotTrained`] and the chain
/// moves on. Skills come from the tenant's `category_skills`; the confidence is a softmax
/// over the SVM's decision values.
#[derive(Debug, Clone)]
pub struct LearnedClassifier {
    embedder: Arc<dyn Embedder>,
    options: TrainOptions,
    models: Arc<RwLock<HashMap<TenantId, Arc<TextClassifierModel>>>>,
}

impl LearnedClassifier {
    /// A classifier with default training options.
    pub fn new(embedder: Arc<dyn Embedder>) -> Self {
        Self::with_options(embedder, TrainOptions::default())
    }

    /// A classifier with these training options.
    pub fn with_options(embedder: Arc<dyn Embedder>, options: TrainOptions) -> Self {
        Self {
            embedder,
            options,
            models: Arc::default(),
        }
    }

    /// (Re)trains the tenant's model on `examples`; the old model keeps answering until the
    /// new one is ready. Embedding runs through the embedder (on blocking threads), fitting
    /// on a blocking thread.
    pub async fn train(
        &self,
        tenant: TenantId,
        examples: &[TrainingExample],
    ) -> Result<TrainingReport, Error> {
        if examples.len() > MAX_EXAMPLES {
            return Err(Error::validation(
                "examples",
                format!("more than {MAX_EXAMPLES} examples"),
            ));
        }
        for (i, e) in examples.iter().enumerate() {
            if e.text.trim().is_empty() {
                return Err(Error::validation(format!("examples[{i}].text"), "is empty"));
            }
            if e.category.trim().is_empty() {
                return Err(Error::validation(
                    format!("examples[{i}].category"),
                    "is empty",
                ));
            }
        }
        let texts: Vec<String> = examples.iter().map(|e| clip(&e.text).to_string()).collect();
        let started = std::time::Instant::now();
        let embeddings = self.embedder.embed(&texts, EmbedKind::Document).await?;
        let embed_seconds = started.elapsed().as_secs_f64();
        if embeddings.len() != texts.len() {
            return Err(KbError::EmbeddingCount {
                got: embeddings.len(),
                want: texts.len(),
            }
            .into());
        }
        let categories: Vec<String> = examples.iter().map(|e| e.category.clone()).collect();
        let options = self.options.clone();
        let started = std::time::Instant::now();
        let model = tokio::task::spawn_blocking(move || {
            let labelled: Vec<LabelledText<'_>> = texts
                .iter()
                .zip(&embeddings)
                .zip(&categories)
                .map(|((text, embedding), category)| LabelledText {
                    text,
                    embedding,
                    category,
                })
                .collect();
            TextClassifierModel::train(&labelled, &options)
        })
        .await
        .map_err(KbError::Join)??;
        let report = TrainingReport {
            examples: examples.len(),
            categories: model.categories().len(),
            embed_seconds,
            train_seconds: started.elapsed().as_secs_f64(),
        };
        self.models
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(tenant, Arc::new(model));
        Ok(report)
    }

    /// Whether the tenant has a trained model.
    pub fn is_trained(&self, tenant: TenantId) -> bool {
        self.model(tenant).is_some()
    }

    /// Drops the tenant's model.
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
            .cloned()
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
