//! [`TextClassifierModel`]: TF-IDF (words and characters) concatenated with sentence
//! embeddings, and a one-vs-rest linear SVM; softmax over the decision values for a
//! confidence.

use helpdesk_core::Error;

use super::features::{FeatureOptions, Row, Vectorizer};
use super::svm::{LinearModel, SvmOptions};

/// Training settings. The defaults were chosen on a validation split carved from
/// BANKING77's training set (never its test set).
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Feature blocks and their weights.
    pub features: FeatureOptions,
    /// SVM inverse regularisation strength.
    pub c: f32,
    /// Solver tolerance.
    pub tolerance: f32,
    /// Solver passes at most.
    pub max_epochs: usize,
    /// Worker threads (default: available cores).
    pub threads: usize,
    /// Softmax sharpness applied to decision values for [`Prediction::confidence`].
    pub confidence_scale: f32,
    /// Weight of the nearest-neighbour term added to each class's SVM score: the highest
    /// cosine similarity between the text's embedding and that class's training examples
    /// (0 turns it off and keeps no training embeddings).
    pub neighbour_weight: f32,
    /// Lean on embeddings when the training set is small: with `m` examples per category
    /// on average, the word and character weights are multiplied by
    /// `clamp(sqrt(m / 40), 0.5, 1)` and the embedding weight divided by it (chosen on a
    /// validation split of BANKING77's training set: TF-IDF helps with many examples per
    /// category, embeddings carry few-shot training).
    pub adapt_to_size: bool,
}

impl TrainOptions {
    /// The feature weights used for `examples` texts over `categories` categories.
    pub fn effective_features(&self, examples: usize, categories: usize) -> FeatureOptions {
        let mut f = self.features.clone();
        if self.adapt_to_size && categories > 0 {
            let per_category = examples as f32 / categories as f32;
            let lexical = (per_category / 40.0).sqrt().clamp(0.5, 1.0);
            f.word_weight *= lexical;
            f.char_weight *= lexical;
            f.embedding_weight /= lexical;
        }
        f
    }
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            features: FeatureOptions::default(),
            c: 1.0,
            tolerance: 0.1,
            max_epochs: 50,
            threads: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            confidence_scale: 5.0,
            neighbour_weight: 2.0,
            adapt_to_size: true,
        }
    }
}

/// One labelled training text with its embedding.
#[derive(Debug, Clone, Copy)]
pub struct LabelledText<'a> {
    /// The text.
    pub text: &'a str,
    /// Its sentence embedding (L2-normalised).
    pub embedding: &'a [f32],
    /// Its category.
    pub category: &'a str,
}

/// A predicted category.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The best category.
    pub category: String,
    /// Softmax probability of it over all categories, 0..=1.
    pub confidence: f32,
}

/// A trained text classifier (pure, synchronous: call it from blocking threads).
#[derive(Debug, Clone)]
pub struct TextClassifierModel {
    pub(super) categories: Vec<String>,
    pub(super) vectorizer: Vectorizer,
    pub(super) model: LinearModel,
    pub(super) dimensions: usize,
    pub(super) confidence_scale: f32,
    pub(super) neighbour_weight: f32,
    /// Training embeddings (row-major) and their class, for the neighbour term.
    pub(super) neighbours: Vec<f32>,
    pub(super) neighbour_labels: Vec<usize>,
}

