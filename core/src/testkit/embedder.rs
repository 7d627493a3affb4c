use async_trait::async_trait;

use crate::{EmbedKind, Embedder, ModelError};

/// A deterministic embedder for tests: hashed bag of lowercased words (and their 4-letter
/// prefixes), L2-normalised. Texts sharing words get a high cosine similarity; unrelated
/// texts get ~0. No model, no I/O.
#[derive(Debug, Clone)]
pub struct FakeEmbedder {
    dimensions: usize,
}

impl FakeEmbedder {
    /// An embedder with 256 dimensions.
    pub fn new() -> Self {
        Self { dimensions: 256 }
    }

    /// An embedder with `dimensions` dimensions.
    pub fn with_dimensions(dimensions: usize) -> Self {
        Self {
            dimensions: dimensions.max(8),
        }
    }

    /// The vector of one text.
    pub fn vector(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0f32; self.dimensions];
        for word in text
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() > 2 && !STOP_WORDS.contains(w))
        {
            v[bucket(word, self.dimensions)] += 1.0;
            let prefix: String = word.chars().take(4).collect();
            v[bucket(&format!("#{prefix}"), self.dimensions)] += 0.5;
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
        v
    }
}

impl Default for FakeEmbedder {
    fn default() -> Self {
        Self::new()
    }
}

const STOP_WORDS: &[&str] = &[
    "the", "and", "for", "you", "your", "are", "was", "with", "this", "that", "can", "how", "what",
    "have", "has", "not", "but", "from", "our", "my",
];

fn bucket(word: &str, n: usize) -> usize {
    // FNV-1a: stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in word.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % n as u64) as usize
}

#[async_trait]
impl Embedder for FakeEmbedder {
    fn model_id(&self) -> &str {
        "fake-bag-of-words"
    }

    fn dimensions(&self) -> usize {
        self.dimensions
    }

    async fn embed(&self, texts: &[String], _kind: EmbedKind) -> Result<Vec<Vec<f32>>, ModelError> {
        Ok(texts.iter().map(|t| self.vector(t)).collect())
    }
}

/// A [`FakeEmbedder`] that takes `per_call` of a blocking thread for every embedding call,
/// the way a real model occupies a CPU: for tests that other requests go on while a large
/// article is indexed.
#[derive(Debug, Clone)]
pub struct SlowEmbedder {
    inner: FakeEmbedder,
    per_call: std::time::Duration,
}

impl SlowEmbedder {
    /// A 256-dimension fake embedder taking `per_call` per call.
    pub fn new(per_call: std::time::Duration) -> Self {
        Self {
            inner: FakeEmbedder::new(),
            per_call,
        }
    }
}

#[async_trait]
impl Embedder for SlowEmbedder {
    fn model_id(&self) -> &str {
        self.inner.model_id()
    }

    fn dimensions(&self) -> usize {
        self.inner.dimensions()
    }

    async fn embed(&self, texts: &[String], kind: EmbedKind) -> Result<Vec<Vec<f32>>, ModelError> {
        let pause = self.per_call;
        tokio::task::spawn_blocking(move || std::thread::sleep(pause))
            .await
            .map_err(|e| ModelError::Unavailable {
                status: 0,
                message: format!("slow embedder thread: {e}"),
            })?;
        self.inner.embed(texts, kind).await
    }
}
