//! A missing or unusable ONNX Runtime library is a typed error, not a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use helpdesk_core::ModelError;
use helpdesk_kb_search::{EmbedderOptions, FastembedEmbedder};

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

#[test]
fn missing_and_invalid_libraries_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let options = |path: PathBuf| EmbedderOptions {
        ort_dylib_path: Some(path),
        ..EmbedderOptions::default()
    };
    let err = FastembedEmbedder::from_dir(
        dir.path(),
        options(dir.path().join("libonnxruntime.so.1.99.0")),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        ModelError::Provider {
            provider: "fastembed",
            ..
        }
    ));
    assert!(chain(&err).contains("does not exist"), "{}", chain(&err));

    let fake = dir.path().join("libonnxruntime.so");
    std::fs::write(&fake, b"not a shared library").unwrap();
    let err = FastembedEmbedder::from_dir(dir.path(), options(fake)).unwrap_err();
    assert!(
        chain(&err).contains("cannot use the ONNX Runtime library"),
        "{}",
        chain(&err)
    );

    let err = FastembedEmbedder::from_dir(
        dir.path(),
        EmbedderOptions {
            batch_size: 0,
            ..EmbedderOptions::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, ModelError::InvalidRequest { .. }));
    assert!(err.to_string().contains("batch_size"));
}
