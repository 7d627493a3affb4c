//! The bytes of a [`TextClassifierModel`]: a fixed header, then the model in
//! [postcard](https://docs.rs/postcard)'s wire format.
//!
//! ```text
//! magic "hdkb-svm" (8 bytes) | format version, u16 little-endian | SHA-256 of the payload
//! (32 bytes) | payload: postcard of `Wire`
//! ```
//!
//! Bytes come back from a blob store and are not trusted: the header and the checksum refuse
//! other formats, truncated and damaged bytes; a payload that decodes is then checked for
//! every invariant the predict path indexes by (a forged payload with a correct checksum),
//! so that a bad model is a validation error naming the field, never a panic when a ticket
//! is classified.

use std::borrow::Cow;
use std::collections::HashMap;

use helpdesk_core::Error;
use helpdesk_core::store::MAX_TRIAGE_CATEGORIES;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::features::{FeatureOptions, Vectorizer};
use super::model::TextClassifierModel;
use super::svm::LinearModel;

/// The first bytes of every model.
pub const MODEL_MAGIC: [u8; 8] = *b"hdkb-svm";
/// The version of the layout after the header; a model of another version is refused.
pub const MODEL_FORMAT_VERSION: u16 = 1;
/// The model format's name, with its version (the start of
/// [`LearnedTriage::format`](helpdesk_core::triage::LearnedTriage::format)).
pub const MODEL_FORMAT: &str = "kb-search-svm-v1";
/// Bytes before the payload: magic, version, SHA-256.
pub const MODEL_HEADER_LEN: usize = MODEL_MAGIC.len() + 2 + DIGEST_LEN;
/// Longest embedding a model may hold.
pub const MAX_MODEL_DIMENSIONS: usize = 1 << 16;
/// Most weights a model may hold, zeros included (categories × (n-grams + dimensions + 1);
/// 1 GiB of `f32`): the bytes leave zero weights out, so a short forged model could
/// otherwise ask for any amount of memory.
pub const MAX_MODEL_WEIGHTS: usize = 1 << 28;

const DIGEST_LEN: usize = 32;

/// The model as written: vocabularies as n-gram lists in feature-index order (the index is
/// the position, words first), so that the bytes of a model are always the same and an
/// index cannot point outside the IDF table.
#[derive(Serialize, Deserialize)]
struct Wire<'a> {
    /// The embedder's model id; a model is read only with the same embedder.
    embedder: Cow<'a, str>,
    dimensions: u32,
    /// Sorted, distinct.
    categories: Vec<Cow<'a, str>>,
    features: WireFeatures,
    confidence_scale: f32,
    neighbour_weight: f32,
    word_vocab: Vec<Cow<'a, str>>,
    char_vocab: Vec<Cow<'a, str>>,
    /// One per n-gram: words, then characters.
    idf: Cow<'a, [f32]>,
    /// Per category: one weight per n-gram, per embedding dimension, then the bias (most
    /// n-gram weights are zero: only the others are written).
    weights: Vec<WireWeights>,
    /// Training embeddings, row-major, `neighbour_labels.len() × dimensions`.
    neighbours: Cow<'a, [f32]>,
    /// Category index of each training embedding.
    neighbour_labels: Vec<u32>,
}

/// One category's weights without their zeros: `values[k]` sits at position
/// `gaps[0] + 1 + gaps[1] + ... + 1 + gaps[k]`, every other weight of `len` is zero.
#[derive(Serialize, Deserialize)]
struct WireWeights {
    len: u32,
    gaps: Vec<u32>,
    values: Vec<f32>,
}

impl WireWeights {
    /// The weights of `dense` that are not +0.0 (a -0.0 is kept, to read back the same
    /// bits).
    fn of(dense: &[f32]) -> Result<Self, Error> {
        let mut gaps = Vec::new();
        let mut values = Vec::new();
        let mut next = 0usize;
        for (i, &w) in dense.iter().enumerate() {
            if w.to_bits() != 0 {
                gaps.push(to_u32(i - next, "model.weights")?);
                values.push(w);
                next = i + 1;
            }
        }
        Ok(Self {
            len: to_u32(dense.len(), "model.weights")?,
            gaps,
            values,
        })
    }

    /// The dense weights; the positions were checked by [`Wire::check`].
    fn dense(&self) -> Vec<f32> {
        let mut dense = vec![0.0; self.len as usize];
        let mut next = 0usize;
        for (&gap, &w) in self.gaps.iter().zip(&self.values) {
            let at = next.saturating_add(gap as usize);
            if let Some(slot) = dense.get_mut(at) {
                *slot = w;
            }
            next = at.saturating_add(1);
        }
        dense
    }

