//! The blob store contract on `object_store`'s `InMemory` and `LocalFileSystem` stores,
//! through [`ObjectBlobStore`] (feature `object-store`, on for this crate's tests), and the
//! paths it writes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use helpdesk_core::TenantId;
use helpdesk_core::blob::{BlobKey, BlobStore, ObjectBlobStore};
use helpdesk_core::testkit::blob_store_conformance;
use object_store::ObjectStoreExt;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;

#[tokio::test]
async fn the_in_memory_object_store_keeps_the_contract() {
    blob_store_conformance(&ObjectBlobStore::new(Arc::new(InMemory::new()))).await;
    let prefixed = ObjectBlobStore::new(Arc::new(InMemory::new())).with_prefix("/helpdesk//blobs/");
    blob_store_conformance(&prefixed).await;
}

#[tokio::test]
async fn the_local_file_system_object_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let local = Arc::new(LocalFileSystem::new_with_prefix(dir.path()).unwrap());
    let blobs = ObjectBlobStore::new(local).with_prefix("helpdesk/blobs");
    blob_store_conformance(&blobs).await;

    // Bytes large enough to be hashed on a blocking thread, at the documented path.
    let tenant = TenantId::new();
    let bytes: Arc<[u8]> = Arc::from(vec![42_u8; 200 * 1024]);
    let key = BlobKey::of(tenant, &bytes);
    blobs.put(key, bytes.clone()).await.unwrap();
    let hex = key.sha256.to_hex();
    let file = dir
        .path()
        .join("helpdesk/blobs")
        .join(tenant.to_string())
        .join(&hex[..2])
        .join(&hex);
    assert_eq!(std::fs::read(&file).unwrap(), bytes.to_vec());
    assert_eq!(
        blobs.path(&key).to_string(),
        format!("helpdesk/blobs/{tenant}/{}/{hex}", &hex[..2])
    );
    // Already there: the second put writes nothing (the file keeps its time).
    let before = std::fs::metadata(&file).unwrap().modified().unwrap();
    blobs.put(key, bytes.clone()).await.unwrap();
    assert_eq!(
        std::fs::metadata(&file).unwrap().modified().unwrap(),
        before
    );
    let meta = blobs.object_store().head(&blobs.path(&key)).await.unwrap();
    assert_eq!(meta.size, 200 * 1024);
}
