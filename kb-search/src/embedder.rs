//! [`FastembedEmbedder`]: sentence embeddings with fastembed over a local ONNX model.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use fastembed::{
    InitOptionsUserDefined, Pooling, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel,
};
use helpdesk_core::{EmbedKind, Embedder, ModelError};

use crate::error::KbError;
use crate::onnx_runtime;

/// The environment variable naming the model folder that `scripts/setup-model.sh` prepares.
pub const HELPDESK_MODEL_DIR: &str = "HELPDESK_MODEL_DIR";

/// The files a model folder holds.
pub const MODEL_FILES: [&str; 5] = [
    "model.onnx",
    "tokenizer.json",
    "config.json",
    "special_tokens_map.json",
    "tokenizer_config.json",
];

/// How a [`FastembedEmbedder`] loads and runs its model.
#[derive(Debug, Clone)]
pub struct EmbedderOptions {
    /// Model id recorded in index metadata (an index built with another id is rebuilt).
    pub model_id: String,
    /// Vector length the model produces (384 for MiniLM-L6).
    pub dimensions: usize,
    /// Tokens per text; longer texts are truncated (256, MiniLM's training length).
    pub max_length: usize,
    /// Texts per inference batch.
    pub batch_size: usize,
    /// ONNX Runtime intra-op threads (default: at most 2, for small machines).
    pub threads: usize,
    /// The ONNX Runtime library; `None` reads `ORT_DYLIB_PATH`.
    pub ort_dylib_path: Option<PathBuf>,
}

impl Default for EmbedderOptions {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self {
            model_id: "sentence-transformers/all-MiniLM-L6-v2".into(),
            dimensions: 384,
            max_length: 256,
            batch_size: 32,
            threads: cores.min(2),
            ort_dylib_path: None,
        }
    }
}

/// Sentence embeddings with [fastembed](https://docs.rs/fastembed) on the CPU: mean pooling
/// over the attention mask, L2-normalised vectors. Inference runs on tokio's blocking
/// threads, one batch call at a time per embedder (ONNX Runtime itself uses
/// [`EmbedderOptions::threads`] threads).
///
/// Build it from a local folder ([`FastembedEmbedder::from_dir`]: the offline path) or, with
/// the `online` feature, from fastembed's model download (`FastembedEmbedder::download`).
#[derive(Clone)]
pub struct FastembedEmbedder {
    model: Arc<Mutex<TextEmbedding>>,
    options: Arc<EmbedderOptions>,
}

impl std::fmt::Debug for FastembedEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastembedEmbedder")
            .field("model_id", &self.options.model_id)
            .field("dimensions", &self.options.dimensions)
            .finish_non_exhaustive()
    }
}

impl FastembedEmbedder {
    /// Loads the model in `HELPDESK_MODEL_DIR` with default options (MiniLM-L6).
    pub fn from_env() -> Result<Self, ModelError> {
        let dir = std::env::var_os(HELPDESK_MODEL_DIR).ok_or_else(|| ModelError::NotFound {
            message: format!(
                "{HELPDESK_MODEL_DIR} is not set (run `eval \"$(scripts/setup-model.sh)\"`)"
            ),
        })?;
        Self::from_dir(Path::new(&dir), EmbedderOptions::default())
    }

