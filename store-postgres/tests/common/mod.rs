//! Shared set-up: a fresh database per test on the server named by `HELPDESK_POSTGRES_URL`.
#![allow(clippy::expect_used, clippy::unwrap_used, dead_code, unreachable_pub)]

use std::str::FromStr;
use std::sync::Arc;

use helpdesk_store_postgres::{PgConnectOptions, PostgresStore};
use sqlx::Connection;
use tokio::sync::OnceCell;

/// Why the tests are ignored without a server.
pub const NEEDS_SERVER: &str = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)";

/// Test databases are named `hdtest_<uuid v7>`; those older than this are left over from
/// earlier runs and dropped by the first test of a process (each is a few megabytes, and a
/// run makes about eighty; the whole suite takes well under a minute).
const STALE_AFTER_MS: u64 = 600_000;

/// The server URL (a database the tests may connect to, such as `postgres`).
pub fn server_url() -> String {
    std::env::var("HELPDESK_POSTGRES_URL")
        .expect("HELPDESK_POSTGRES_URL is set (see scripts/start-postgres.sh)")
}

/// Connect options for database `name` on the test server.
pub fn options_for(name: &str) -> PgConnectOptions {
    PgConnectOptions::from_str(&server_url())
        .expect("HELPDESK_POSTGRES_URL is a PostgreSQL URL")
        .database(name)
}

/// Drops the test databases of earlier runs (once per process).
async fn drop_stale_databases() {
    static ONCE: OnceCell<()> = OnceCell::const_new();
    ONCE.get_or_init(|| async {
        let mut conn = sqlx::PgConnection::connect(&server_url()).await.unwrap();
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'hdtest\\_%'",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        for name in names {
            let Some(uuid) = name
                .strip_prefix("hdtest_")
                .and_then(|s| uuid::Uuid::parse_str(s).ok())
            else {
                continue;
            };
            let Some((secs, nanos)) = uuid.get_timestamp().map(|t| t.to_unix()) else {
                continue;
            };
            let created_ms = secs * 1000 + u64::from(nanos) / 1_000_000;
            if now_ms.saturating_sub(created_ms) > STALE_AFTER_MS {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            }
        }
    })
    .await;
}

/// Creates a new, empty database and returns its name.
pub async fn fresh_database() -> String {
    drop_stale_databases().await;
    let name = format!("hdtest_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(&server_url()).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await
        .unwrap();
    name
}

/// A pool on a fresh database.
pub async fn fresh_pool() -> sqlx::PgPool {
    let name = fresh_database().await;
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options_for(&name))
        .await
        .unwrap()
}

/// A migrated store (default schema) on a fresh database.
pub async fn fresh_postgres() -> PostgresStore {
    let store = PostgresStore::new(fresh_pool().await);
    store.migrate().await.unwrap();
    store
}

/// [`fresh_postgres`] as a shared contract handle.
pub async fn fresh_store() -> Arc<dyn helpdesk_core::Store> {
    Arc::new(fresh_postgres().await)
}

/// An error and all its sources, joined with ": ".
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
