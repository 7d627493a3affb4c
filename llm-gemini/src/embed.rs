//! batchEmbedContents as a core [`Embedder`].

use async_trait::async_trait;
use helpdesk_core::{EmbedKind, Embedder, Error, ModelError};
use helpdesk_llm_http::embed::{check_count, checked_vector, in_batches};
use serde_json::json;

use crate::builder::validate_model;
use crate::client::{GeminiClient, model_path};
use crate::error::{GeminiError, transport_error};
use crate::options::TaskType;
use crate::transport::{MAX_BODY_BYTES, WireRequest};
use crate::wire::BatchEmbedResponse;

/// The default embedding model.
pub const DEFAULT_EMBEDDING_MODEL: &str = "gemini-embedding-001";

/// The most requests the API takes in one `batchEmbedContents` call.
pub const MAX_EMBED_BATCH: usize = 100;

/// Embeds texts with `batchEmbedContents`: batches over 100 texts are split (order kept),
/// vectors are checked for length and L2-normalised (Gemini normalises only at 3072 dims).
#[derive(Debug, Clone)]
pub struct GeminiEmbedder {
    client: GeminiClient,
    model: String,
    dimensions: usize,
    query_task: TaskType,
    document_task: TaskType,
}

impl GeminiEmbedder {
    pub(crate) fn new(
        client: GeminiClient,
        model: String,
        dimensions: usize,
    ) -> Result<Self, Error> {
        validate_model(&model)?;
        if !(1..=3072).contains(&dimensions) {
            return Err(Error::Configuration {
                field: "dimensions".into(),
                message: format!("{dimensions} is outside 1..=3072"),
            });
        }
        Ok(Self {
            client,
            model,
            dimensions,
            query_task: TaskType::RetrievalQuery,
            document_task: TaskType::RetrievalDocument,
        })
    }

    /// The task types sent for [`EmbedKind::Query`] and [`EmbedKind::Document`]
    /// (default `RETRIEVAL_QUERY` / `RETRIEVAL_DOCUMENT`).
    pub fn with_task_types(mut self, query: TaskType, document: TaskType) -> Self {
        self.query_task = query;
        self.document_task = document;
        self
    }

    async fn embed_batch(
        &self,
        texts: &[String],
        task: TaskType,
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        let path = model_path(&self.model);
        let inner_model = path.trim_start_matches("/v1beta/").to_owned();
        let requests: Vec<_> = texts
            .iter()
            .map(|text| {
                json!({
                    "model": inner_model,
                    "content": {"parts": [{"text": text}]},
                    "taskType": task,
                    "outputDimensionality": self.dimensions,
                })
            })
            .collect();
        let wire = WireRequest {
            path: format!("{path}:batchEmbedContents"),
            query: None,
            body: json!({ "requests": requests }),
        };
        let response = self.client.send_with_retry(wire).await?;
        let bytes = response
            .collect(MAX_BODY_BYTES)
            .await
            .map_err(transport_error)?;
        let parsed: BatchEmbedResponse = serde_json::from_slice(&bytes).map_err(|source| {
            GeminiError::Decode {
                what: "batchEmbedContents",
                source,
            }
            .into_model_error(false)
        })?;
        let embeddings = parsed.embeddings.unwrap_or_default();
        check_count(embeddings.len(), texts.len())?;
        embeddings
            .into_iter()
            .enumerate()
            .map(|(i, e)| checked_vector(i, e.values.unwrap_or_default(), self.dimensions))
            .collect()
    }
}

#[async_trait]
impl Embedder for GeminiEmbedder {
    fn model_id(&self) -> &str {
        &self.model
    }

    fn dimensions(&self) -> usize {
        self.dimensions
    }

    async fn embed(&self, texts: &[String], kind: EmbedKind) -> Result<Vec<Vec<f32>>, ModelError> {
        let task = match kind {
            EmbedKind::Query => self.query_task,
            EmbedKind::Document => self.document_task,
        };
        let calls = &self.client.inner().calls;
        in_batches(calls, texts, MAX_EMBED_BATCH, |batch| {
            self.embed_batch(batch, task)
        })
        .await
    }
}
