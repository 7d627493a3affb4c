//! The helpdesk as a guest in the host's SQLite file: the host has its own `users` table
//! and its own sqlx migrations (in `_sqlx_migrations`), run before and after the
//! helpdesk's, in both orders; both keep working.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use helpdesk_core::domain::{Priority, Role};
use helpdesk_core::store::{TenantStore, TicketStore, UserStore};
use helpdesk_core::testkit::fixtures::{at, new_ticket, tenant, user};
use helpdesk_store_sqlite::SqliteStore;
use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

/// The host's migrations: first its `users` table, later a column and a table more.
const HOST_FIRST: (&str, &str) = (
    "20240101000000_users.sql",
    "CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE);",
);
const HOST_LATER: (&str, &str) = (
    "20240301000000_orders.sql",
    "ALTER TABLE users ADD COLUMN plan TEXT NOT NULL DEFAULT 'free'; \
     CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id));",
);

/// Runs the host's migrations `files` with sqlx's migrator, as a host's startup does.
async fn host_migrate(pool: &SqlitePool, files: &[(&str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    for (name, sql) in files {
        std::fs::write(dir.path().join(name), sql).unwrap();
    }
    Migrator::new(dir.path())
        .await
        .unwrap()
        .run(pool)
        .await
        .unwrap();
}

/// The host's pool, configured as the store's docs ask (WAL, foreign keys, busy timeout).
async fn host_pool(path: &Path) -> SqlitePool {
    SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5)),
        )
        .await
        .unwrap()
}

/// The host writes and reads its own `users` table.
async fn host_works(pool: &SqlitePool, login: &str) -> Vec<String> {
    sqlx::query("INSERT INTO users (login) VALUES (?)")
        .bind(login)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query_scalar("SELECT login FROM users ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap()
}

/// The helpdesk opens a ticket for a new customer and reads it back; returns the number
/// of tickets of the tenant `slug` (created when missing).
async fn helpdesk_works(store: &SqliteStore, slug: &str, email: &str) -> u64 {
    let t = match store.get_tenant_by_slug(slug).await.unwrap() {
        Some(t) => t,
        None => {
            let t = tenant(slug);
            store.create_tenant(&t).await.unwrap();
            t
        }
    };
    let customer = user(&t, Role::Customer, email);
    store.create_user(&customer).await.unwrap();
    let w = new_ticket(t.id, customer.id, 0, "Help", Priority::Low, at(1));
    let w = store.create_ticket(w).await.unwrap();
    assert_eq!(
        store.get_ticket(t.id, w.ticket.id).await.unwrap(),
        Some(w.ticket.clone())
    );
    assert!(
        store
            .get_user_by_email(t.id, email)
            .await
            .unwrap()
            .is_some()
    );
    w.ticket.number
}

async fn sqlx_versions(pool: &SqlitePool) -> Vec<i64> {
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn host_migrations_before_and_after_the_helpdesks_in_the_hosts_pool() {
    let dir = tempfile::tempdir().unwrap();
    let pool = host_pool(&dir.path().join("app.db")).await;
    host_migrate(&pool, &[HOST_FIRST]).await;
    assert_eq!(host_works(&pool, "alice").await, vec!["alice"]);

    // The helpdesk joins the host's pool and file.
    let store = SqliteStore::new(pool.clone());
    store.migrate().await.unwrap();
    assert_eq!(helpdesk_works(&store, "acme", "c1@acme.test").await, 1);

    // The host ships a new migration; sqlx sees only the host's own.
    host_migrate(&pool, &[HOST_FIRST, HOST_LATER]).await;
    assert_eq!(
        sqlx_versions(&pool).await,
        vec![20240101000000, 20240301000000]
    );
    assert_eq!(host_works(&pool, "bob").await, vec!["alice", "bob"]);
    // Both start again: nothing to apply on either side, both keep working.
    store.migrate().await.unwrap();
    host_migrate(&pool, &[HOST_FIRST, HOST_LATER]).await;
    assert_eq!(helpdesk_works(&store, "acme", "c2@acme.test").await, 2);
    let plan: String = sqlx::query_scalar("SELECT plan FROM users WHERE login = 'alice'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(plan, "free");
}

#[tokio::test]
async fn helpdesk_first_then_the_hosts_migrations_with_a_custom_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let store = SqliteStore::builder()
        .table_prefix("support_")
        .open(&path)
        .await
        .unwrap();
    assert_eq!(helpdesk_works(&store, "acme", "c1@acme.test").await, 1);
    store.close().await;

    let pool = host_pool(&path).await;
    host_migrate(&pool, &[HOST_FIRST]).await;
    assert_eq!(host_works(&pool, "alice").await, vec!["alice"]);
    // A second helpdesk with the default prefix shares the file and the host's pool.
    let other = SqliteStore::new(pool.clone());
    other.migrate().await.unwrap();
    assert_eq!(helpdesk_works(&other, "acme", "c1@acme.test").await, 1);
    host_migrate(&pool, &[HOST_FIRST, HOST_LATER]).await;
    assert_eq!(
        sqlx_versions(&pool).await,
        vec![20240101000000, 20240301000000]
    );
    assert_eq!(host_works(&pool, "bob").await, vec!["alice", "bob"]);
    pool.close().await;

    let store = SqliteStore::builder()
        .table_prefix("support_")
        .open(&path)
        .await
        .unwrap();
    assert_eq!(helpdesk_works(&store, "acme", "c2@acme.test").await, 2);
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%_fts_%' \
         AND name NOT LIKE 'support_%' AND name NOT LIKE 'helpdesk_%' \
         AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(tables, vec!["_sqlx_migrations", "orders", "users"]);
}
