//! Ticket writes that fail: nothing of them is written.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use helpdesk_core::domain::{EventKind, Priority, Role, Ticket};
use helpdesk_core::store::{TenantStore, TicketStore, UserStore};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, tenant, user};
use helpdesk_core::{DuplicateKind, Error};
use helpdesk_store_sqlite::SqliteStore;

async fn seeded(store: &SqliteStore) -> Ticket {
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let customer = user(&t, Role::Customer, "c@acme.test");
    store.create_user(&customer).await.unwrap();
    let w = new_ticket(t.id, customer.id, 1, "First", Priority::Low, at(0));
    let w = store.create_ticket(w).await.unwrap();
    w.ticket
}

/// An update that moves a ticket onto a number already used in the tenant is a typed
/// duplicate and writes nothing.
#[tokio::test]
async fn update_onto_a_used_number_is_a_duplicate() {
    let store = SqliteStore::temporary().await.unwrap();
    let first = seeded(&store).await;
    let second = new_ticket(
        first.tenant_id,
        first.requester,
        2,
        "Other",
        Priority::Low,
        at(1),
    );
    let second = store.create_ticket(second).await.unwrap();
    let mut w = change(
        &second.ticket,
        vec![EventKind::TagsChanged {
            tags: vec!["x".into()],
        }],
        at(2),
        None,
    );
    w.ticket.number = first.number;
    match store.update_ticket(1, &w).await {
        Err(Error::Duplicate {
            kind: DuplicateKind::TicketNumber,
            ..
        }) => {}
        other => panic!("expected a duplicate ticket number, got {other:?}"),
    }
    assert_eq!(
        store
            .get_ticket(first.tenant_id, second.ticket.id)
            .await
            .unwrap(),
        Some(second.ticket.clone())
    );
    assert_eq!(
        store
            .list_events(first.tenant_id, second.ticket.id)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// A ticket of a tenant that does not exist is refused (foreign key) with a validation
/// error, and a write whose events belong to another ticket is refused before SQL.
#[tokio::test]
async fn orphan_and_foreign_writes_are_refused() {
    let store = SqliteStore::temporary().await.unwrap();
    let first = seeded(&store).await;
    let ghost = tenant("ghost");
    let orphan = new_ticket(ghost.id, first.requester, 1, "Orphan", Priority::Low, at(1));
    assert!(matches!(
        store.create_ticket(orphan.clone()).await,
        Err(Error::Validation { .. })
    ));
    assert_eq!(
        store.get_ticket(ghost.id, orphan.ticket.id).await.unwrap(),
        None
    );

    let mut foreign = change(
        &first,
        vec![EventKind::TagsChanged { tags: vec![] }],
        at(2),
        None,
    );
    foreign.events[0].ticket_id = orphan.ticket.id;
    assert!(matches!(
        store.update_ticket(1, &foreign).await,
        Err(Error::Validation { .. })
    ));
    assert_eq!(
        store.get_ticket(first.tenant_id, first.id).await.unwrap(),
        Some(first)
    );
}
