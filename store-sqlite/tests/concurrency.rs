//! Concurrent writers on one ticket, and busy databases mapped to temporary errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use helpdesk_core::domain::{EventKind, Priority, Role, Ticket};
use helpdesk_core::store::{LeaseStore, TenantStore, TicketStore, UserStore};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, tenant, user};
use helpdesk_core::{Error, Store};
use helpdesk_store_sqlite::{SqliteConnectOptions, SqliteStore};

async fn seeded(store: &SqliteStore) -> Ticket {
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
async fn sixty_four_tasks_read_modify_write_one_ticket() {
    let store = Arc::new(SqliteStore::temporary().await.unwrap());
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
                        // A busy database (a loaded machine) may be retried too.
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

/// A database locked by another connection for longer than the busy timeout gives a
/// temporary backend error (the service may retry), and nothing is written.
#[tokio::test]
async fn busy_database_is_a_temporary_error() {
    let owner = SqliteStore::temporary().await.unwrap();
    let url = format!("sqlite://{}", owner.path().display());
    let options = SqliteConnectOptions::from_str(&url)
        .unwrap()
        .busy_timeout(Duration::from_millis(50));
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    let impatient = SqliteStore::new(pool);

    let mut lock = owner.pool().begin_with("BEGIN IMMEDIATE").await.unwrap();
    sqlx::query("SELECT 1").execute(&mut *lock).await.unwrap();
    let t = tenant("busy");
    let err = impatient.create_tenant(&t).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Backend {
                backend: "sqlite",
                temporary: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_temporary());
    assert!(
        common::chain(&err).contains("locked"),
        "{}",
        common::chain(&err)
    );
    let w = new_ticket(
        t.id,
        helpdesk_core::UserId::new(),
        0,
        "Busy",
        Priority::Low,
        at(0),
    );
    let err = impatient.create_ticket(w).await.unwrap_err();
    assert!(err.is_temporary(), "{err:?}");
    lock.rollback().await.unwrap();

    // Once the lock is gone the same call succeeds.
    impatient.create_tenant(&t).await.unwrap();
    assert_eq!(owner.get_tenant(t.id).await.unwrap(), Some(t));
    assert_eq!(impatient.backend_name(), "sqlite");
}

/// Two stores on one file (as two app processes would be) race for the same lease at the
/// same instant: exactly one holder wins; after expiry the other takes it over.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_lease_holder_across_stores_sharing_a_file() {
    let first = SqliteStore::temporary().await.unwrap();
    let second = SqliteStore::open(first.path()).await.unwrap();
    let ttl = Duration::from_secs(30);
    let mut set = tokio::task::JoinSet::new();
    for i in 0..32u32 {
        let store = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        set.spawn(async move {
            let holder = format!("process-{i}");
            let won = store
                .try_acquire_lease("sla-sweep", &holder, at(0), ttl)
                .await
                .unwrap();
            won.then_some(holder)
        });
    }
    let mut winners = Vec::new();
    while let Some(r) = set.join_next().await {
        winners.extend(r.unwrap());
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert!(
        !second
            .try_acquire_lease("sla-sweep", "late", at(0), ttl)
            .await
            .unwrap()
    );
    let after_expiry = at(0).checked_add(ttl).unwrap();
    assert!(
        second
            .try_acquire_lease("sla-sweep", "late", after_expiry, ttl)
            .await
            .unwrap()
    );
    assert!(
        !first
            .try_acquire_lease("sla-sweep", &winners[0], after_expiry, ttl)
            .await
            .unwrap()
    );
}
