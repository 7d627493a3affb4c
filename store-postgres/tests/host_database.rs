//! The store as a guest in the host's database: the host's own `users` table and sqlx
//! migrations (`public._sqlx_migrations`) next to the helpdesk's schema, in both orders, and
//! two helpdesks in two schemas of one database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::borrow::Cow;

use helpdesk_core::domain::{Priority, Role};
use helpdesk_core::store::{TenantStore, TicketStore, UserStore};
use helpdesk_core::testkit::fixtures::{at, new_ticket, tenant, user};
use helpdesk_store_postgres::PostgresStore;
use sqlx::PgPool;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use common::fresh_pool;

/// The host's own migrations: a `users` table of its own shape, then a column more.
fn host_migrator() -> Migrator {
    let migration = |version, description: &'static str, sql: &'static str| {
        Migration::new(
            version,
            Cow::Borrowed(description),
            MigrationType::Simple,
            Cow::Borrowed(sql),
            false,
        )
    };
    let mut migrator = Migrator::DEFAULT;
    migrator.migrations = Cow::Owned(vec![
        migration(
            20240101000000,
            "host users",
            "CREATE TABLE users (id bigserial PRIMARY KEY, login text NOT NULL UNIQUE)",
        ),
        migration(
            20240201000000,
            "host users email",
            "ALTER TABLE users ADD COLUMN email text",
        ),
    ]);
    migrator
}

async fn host_migrations(pool: &PgPool) -> Vec<i64> {
    sqlx::query_scalar("SELECT version FROM public._sqlx_migrations ORDER BY version")
        .fetch_all(pool)
        .await
        .unwrap()
}

async fn helpdesk_migrations(pool: &PgPool, schema: &str) -> Vec<i64> {
    sqlx::query_scalar(&format!(
        "SELECT version FROM \"{schema}\".schema_migrations ORDER BY version"
    ))
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Both sides keep working: the host writes and reads its `users`, the helpdesk its own.
async fn both_work(pool: &PgPool, store: &PostgresStore, slug: &str) {
    sqlx::query("INSERT INTO users (login, email) VALUES ($1, $2)")
        .bind(format!("{slug}-alice"))
        .bind("alice@host.test")
        .execute(pool)
        .await
        .unwrap();
    let t = tenant(slug);
    store.create_tenant(&t).await.unwrap();
    let customer = user(&t, Role::Customer, "c@acme.test");
    store.create_user(&customer).await.unwrap();
    let w = new_ticket(t.id, customer.id, 0, "Printer", Priority::Low, at(0));
    let created = store.create_ticket(w).await.unwrap();
    assert_eq!(created.ticket.number, 1);
    assert_eq!(
        store.get_user(t.id, customer.id).await.unwrap(),
        Some(customer.clone())
    );
    // The host's `users` holds only the host's rows, of the host's shape.
    let logins: Vec<String> = sqlx::query_scalar("SELECT login FROM public.users ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap();
    assert!(logins.iter().all(|l| l.ends_with("-alice")), "{logins:?}");
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn helpdesk_first_then_the_hosts_migrations() {
    let pool = fresh_pool().await;
    let store = PostgresStore::new(pool.clone());
    store.migrate().await.unwrap();
    host_migrator().run(&pool).await.unwrap();
    both_work(&pool, &store, "first").await;
    // Running both again changes nothing and refuses nothing.
    store.migrate().await.unwrap();
    host_migrator().run(&pool).await.unwrap();
    assert_eq!(
        host_migrations(&pool).await,
        vec![20240101000000, 20240201000000]
    );
    assert_eq!(
        helpdesk_migrations(&pool, "helpdesk").await,
        (1..=PostgresStore::schema_version()).collect::<Vec<_>>()
    );
    both_work(&pool, &store, "again").await;
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn the_hosts_migrations_first_then_the_helpdesk() {
    let pool = fresh_pool().await;
    host_migrator().run(&pool).await.unwrap();
    let store = PostgresStore::new(pool.clone());
    store.migrate().await.unwrap();
    both_work(&pool, &store, "second").await;
    host_migrator().run(&pool).await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(
        host_migrations(&pool).await,
        vec![20240101000000, 20240201000000]
    );
    // Nothing of the helpdesk's in `public`, nothing of the host's in `helpdesk`.
    let public: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(public, vec!["_sqlx_migrations", "users"]);
    let ours: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'helpdesk' ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(ours.contains(&"schema_migrations".to_owned()), "{ours:?}");
    assert!(ours.contains(&"users".to_owned()), "{ours:?}");
    assert!(!ours.contains(&"_sqlx_migrations".to_owned()), "{ours:?}");
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn two_helpdesks_in_two_schemas_of_one_database() {
    let pool = fresh_pool().await;
    let default = PostgresStore::new(pool.clone());
    let support = PostgresStore::builder()
        .schema("support")
        .build(pool.clone())
        .unwrap();
    assert_eq!(support.schema(), "support");
    assert_eq!(support.table_name("tickets"), "\"support\".tickets");
    default.migrate().await.unwrap();
    support.migrate().await.unwrap();
    let t = tenant("acme");
    default.create_tenant(&t).await.unwrap();
    // The same slug is free in the other helpdesk: nothing is shared.
    support.create_tenant(&t).await.unwrap();
    let w = new_ticket(
        t.id,
        helpdesk_core::UserId::new(),
        0,
        "One",
        Priority::Low,
        at(0),
    );
    default.create_ticket(w).await.unwrap();
    assert_eq!(default.list_tenants().await.unwrap().len(), 1);
    let query = helpdesk_core::store::TicketQuery::default();
    assert_eq!(
        default
            .list_tickets(t.id, &query)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert!(
        support
            .list_tickets(t.id, &query)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        helpdesk_migrations(&pool, "support").await,
        helpdesk_migrations(&pool, "helpdesk").await
    );
}
