//! The crate's private error enum; it converts into the core [`Error`] and [`ModelError`],
//! keeping the source chain.

use std::path::PathBuf;

use helpdesk_core::{Error, ModelError};

/// What went wrong inside this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum KbError {
    /// `ORT_DYLIB_PATH` is unset and no library path was given.
    #[error(
        "ONNX Runtime library not configured: set ORT_DYLIB_PATH to libonnxruntime.so \
         (>= 1.24), e.g. with `eval \"$(scripts/setup-model.sh)\"`"
    )]
    OrtNotConfigured,
    /// The library file does not exist.
    #[error("ONNX Runtime library {path} does not exist (ORT_DYLIB_PATH)")]
    OrtMissing {
        /// The configured path.
        path: PathBuf,
    },
    /// The library could not be loaded or is too old.
    #[error("cannot use the ONNX Runtime library {path} (fastembed 7.5 needs >= 1.24)")]
    OrtLoad {
        /// The configured path.
        path: PathBuf,
        /// ort's loader error (names the version found when it is too old).
        #[source]
        source: ort::LoadDynamicError,
    },
    /// A model file is missing or unreadable.
    #[error("cannot read model file {path}")]
    ModelFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// fastembed failed to build the session or to embed.
    #[error("fastembed {action} failed")]
    Fastembed {
        /// `"load"` or `"embed"`.
        action: &'static str,
        /// fastembed's error.
        #[source]
        source: fastembed::Error,
    },
    /// The model returned vectors of an unexpected shape.
    #[error("model returned {got} vectors of length {len}, expected {want} of length {dims}")]
    Shape {
        /// Vectors returned.
        got: usize,
        /// Length of the first vector returned.
        len: usize,
        /// Vectors expected.
        want: usize,
        /// Expected length.
        dims: usize,
    },
    /// A blocking task panicked or was cancelled.
    #[error("blocking task failed")]
    Join(#[source] tokio::task::JoinError),
    /// Reading or writing the index folder failed.
    #[error("index I/O failed at {path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An index file is not valid JSON of the expected shape.
    #[error("index metadata {path} is corrupt")]
    Metadata {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// hnsw_rs failed to dump or reload a graph.
    #[error("HNSW graph {action} failed in {path}")]
    Hnsw {
        /// `"dump"` or `"reload"`.
        action: &'static str,
        /// The folder.
        path: PathBuf,
        /// hnsw_rs's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Persisted index files disagree with each other.
    #[error("index in {path} is inconsistent: {message}")]
    Inconsistent {
        /// The folder.
        path: PathBuf,
        /// What disagrees.
        message: String,
    },
    /// An embedder returned a different number of vectors than texts.
    #[error("embedder returned {got} vectors for {want} texts")]
    EmbeddingCount {
        /// Vectors returned.
        got: usize,
        /// Texts sent.
        want: usize,
    },
    /// An embedder returned a vector of the wrong length for this index.
    #[error("embedder returned vectors of length {got}, the index holds length {want}")]
    Dimensions {
        /// Length returned.
        got: usize,
        /// Length expected.
        want: usize,
    },
}

impl KbError {
    /// Wraps an I/O error with its path.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<KbError> for ModelError {
    fn from(e: KbError) -> Self {
        let temporary = matches!(e, KbError::Join(_));
        ModelError::Provider {
            provider: "fastembed",
            temporary,
            source: Box::new(e),
        }
    }
}

impl From<KbError> for Error {
    fn from(e: KbError) -> Self {
        match e {
            KbError::OrtNotConfigured
            | KbError::OrtMissing { .. }
            | KbError::OrtLoad { .. }
            | KbError::ModelFile { .. }
            | KbError::Fastembed { .. }
            | KbError::Shape { .. } => Error::Model(e.into()),
            other => {
                let temporary = matches!(other, KbError::Join(_));
                Error::backend("hnsw", temporary, other)
            }
        }
    }
}
