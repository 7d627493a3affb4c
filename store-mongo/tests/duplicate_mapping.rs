//! Duplicate-key errors (11000) become the core duplicate they mean, and nothing is written.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use helpdesk_core::domain::{Priority, Role};
use helpdesk_core::store::{TenantStore, TicketStore, UserStore};
use helpdesk_core::testkit::fixtures::{at, new_ticket, tenant, user};
use helpdesk_core::{DuplicateKind, Error};

use common::fresh_mongo;

fn kind<T: std::fmt::Debug>(r: Result<T, Error>) -> DuplicateKind {
    match r {
        Err(Error::Duplicate { kind, .. }) => kind,
        other => panic!("expected a duplicate, got {other:?}"),
    }
}

#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn each_unique_index_maps_to_its_kind() {
    let store = fresh_mongo().await;
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let mut same_id = tenant("other-slug");
    same_id.id = t.id;
    assert_eq!(kind(store.create_tenant(&same_id).await), DuplicateKind::Id);
    assert_eq!(
        kind(store.create_tenant(&tenant("acme")).await),
        DuplicateKind::TenantSlug
    );

    let u = user(&t, Role::Agent, "a@acme.test");
    store.create_user(&u).await.unwrap();
    let mut same_user_id = user(&t, Role::Agent, "b@acme.test");
    same_user_id.id = u.id;
    assert_eq!(
        kind(store.create_user(&same_user_id).await),
        DuplicateKind::Id
    );

    let mut first = new_ticket(t.id, u.id, 0, "One", Priority::Low, at(0));
    first.idempotency_key = Some("k".into());
    let first = store.create_ticket(first).await.unwrap();
    let mut same_key = new_ticket(t.id, u.id, 0, "Two", Priority::Low, at(1));
    same_key.idempotency_key = Some("k".into());
    assert_eq!(
        kind(store.create_ticket(same_key).await),
        DuplicateKind::IdempotencyKey
    );
    let mut same_ticket_id = new_ticket(t.id, u.id, 0, "Three", Priority::Low, at(2));
    same_ticket_id.ticket.id = first.ticket.id;
    for e in &mut same_ticket_id.events {
        e.ticket_id = first.ticket.id;
    }
    assert_eq!(
        kind(store.create_ticket(same_ticket_id.clone()).await),
        DuplicateKind::Id
    );
    // Tickets without a key never collide on the partial key index.
    let mut numbers = Vec::new();
    for _ in 0..3 {
        let w = new_ticket(t.id, u.id, 0, "No key", Priority::Low, at(3));
        numbers.push(store.create_ticket(w).await.unwrap().ticket.number);
    }
    // A counter behind its tickets (as after an import without it): the allocated number
    // is taken, which is a typed duplicate that writes nothing.
    store
        .database()
        .collection::<bson::Document>(&store.collection_name("counters"))
        .update_one(
            bson::doc! { "_id": t.id.to_string() },
            bson::doc! { "$set": { "last_number": 0_i64 } },
        )
        .await
        .unwrap();
    let behind = new_ticket(t.id, u.id, 0, "Behind", Priority::Low, at(3));
    assert_eq!(
        first.ticket.number, 1,
        "what the reset counter hands out again"
    );
    assert_eq!(
        kind(store.create_ticket(behind.clone()).await),
        DuplicateKind::TicketNumber
    );
    assert_eq!(
        store.get_ticket(t.id, behind.ticket.id).await.unwrap(),
        None
    );
    // An update that moves a ticket onto a used number.
    let mut renumbered =
        helpdesk_core::testkit::fixtures::change(&first.ticket, vec![], at(4), None);
    renumbered.ticket.number = numbers[0];
    assert_eq!(
        kind(store.update_ticket(1, &renumbered).await),
        DuplicateKind::TicketNumber
    );
    assert_eq!(
        store.get_ticket(t.id, first.ticket.id).await.unwrap(),
        Some(first.ticket)
    );
}
