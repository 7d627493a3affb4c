//! [`ObjectBlobStore`]: blobs in any [`object_store`] store (S3, GCS, Azure Blob Storage,
//! a local folder, memory), at `<prefix>/<tenant>/<ab>/<sha256>` like
//! [`FsBlobStore`](crate::blob::FsBlobStore). Behind the `object-store` feature; the
//! `object-store-aws`, `object-store-gcp` and `object-store-azure` features switch on the
//! matching `object_store` backends.

use std::sync::Arc;

use async_trait::async_trait;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::blob::{BlobError, BlobKey, BlobStore};
use crate::domain::Sha256;

const BACKEND: &str = "object_store";

/// Blobs larger than this are hashed on a blocking thread.
const HASH_INLINE_MAX: usize = 64 * 1024;

/// Blobs in an [`ObjectStore`]: the choice for hosts that run several instances, which
/// must all see every blob. A put is one atomic object write (object stores never show a
/// partly written object), after a `head` that skips bytes already stored; a blob is never
/// changed after it is written (its key is its content), so no conditional writes are
/// needed and racing puts of the same bytes are harmless.
///
/// ```
/// # async fn demo() -> Result<(), helpdesk_core::blob::BlobError> {
/// use std::sync::Arc;
/// use helpdesk_core::blob::{BlobKey, BlobStore, ObjectBlobStore};
/// use object_store::memory::InMemory;
///
/// // S3 instead: `AmazonS3Builder::from_env().with_bucket_name("helpdesk").build()?`
/// // (feature `object-store-aws`).
/// let blobs = ObjectBlobStore::new(Arc::new(InMemory::new())).with_prefix("helpdesk/blobs");
/// let tenant = helpdesk_core::TenantId::new();
/// let bytes: Arc<[u8]> = Arc::from(&b"screenshot"[..]);
/// blobs.put(BlobKey::of(tenant, &bytes), bytes.clone()).await?;
/// assert_eq!(blobs.get(BlobKey::of(tenant, &bytes)).await?.as_deref(), Some(&bytes[..]));
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct ObjectBlobStore {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
}

impl ObjectBlobStore {
    /// Blobs at the root of `store`.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            store,
            prefix: Path::default(),
        }
    }

    /// Blobs under `prefix` (`"helpdesk/blobs"`: segments separated by `/`; characters an
    /// object store path cannot hold are percent-encoded), so the helpdesk can share a
    /// bucket with the host's own objects.
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix
            .split('/')
            .filter(|segment| !segment.is_empty())
            .collect();
        self
    }

    /// The object store.
    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The path of the blob under `key`.
    pub fn path(&self, key: &BlobKey) -> Path {
        let hex = key.sha256.to_hex();
        self.prefix
            .clone()
            .join(key.tenant.to_string())
            .join(&hex[..2])
            .join(hex.as_str())
    }
}

fn storage(e: impl Into<crate::BoxError>) -> BlobError {
    BlobError::Storage {
        backend: BACKEND,
        source: e.into(),
    }
}

/// Whether `bytes` hash to `expected` (on a blocking thread when large).
async fn digest_matches(bytes: &Arc<[u8]>, expected: Sha256) -> Result<bool, BlobError> {
    let actual = if bytes.len() < HASH_INLINE_MAX {
        Sha256::digest(bytes)
    } else {
        let b = Arc::clone(bytes);
        tokio::task::spawn_blocking(move || Sha256::digest(&b))
            .await
            .map_err(storage)?
    };
    Ok(actual == expected)
}

#[async_trait]
impl BlobStore for ObjectBlobStore {
    async fn put(&self, key: BlobKey, bytes: Arc<[u8]>) -> Result<(), BlobError> {
        if !digest_matches(&bytes, key.sha256).await? {
            return Err(BlobError::DigestMismatch {
                expected: key.sha256,
            });
        }
        let path = self.path(&key);
        match self.store.head(&path).await {
            // Content addressed: the object there has these very bytes.
            Ok(_) => return Ok(()),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(storage(e)),
        }
        let payload = PutPayload::from_bytes(bytes::Bytes::from_owner(bytes));
        self.store.put(&path, payload).await.map_err(storage)?;
        Ok(())
    }

    async fn get(&self, key: BlobKey) -> Result<Option<Vec<u8>>, BlobError> {
        let found = match self.store.get(&self.path(&key)).await {
            Ok(found) => found,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(storage(e)),
        };
        let bytes = found.bytes().await.map_err(storage)?;
        Ok(Some(bytes.to_vec()))
    }

    async fn delete(&self, key: BlobKey) -> Result<bool, BlobError> {
        let path = self.path(&key);
        // Some stores report deleting a missing object as success: ask first.
        match self.store.head(&path).await {
            Ok(_) => {}
            Err(object_store::Error::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(storage(e)),
        }
        match self.store.delete(&path).await {
            Ok(()) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(storage(e)),
        }
    }
}
