//! Backends for a real run, chosen from the environment: SQLite under the data folder (or
//! MongoDB with `MONGODB_URI`), the offline MiniLM model prepared by
//! `scripts/setup-model.sh` with a persistent per-tenant HNSW index, and Gemini when
//! `GEMINI_API_KEY` is set (`GEMINI_BASE_URL` overrides the endpoint).

use std::path::Path;
use std::sync::Arc;

use helpdesk_core::testkit::FakeEmbedder;
use helpdesk_core::{DynStore, Embedder, Error, KnowledgeBase, LanguageModel, Result};
use helpdesk_kb_search::{FastembedEmbedder, KbIndex, KbIndexOptions};
use helpdesk_llm_gemini::GeminiClientBuilder;
use helpdesk_store_mongo::MongoStore;
use helpdesk_store_sqlite::SqliteStore;

use super::app::Backends;

/// Database name used on MongoDB.
pub const MONGO_DATABASE: &str = "helpdesk";

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Backends {
    /// Backends from the environment, keeping data under `data_dir` (created if missing).
    pub async fn from_environment(data_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir).map_err(|e| Error::Configuration {
            field: "data_dir".into(),
            message: format!("cannot create {}: {e}", data_dir.display()),
        })?;
        let store: DynStore = match env("MONGODB_URI") {
            Some(uri) => Arc::new(MongoStore::connect(&uri, MONGO_DATABASE).await?),
            None => Arc::new(SqliteStore::open(data_dir.join("helpdesk.db")).await?),
        };
        let (embedder, embedder_note): (Arc<dyn Embedder>, Option<String>) =
            match FastembedEmbedder::from_env() {
                Ok(e) => (Arc::new(e), None),
                Err(e) => {
                    tracing::warn!(error = %e, "MiniLM model not available; using the fake embedder");
                    (
                        Arc::new(FakeEmbedder::new()),
                        Some(
                            "Search uses a simple word-matching embedder: prepare the MiniLM \
                             model with scripts/setup-model.sh for semantic search."
                                .into(),
                        ),
                    )
                }
            };
        let knowledge_base: Arc<dyn KnowledgeBase> = Arc::new(KbIndex::open(
            data_dir.join(format!("kb-{}", sanitize(embedder.model_id()))),
            embedder.clone(),
            KbIndexOptions::default(),
        )?);
        let model: Option<Arc<dyn LanguageModel>> = match env("GEMINI_API_KEY") {
            Some(key) => Some(Arc::new(
                GeminiClientBuilder::new()
                    .api_key(key)
                    .base_url_from_env()
                    .build()?,
            )),
            None => None,
        };
        Ok(Self {
            store,
            knowledge_base: Some(knowledge_base),
            model,
            embedder: Some(embedder),
            demo_store: false,
            embedder_note,
        })
    }
}

fn sanitize(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
