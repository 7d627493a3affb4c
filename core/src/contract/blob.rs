//! The blob store: where attachment bytes live, addressed by tenant and content
//! (SHA-256), so the same bytes are stored once per tenant and never shared across
//! tenants. The metadata ([`Attachment`](crate::domain::Attachment)) lives in the ticket
//! store; a blob is put before the ticket write that references it commits, so a failed
//! commit leaves at most an unreferenced blob, never a reference without bytes.
//!
//! [`FsBlobStore`] keeps blobs in a local folder, for one host; `ObjectBlobStore` (feature
//! `object-store`) keeps them in any `object_store` store (S3, GCS, Azure), for hosts that
//! run several instances; the test kit has an in-memory one and the checks every blob
//! store passes (`testkit::blob_store_conformance`).

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;

pub use crate::blob_fs::FsBlobStore;
#[cfg(feature = "object-store")]
#[cfg_attr(docsrs, doc(cfg(feature = "object-store")))]
pub use crate::blob_object_store::ObjectBlobStore;
use crate::domain::Sha256;
use crate::{BoxError, TenantId};

/// A blob's address: its tenant and the SHA-256 of its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlobKey {
    /// Owning tenant: the same bytes of two tenants are two blobs.
    pub tenant: TenantId,
    /// SHA-256 of the bytes.
    pub sha256: Sha256,
}

impl BlobKey {
    /// The key of `bytes` for `tenant` (hashes on the calling thread).
    pub fn of(tenant: TenantId, bytes: &[u8]) -> Self {
        Self {
            tenant,
            sha256: Sha256::digest(bytes),
        }
    }
}

/// What a blob store can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlobError {
    /// The bytes given to [`BlobStore::put`] do not hash to the key's SHA-256; nothing
    /// was stored.
    #[error("the bytes do not match the content address {expected}")]
    DigestMismatch {
        /// The key's digest.
        expected: Sha256,
    },
    /// The storage failed (disk, network, ...).
    #[error("{backend} blob storage failed")]
    Storage {
        /// `"filesystem"`, `"memory"`, `"s3"`, ...
        backend: &'static str,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
}

impl From<BlobError> for crate::Error {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::DigestMismatch { .. } => {
                crate::Error::Internal("a blob's bytes did not match its content address")
            }
            BlobError::Storage { backend, source } => crate::Error::Backend {
                backend,
                temporary: false,
                source,
            },
        }
    }
}

/// Stores attachment bytes by [`BlobKey`]. Implementations keep these rules:
///
/// * `put` is idempotent: putting bytes already stored under the key succeeds and keeps
///   one copy. It checks that the bytes hash to the key (a mismatch is
///   [`BlobError::DigestMismatch`] and stores nothing), and `Ok` means durable.
/// * A blob is visible whole or not at all: a reader never sees a partly written one.
/// * Keys of different tenants never share storage.
#[async_trait]
pub trait BlobStore: Debug + Send + Sync + 'static {
    /// Stores `bytes` under `key`.
    async fn put(&self, key: BlobKey, bytes: Arc<[u8]>) -> Result<(), BlobError>;
    /// The bytes under `key`, `None` when there are none.
    async fn get(&self, key: BlobKey) -> Result<Option<Vec<u8>>, BlobError>;
    /// Deletes the blob under `key`; returns whether there was one.
    async fn delete(&self, key: BlobKey) -> Result<bool, BlobError>;
}

#[async_trait]
impl<T: BlobStore + ?Sized> BlobStore for Arc<T> {
    async fn put(&self, key: BlobKey, bytes: Arc<[u8]>) -> Result<(), BlobError> {
        (**self).put(key, bytes).await
    }
    async fn get(&self, key: BlobKey) -> Result<Option<Vec<u8>>, BlobError> {
        (**self).get(key).await
    }
    async fn delete(&self, key: BlobKey) -> Result<bool, BlobError> {
        (**self).delete(key).await
    }
}

/// A shared blob store handle.
pub type DynBlobStore = Arc<dyn BlobStore>;
