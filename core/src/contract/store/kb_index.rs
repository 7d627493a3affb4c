//! The knowledge base's search content, kept in the store so that every app instance on one
//! database searches the same articles: each article's chunks with their embeddings
//! ([`ArticleChunks`]), and a per-tenant change feed ([`KbChange`]) that an instance's
//! in-memory index follows.
//!
//! The article itself stays in [`ArticleStore`](super::ArticleStore); its chunks are
//! derived from one version of it. Whoever embeds an article stores the result with
//! [`KbIndexStore::put_article_chunks`], which refuses chunks of a version that is no longer
//! the stored one, so the last stored chunks always describe the current article whatever
//! order embedding jobs finish in. Each accepted put, and each article deletion, takes the
//! tenant's next change number. An instance that has applied every change up to `n` asks
//! for the changes after `n` ([`KbIndexStore::kb_changes`]) and applies them to its index
//! without embedding anything again.
//!
//! Backends keep three rules:
//!
//! * Change numbers of a tenant only grow, and a change becomes visible to readers only
//!   after every change with a smaller number has (a reader that has seen `n` never later
//!   finds a new change numbered `n` or less). Backends with transactions get this by taking
//!   the number from a per-tenant counter row inside the committing transaction.
//! * Deleting an article (through [`ArticleStore::delete_article`](super::ArticleStore) or
//!   [`AdminChange::DeleteArticle`](super::AdminChange)) removes its chunks and records the
//!   removal as a change in the same commit.
//! * A tenant never sees another tenant's chunks or changes.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{ArticleId, Error, Result, TenantId};

/// Most chunks one article may be stored with.
pub const MAX_CHUNKS_PER_ARTICLE: usize = 10_000;
/// Longest vector stored for a chunk.
pub const MAX_EMBEDDING_DIMENSIONS: usize = 4_096;
/// Longest embedding model id.
pub const MAX_EMBEDDING_MODEL_CHARS: usize = 200;
/// Longest chunk id.
pub const MAX_CHUNK_ID_CHARS: usize = 200;

/// One chunk of an article as the knowledge base searches it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexedChunk {
    /// Chunk id, unique within the article and stable while the article's text is.
    pub chunk_id: String,
    /// The chunk's text.
    pub text: String,
    /// The chunk's embedding (L2-normalised, [`ArticleChunks::model`]'s dimensions).
    pub embedding: Vec<f32>,
}

/// An article's chunks, embedded from one version of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleChunks {
    /// The article.
    pub article_id: ArticleId,
    /// The article version the chunks were made from.
    pub article_version: u64,
    /// The article's title at that version (search results show it).
    pub title: String,
    /// The embedding model's id ([`Embedder::model_id`](crate::Embedder::model_id)).
    pub model: String,
    /// The chunks, in article order (may be empty for an article with nothing to search).
    pub chunks: Vec<IndexedChunk>,
}

impl ArticleChunks {
    /// The checks every backend runs before storing: a model id of 1 to
    /// [`MAX_EMBEDDING_MODEL_CHARS`] characters, at most [`MAX_CHUNKS_PER_ARTICLE`] chunks,
    /// chunk ids of 1 to [`MAX_CHUNK_ID_CHARS`] characters and unique within the article,
    /// and embeddings of one length (1 to [`MAX_EMBEDDING_DIMENSIONS`]) made of finite
    /// numbers. Errors name the field (`chunks[i].embedding`, ...).
    pub fn check(&self) -> Result<()> {
        let model_chars = self.model.chars().count();
        if model_chars == 0 || model_chars > MAX_EMBEDDING_MODEL_CHARS {
            return Err(Error::validation(
                "model",
                format!("{model_chars} characters, 1 to {MAX_EMBEDDING_MODEL_CHARS} allowed"),
            ));
        }
        if self.chunks.len() > MAX_CHUNKS_PER_ARTICLE {
            return Err(Error::validation(
                "chunks",
                format!(
                    "{} chunks, at most {MAX_CHUNKS_PER_ARTICLE} allowed",
                    self.chunks.len()
                ),
            ));
        }
        let dimensions = self.dimensions();
        let mut ids = std::collections::HashSet::with_capacity(self.chunks.len());
        for (i, chunk) in self.chunks.iter().enumerate() {
            let id_chars = chunk.chunk_id.chars().count();
            if id_chars == 0 || id_chars > MAX_CHUNK_ID_CHARS {
                return Err(Error::validation(
                    format!("chunks[{i}].chunk_id"),
                    format!("{id_chars} characters, 1 to {MAX_CHUNK_ID_CHARS} allowed"),
                ));
            }
            if !ids.insert(chunk.chunk_id.as_str()) {
                return Err(Error::validation(
                    format!("chunks[{i}].chunk_id"),
                    format!("{:?} is used twice in the article", chunk.chunk_id),
                ));
            }
            let len = chunk.embedding.len();
            if len == 0 || len > MAX_EMBEDDING_DIMENSIONS || Some(len) != dimensions {
                return Err(Error::validation(
                    format!("chunks[{i}].embedding"),
                    format!(
                        "{len} dimensions; every chunk needs the same number, 1 to {MAX_EMBEDDING_DIMENSIONS}"
                    ),
                ));
            }
            if chunk.embedding.iter().any(|x| !x.is_finite()) {
                return Err(Error::validation(
                    format!("chunks[{i}].embedding"),
                    "holds a number that is not finite",
                ));
            }
        }
        Ok(())
    }

