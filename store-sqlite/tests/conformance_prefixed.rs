//! The core storage conformance suite on SQLite with a custom table prefix: every
//! statement runs with the prefix rewritten (a table name missed by the rewrite fails here).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use helpdesk_store_sqlite::SqliteStore;

/// A store with the prefix `hd2_` on a new database file in its own temporary directory.
async fn fresh_store() -> Arc<dyn helpdesk_core::Store> {
    Arc::new(
        SqliteStore::builder()
            .table_prefix("hd2_")
            .temporary()
            .await
            .unwrap(),
    )
}

helpdesk_core::store_conformance_tests!(setup = fresh_store);
