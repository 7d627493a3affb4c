//! TF-IDF features over word uni/bigrams and within-word character n-grams, concatenated
//! with a dense sentence embedding into one sparse-plus-dense row per text.

use std::collections::HashMap;

use helpdesk_core::Error;
use serde::{Deserialize, Serialize};

/// Longest word n-gram [`FeatureOptions::max_word_ngram`] may ask for.
pub const MAX_WORD_NGRAM: usize = 8;
/// Longest character n-gram [`FeatureOptions::char_ngrams`] may ask for.
pub const MAX_CHAR_NGRAM: usize = 16;

/// Feature settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeatureOptions {
    /// Weight of the word n-gram block (each block is L2-normalised before weighting).
    pub word_weight: f32,
    /// Weight of the character n-gram block.
    pub char_weight: f32,
    /// Weight of the embedding block.
    pub embedding_weight: f32,
    /// Longest word n-gram (1 = unigrams only).
    pub max_word_ngram: usize,
    /// Character n-gram lengths, inclusive.
    pub char_ngrams: (usize, usize),
    /// Drop n-grams seen in fewer training texts than this.
    pub min_df: u32,
}

impl Default for FeatureOptions {
    fn default() -> Self {
        Self {
            word_weight: 1.0,
            char_weight: 1.0,
            embedding_weight: 1.0,
            max_word_ngram: 2,
            char_ngrams: (2, 5),
            min_df: 1,
        }
    }
}

impl FeatureOptions {
    /// Checks the settings a model is trained and read with: finite, non-negative block
    /// weights, word n-grams of at most [`MAX_WORD_NGRAM`], character n-grams of 1 to
    /// [`MAX_CHAR_NGRAM`]. Errors name the field under `prefix`.
    pub(super) fn check(&self, prefix: &str) -> Result<(), Error> {
        for (name, w) in [
            ("word_weight", self.word_weight),
            ("char_weight", self.char_weight),
            ("embedding_weight", self.embedding_weight),
        ] {
            if !w.is_finite() || w < 0.0 {
                return Err(Error::validation(
                    format!("{prefix}.{name}"),
                    format!("{w} is not a finite number >= 0"),
                ));
            }
        }
        if self.max_word_ngram > MAX_WORD_NGRAM {
            return Err(Error::validation(
                format!("{prefix}.max_word_ngram"),
                format!("{} is above {MAX_WORD_NGRAM}", self.max_word_ngram),
            ));
        }
        let (lo, hi) = self.char_ngrams;
        if lo == 0 || hi > MAX_CHAR_NGRAM {
            return Err(Error::validation(
                format!("{prefix}.char_ngrams"),
                format!("({lo}, {hi}) is outside 1..={MAX_CHAR_NGRAM}"),
            ));
        }
        Ok(())
    }
}

/// One row: sparse TF-IDF part (sorted by index) plus the weighted embedding.
#[derive(Debug, Clone, Default)]
pub(crate) struct Row {
    pub(crate) indices: Vec<u32>,
    pub(crate) values: Vec<f32>,
    pub(crate) dense: Vec<f32>,
}

impl Row {
    /// Squared L2 norm.
    pub(crate) fn norm2(&self) -> f32 {
        self.values.iter().map(|v| v * v).sum::<f32>()
            + self.dense.iter().map(|v| v * v).sum::<f32>()
    }
}

/// A fitted vectoriser: vocabularies and IDF weights. Its bytes are written and read by
/// `codec` (vocabularies as n-gram lists in index order), which checks them on reading.
#[derive(Debug, Clone)]
pub(crate) struct Vectorizer {
    pub(super) options: FeatureOptions,
    /// Word n-gram to feature index: `0..word_vocab.len()`, in sorted n-gram order.
    pub(super) word_vocab: HashMap<String, u32>,
    /// Character n-gram to feature index: `word_vocab.len()..sparse_len()`, sorted.
    pub(super) char_vocab: HashMap<String, u32>,
    /// IDF per sparse feature (words first, then characters).
    pub(super) idf: Vec<f32>,
}

fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

