//! Backends for a real run, chosen from the environment: the store ([`StoreChoice`]:
//! MongoDB with `MONGODB_URI`, else PostgreSQL with a `postgres://` `DATABASE_URL`, else
//! SQLite under the data folder), the offline MiniLM model prepared by
//! `scripts/setup-model.sh` with a persistent per-tenant HNSW index, attachment bytes in
//! `blobs/` under the data folder, and a language model: Gemini when `GEMINI_API_KEY` is set
//! (`GEMINI_BASE_URL` overrides the endpoint), an OpenAI-compatible server (OpenAI,
//! Azure, Ollama, vLLM, llama.cpp) when `OPENAI_BASE_URL` or `OPENAI_API_KEY` is set
//! (`OPENAI_MODEL` names the model), and both as a provider chain (Gemini first) when both
//! are.

use std::path::Path;
use std::sync::Arc;

use helpdesk_core::ai::ModelChain;
use helpdesk_core::blob::FsBlobStore;
use helpdesk_core::testkit::FakeEmbedder;
use helpdesk_core::{DynStore, Embedder, Error, KnowledgeBase, LanguageModel, Result};
use helpdesk_kb_search::{FastembedEmbedder, KbIndex, KbIndexOptions};
use helpdesk_llm_gemini::GeminiClientBuilder;
use helpdesk_llm_openai::OpenAiClientBuilder;
use helpdesk_store_mongo::MongoStore;
use helpdesk_store_postgres::PostgresStore;
use helpdesk_store_sqlite::SqliteStore;

use super::app::Backends;

/// Database name used on MongoDB unless `MONGODB_DATABASE` names another.
pub const MONGO_DATABASE: &str = "helpdesk";

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Where a real run keeps its data. The first that applies wins: `MONGODB_URI` (MongoDB,
/// database `MONGODB_DATABASE`, default [`MONGO_DATABASE`]), then `DATABASE_URL` with a `postgres://` or
/// `postgresql://` URL (PostgreSQL, tables in the schema `helpdesk` of that database,
/// migrated at start), then SQLite in `helpdesk.db` under the data folder. A
/// `DATABASE_URL` of another kind is refused rather than ignored, so a typo does not quietly
/// start on an empty SQLite file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreChoice {
    /// MongoDB at this URI.
    Mongo {
        /// The connection string.
        uri: String,
    },
    /// PostgreSQL at this URL.
    Postgres {
        /// The connection URL (`postgres://user@host:port/database`).
        url: String,
    },
    /// SQLite under the data folder.
    Sqlite,
}

impl StoreChoice {
    /// The choice the process environment makes (`MONGODB_URI`, `DATABASE_URL`; empty
    /// values count as unset).
    pub fn from_environment() -> Result<Self> {
        Self::from_values(env("MONGODB_URI"), env("DATABASE_URL"))
    }

    /// The choice these values of `MONGODB_URI` and `DATABASE_URL` make.
    pub fn from_values(mongodb_uri: Option<String>, database_url: Option<String>) -> Result<Self> {
        if let Some(uri) = mongodb_uri {
            return Ok(Self::Mongo { uri });
        }
        let Some(url) = database_url else {
            return Ok(Self::Sqlite);
        };
        let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("postgres" | "postgresql") => Ok(Self::Postgres { url }),
            _ => Err(Error::Configuration {
                field: "DATABASE_URL".into(),
                message: "only postgres:// (or postgresql://) URLs select a database; unset it \
                          to keep the data in SQLite under the data folder"
                    .into(),
            }),
        }
    }

    /// Opens (and migrates) the chosen store; SQLite's file goes under `data_dir`, which
    /// must exist.
    pub async fn open(&self, data_dir: &Path) -> Result<DynStore> {
        Ok(match self {
            Self::Mongo { uri } => {
                let database = env("MONGODB_DATABASE");
                let database = database.as_deref().unwrap_or(MONGO_DATABASE);
                Arc::new(MongoStore::connect(uri, database).await?)
            }
            Self::Postgres { url } => {
                let store = PostgresStore::connect(url).await?;
                tracing::info!(schema = store.schema(), "storing in PostgreSQL");
                Arc::new(store)
            }
            Self::Sqlite => {
                let db = data_dir.join("helpdesk.db");
                create_private_file(&db).map_err(|e| Error::Configuration {
                    field: "data_dir".into(),
                    message: format!("cannot create {}: {e}", db.display()),
                })?;
                Arc::new(SqliteStore::open(db).await?)
            }
        })
    }
}

