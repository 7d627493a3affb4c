//! Concurrent writers on one ticket, and errors of an unreachable server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use helpdesk_core::Error;
use helpdesk_core::domain::{EventKind, Priority, Role, Ticket};
use helpdesk_core::store::{TenantStore, TicketStore, UserStore};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, tenant, user};
use helpdesk_store_postgres::{PgConnectOptions, PostgresStore};

use common::fresh_postgres;

async fn seeded(store: &PostgresStore) -> Ticket {
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let customer = user(&t, Role::Customer, "c@acme.test");
    store.create_user(&customer).await.unwrap();
    let w = new_ticket(t.id, customer.id, 1, "Hot ticket", Priority::Low, at(0));
    let w = store.create_ticket(w).await.unwrap();
    w.ticket
}

/// 64 tasks do read-modify-write on one ticket, retrying on `Conflict`: the final version
/// and the event count equal the successful updates, and every update's tag survived.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn sixty_four_tasks_read_modify_write_one_ticket() {
    let store = Arc::new(fresh_postgres().await);
    let ticket = seeded(&store).await;
    let successes = Arc::new(AtomicU64::new(0));
    let conflicts = Arc::new(AtomicU64::new(0));
    let mut set = tokio::task::JoinSet::new();
    for task in 0..64u32 {
        let (store, successes, conflicts) = (store.clone(), successes.clone(), conflicts.clone());
        let (tenant, id) = (ticket.tenant_id, ticket.id);
        set.spawn(async move {
            for round in 0..2u32 {
                loop {
                    let current = store.get_ticket(tenant, id).await.unwrap().unwrap();
                    let mut tags = current.tags.clone();
                    tags.push(format!("t{task}-{round}"));
                    let w = change(&current, vec![EventKind::TagsChanged { tags }], at(1), None);
                    match store.update_ticket(current.version, &w).await {
                        Ok(()) => {
                            successes.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                        Err(Error::Conflict { expected, .. }) => {
                            assert_eq!(expected, current.version);
                            conflicts.fetch_add(1, Ordering::Relaxed);
                            tokio::task::yield_now().await;
                        }
                        // A pool with no free connection in time (a loaded machine).
                        Err(e) if e.is_temporary() => {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                        Err(e) => panic!("unexpected error: {}", common::chain(&e)),
                    }
                }
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    let successes = successes.load(Ordering::Relaxed);
    assert_eq!(successes, 128);
    println!(
        "{successes} updates, {} conflicts",
        conflicts.load(Ordering::Relaxed)
    );
    let t = store
        .get_ticket(ticket.tenant_id, ticket.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.version, 1 + successes);
    assert_eq!(t.tags.len() as u64, successes);
    let events = store
        .list_events(ticket.tenant_id, ticket.id)
        .await
        .unwrap();
    assert_eq!(events.len() as u64, 1 + successes);
    assert_eq!(Ticket::replay(&events), Some(t));
}

/// A server that does not answer is a temporary backend error naming the server (no
/// password), with sqlx's error as the source; a malformed URL is a configuration error.
#[tokio::test]
async fn unreachable_server_and_bad_url() {
    // A closed port on loopback: refused at once.
    let options = PgConnectOptions::new()
        .host("127.0.0.1")
        .port(1)
        .username("nobody")
        .password("secret-password")
        .database("nowhere");
    let err = PostgresStore::builder()
        .acquire_timeout(Duration::from_secs(2))
        .connect_with(options)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Backend {
                backend: "postgres",
                temporary: true,
                ..
            }
        ),
        "{err:?}"
    );
    let text = common::chain(&err);
    assert!(text.contains("127.0.0.1:1/nowhere"), "{text}");
    assert!(!text.contains("secret-password"), "{text}");
    assert!(std::error::Error::source(&err).is_some());

    let err = PostgresStore::connect("mysql://x").await.unwrap_err();
    assert!(
        matches!(&err, Error::Configuration { field, .. } if field == "url"),
        "{err:?}"
    );
    let err = PostgresStore::builder()
        .schema("Public")
        .build(
            sqlx::postgres::PgPoolOptions::new()
                .connect_lazy("postgres://x@127.0.0.1:1/x")
                .unwrap(),
        )
        .unwrap_err();
    assert!(
        matches!(&err, Error::Configuration { field, .. } if field == "schema"),
        "{err:?}"
    );
}
