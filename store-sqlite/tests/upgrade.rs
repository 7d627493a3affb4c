//! A database of the previous layout (unprefixed tables, sqlx's `_sqlx_migrations`; see
//! `tests/fixtures/README.md`) moves to the prefixed tables with every row intact, in one
//! transaction, leaving the host's own sqlx migrations alone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod common;

use helpdesk_core::domain::Role;
use helpdesk_core::store::{
    ArticleStore, AttachmentStore, AuditQuery, AuditStore, ChatStore, LeaseStore, MessageFilter,
    OutboxStore, SearchSource, TenantStore, TicketQuery, TicketStore, UserStore,
};
use helpdesk_core::testkit::fixtures::{at, new_ticket};
use helpdesk_store_sqlite::{SqliteConnectOptions, SqliteStore};
use sqlx::SqlitePool;
use sqlx::migrate::Migrator;

use common::search;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// The previous layout's tables.
const TABLES: [&str; 13] = [
    "tenants",
    "users",
    "auth_sessions",
    "ticket_counters",
    "tickets",
    "events",
    "messages",
    "idempotency_keys",
    "outbox",
    "articles",
    "chat_sessions",
    "leases",
    "audit_events",
];

/// A copy of the fixture written by the previous release's store.
fn fixture_copy(dir: &Path) -> PathBuf {
    let path = dir.join("legacy.db");
    std::fs::copy(Path::new(FIXTURES).join("legacy-v4.db"), &path).unwrap();
    path
}

async fn pool_on(path: &Path) -> SqlitePool {
    SqlitePool::connect_with(
        SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .foreign_keys(true),
    )
    .await
    .unwrap()
}

/// Columns that migrations after the previous layout add to its tables (their default or
/// a value filled in for moved rows): left out of [`dump`], which compares the previous
/// layout's columns.
const ADDED_LATER: [(&str, &str); 7] = [
    ("messages", "email"),
    ("tickets", "search_details"),
    ("tickets", "custom_fields"),
    ("tickets", "field_tokens"),
    ("tickets", "team"),
    ("tickets", "erased_at"),
    ("users", "last_routed"),
];

/// Every row of every table present among `names` (as `prefix` + name), each as a JSON
/// array of its columns in table order (those of the previous layout), by table and rowid.
async fn dump(pool: &SqlitePool, prefix: &str) -> BTreeMap<&'static str, Vec<String>> {
    let mut all = BTreeMap::new();
    for table in TABLES {
        let name = format!("{prefix}{table}");
        let mut columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?)")
            .bind(&name)
            .fetch_all(pool)
            .await
            .unwrap();
        columns.retain(|c| !ADDED_LATER.contains(&(table, c.as_str())));
        if columns.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT json_array({}) FROM {name} ORDER BY rowid",
            columns.join(", ")
        );
        all.insert(
            table,
            sqlx::query_scalar(&sql).fetch_all(pool).await.unwrap(),
        );
    }
    all
}

async fn names_of(pool: &SqlitePool, kind: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = ? AND sql IS NOT NULL \
         AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .bind(kind)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_previous_layout_moves_to_prefixed_tables_with_data_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture_copy(dir.path());
    let pool = pool_on(&path).await;
    let before = dump(&pool, "").await;
    pool.close().await;
    assert_eq!(before.len(), 13);
    assert_eq!(before["tickets"].len(), 3);
    assert_eq!(before["events"].len(), 9);
    assert_eq!(before["messages"].len(), 6);
    assert_eq!(before["users"].len(), 3);

    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(
        dump(store.pool(), "helpdesk_").await,
        before,
        "every row, every column"
    );
    let tables = names_of(store.pool(), "table").await;
    assert!(
        tables.iter().all(|t| t.starts_with("helpdesk_")),
        "the previous tables and _sqlx_migrations are gone: {tables:?}"
    );
    let indexes = names_of(store.pool(), "index").await;
    assert!(
        indexes.iter().all(|t| t.starts_with("helpdesk_")),
        "{indexes:?}"
    );

    // The store reads everything back.
    let t = store.get_tenant_by_slug("acme").await.unwrap().unwrap();
    let admin = store
        .login_credentials(t.id, "admin@acme.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(admin.1.unwrap().as_str(), "$argon2id$v=19$fixture");
    let agent = store
        .get_user_by_email(t.id, "agent@acme.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(agent.skills, vec!["billing".to_owned()]);
    assert_eq!(store.list_users(t.id, None).await.unwrap().len(), 3);
    assert!(store.get_session(&"ab".repeat(32)).await.unwrap().is_some());
    for number in 1..=3 {
        let ticket = store
            .get_ticket_by_number(t.id, number)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ticket.assignee, Some(agent.id));
        assert_eq!(ticket.tags, vec!["legacy".to_owned()]);
        assert!(ticket.custom_fields.is_empty());
        assert_eq!(store.list_events(t.id, ticket.id).await.unwrap().len(), 3);
        let thread = store
            .list_messages(t.id, ticket.id, MessageFilter::default())
            .await
            .unwrap();
        assert_eq!(thread.len(), 2);
        assert!(thread[1].body.starts_with("Agent answer on "));
    }
    assert!(
        store
            .find_by_idempotency_key(t.id, "form-42")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.list_outbox(t.id).await.unwrap().len(), 3);
    assert_eq!(store.list_articles(t.id).await.unwrap().len(), 1);
    assert_eq!(store.list_chat_sessions(t.id, None).await.unwrap().len(), 1);
    assert_eq!(
        store
            .list_audit_events(t.id, &AuditQuery::newest(10))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store.open_ticket_counts(t.id).await.unwrap(),
        vec![(agent.id, 3)]
    );
    // The lease moved with its holder: another holder cannot take it before it expires.
    assert!(
        !store
            .try_acquire_lease("sla-sweep", "other", at(5), Duration::from_secs(1))
            .await
            .unwrap()
    );
    // The full-text index covers the copied rows.
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
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].subject, "Printer on fire");
    // Search finds the moved tickets by every source (the tags through the Details text
    // filled for moved rows).
    assert_eq!(
        search(&store, t.id, &["fire"], true).await,
        [("Printer on fire".to_owned(), SearchSource::Subject)]
    );
    let legacy = search(&store, t.id, &["legacy"], true).await;
    assert_eq!(legacy.len(), 3, "{legacy:?}");
    assert!(legacy.iter().all(|(_, s)| *s == SearchSource::Details));
    assert_eq!(
        search(&store, t.id, &["answer", "refund"], false).await,
        [("Refund please".to_owned(), SearchSource::Message)]
    );
    let by_requester = search(&store, t.id, &["ustomer"], true).await;
    assert_eq!(by_requester.len(), 3, "{by_requester:?}");
    assert!(
        by_requester
            .iter()
            .all(|(_, s)| *s == SearchSource::Requester)
    );
    // The counter carried over: the next ticket is number 4.
    let customer = store
        .list_users(t.id, Some(Role::Customer))
        .await
        .unwrap()
        .remove(0);
    let mut next = new_ticket(
        t.id,
        customer.id,
        0,
        "After",
        helpdesk_core::domain::Priority::Low,
        at(20),
    );
    // Tables added since (attachments) are there too.
    let first = &next.messages[0];
    let file = helpdesk_core::domain::Attachment {
        id: helpdesk_core::AttachmentId::new(),
        tenant_id: t.id,
        ticket_id: next.ticket.id,
        message_id: Some(first.id),
        file_name: "after.txt".into(),
        content_type: "text/plain".into(),
        size: 5,
        sha256: helpdesk_core::domain::Sha256::digest(b"after"),
        uploaded_by: Some(customer.id),
        created_at: at(20),
    };
    next.attachments.push(file.clone());
    let created = store.create_ticket(next).await.unwrap();
    assert_eq!(created.ticket.number, 4);
    assert_eq!(
        store
            .list_attachments(t.id, created.ticket.id)
            .await
            .unwrap(),
        vec![file]
    );
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(integrity, "ok");
    store.close().await;

    // Opening again moves nothing and changes nothing.
    let again = SqliteStore::open(&path).await.unwrap();
    assert_eq!(
        again
            .get_ticket_by_number(t.id, 4)
            .await
            .unwrap()
            .unwrap()
            .subject,
        "After"
    );
}