fn word_ngrams(words: &[String], max_n: usize, mut f: impl FnMut(String)) {
    for w in words.iter().filter(|w| w.chars().count() >= 2) {
        f(w.clone());
    }
    for n in 2..=max_n {
        for win in words.windows(n) {
            f(win.join(" "));
        }
    }
}

fn char_ngrams(words: &[String], (lo, hi): (usize, usize), mut f: impl FnMut(String)) {
    for w in words {
        let padded: Vec<char> = std::iter::once(' ')
            .chain(w.chars())
            .chain(std::iter::once(' '))
            .collect();
        for n in lo..=hi {
            if n > padded.len() {
                break;
            }
            for win in padded.windows(n) {
                f(win.iter().collect());
            }
        }
    }
}

impl Vectorizer {
    /// Fits vocabularies and IDF weights on training texts.
    pub(crate) fn fit(texts: &[String], options: FeatureOptions) -> Self {
        let mut word_df: HashMap<String, u32> = HashMap::new();
        let mut char_df: HashMap<String, u32> = HashMap::new();
        for text in texts {
            let ws = words(text);
            let mut seen_w: Vec<String> = Vec::new();
            word_ngrams(&ws, options.max_word_ngram, |g| seen_w.push(g));
            seen_w.sort_unstable();
            seen_w.dedup();
            for g in seen_w {
                *word_df.entry(g).or_default() += 1;
            }
            let mut seen_c: Vec<String> = Vec::new();
            char_ngrams(&ws, options.char_ngrams, |g| seen_c.push(g));
            seen_c.sort_unstable();
            seen_c.dedup();
            for g in seen_c {
                *char_df.entry(g).or_default() += 1;
            }
        }
        let n = texts.len() as f32;
        let mut idf = Vec::new();
        let mut build = |df: HashMap<String, u32>| {
            let mut keys: Vec<(String, u32)> = df
                .into_iter()
                .filter(|(_, d)| *d >= options.min_df)
                .collect();
            keys.sort_unstable();
            let mut vocab = HashMap::with_capacity(keys.len());
            for (g, d) in keys {
                vocab.insert(g, idf.len() as u32);
                idf.push(((1.0 + n) / (1.0 + d as f32)).ln() + 1.0);
            }
            vocab
        };
        let word_vocab = build(word_df);
        let char_vocab = build(char_df);
        Self {
            options,
            word_vocab,
            char_vocab,
            idf,
        }
    }

    /// Number of sparse features.
    pub(crate) fn sparse_len(&self) -> usize {
        self.idf.len()
    }

    /// The feature row of one text and its embedding.
    pub(crate) fn transform(&self, text: &str, embedding: &[f32]) -> Row {
        let ws = words(text);
        let mut word_counts: HashMap<u32, f32> = HashMap::new();
        word_ngrams(&ws, self.options.max_word_ngram, |g| {
            if let Some(&i) = self.word_vocab.get(&g) {
                *word_counts.entry(i).or_default() += 1.0;
            }
        });
        let mut char_counts: HashMap<u32, f32> = HashMap::new();
        char_ngrams(&ws, self.options.char_ngrams, |g| {
            if let Some(&i) = self.char_vocab.get(&g) {
                *char_counts.entry(i).or_default() += 1.0;
            }
        });
        let mut row = Row::default();
        for (counts, weight) in [
            (word_counts, self.options.word_weight),
            (char_counts, self.options.char_weight),
        ] {
            // Sublinear TF times IDF, L2-normalised per block. Sorted before the norm is
            // summed, so that a text gets the same row, to the bit, on every call and
            // every instance (a hash map's order differs between maps).
            let mut block: Vec<(u32, f32)> = counts
                .into_iter()
                .map(|(i, c)| {
                    let idf = self.idf.get(i as usize).copied().unwrap_or(0.0);
                    (i, (1.0 + c.ln()) * idf)
                })
                .collect();
            block.sort_unstable_by_key(|(i, _)| *i);
            let norm = block.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                block.iter_mut().for_each(|(_, v)| *v *= weight / norm);
            }
            for (i, v) in block {
                row.indices.push(i);
                row.values.push(v);
            }
        }
        let w = self.options.embedding_weight;
        row.dense = embedding.iter().map(|x| x * w).collect();
        row
    }
}
