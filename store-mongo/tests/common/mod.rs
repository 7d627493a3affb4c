//! Shared set-up: a fresh database per test on the server named by `MONGODB_URI`.
#![allow(clippy::expect_used, dead_code)]

use std::sync::Arc;

use helpdesk_store_mongo::MongoStore;

/// Why the tests are ignored without a server.
pub(crate) const NEEDS_SERVER: &str = "set MONGODB_URI (see scripts/start-mongo.sh)";

/// A unique database name for one test.
pub(crate) fn fresh_db_name() -> String {
    format!("hdtest_{}", uuid::Uuid::now_v7().simple())
}

/// A store on a fresh database of the `MONGODB_URI` server.
pub(crate) async fn fresh_mongo() -> MongoStore {
    let uri =
        std::env::var("MONGODB_URI").expect("MONGODB_URI is set (see scripts/start-mongo.sh)");
    MongoStore::connect(&uri, &fresh_db_name())
        .await
        .expect("connect to MONGODB_URI")
}

/// [`fresh_mongo`] as a shared contract handle.
pub(crate) async fn fresh_store() -> Arc<dyn helpdesk_core::Store> {
    Arc::new(fresh_mongo().await)
}
