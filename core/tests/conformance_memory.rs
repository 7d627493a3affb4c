//! The storage conformance suite on the in-memory store.

use std::sync::Arc;

use helpdesk_core::Store;
use helpdesk_core::store::MemoryStore;

async fn fresh_store() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new())
}

helpdesk_core::store_conformance_tests!(setup = fresh_store);
