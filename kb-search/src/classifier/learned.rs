//! [`LearnedClassifier`] as core's [`LearnedTriage`]: fit a model and write its bytes on one
//! instance, install the bytes on every instance.

use std::borrow::Cow;
use std::collections::BTreeSet;

use async_trait::async_trait;
use helpdesk_core::store::MAX_TRIAGE_CATEGORIES;
use helpdesk_core::triage::{FittedModel, LabelledTicket, LearnedTriage};
use helpdesk_core::{EmbedKind, Error, TenantId};

use super::model::{LabelledText, TextClassifierModel, TrainOptions};
use super::{LearnedClassifier, MAX_EXAMPLES, clip, ticket_text};
use crate::error::KbError;

/// Checks labelled texts (`(text, category)`, named `{list}[i].{text_field}` and
/// `{list}[i].category` in errors) and returns the clipped texts and the categories.
pub(super) fn checked<'a>(
    list: &'static str,
    text_field: &'static str,
    items: impl ExactSizeIterator<Item = (Cow<'a, str>, &'a str)>,
) -> Result<(Vec<String>, Vec<String>), Error> {
    if items.len() > MAX_EXAMPLES {
        return Err(Error::validation(
            list,
            format!("more than {MAX_EXAMPLES} tickets"),
        ));
    }
    let mut texts = Vec::with_capacity(items.len());
    let mut categories = Vec::with_capacity(items.len());
    for (i, (text, category)) in items.enumerate() {
        if text.trim().is_empty() {
            return Err(Error::validation(
                format!("{list}[{i}].{text_field}"),
                "is empty",
            ));
        }
        if category.trim().is_empty() {
            return Err(Error::validation(
                format!("{list}[{i}].category"),
                "is empty",
            ));
        }
        texts.push(clip(&text).to_string());
        categories.push(category.to_string());
    }
    Ok((texts, categories))
}

/// A training set's categories: 2 to [`MAX_TRIAGE_CATEGORIES`] distinct ones (the most a
/// stored model may have), checked before anything is embedded.
pub(super) fn check_training_categories(
    list: &'static str,
    categories: &[String],
) -> Result<(), Error> {
    let distinct = categories.iter().collect::<BTreeSet<_>>().len();
    if distinct < 2 {
        return Err(Error::validation(
            list,
            "need at least two distinct categories",
        ));
    }
    if distinct > MAX_TRIAGE_CATEGORIES {
        return Err(Error::validation(
            list,
            format!("{distinct} categories, more than {MAX_TRIAGE_CATEGORIES}"),
        ));
    }
    Ok(())
}

/// The texts of tickets, as [`Classifier::classify`](helpdesk_core::Classifier::classify)
/// reads them.
fn ticket_texts(
    list: &'static str,
    tickets: &[LabelledTicket],
) -> Result<(Vec<String>, Vec<String>), Error> {
    // An empty ticket text means both parts are empty; the description is named.
    checked(
        list,
        "description",
        tickets.iter().map(|t| {
            (
                Cow::Owned(ticket_text(&t.subject, &t.description)),
                t.category.as_str(),
            )
        }),
    )
}

/// Fits a model (blocking: CPU-bound).
pub(super) fn fit_model(
    texts: &[String],
    embeddings: &[Vec<f32>],
    categories: &[String],
    options: &TrainOptions,
) -> Result<TextClassifierModel, Error> {
    let labelled: Vec<LabelledText<'_>> = texts
        .iter()
        .zip(embeddings)
        .zip(categories)
        .map(|((text, embedding), category)| LabelledText {
            text,
            embedding,
            category,
        })
        .collect();
    TextClassifierModel::train(&labelled, options)
}

#[async_trait]
impl LearnedTriage for LearnedClassifier {
    /// `kb-search-svm-v1+<embedding model id>@<dimensions>`: the bytes depend on both.
    fn format(&self) -> &str {
        &self.format
    }

    /// Embeds the training tickets as documents and the held-out ones as queries (as
    /// [`classify`](helpdesk_core::Classifier::classify) does), then fits, classifies the
    /// held-out tickets and writes the bytes on a blocking thread.
    async fn fit(
        &self,
        train: &[LabelledTicket],
        holdout: &[LabelledTicket],
    ) -> Result<FittedModel, Error> {
        let (texts, categories) = ticket_texts("train", train)?;
        check_training_categories("train", &categories)?;
        let (holdout_texts, holdout_categories) = ticket_texts("holdout", holdout)?;
        let embeddings = self.embed(&texts, EmbedKind::Document).await?;
        let holdout_embeddings = self.embed(&holdout_texts, EmbedKind::Query).await?;
        let options = self.options.clone();
        let embedder = self.embedder.model_id().to_string();
        tokio::task::spawn_blocking(move || {
            let model = fit_model(&texts, &embeddings, &categories, &options)?;
            let mut holdout_correct = 0u64;
            for ((text, embedding), category) in holdout_texts
                .iter()
                .zip(&holdout_embeddings)
                .zip(&holdout_categories)
            {
                if model.predict(text, embedding)?.category == *category {
                    holdout_correct += 1;
                }
            }
            Ok(FittedModel {
                bytes: model.to_bytes(&embedder)?,
                categories: model.categories().to_vec(),
                holdout_correct,
            })
        })
        .await
        .map_err(KbError::Join)?
    }

    /// Reads the bytes on a blocking thread (refusing bytes of another format, another
    /// embedding model, and damaged or inconsistent ones), then swaps the tenant's model.
    async fn install(&self, tenant: TenantId, version: u64, bytes: &[u8]) -> Result<(), Error> {
        let bytes = bytes.to_vec();
        let embedder = self.embedder.model_id().to_string();
        let model =
            tokio::task::spawn_blocking(move || TextClassifierModel::from_bytes(&bytes, &embedder))
                .await
                .map_err(KbError::Join)??;
        let dimensions = self.embedder.dimensions();
        if model.dimensions() != dimensions {
            return Err(Error::validation(
                "model.dimensions",
                format!(
                    "{} dimensions, the embedding model gives {dimensions}",
                    model.dimensions()
                ),
            ));
        }
        self.put(tenant, model, Some(version));
        tracing::debug!(%tenant, version, "learned triage model installed");
        Ok(())
    }

    fn installed_version(&self, tenant: TenantId) -> Option<u64> {
        self.models
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&tenant)
            .and_then(|i| i.version)
    }

    fn uninstall(&self, tenant: TenantId) {
        let removed = self
            .models
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&tenant);
        if let Some(old) = removed {
            tracing::debug!(%tenant, version = ?old.version, "learned triage model uninstalled");
        }
    }
}
