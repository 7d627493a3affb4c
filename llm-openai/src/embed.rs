//! `/embeddings` as a core [`Embedder`].

use async_trait::async_trait;
use helpdesk_core::{EmbedKind, Embedder, Error, ModelError};
use helpdesk_llm_http::embed::{check_count, checked_vector, in_batches};
use serde::Deserialize;
use serde_json::json;

use crate::builder::validate_model;
use crate::client::{OpenAiClient, read_json};

/// The default embedding model of OpenAI (1536 dimensions).
pub const DEFAULT_EMBEDDING_MODEL: &str = "text-embedding-3-small";

/// The default number of texts per `/embeddings` call (OpenAI takes up to 2048; servers on
/// small machines prefer smaller batches).
pub const DEFAULT_EMBED_BATCH: usize = 128;

#[derive(Debug, Deserialize)]
struct EmbeddingList {
    #[serde(default)]
    data: Vec<EmbeddingItem>,
}

#[derive(Debug, Deserialize)]
struct EmbeddingItem {
    #[serde(default)]
    index: Option<usize>,
    embedding: Vec<f32>,
}

/// Embeds texts with `POST {base}/embeddings` (`encoding_format: float`): batches are split
/// (order kept, answers put back in `index` order), vectors are checked for length and
/// L2-normalised. Queries and documents are embedded alike, with an optional prefix each
/// (models such as `nomic-embed-text` want `search_query: ` / `search_document: `).
#[derive(Debug, Clone)]
pub struct OpenAiEmbedder {
    client: OpenAiClient,
    model: String,
    dimensions: usize,
    send_dimensions: bool,
    batch: usize,
    query_prefix: String,
    document_prefix: String,
}

impl OpenAiEmbedder {
    pub(crate) fn new(
        client: OpenAiClient,
        model: String,
        dimensions: usize,
    ) -> Result<Self, Error> {
        validate_model(&model)?;
        if !(1..=65_536).contains(&dimensions) {
            return Err(Error::Configuration {
                field: "dimensions".into(),
                message: format!("{dimensions} is outside 1..=65536"),
            });
        }
        Ok(Self {
            client,
            model,
            dimensions,
            send_dimensions: false,
            batch: DEFAULT_EMBED_BATCH,
            query_prefix: String::new(),
            document_prefix: String::new(),
        })
    }

    /// Sends `dimensions` in the request, for models that shorten their vectors on request
    /// (OpenAI's `text-embedding-3-*`); off by default, since other servers refuse it.
    pub fn with_dimensions_parameter(mut self, send: bool) -> Self {
        self.send_dimensions = send;
        self
    }

    /// Texts per call (at least 1).
    pub fn with_batch_size(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// Prefixes put before query and document texts.
    pub fn with_prefixes(mut self, query: impl Into<String>, document: impl Into<String>) -> Self {
        self.query_prefix = query.into();
        self.document_prefix = document.into();
        self
    }

    async fn embed_batch(
        &self,
        texts: &[String],
        prefix: &str,
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        let input: Vec<String> = texts.iter().map(|t| format!("{prefix}{t}")).collect();
        let mut body = json!({"model": self.model, "input": input, "encoding_format": "float"});
        if self.send_dimensions {
            body["dimensions"] = json!(self.dimensions);
        }
        let response = self.client.send_with_retry("/embeddings", &body).await?;
        let list: EmbeddingList = read_json(response, "embeddings").await?;
        check_count(list.data.len(), texts.len())?;
        let mut slots: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
        for (position, item) in list.data.into_iter().enumerate() {
            let i = item.index.unwrap_or(position);
            let slot = slots.get_mut(i).filter(|s| s.is_none()).ok_or_else(|| {
                ModelError::MalformedOutput {
                    message: format!("embedding index {i} is out of range or repeated"),
                }
            })?;
            *slot = Some(checked_vector(i, item.embedding, self.dimensions)?);
        }
        Ok(slots.into_iter().flatten().collect())
    }
}

#[async_trait]
impl Embedder for OpenAiEmbedder {
    fn model_id(&self) -> &str {
        &self.model
    }

    fn dimensions(&self) -> usize {
        self.dimensions
    }

    async fn embed(&self, texts: &[String], kind: EmbedKind) -> Result<Vec<Vec<f32>>, ModelError> {
        let prefix = match kind {
            EmbedKind::Query => &self.query_prefix,
            EmbedKind::Document => &self.document_prefix,
        };
        let calls = &self.client.inner().calls;
        in_batches(calls, texts, self.batch, |batch| {
            self.embed_batch(batch, prefix)
        })
        .await
    }
}