impl TextClassifierModel {
    /// Trains on labelled texts. Needs at least two categories and equal embedding lengths,
    /// and options a model can be read back with ([`to_bytes`](Self::to_bytes) and
    /// [`from_bytes`](Self::from_bytes) check the same rules).
    pub fn train(examples: &[LabelledText<'_>], options: &TrainOptions) -> Result<Self, Error> {
        if options.c.is_nan() || options.c <= 0.0 {
            return Err(Error::validation("options.c", "must be positive"));
        }
        if !options.confidence_scale.is_finite() || options.confidence_scale < 0.0 {
            return Err(Error::validation(
                "options.confidence_scale",
                "must be a finite number >= 0",
            ));
        }
        if !options.neighbour_weight.is_finite() {
            return Err(Error::validation(
                "options.neighbour_weight",
                "must be a finite number",
            ));
        }
        options.features.check("options.features")?;
        let dimensions = examples.first().map_or(0, |e| e.embedding.len());
        if let Some(i) = examples
            .iter()
            .position(|e| e.embedding.len() != dimensions)
        {
            return Err(Error::validation(
                format!("examples[{i}].embedding"),
                format!("length differs from the first example's {dimensions}"),
            ));
        }
        if dimensions == 0 && !examples.is_empty() {
            return Err(Error::validation("examples[0].embedding", "is empty"));
        }
        if let Some(i) = examples
            .iter()
            .position(|e| e.embedding.iter().any(|x| !x.is_finite()))
        {
            return Err(Error::validation(
                format!("examples[{i}].embedding"),
                "holds a number that is not finite",
            ));
        }
        let mut categories: Vec<String> = examples.iter().map(|e| e.category.to_string()).collect();
        categories.sort_unstable();
        categories.dedup();
        if categories.len() < 2 {
            return Err(Error::validation(
                "examples",
                "need at least two distinct categories",
            ));
        }
        let texts: Vec<String> = examples.iter().map(|e| e.text.to_string()).collect();
        let features = options.effective_features(examples.len(), categories.len());
        features.check("options.features")?;
        let vectorizer = Vectorizer::fit(&texts, features);
        let rows: Vec<Row> = examples
            .iter()
            .map(|e| vectorizer.transform(e.text, e.embedding))
            .collect();
        let labels: Vec<usize> = examples
            .iter()
            .map(|e| {
                categories
                    .binary_search_by(|c| c.as_str().cmp(e.category))
                    .unwrap_or(0)
            })
            .collect();
        let svm = SvmOptions {
            c: options.c,
            tolerance: options.tolerance,
            max_epochs: options.max_epochs,
            threads: options.threads,
        };
        let model = LinearModel::train(
            &rows,
            &labels,
            categories.len(),
            vectorizer.sparse_len(),
            svm,
        );
        let keep = options.neighbour_weight > 0.0;
        Ok(Self {
            categories,
            vectorizer,
            model,
            dimensions,
            confidence_scale: options.confidence_scale,
            neighbour_weight: options.neighbour_weight.max(0.0),
            neighbours: if keep {
                examples
                    .iter()
                    .flat_map(|e| e.embedding.iter().copied())
                    .collect()
            } else {
                Vec::new()
            },
            neighbour_labels: if keep { labels } else { Vec::new() },
        })
    }

    /// The categories it knows, sorted.
    pub fn categories(&self) -> &[String] {
        &self.categories
    }

    /// Embedding length it was trained with.
    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// Predicts the category of a text from the text and its embedding.
    pub fn predict(&self, text: &str, embedding: &[f32]) -> Result<Prediction, Error> {
        if embedding.len() != self.dimensions {
            return Err(Error::validation(
                "embedding",
                format!(
                    "length {} differs from the model's {}",
                    embedding.len(),
                    self.dimensions
                ),
            ));
        }
        let row = self.vectorizer.transform(text, embedding);
        let mut scores = self.model.scores(&row);
        if self.dimensions > 0 && !self.neighbour_labels.is_empty() {
            let mut best = vec![f32::NEG_INFINITY; scores.len()];
            for (v, &label) in self
                .neighbours
                .chunks_exact(self.dimensions)
                .zip(&self.neighbour_labels)
            {
                let sim: f32 = v.iter().zip(embedding).map(|(a, b)| a * b).sum();
                if let Some(b) = best.get_mut(label) {
                    *b = b.max(sim);
                }
            }
            for (s, b) in scores.iter_mut().zip(best) {
                if b.is_finite() {
                    *s += self.neighbour_weight * b;
                }
            }
        }
        let (best, top) = scores
            .iter()
            .enumerate()
            .fold(
                (0, f32::NEG_INFINITY),
                |acc, (i, &s)| if s > acc.1 { (i, s) } else { acc },
            );
        let z: f32 = scores
            .iter()
            .map(|&s| ((s - top) * self.confidence_scale).exp())
            .sum();
        Ok(Prediction {
            category: self.categories[best].clone(),
            confidence: if z > 0.0 {
                (1.0 / z).clamp(0.0, 1.0)
            } else {
                0.0
            },
        })
    }
}