    /// The vectors' length (`None` without chunks).
    pub fn dimensions(&self) -> Option<usize> {
        self.chunks.first().map(|c| c.embedding.len())
    }
}

/// Why stored bytes are not an embedding ([`embedding_from_le_bytes`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmbeddingBytesError {
    /// The byte length is not a positive multiple of 4 (one little-endian `f32` per
    /// dimension, at least one dimension).
    #[error("{len} bytes, not a positive multiple of 4")]
    Length {
        /// The length found.
        len: usize,
    },
}

/// An embedding as bytes for storage: each dimension's `f32` in little-endian order, 4
/// bytes per dimension. Every value is kept bit for bit (negative zero, subnormals, NaN
/// payloads), so [`embedding_from_le_bytes`] gives back exactly the same vector. Backends
/// store [`IndexedChunk::embedding`] this way.
pub fn embedding_to_le_bytes(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The embedding stored by [`embedding_to_le_bytes`]. A length that is not a positive
/// multiple of 4 is an [`EmbeddingBytesError::Length`]: a stored embedding has at least one
/// dimension ([`ArticleChunks::check`]), so empty bytes are refused too. Backends wrap the
/// error in their own error naming the column or field it was read from.
pub fn embedding_from_le_bytes(bytes: &[u8]) -> std::result::Result<Vec<f32>, EmbeddingBytesError> {
    let (dimensions, rest) = bytes.as_chunks::<4>();
    if dimensions.is_empty() || !rest.is_empty() {
        return Err(EmbeddingBytesError::Length { len: bytes.len() });
    }
    Ok(dimensions.iter().copied().map(f32::from_le_bytes).collect())
}

/// One entry of a tenant's knowledge-base change feed: an article's latest stored chunks,
/// or its removal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KbChange {
    /// The change number (per tenant, growing).
    pub seq: u64,
    /// The article.
    pub article_id: ArticleId,
    /// Its chunks as stored now; `None` when the article was deleted.
    pub chunks: Option<ArticleChunks>,
}

/// Stored knowledge-base chunks and their change feed, per tenant.
#[async_trait]
pub trait KbIndexStore: Send + Sync {
    /// Stores `chunks` as the tenant's article's search content, replacing what it had,
    /// when the article exists in the tenant at exactly `chunks.article_version`; the
    /// change takes the tenant's next change number, which is returned. `Ok(None)` and
    /// nothing written when the article is gone or at another version (newer chunks are on
    /// their way, or nothing is to be searched). Invalid chunks
    /// ([`ArticleChunks::check`]) are a `Validation` error.
    async fn put_article_chunks(
        &self,
        tenant: TenantId,
        chunks: &ArticleChunks,
    ) -> Result<Option<u64>>;

    /// The tenant's changes numbered above `since`, in number order, at most `limit` of
    /// them. Each article appears at most once, in its latest state: an article changed
    /// twice since `since` shows once, with its last change's number.
    async fn kb_changes(&self, tenant: TenantId, since: u64, limit: usize)
    -> Result<Vec<KbChange>>;

    /// The tenant's articles whose stored chunks are missing, were made from another
    /// version of the article, or by another embedding model than `model`: what is still
    /// to be embedded. Least recently updated first, at most `limit`.
    async fn articles_to_index(
        &self,
        tenant: TenantId,
        model: &str,
        limit: usize,
    ) -> Result<Vec<ArticleId>>;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn embeddings_round_trip_bit_for_bit() {
        let tricky = [
            0.0_f32,
            -0.0,
            1.0,
            -1.0,
            f32::MIN_POSITIVE,
            f32::from_bits(1),
            -f32::from_bits(0x007f_ffff),
            f32::MAX,
            f32::MIN,
            f32::EPSILON,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::from_bits(0x7fc0_0001),
            f32::from_bits(0xffa0_0000),
        ];
        let bytes = embedding_to_le_bytes(&tricky);
        assert_eq!(bytes.len(), tricky.len() * 4);
        assert_eq!(
            &bytes[8..12],
            &[0x00, 0x00, 0x80, 0x3f],
            "1.0, little-endian"
        );
        let back = embedding_from_le_bytes(&bytes).unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&tricky));
    }

    #[test]
    fn lengths_that_are_not_a_positive_multiple_of_4_are_refused() {
        for len in [0, 1, 2, 3, 5, 7, 4097] {
            let err = embedding_from_le_bytes(&vec![0; len]).unwrap_err();
            assert_eq!(err, EmbeddingBytesError::Length { len });
            assert_eq!(
                err.to_string(),
                format!("{len} bytes, not a positive multiple of 4")
            );
        }
        assert_eq!(embedding_from_le_bytes(&[0; 4]).unwrap(), vec![0.0]);
    }
}
