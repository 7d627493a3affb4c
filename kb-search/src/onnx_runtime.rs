//! Locating and loading the ONNX Runtime shared library (fastembed's `ort-load-dynamic`).
//!
//! ort's own lazy loader panics when the library is missing; loading it here first, with
//! `ort::init_from`, turns a missing or too-old library into a typed error.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::KbError;

/// The environment variable naming the library (`libonnxruntime.so.1.*`).
pub const ORT_DYLIB_PATH: &str = "ORT_DYLIB_PATH";

/// The oldest ONNX Runtime fastembed 7.5 (ort 2.0.0-rc.15, API 24) works with.
pub const MIN_ONNX_RUNTIME: &str = "1.24";

static LOADED: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Loads ONNX Runtime from `path`, or from `ORT_DYLIB_PATH` when `path` is `None`. Loading
/// happens once per process; later calls return the path that was loaded.
pub(crate) fn ensure_loaded(path: Option<&Path>) -> Result<PathBuf, KbError> {
    let mut loaded = LOADED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(done) = loaded.as_ref() {
        return Ok(done.clone());
    }
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => match std::env::var_os(ORT_DYLIB_PATH) {
            Some(v) if !v.is_empty() => PathBuf::from(v),
            _ => return Err(KbError::OrtNotConfigured),
        },
    };
    if !path.is_file() {
        return Err(KbError::OrtMissing { path });
    }
    // init_from checks the library's version against API 24 (ONNX Runtime 1.24) and errs
    // with `BadVersion` when it is older. The builder it returns is dropped: fastembed
    // creates the process's one environment itself.
    drop(ort::init_from(&path).map_err(|source| KbError::OrtLoad {
        path: path.clone(),
        source,
    })?);
    *loaded = Some(path.clone());
    Ok(path)
}
