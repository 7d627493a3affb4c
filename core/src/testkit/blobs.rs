//! An in-memory [`BlobStore`] and the checks every blob store passes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::TenantId;
use crate::blob::{BlobError, BlobKey, BlobStore};
use crate::domain::Sha256;

/// Blobs in process memory, for tests. [`len`](Self::len) tells how many distinct blobs
/// are stored, so tests can check that the same bytes are stored once per tenant.
#[derive(Debug, Default)]
pub struct MemoryBlobStore {
    blobs: Mutex<Blobs>,
}

type Blobs = HashMap<BlobKey, Arc<[u8]>>;

impl MemoryBlobStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many blobs are stored.
    pub fn len(&self) -> usize {
        self.blobs.lock().map_or(0, |b| b.len())
    }

    /// Whether no blob is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Blobs>, BlobError> {
        self.blobs.lock().map_err(|_| BlobError::Storage {
            backend: "memory",
            source: "blob store lock poisoned".into(),
        })
    }
}

#[async_trait]
impl BlobStore for MemoryBlobStore {
    async fn put(&self, key: BlobKey, bytes: Arc<[u8]>) -> Result<(), BlobError> {
        if Sha256::digest(&bytes) != key.sha256 {
            return Err(BlobError::DigestMismatch {
                expected: key.sha256,
            });
        }
        self.lock()?.entry(key).or_insert(bytes);
        Ok(())
    }

    async fn get(&self, key: BlobKey) -> Result<Option<Vec<u8>>, BlobError> {
        Ok(self.lock()?.get(&key).map(|b| b.to_vec()))
    }

    async fn delete(&self, key: BlobKey) -> Result<bool, BlobError> {
        Ok(self.lock()?.remove(&key).is_some())
    }
}

/// The rules of the [`BlobStore`] contract, for any implementation: round trip, idempotent
/// put, a digest mismatch stores nothing, tenants never share a blob, delete.
pub async fn blob_store_conformance(store: &dyn BlobStore) {
    let (a, b) = (TenantId::new(), TenantId::new());
    let bytes: Arc<[u8]> = Arc::from(&b"hello, blob"[..]);
    let key = BlobKey::of(a, &bytes);
    assert_eq!(store.get(key).await.unwrap(), None);
    store.put(key, bytes.clone()).await.unwrap();
    store.put(key, bytes.clone()).await.unwrap();
    assert_eq!(store.get(key).await.unwrap().as_deref(), Some(&bytes[..]));
    let other_tenant = BlobKey { tenant: b, ..key };
    assert_eq!(
        store.get(other_tenant).await.unwrap(),
        None,
        "tenants share nothing"
    );

    let wrong = BlobKey::of(a, b"something else");
    assert!(matches!(
        store.put(wrong, bytes.clone()).await,
        Err(BlobError::DigestMismatch { .. })
    ));
    assert_eq!(store.get(wrong).await.unwrap(), None);

    assert!(store.delete(key).await.unwrap());
    assert!(!store.delete(key).await.unwrap());
    assert_eq!(store.get(key).await.unwrap(), None);
}
