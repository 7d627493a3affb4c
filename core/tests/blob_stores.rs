//! The blob store contract on the filesystem store and the test kit's memory store.

use helpdesk_core::blob::FsBlobStore;
use helpdesk_core::testkit::{MemoryBlobStore, blob_store_conformance};

#[tokio::test]
async fn the_filesystem_store_keeps_the_contract() {
    let dir = std::env::temp_dir().join(format!("helpdesk-blobs-{}", uuid_like()));
    let store = FsBlobStore::new(&dir);
    blob_store_conformance(&store).await;
    // Nothing half-written is left behind.
    let leftovers = walk(&dir)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".tmp-"))
        })
        .count();
    assert_eq!(leftovers, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_memory_store_keeps_the_contract() {
    blob_store_conformance(&MemoryBlobStore::new()).await;
}

fn uuid_like() -> String {
    helpdesk_core::TicketId::new().to_string()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
