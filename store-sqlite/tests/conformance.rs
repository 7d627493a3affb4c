//! The core storage conformance suite on SQLite, each case on a brand-new database file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use helpdesk_store_sqlite::SqliteStore;

/// A store on a new database file in its own temporary directory (removed with the store).
async fn fresh_store() -> Arc<dyn helpdesk_core::Store> {
    Arc::new(SqliteStore::temporary().await.unwrap())
}

helpdesk_core::store_conformance_tests!(setup = fresh_store);
