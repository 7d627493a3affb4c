//! The migration runner: concurrent start-ups apply each migration once, a newer schema is
//! refused with `SchemaTooNew`, a changed migration with a `SchemaError`, nothing written.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use helpdesk_core::Error;
use helpdesk_core::store::TenantStore;
use helpdesk_core::testkit::fixtures::tenant;
use helpdesk_store_postgres::{PostgresStore, SchemaError};

use common::{fresh_database, fresh_pool, server_url};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
/// Also checks that `connect` can be spawned on a multi-threaded runtime (its future is
/// `Send`), as a host starting the store in a task does.
async fn instances_starting_together_migrate_once() {
    let name = fresh_database().await;
    let url = server_url();
    let base = url.rsplit_once('/').unwrap().0.to_owned();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let url = format!("{base}/{name}");
        set.spawn(async move { PostgresStore::connect(&url).await });
    }
    let mut stores = Vec::new();
    while let Some(r) = set.join_next().await {
        stores.push(r.unwrap().unwrap());
    }
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM helpdesk.schema_migrations ORDER BY version")
            .fetch_all(stores[0].pool())
            .await
            .unwrap();
    assert_eq!(
        versions,
        (1..=PostgresStore::schema_version()).collect::<Vec<_>>()
    );
    stores[1].create_tenant(&tenant("acme")).await.unwrap();
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn a_newer_schema_is_refused_and_not_written() {
    let pool = fresh_pool().await;
    let store = PostgresStore::new(pool.clone());
    store.migrate().await.unwrap();
    let newer = PostgresStore::schema_version() + 1;
    sqlx::query(
        "INSERT INTO helpdesk.schema_migrations (version, description, checksum, applied_at) \
         VALUES ($1, 'from the future', 'x', 0)",
    )
    .bind(newer)
    .execute(&pool)
    .await
    .unwrap();
    let err = store.migrate().await.unwrap_err();
    let Error::SchemaTooNew {
        backend,
        database,
        found,
        supported,
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(*backend, "postgres");
    assert!(
        database.contains("helpdesk.schema_migrations"),
        "{database}"
    );
    assert_eq!(*found, newer as u64);
    assert_eq!(*supported, PostgresStore::schema_version() as u64);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM helpdesk.schema_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, newer, "nothing written");
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn a_changed_migration_is_refused() {
    let pool = fresh_pool().await;
    let store = PostgresStore::new(pool.clone());
    store.migrate().await.unwrap();
    sqlx::query("UPDATE helpdesk.schema_migrations SET checksum = 'edited' WHERE version = 1")
        .execute(&pool)
        .await
        .unwrap();
    let err = store.migrate().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Backend {
                temporary: false,
                ..
            }
        ),
        "{err:?}"
    );
    match SchemaError::of(&err) {
        Some(SchemaError::Changed { version, found, .. }) => {
            assert_eq!(*version, 1);
            assert_eq!(found, "edited");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn the_trigram_index_is_added_when_pg_trgm_is_there() {
    let pool = fresh_pool().await;
    PostgresStore::new(pool.clone()).migrate().await.unwrap();
    let available: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let indexed: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = 'helpdesk' \
         AND indexname = 'tickets_subject_trgm')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(indexed, available);
}