/// A database of the previous layout made with that release's migration files and sqlx's
/// migrator (the first `upto` of them), plus `host` migrations of the host's own.
async fn previous_layout(path: &Path, upto: usize, host: &[(&str, &str)]) -> SqlitePool {
    let files = tempfile::tempdir().unwrap();
    let mut old: Vec<PathBuf> = std::fs::read_dir(Path::new(FIXTURES).join("legacy_migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    old.sort();
    for file in &old[..upto] {
        std::fs::copy(file, files.path().join(file.file_name().unwrap())).unwrap();
    }
    for (name, sql) in host {
        std::fs::write(files.path().join(name), sql).unwrap();
    }
    let pool = pool_on(path).await;
    Migrator::new(files.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    pool
}

#[tokio::test]
async fn the_first_migration_alone_moves_too_and_host_rows_of_sqlx_migrations_stay() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    let host = [(
        "20240101000000_host_notes.sql",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);",
    )];
    let pool = previous_layout(&path, 1, &host).await;
    sqlx::query(
        "INSERT INTO tenants (id, name, slug, settings, created_at) \
         VALUES ('0190d6a4-0000-7000-8000-000000000001', 'Acme', 'acme', '{}', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let store = SqliteStore::builder()
        .table_prefix("support_")
        .open(&path)
        .await
        .unwrap();
    let slugs: Vec<String> = sqlx::query_scalar("SELECT slug FROM support_tenants")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(slugs, vec!["acme".to_owned()]);
    // Only the host's migration is left in sqlx's table, and the host's table stays.
    let left: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(left, vec![20240101000000]);
    let tables = names_of(store.pool(), "table").await;
    assert!(tables.contains(&"notes".to_owned()), "{tables:?}");
    assert!(!tables.contains(&"tenants".to_owned()), "{tables:?}");
}

#[tokio::test]
async fn a_failed_move_leaves_the_previous_layout_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture_copy(dir.path());
    // An event of a ticket that does not exist, written with foreign keys off: the copy
    // into the new table (foreign keys on) fails halfway through the move.
    let pool = SqlitePool::connect_with(
        SqliteConnectOptions::new()
            .filename(&path)
            .foreign_keys(false),
    )
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO events (id, tenant_id, ticket_id, version, at, actor, kind, payload) \
         SELECT 'orphan', tenant_id, 'no-such-ticket', 1, 0, NULL, kind, payload \
         FROM events LIMIT 1",
    )
    .execute(&pool)
    .await
    .unwrap();
    let before = dump(&pool, "").await;
    let schema: Vec<String> = names_of(&pool, "table").await;
    pool.close().await;

    let err = SqliteStore::open(&path).await.unwrap_err();
    let text = format!("{err:?}");
    assert!(text.contains("copying `events`"), "{text}");

    let pool = pool_on(&path).await;
    assert_eq!(
        dump(&pool, "").await,
        before,
        "the previous rows are all there"
    );
    assert_eq!(
        names_of(&pool, "table").await,
        schema,
        "no table added or dropped"
    );
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(recorded, 4);
}