    /// Loads `model.onnx` and the tokenizer files from `dir` (see [`MODEL_FILES`]). Blocking:
    /// call it from a blocking context or at start-up.
    pub fn from_dir(dir: &Path, options: EmbedderOptions) -> Result<Self, ModelError> {
        validate_options(&options)?;
        onnx_runtime::ensure_loaded(options.ort_dylib_path.as_deref())?;
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|source| KbError::ModelFile { path, source })
        };
        let onnx = read("model.onnx")?;
        let tokenizer_files = TokenizerFiles {
            tokenizer_file: read("tokenizer.json")?,
            config_file: read("config.json")?,
            special_tokens_map_file: read("special_tokens_map.json")?,
            tokenizer_config_file: read("tokenizer_config.json")?,
        };
        // User-defined models default to CLS pooling, which gives wrong MiniLM vectors.
        let model =
            UserDefinedEmbeddingModel::new(onnx, tokenizer_files).with_pooling(Pooling::Mean);
        let init = InitOptionsUserDefined::new()
            .with_max_length(options.max_length)
            .with_intra_threads(options.threads);
        let embedding =
            TextEmbedding::try_new_from_user_defined(model, init).map_err(|source| {
                KbError::Fastembed {
                    action: "load",
                    source,
                }
            })?;
        Ok(Self::new(embedding, options))
    }

    /// Downloads a model with fastembed's own model hub client (needs the network).
    #[cfg(feature = "online")]
    pub fn download(
        model: fastembed::EmbeddingModel,
        options: EmbedderOptions,
    ) -> Result<Self, ModelError> {
        validate_options(&options)?;
        onnx_runtime::ensure_loaded(options.ort_dylib_path.as_deref())?;
        let init = fastembed::TextInitOptions::new(model)
            .with_max_length(options.max_length)
            .with_intra_threads(options.threads);
        let embedding = TextEmbedding::try_new(init).map_err(|source| KbError::Fastembed {
            action: "load",
            source,
        })?;
        Ok(Self::new(embedding, options))
    }

    fn new(embedding: TextEmbedding, options: EmbedderOptions) -> Self {
        Self {
            model: Arc::new(Mutex::new(embedding)),
            options: Arc::new(options),
        }
    }

    /// Embeds texts on the calling thread (blocking; for batch tools and blocking contexts).
    /// Texts are sorted by length so each batch pads little, and returned in input order.
    pub fn embed_blocking(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, ModelError> {
        embed_sorted(&self.model, &self.options, texts).map_err(ModelError::from)
    }
}

fn validate_options(options: &EmbedderOptions) -> Result<(), ModelError> {
    let bad = |field: &str, message: &str| ModelError::InvalidRequest {
        message: format!("EmbedderOptions.{field}: {message}"),
    };
    if options.dimensions == 0 {
        return Err(bad("dimensions", "must be positive"));
    }
    if !(1..=512).contains(&options.max_length) {
        return Err(bad("max_length", "must be in 1..=512"));
    }
    if options.batch_size == 0 {
        return Err(bad("batch_size", "must be positive"));
    }
    if options.threads == 0 {
        return Err(bad("threads", "must be positive"));
    }
    Ok(())
}

fn embed_sorted(
    model: &Mutex<TextEmbedding>,
    options: &EmbedderOptions,
    texts: &[String],
) -> Result<Vec<Vec<f32>>, KbError> {
    if texts.is_empty() {
        return Ok(Vec::new());
    }
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| texts[i].len());
    let sorted: Vec<&str> = order.iter().map(|&i| texts[i].as_str()).collect();
    let vectors = {
        let mut model = model
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        model
            .embed(&sorted, Some(options.batch_size))
            .map_err(|source| KbError::Fastembed {
                action: "embed",
                source,
            })?
    };
    let bad_len = vectors.iter().find(|v| v.len() != options.dimensions);
    if vectors.len() != texts.len() || bad_len.is_some() {
        return Err(KbError::Shape {
            got: vectors.len(),
            len: bad_len.or(vectors.first()).map_or(0, Vec::len),
            want: texts.len(),
            dims: options.dimensions,
        });
    }
    let mut out = vec![Vec::new(); texts.len()];
    for (slot, mut v) in order.into_iter().zip(vectors) {
        normalise(&mut v);
        out[slot] = v;
    }
    Ok(out)
}

/// Scales `v` to unit length (a zero vector stays zero).
pub(crate) fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 1e-12 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

#[async_trait]
impl Embedder for FastembedEmbedder {
    fn model_id(&self) -> &str {
        &self.options.model_id
    }

    fn dimensions(&self) -> usize {
        self.options.dimensions
    }

    async fn embed(&self, texts: &[String], _kind: EmbedKind) -> Result<Vec<Vec<f32>>, ModelError> {
        // MiniLM is symmetric: queries and documents are embedded alike.
        let model = Arc::clone(&self.model);
        let options = Arc::clone(&self.options);
        let texts = texts.to_vec();
        tokio::task::spawn_blocking(move || embed_sorted(&model, &options, &texts))
            .await
            .map_err(KbError::Join)?
            .map_err(ModelError::from)
    }
}