    /// Checks lengths and positions (all below `len`).
    fn check(&self, field: impl Fn() -> String) -> Result<(), Error> {
        if self.gaps.len() != self.values.len() {
            return Err(invalid(
                field(),
                format!(
                    "{} positions for {} weights",
                    self.gaps.len(),
                    self.values.len()
                ),
            ));
        }
        // Past the last weight's position: at most `len`.
        let end = self.gaps.iter().fold(0u64, |next, &gap| {
            next.saturating_add(u64::from(gap)).saturating_add(1)
        });
        if end > u64::from(self.len) {
            return Err(invalid(
                field(),
                format!("a weight sits past the {} weights", self.len),
            ));
        }
        if let Some(i) = first_not_finite(&self.values) {
            return Err(invalid(format!("{}.values[{i}]", field()), "is not finite"));
        }
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
struct WireFeatures {
    word_weight: f32,
    char_weight: f32,
    embedding_weight: f32,
    max_word_ngram: u32,
    char_ngrams: (u32, u32),
    min_df: u32,
}

fn invalid(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Error {
    Error::validation(field, message)
}

fn to_u32(value: usize, field: &'static str) -> Result<u32, Error> {
    u32::try_from(value).map_err(|_| invalid(field, format!("{value} does not fit in 32 bits")))
}

fn first_not_finite(values: &[f32]) -> Option<usize> {
    values.iter().position(|v| !v.is_finite())
}

/// The n-grams of `vocab` in index order; their indices must be `offset..offset + len`
/// (as [`Vectorizer::fit`] numbers them).
fn vocab_in_order(vocab: &HashMap<String, u32>, offset: usize) -> Result<Vec<Cow<'_, str>>, Error> {
    let mut by_index: Vec<(u32, &str)> = vocab.iter().map(|(g, &i)| (i, g.as_str())).collect();
    by_index.sort_unstable_by_key(|&(i, _)| i);
    let contiguous = by_index
        .iter()
        .enumerate()
        .all(|(pos, &(i, _))| usize::try_from(i).ok() == Some(offset + pos));
    if !contiguous {
        return Err(Error::Internal(
            "a vectoriser's feature indices are not contiguous",
        ));
    }
    Ok(by_index
        .into_iter()
        .map(|(_, g)| Cow::Borrowed(g))
        .collect())
}

impl<'a> Wire<'a> {
    fn of(model: &'a TextClassifierModel, embedder: &'a str) -> Result<Self, Error> {
        let v = &model.vectorizer;
        let o = &v.options;
        let word_vocab = vocab_in_order(&v.word_vocab, 0)?;
        let char_vocab = vocab_in_order(&v.char_vocab, word_vocab.len())?;
        Ok(Self {
            embedder: Cow::Borrowed(embedder),
            dimensions: to_u32(model.dimensions, "model.dimensions")?,
            categories: model
                .categories
                .iter()
                .map(|c| Cow::Borrowed(c.as_str()))
                .collect(),
            features: WireFeatures {
                word_weight: o.word_weight,
                char_weight: o.char_weight,
                embedding_weight: o.embedding_weight,
                max_word_ngram: to_u32(o.max_word_ngram, "model.features.max_word_ngram")?,
                char_ngrams: (
                    to_u32(o.char_ngrams.0, "model.features.char_ngrams")?,
                    to_u32(o.char_ngrams.1, "model.features.char_ngrams")?,
                ),
                min_df: o.min_df,
            },
            confidence_scale: model.confidence_scale,
            neighbour_weight: model.neighbour_weight,
            word_vocab,
            char_vocab,
            idf: Cow::Borrowed(&v.idf),
            weights: model
                .model
                .weights
                .iter()
                .map(|w| WireWeights::of(w))
                .collect::<Result<_, _>>()?,
            neighbours: Cow::Borrowed(&model.neighbours),
            neighbour_labels: model
                .neighbour_labels
                .iter()
                .map(|&l| to_u32(l, "model.neighbour_labels"))
                .collect::<Result<_, _>>()?,
        })
    }

    fn feature_options(&self) -> FeatureOptions {
        let f = &self.features;
        FeatureOptions {
            word_weight: f.word_weight,
            char_weight: f.char_weight,
            embedding_weight: f.embedding_weight,
            max_word_ngram: f.max_word_ngram as usize,
            char_ngrams: (f.char_ngrams.0 as usize, f.char_ngrams.1 as usize),
            min_df: f.min_df,
        }
    }

    /// Every invariant the predict path relies on, except distinct n-grams (checked while
    /// the vocabularies are built, [`Wire::into_model`]).
    fn check(&self) -> Result<(), Error> {
        let categories = self.categories.len();
        if !(2..=MAX_TRIAGE_CATEGORIES).contains(&categories) {
            return Err(invalid(
                "model.categories",
                format!("{categories} categories, not 2 to {MAX_TRIAGE_CATEGORIES}"),
            ));
        }
        if let Some(i) = self.categories.iter().position(|c| c.trim().is_empty()) {
            return Err(invalid(format!("model.categories[{i}]"), "is empty"));
        }
        if let Some(i) = self.categories.windows(2).position(|w| w[0] >= w[1]) {
            return Err(invalid(
                format!("model.categories[{}]", i + 1),
                "is not after the one before (categories are sorted and distinct)",
            ));
        }
        let dimensions = self.dimensions as usize;
        if !(1..=MAX_MODEL_DIMENSIONS).contains(&dimensions) {
            return Err(invalid(
                "model.dimensions",
                format!("{dimensions} is outside 1..={MAX_MODEL_DIMENSIONS}"),
            ));
        }
        self.feature_options().check("model.features")?;
        if !self.confidence_scale.is_finite() || self.confidence_scale < 0.0 {
            return Err(invalid(
                "model.confidence_scale",
                format!("{} is not a finite number >= 0", self.confidence_scale),
            ));
        }
        if !self.neighbour_weight.is_finite() || self.neighbour_weight < 0.0 {
            return Err(invalid(
                "model.neighbour_weight",
                format!("{} is not a finite number >= 0", self.neighbour_weight),
            ));
        }
        let sparse = self.word_vocab.len() + self.char_vocab.len();
        if u32::try_from(sparse).is_err() {
            return Err(invalid("model.word_vocab", "too many n-grams"));
        }
        if self.idf.len() != sparse {
            return Err(invalid(
                "model.idf",
                format!("{} weights for {sparse} n-grams", self.idf.len()),
            ));
        }
        if let Some(i) = first_not_finite(&self.idf) {
            return Err(invalid(format!("model.idf[{i}]"), "is not finite"));
        }
        if self.weights.len() != categories {
            return Err(invalid(
                "model.weights",
                format!("{} classes for {categories} categories", self.weights.len()),
            ));
        }
        let per_class = sparse + dimensions + 1;
        let total = categories.saturating_mul(per_class);
        if total > MAX_MODEL_WEIGHTS {
            return Err(invalid(
                "model.weights",
                format!("{total} weights, more than {MAX_MODEL_WEIGHTS}"),
            ));
        }
        for (c, w) in self.weights.iter().enumerate() {
            if w.len as usize != per_class {
                return Err(invalid(
                    format!("model.weights[{c}]"),
                    format!(
                        "{} weights, not {sparse} n-grams + {dimensions} dimensions + 1",
                        w.len
                    ),
                ));
            }
            w.check(|| format!("model.weights[{c}]"))?;
        }
        let labels = self.neighbour_labels.len();
        if labels.checked_mul(dimensions) != Some(self.neighbours.len()) {
            return Err(invalid(
                "model.neighbours",
                format!(
                    "{} numbers for {labels} neighbours of {dimensions} dimensions",
                    self.neighbours.len()
                ),
            ));
        }
        if let Some(i) = self
            .neighbour_labels
            .iter()
            .position(|&l| l as usize >= categories)
        {
            return Err(invalid(
                format!("model.neighbour_labels[{i}]"),
                format!("is not below {categories} categories"),
            ));
        }
        if let Some(i) = first_not_finite(&self.neighbours) {
            return Err(invalid(format!("model.neighbours[{i}]"), "is not finite"));
        }
        Ok(())
    }

    /// The model, after [`Wire::check`].
    fn into_model(self) -> Result<TextClassifierModel, Error> {
        let options = self.feature_options();
        let word_len = self.word_vocab.len();
        let word_vocab = vocab_map(self.word_vocab, 0, "model.word_vocab")?;
        let char_vocab = vocab_map(self.char_vocab, word_len, "model.char_vocab")?;
        let dimensions = self.dimensions as usize;
        let sparse_len = self.idf.len();
        Ok(TextClassifierModel {
            categories: self.categories.into_iter().map(Cow::into_owned).collect(),
            vectorizer: Vectorizer {
                options,
                word_vocab,
                char_vocab,
                idf: self.idf.into_owned(),
            },
            model: LinearModel {
                sparse_len,
                dense_len: dimensions,
                weights: self.weights.iter().map(WireWeights::dense).collect(),
            },
            dimensions,
            confidence_scale: self.confidence_scale,
            neighbour_weight: self.neighbour_weight,
            neighbours: self.neighbours.into_owned(),
            neighbour_labels: self
                .neighbour_labels
                .into_iter()
                .map(|l| l as usize)
                .collect(),
        })
    }
}

/// N-gram to feature index (`offset` + position); a repeated n-gram is an error.
fn vocab_map(
    grams: Vec<Cow<'_, str>>,
    offset: usize,
    field: &'static str,
) -> Result<HashMap<String, u32>, Error> {
    let mut map = HashMap::with_capacity(grams.len());
    for (pos, gram) in grams.into_iter().enumerate() {
        // `check` bounded the vocabularies to u32 together.
        let index = u32::try_from(offset + pos).map_err(|_| invalid(field, "too many n-grams"))?;
        if map.insert(gram.into_owned(), index).is_some() {
            return Err(invalid(format!("{field}[{pos}]"), "repeats an n-gram"));
        }
    }
    Ok(map)
}

impl TextClassifierModel {
    /// The model's bytes, for [`from_bytes`](Self::from_bytes) with the same `embedder`
    /// (the embedding model's id, written into the bytes). Checks the model as
    /// `from_bytes` would first, so bytes that were written can be read. CPU-bound: call it
    /// from a blocking thread for a large model.
    pub fn to_bytes(&self, embedder: &str) -> Result<Vec<u8>, Error> {
        let wire = Wire::of(self, embedder)?;
        wire.check()?;
        let mut out = Vec::with_capacity(MODEL_HEADER_LEN + self.approximate_len());
        out.extend_from_slice(&MODEL_MAGIC);
        out.extend_from_slice(&MODEL_FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&[0; DIGEST_LEN]);
        let mut out =
            postcard::to_extend(&wire, out).map_err(|e| Error::backend("postcard", false, e))?;
        let digest = Sha256::digest(out.get(MODEL_HEADER_LEN..).unwrap_or_default());
        if let Some(slot) = out.get_mut(MODEL_HEADER_LEN - DIGEST_LEN..MODEL_HEADER_LEN) {
            slot.copy_from_slice(&digest);
        }
        Ok(out)
    }

    /// Reads bytes written by [`to_bytes`](Self::to_bytes) for the same `embedder`. The
    /// bytes are untrusted: another format, another version, truncated or damaged bytes,
    /// a model of another embedder and an inconsistent model are validation errors naming
    /// the field (`bytes`, `model.weights[3]`, ...). CPU-bound: call it from a blocking
    /// thread.
    pub fn from_bytes(bytes: &[u8], embedder: &str) -> Result<Self, Error> {
        let payload = open(bytes)?;
        let (wire, rest): (Wire<'_>, &[u8]) = postcard::take_from_bytes(payload)
            .map_err(|e| invalid("bytes", format!("the model does not decode: {e}")))?;
        if !rest.is_empty() {
            return Err(invalid(
                "bytes",
                format!("{} bytes after the model", rest.len()),
            ));
        }
        if wire.embedder != embedder {
            return Err(invalid(
                "model.embedder",
                format!(
                    "trained with embedding model {:?}, this classifier uses {embedder:?}",
                    wire.embedder
                ),
            ));
        }
        wire.check()?;
        wire.into_model()
    }

    /// Bytes the model's numbers take at least, for the output buffer's first size.
    fn approximate_len(&self) -> usize {
        (self.vectorizer.idf.len() + self.neighbours.len()) * 4 + self.neighbour_labels.len()
    }
}

/// The payload of `bytes`, after checking the magic, the version and the checksum.
fn open(bytes: &[u8]) -> Result<&[u8], Error> {
    let (Some(magic), Some(version), Some(digest), Some(payload)) = (
        bytes.get(..MODEL_MAGIC.len()),
        bytes.get(MODEL_MAGIC.len()..MODEL_MAGIC.len() + 2),
        bytes.get(MODEL_HEADER_LEN - DIGEST_LEN..MODEL_HEADER_LEN),
        bytes.get(MODEL_HEADER_LEN..),
    ) else {
        return Err(invalid(
            "bytes",
            format!(
                "{} bytes are too short for a kb-search classifier model",
                bytes.len()
            ),
        ));
    };
    if magic != MODEL_MAGIC {
        return Err(invalid(
            "bytes",
            "not a kb-search classifier model (no \"hdkb-svm\" header)",
        ));
    }
    let version = version
        .try_into()
        .map(u16::from_le_bytes)
        .unwrap_or(u16::MAX);
    if version != MODEL_FORMAT_VERSION {
        return Err(invalid(
            "bytes",
            format!(
                "model format version {version}; this build reads version {MODEL_FORMAT_VERSION}"
            ),
        ));
    }
    if Sha256::digest(payload).as_slice() != digest {
        return Err(invalid(
            "bytes",
            "the checksum does not match: the model is truncated or damaged",
        ));
    }
    Ok(payload)
}

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;
