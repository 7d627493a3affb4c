//! [`FsBlobStore`]: blobs as files in a local folder, `<root>/<tenant>/<ab>/<sha256>`
//! (`ab` the digest's first two hex digits, so no folder grows past a few thousand
//! entries). Plain `std::fs` on tokio's blocking threads: no dependency beyond the
//! runtime.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;

use crate::blob::{BlobError, BlobKey, BlobStore};
use crate::domain::Sha256;

const BACKEND: &str = "filesystem";

/// Blobs in a local folder. A put writes a temporary file in the tenant's folder, syncs
/// it and renames it into place, so a reader sees a blob whole or not at all and a crash
/// leaves at most a temporary file (`.tmp-*`, safe to delete). For one host; hosts
/// running several instances need a shared store.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: Arc<Path>,
}

impl FsBlobStore {
    /// A store under `root` (created on the first put).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: Arc::from(root.into()),
        }
    }

    /// The folder the blobs are in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &BlobKey) -> PathBuf {
        let hex = key.sha256.to_hex();
        self.root
            .join(key.tenant.to_string())
            .join(&hex[..2])
            .join(hex)
    }
}

fn storage(e: impl Into<crate::BoxError>) -> BlobError {
    BlobError::Storage {
        backend: BACKEND,
        source: e.into(),
    }
}

/// Runs `f` on a blocking thread (file I/O and hashing must not stall the runtime).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, BlobError> + Send + 'static,
) -> Result<T, BlobError> {
    tokio::task::spawn_blocking(f).await.map_err(storage)?
}

fn put_file(path: &Path, bytes: &[u8], expected: Sha256) -> Result<(), BlobError> {
    if Sha256::digest(bytes) != expected {
        return Err(BlobError::DigestMismatch { expected });
    }
    if path.exists() {
        // Content addressed: the file there has these very bytes.
        return Ok(());
    }
    let dir = path
        .parent()
        .ok_or_else(|| storage("a blob path has no parent folder"))?;
    std::fs::create_dir_all(dir).map_err(storage)?;
    let tmp = dir.join(format!(".tmp-{}", uuid::Uuid::now_v7()));
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        // Best effort: the temporary file is garbage either way.
        let _ = std::fs::remove_file(&tmp);
        return Err(storage(e));
    }
    Ok(())
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put(&self, key: BlobKey, bytes: Arc<[u8]>) -> Result<(), BlobError> {
        let path = self.path(&key);
        blocking(move || put_file(&path, &bytes, key.sha256)).await
    }

    async fn get(&self, key: BlobKey) -> Result<Option<Vec<u8>>, BlobError> {
        let path = self.path(&key);
        blocking(move || match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(storage(e)),
        })
        .await
    }

    async fn delete(&self, key: BlobKey) -> Result<bool, BlobError> {
        let path = self.path(&key);
        blocking(move || match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(storage(e)),
        })
        .await
    }
}