impl Backends {
    /// Backends from the environment, keeping data under `data_dir` (created if missing).
    pub async fn from_environment(data_dir: &Path) -> Result<Self> {
        let configuration = |e: std::io::Error, what: &Path| Error::Configuration {
            field: "data_dir".into(),
            message: format!("cannot create {}: {e}", what.display()),
        };
        create_private_dir(data_dir).map_err(|e| configuration(e, data_dir))?;
        let store = StoreChoice::from_environment()?.open(data_dir).await?;
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
        let gemini: Option<Arc<dyn LanguageModel>> = match env("GEMINI_API_KEY") {
            Some(key) => Some(Arc::new(
                GeminiClientBuilder::new()
                    .api_key(key)
                    .base_url_from_env()
                    .build()?,
            )),
            None => None,
        };
        let openai: Option<Arc<dyn LanguageModel>> =
            if env("OPENAI_BASE_URL").is_some() || env("OPENAI_API_KEY").is_some() {
                Some(Arc::new(OpenAiClientBuilder::from_env().build()?))
            } else {
                None
            };
        // Both configured: Gemini first, the OpenAI-compatible server (a local Ollama, ...)
        // standing in when Gemini fails.
        let model: Option<Arc<dyn LanguageModel>> = match (gemini, openai) {
            (Some(primary), Some(fallback)) => Some(Arc::new(ModelChain::new(primary, [fallback]))),
            (primary, fallback) => primary.or(fallback),
        };
        // Attachment bytes under the data folder, whichever store keeps the rest: for one
        // host (several instances need a shared blob store, e.g. `ObjectBlobStore`).
        let blobs = data_dir.join("blobs");
        create_private_dir(&blobs).map_err(|e| configuration(e, &blobs))?;
        Ok(Self {
            store,
            knowledge_base: Some(knowledge_base),
            model,
            embedder: Some(embedder),
            demo_store: false,
            embedder_note,
            blob_store: Some(Arc::new(FsBlobStore::new(blobs))),
        })
    }
}

/// Creates `dir` (and missing parents) readable by the owner only (0700 on Unix): it holds
/// the database, the index and the demo passwords. A folder that exists is left as it is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Writes `text` to `path` (created or truncated) readable and writable by the owner only
/// (0600 on Unix): the demo passwords, the reply-token key.
pub fn write_private_file(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;

    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

/// Creates the empty file `path` readable and writable by the owner only (0600 on Unix)
/// when it does not exist, so that SQLite opens it instead of creating it with the umask's
/// permissions (its `-wal` and `-shm` files take the database file's permissions).
pub fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
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

#[cfg(test)]
mod choice_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn some(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    #[test]
    fn mongodb_then_a_postgres_database_url_then_sqlite() {
        let pg = "postgres://app@127.0.0.1:5432/app";
        assert_eq!(
            StoreChoice::from_values(some("mongodb://h/"), some(pg)).unwrap(),
            StoreChoice::Mongo {
                uri: "mongodb://h/".into()
            }
        );
        for url in [pg, "postgresql://app@db/app", "POSTGRES://app@db/app"] {
            assert_eq!(
                StoreChoice::from_values(None, some(url)).unwrap(),
                StoreChoice::Postgres { url: url.into() }
            );
        }
        assert_eq!(
            StoreChoice::from_values(None, None).unwrap(),
            StoreChoice::Sqlite
        );
    }

    #[test]
    fn another_database_url_is_refused_naming_the_variable() {
        for url in ["mysql://app@db/app", "sqlite://x.db", "app.db"] {
            let err = StoreChoice::from_values(None, some(url)).unwrap_err();
            let Error::Configuration { field, message } = &err else {
                panic!("{url}: {err:?}");
            };
            assert_eq!(field, "DATABASE_URL");
            assert!(message.contains("postgres://"), "{message}");
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_data_folder_and_database_are_the_owners_only() {
        let base = std::env::temp_dir().join(format!("helpdesk-private-{}", std::process::id()));
        let dir = base.join("data");
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let db = dir.join("helpdesk.db");
        create_private_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        // Existing ones are left alone (a second start).
        std::fs::write(&db, b"data").unwrap();
        create_private_file(&db).unwrap();
        assert_eq!(std::fs::read(&db).unwrap(), b"data");
        create_private_dir(&dir).unwrap();
        std::fs::remove_dir_all(&base).unwrap();
    }
}
