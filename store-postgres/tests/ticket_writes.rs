//! Ticket writes: text with U+0000 (which PostgreSQL refuses and SQLite would not), and
//! crossed multi-ticket batches, and racing creates with one idempotency key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use helpdesk_core::domain::{EventKind, Priority, Role};
use helpdesk_core::store::{TenantStore, TicketQuery, TicketStore, UserStore};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, tenant, user};
use helpdesk_core::{DuplicateKind, Error};

use common::fresh_postgres;

/// A NUL character is a validation error, nothing of the write is kept (not even the
/// ticket number: the next ticket is number 1), and a later update with one leaves the
/// ticket at its version.
#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn text_with_a_nul_character_is_a_validation_error_writing_nothing() {
    let store = fresh_postgres().await;
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let customer = user(&t, Role::Customer, "c@acme.test");
    store.create_user(&customer).await.unwrap();

    let w = new_ticket(t.id, customer.id, 0, "Bad\0subject", Priority::Low, at(0));
    let err = store.create_ticket(w).await.unwrap_err();
    assert!(
        matches!(&err, Error::Validation { field, .. } if field == "text"),
        "{err:?}"
    );
    let page = store
        .list_tickets(t.id, &TicketQuery::default())
        .await
        .unwrap();
    assert!(page.items.is_empty());

    let w = new_ticket(t.id, customer.id, 0, "Good subject", Priority::Low, at(0));
    let created = store.create_ticket(w).await.unwrap().ticket;
    assert_eq!(created.number, 1, "the failed create spent no number");

    let w = change(
        &created,
        vec![EventKind::TagsChanged {
            tags: vec!["nul\0tag".into()],
        }],
        at(1),
        None,
    );
    let err = store.update_ticket(created.version, &w).await.unwrap_err();
    assert!(matches!(err, Error::Validation { .. }), "{err:?}");
    let stored = store.get_ticket(t.id, created.id).await.unwrap().unwrap();
    assert_eq!(stored, created);
    assert_eq!(store.list_events(t.id, created.id).await.unwrap().len(), 1);
}

/// Two batches over the same two tickets in opposite orders (two crossed merges), run at
/// once, many times: each time one lands and the other is a `Conflict`, never a deadlock
/// (which PostgreSQL would break after a second with a temporary error for one of them):
/// the store locks a batch's tickets in id order whatever the order of the writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn crossed_batches_conflict_instead_of_deadlocking() {
    let store = std::sync::Arc::new(fresh_postgres().await);
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let customer = user(&t, Role::Customer, "c@acme.test");
    store.create_user(&customer).await.unwrap();
    let mut ids = Vec::new();
    for subject in ["First", "Second"] {
        let w = new_ticket(t.id, customer.id, 0, subject, Priority::Low, at(0));
        ids.push(store.create_ticket(w).await.unwrap().ticket.id);
    }
    for round in 0..20_i64 {
        let a = store.get_ticket(t.id, ids[0]).await.unwrap().unwrap();
        let b = store.get_ticket(t.id, ids[1]).await.unwrap().unwrap();
        let tag = |ticket: &helpdesk_core::domain::Ticket, side: &str| {
            let tags = vec![format!("{side}-{round}")];
            (
                ticket.version,
                change(
                    ticket,
                    vec![EventKind::TagsChanged { tags }],
                    at(round + 1),
                    None,
                ),
            )
        };
        let forward = vec![tag(&a, "f"), tag(&b, "f")];
        let backward = vec![tag(&b, "b"), tag(&a, "b")];
        let (s1, s2) = (store.clone(), store.clone());
        let (r1, r2) = tokio::join!(
            tokio::spawn(async move { s1.update_tickets(&forward).await }),
            tokio::spawn(async move { s2.update_tickets(&backward).await }),
        );
        let results = [r1.unwrap(), r2.unwrap()];
        let landed = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(landed, 1, "round {round}: {results:?}");
        assert!(
            results
                .iter()
                .any(|r| matches!(r, Err(Error::Conflict { .. }))),
            "round {round}: {results:?}"
        );
    }
}

/// Eight creates with one idempotency key at once (a client retrying in parallel): one
/// ticket is created, the others are `Duplicate { kind: IdempotencyKey }` and spend no
/// number, and the key names the one ticket.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn racing_creates_with_one_idempotency_key_create_one_ticket() {
    let store = std::sync::Arc::new(fresh_postgres().await);
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let customer = user(&t, Role::Customer, "c@acme.test");
    store.create_user(&customer).await.unwrap();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..8 {
        let store = store.clone();
        let mut w = new_ticket(t.id, customer.id, 0, "Same request", Priority::Low, at(i));
        w.idempotency_key = Some("client-retry-1".into());
        set.spawn(async move { store.create_ticket(w).await });
    }
    let mut created = Vec::new();
    let mut duplicates = 0;
    while let Some(r) = set.join_next().await {
        match r.unwrap() {
            Ok(w) => created.push(w.ticket),
            Err(Error::Duplicate {
                kind: DuplicateKind::IdempotencyKey,
                ..
            }) => duplicates += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(duplicates, 7);
    assert_eq!(created[0].number, 1);
    assert_eq!(
        store
            .find_by_idempotency_key(t.id, "client-retry-1")
            .await
            .unwrap(),
        Some(created[0].id)
    );
    let page = store
        .list_tickets(t.id, &TicketQuery::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let next = new_ticket(t.id, customer.id, 0, "Another", Priority::Low, at(9));
    assert_eq!(store.create_ticket(next).await.unwrap().ticket.number, 2);
}
