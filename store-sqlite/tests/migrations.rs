//! Forward-only migrations: a database made by the first migration upgrades with its data
//! intact; a database from a newer schema is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use helpdesk_core::Error;
use helpdesk_core::domain::{EventKind, Priority, Role};
use helpdesk_core::store::{TenantStore, TicketQuery, TicketStore, UserStore};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, tenant, user};
use helpdesk_store_sqlite::{SqliteConnectOptions, SqliteStore};
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqlitePoolOptions;

const MIGRATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");

/// Applies only the first migration file to a new database at `path`.
async fn create_v1(path: &Path) -> sqlx::SqlitePool {
    let v1 = tempfile::tempdir().unwrap();
    let first = std::fs::read_dir(MIGRATIONS)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("0001_")
        })
        .unwrap();
    std::fs::copy(&first, v1.path().join(first.file_name().unwrap())).unwrap();
    let pool = SqlitePoolOptions::new()
        .connect_with(
            SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .foreign_keys(true),
        )
        .await
        .unwrap();
    Migrator::new(v1.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    pool
}

async fn versions(store: &SqliteStore) -> Vec<i64> {
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
        .fetch_all(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn first_migration_database_upgrades_with_data_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let pool = create_v1(&path).await;

    // Write through the store on the version-1 schema (no indexes, no full-text index).
    let old = SqliteStore::new(pool);
    assert_eq!(versions(&old).await, vec![1]);
    let t = tenant("acme");
    old.create_tenant(&t).await.unwrap();
    let customer = user(&t, Role::Customer, "c@acme.test");
    old.create_user(&customer).await.unwrap();
    let mut written = Vec::new();
    for (i, subject) in ["Printer on fire", "Login broken", "Refund please"]
        .iter()
        .enumerate()
    {
        let w = new_ticket(t.id, customer.id, 0, subject, Priority::High, at(i as i64));
        let w = old.create_ticket(w).await.unwrap();
        let c = change(
            &w.ticket,
            vec![EventKind::TagsChanged {
                tags: vec!["old".into()],
            }],
            at(9),
            None,
        );
        old.update_ticket(1, &c).await.unwrap();
        written.push(c);
    }
    old.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(versions(&store).await, vec![1, 2, 3, 4]);
    assert_eq!(SqliteStore::schema_version(), 4);
    assert_eq!(store.get_tenant(t.id).await.unwrap(), Some(t.clone()));
    assert_eq!(
        store.get_user(t.id, customer.id).await.unwrap(),
        Some(customer.clone())
    );
    for w in &written {
        assert_eq!(
            store.get_ticket(t.id, w.ticket.id).await.unwrap().as_ref(),
            Some(&w.ticket)
        );
        assert_eq!(store.list_events(t.id, w.ticket.id).await.unwrap().len(), 2);
    }
    // The full-text index of migration 2 covers the rows written before it.
    let found = store
        .list_tickets(
            t.id,
            &TicketQuery {
                text: Some("ON FIRE".into()),
                ..TicketQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(found.items, vec![written[0].ticket.clone()]);
    // The ticket counter carried over: the next ticket is number 4.
    let next = new_ticket(t.id, customer.id, 0, "After", Priority::Low, at(10));
    assert_eq!(store.create_ticket(next).await.unwrap().ticket.number, 4);
    store.close().await;

    // Opening again applies nothing and changes nothing.
    let again = SqliteStore::open(&path).await.unwrap();
    assert_eq!(versions(&again).await, vec![1, 2, 3, 4]);
    assert_eq!(
        again.get_ticket(t.id, written[2].ticket.id).await.unwrap(),
        Some(written[2].ticket.clone())
    );
}

#[tokio::test]
async fn database_from_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    let store = SqliteStore::open(&path).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99, 'from the future', 1, x'00', 0)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;

    let err = SqliteStore::open(&path).await.unwrap_err();
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
    let text = common::chain(&err);
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(
        text.contains("schema version 99") && text.contains("(4)"),
        "{text}"
    );
}
