//! The store's own migrations table: a new database has only prefixed tables and no
//! `_sqlx_migrations`; a database from a newer schema, or with a migration this build
//! does not have, is refused with a typed error and nothing written.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use helpdesk_core::Error;
use helpdesk_store_sqlite::{SchemaError, SqliteStore};

/// The names of the database's tables, sorted (SQLite's own and FTS shadow tables left
/// out).
async fn tables(pool: &sqlx::SqlitePool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT LIKE '%_fts_%' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn versions(store: &SqliteStore) -> Vec<i64> {
    let sql = format!(
        "SELECT version FROM {} ORDER BY version",
        store.table_name("schema_migrations")
    );
    sqlx::query_scalar(&sql)
        .fetch_all(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_new_database_has_only_prefixed_tables_and_its_own_migrations_table() {
    let store = SqliteStore::temporary().await.unwrap();
    assert_eq!(store.table_prefix(), "helpdesk_");
    assert_eq!(
        versions(&store).await,
        vec![
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20
        ]
    );
    assert_eq!(SqliteStore::schema_version(), 20);
    let names = tables(store.pool()).await;
    assert!(names.contains(&"helpdesk_tickets".to_owned()), "{names:?}");
    assert!(names.contains(&"helpdesk_schema_migrations".to_owned()));
    for name in &names {
        assert!(name.starts_with("helpdesk_"), "{name} in {names:?}");
    }
    // Indexes and triggers carry the prefix too.
    let unprefixed: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger') \
         AND sql IS NOT NULL AND name NOT LIKE 'helpdesk_%'",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert!(unprefixed.is_empty(), "{unprefixed:?}");
}

#[tokio::test]
async fn a_custom_prefix_names_every_table_and_the_migrations_table() {
    let store = SqliteStore::builder()
        .table_prefix("support_")
        .temporary()
        .await
        .unwrap();
    assert_eq!(store.table_prefix(), "support_");
    assert_eq!(store.table_name("tickets"), "support_tickets");
    assert_eq!(
        versions(&store).await,
        vec![
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20
        ]
    );
    let names = tables(store.pool()).await;
    assert!(names.contains(&"support_tickets".to_owned()), "{names:?}");
    assert!(names.iter().all(|n| n.starts_with("support_")), "{names:?}");
}

#[tokio::test]
async fn an_invalid_prefix_is_a_configuration_error_for_table_prefix() {
    for bad in ["", "Support", "sup-port_", "9lives_", "sqlite_x"] {
        let err = SqliteStore::builder()
            .table_prefix(bad)
            .temporary()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Configuration { field, .. } if field == "table_prefix"),
            "{bad:?}: {err:?}"
        );
    }
    let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    let err = SqliteStore::builder()
        .table_prefix("a b")
        .build(pool)
        .unwrap_err();
    assert!(matches!(&err, Error::Configuration { field, .. } if field == "table_prefix"));
}

/// Records `version` with `checksum` as applied, behind the store's back.
async fn record(path: &Path, version: i64, checksum: &str) {
    let store = SqliteStore::open(path).await.unwrap();
    sqlx::query(
        "INSERT OR REPLACE INTO helpdesk_schema_migrations \
         (version, description, checksum, applied_at) VALUES (?, 'from elsewhere', ?, 0)",
    )
    .bind(version)
    .bind(checksum)
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;
}

/// The schema objects of the database at `path`, to show nothing was written.
async fn schema_of(path: &Path) -> Vec<(String, String)> {
    let pool = sqlx::SqlitePool::connect_with(
        sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .read_only(true),
    )
    .await
    .unwrap();
    let rows = sqlx::query_as("SELECT name, coalesce(sql, '') FROM sqlite_master ORDER BY name")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows
}

#[tokio::test]
async fn database_from_a_newer_schema_is_refused_with_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    record(&path, 99, "0000000000000000").await;
    let before = schema_of(&path).await;

    let err = SqliteStore::open(&path).await.unwrap_err();
    match &err {
        Error::SchemaTooNew {
            backend: "sqlite",
            database,
            found: 99,
            supported: 20,
        } => {
            assert!(
                database.contains(&path.display().to_string())
                    && database.contains("helpdesk_schema_migrations"),
                "{database}"
            );
        }
        other => panic!("{other:?}"),
    }
    let text = common::chain(&err);
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(
        text.contains("version 99") && text.contains("version 20"),
        "{text}"
    );

    // The host's pool and `migrate` refuse it the same way.
    let pool =
        sqlx::SqlitePool::connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&path))
            .await
            .unwrap();
    let err = SqliteStore::new(pool.clone()).migrate().await.unwrap_err();
    assert!(
        matches!(err, Error::SchemaTooNew { found: 99, .. }),
        "{err:?}"
    );
    pool.close().await;
    assert_eq!(schema_of(&path).await, before, "nothing was written");
}

#[tokio::test]
async fn a_changed_migration_is_refused_with_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("changed.db");
    record(&path, 2, "0123456789abcdef").await;
    let err = SqliteStore::open(&path).await.unwrap_err();
    match SchemaError::of(&err) {
        Some(SchemaError::Changed {
            version: 2, found, ..
        }) => assert_eq!(found, "0123456789abcdef"),
        other => panic!("{other:?}"),
    }
    // Other errors are not schema errors.
    assert!(SchemaError::of(&Error::not_found("ticket", "x")).is_none());
}

#[tokio::test]
async fn opening_again_applies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("again.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let first: Vec<(i64, i64)> =
        sqlx::query_as("SELECT version, applied_at FROM helpdesk_schema_migrations")
            .fetch_all(store.pool())
            .await
            .unwrap();
    store.close().await;
    let store = SqliteStore::open(&path).await.unwrap();
    let again: Vec<(i64, i64)> =
        sqlx::query_as("SELECT version, applied_at FROM helpdesk_schema_migrations")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(first, again);
}
