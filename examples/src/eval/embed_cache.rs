//! [`MemoEmbedder`]: an [`Embedder`] that remembers what it embedded, so an evaluation that
//! searches the same query in several indexes (hybrid, vector-only, lexical-only, and the
//! chat path itself) runs the model once per text.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use helpdesk_core::{EmbedKind, Embedder, ModelError};

/// Wraps an embedder with a map from (kind, text) to its vector. The vectors are the inner
/// embedder's own, so every search gives what it gives without the map; only the time
/// differs.
#[derive(Debug)]
pub struct MemoEmbedder {
    inner: Arc<dyn Embedder>,
    memo: Mutex<HashMap<(bool, String), Vec<f32>>>,
}

/// Texts per model call when [`MemoEmbedder::warm`] embeds ahead.
const WARM_BATCH: usize = 64;

impl MemoEmbedder {
    /// Remembers the vectors of `inner`.
    pub fn new(inner: Arc<dyn Embedder>) -> Self {
        Self {
            inner,
            memo: Mutex::default(),
        }
    }

    fn key(kind: EmbedKind, text: &str) -> (bool, String) {
        (matches!(kind, EmbedKind::Query), text.to_string())
    }

    /// Embeds the `texts` not remembered yet, in batches (faster than one by one).
    pub async fn warm(&self, texts: &[String], kind: EmbedKind) -> Result<(), ModelError> {
        let missing: Vec<String> = {
            let memo = self.memo.lock().unwrap_or_else(PoisonError::into_inner);
            let mut seen = std::collections::HashSet::new();
            texts
                .iter()
                .filter(|t| !memo.contains_key(&Self::key(kind, t)) && seen.insert(t.as_str()))
                .cloned()
                .collect()
        };
        for batch in missing.chunks(WARM_BATCH) {
            self.embed(batch, kind).await?;
        }
        Ok(())
    }
}

impl MemoEmbedder {
    /// Adds the vectors saved by [`MemoEmbedder::save`] in `path` (for the same model id;
    /// a file of another model, or none, adds nothing). Returns how many were added.
    pub fn load(&self, path: &Path) -> std::io::Result<usize> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut r = Reader {
            bytes: &bytes,
            at: 0,
        };
        let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "bad embeddings cache");
        let model = r.text().ok_or_else(bad)?;
        if model != self.model_id() {
            return Ok(0);
        }
        let mut memo = self.memo.lock().unwrap_or_else(PoisonError::into_inner);
        let mut added = 0;
        while r.at < bytes.len() {
            let query = r.take(1).ok_or_else(bad)?[0] == 1;
            let text = r.text().ok_or_else(bad)?;
            let dims = r.u32().ok_or_else(bad)? as usize;
            let raw = r.take(dims * 4).ok_or_else(bad)?;
            let vector = raw
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            memo.insert((query, text), vector);
            added += 1;
        }
        Ok(added)
    }

    /// Writes every remembered vector to `path`, with the model id.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let memo = self.memo.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = Vec::new();
        let text = |out: &mut Vec<u8>, t: &str| {
            out.extend_from_slice(&(t.len() as u32).to_le_bytes());
            out.extend_from_slice(t.as_bytes());
        };
        text(&mut out, self.model_id());
        for ((query, t), v) in memo.iter() {
            out.push(u8::from(*query));
            text(&mut out, t);
            out.extend_from_slice(&(v.len() as u32).to_le_bytes());
            for x in v {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        std::fs::write(path, out)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let slice = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(slice)
    }

    fn u32(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn text(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
}

#[async_trait]
impl Embedder for MemoEmbedder {
    fn model_id(&self) -> &str {
        self.inner.model_id()
    }

    fn dimensions(&self) -> usize {
        self.inner.dimensions()
    }

    async fn embed(&self, texts: &[String], kind: EmbedKind) -> Result<Vec<Vec<f32>>, ModelError> {
        let known: Vec<Option<Vec<f32>>> = {
            let memo = self.memo.lock().unwrap_or_else(PoisonError::into_inner);
            texts
                .iter()
                .map(|t| memo.get(&Self::key(kind, t)).cloned())
                .collect()
        };
        let missing: Vec<String> = texts
            .iter()
            .zip(&known)
            .filter(|(_, k)| k.is_none())
            .map(|(t, _)| t.clone())
            .collect();
        let mut fresh = if missing.is_empty() {
            Vec::new()
        } else {
            self.inner.embed(&missing, kind).await?
        }
        .into_iter();
        let mut out = Vec::with_capacity(texts.len());
        let mut memo = self.memo.lock().unwrap_or_else(PoisonError::into_inner);
        for (text, known) in texts.iter().zip(known) {
            let vector = match known {
                Some(v) => v,
                None => {
                    let v = fresh.next().ok_or_else(|| ModelError::MalformedOutput {
                        message: "the embedder returned too few vectors".into(),
                    })?;
                    memo.insert(Self::key(kind, text), v.clone());
                    v
                }
            };
            out.push(vector);
        }
        Ok(out)
    }
}
