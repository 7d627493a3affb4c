//! Conformance cases for [`TicketWrite::previous`](crate::store::TicketWrite::previous): an
//! update planned on a known ticket, which a backend may diff against instead of reading
//! the stored row, and an update without it, which the backend checks on its own.

use super::{S, create, seed_tenant};
use crate::domain::{EventKind, Priority, Ticket, TicketStatus};
use crate::store::TicketWrite;
use crate::testkit::fixtures::{at, change};
use crate::{Error, TicketId, UserId};

/// The next change of `ticket` setting its tags to `[tag]` at minute `minutes`, planned on
/// `ticket` (`previous`).
fn tagging(ticket: &Ticket, tag: &str, minutes: i64, actor: UserId) -> TicketWrite {
    let tags = vec![tag.to_string()];
    change(
        ticket,
        vec![EventKind::TagsChanged { tags }],
        at(minutes),
        Some(actor),
    )
}

/// Several updates in a row, each planned on the ticket the last one wrote (as the service
/// does), store exactly the tickets they carry, whatever fields they change.
pub async fn updates_planned_on_the_last_write_store_every_change(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let w = create(&store, a.id, customer.id, "Help", Priority::Low, 0).await;
    let mut current = w.ticket;
    let steps = vec![
        vec![
            EventKind::StatusChanged {
                from: TicketStatus::New,
                to: TicketStatus::Open,
            },
            EventKind::Assigned {
                from: None,
                to: Some(agent.id),
            },
        ],
        vec![EventKind::TagsChanged {
            tags: vec!["billing".into(), "vip".into()],
        }],
        vec![
            EventKind::PriorityChanged {
                from: Priority::Low,
                to: Priority::Urgent,
            },
            EventKind::CategoryChanged {
                to: Some("billing".into()),
            },
        ],
        vec![EventKind::TagsChanged { tags: Vec::new() }],
    ];
    for (i, kinds) in steps.into_iter().enumerate() {
        let write = change(&current, kinds, at(i as i64 + 1), Some(agent.id));
        assert_eq!(write.previous.as_ref(), Some(&current));
        store.update_ticket(current.version, &write).await.unwrap();
        let stored = store.get_ticket(a.id, current.id).await.unwrap().unwrap();
        assert_eq!(stored, write.ticket, "after step {i}");
        current = stored;
    }
    assert_eq!(current.version, 5);
    assert_eq!(current.category.as_deref(), Some("billing"));
    assert!(current.tags.is_empty());
}

/// Without `previous` the backend compares with the stored ticket itself: the update is
/// applied, and a stale one is a `Conflict` that writes nothing.
pub async fn update_without_previous_checks_the_stored_ticket(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let w = create(&store, a.id, customer.id, "Help", Priority::Low, 0).await;
    let mut first = tagging(&w.ticket, "one", 1, agent.id);
    first.previous = None;
    store.update_ticket(1, &first).await.unwrap();
    assert_eq!(
        store.get_ticket(a.id, w.ticket.id).await.unwrap(),
        Some(first.ticket.clone())
    );

    let mut stale = tagging(&w.ticket, "lost", 2, agent.id);
    stale.previous = None;
    assert!(matches!(
        store.update_ticket(1, &stale).await,
        Err(Error::Conflict { expected: 1, .. })
    ));
    assert_eq!(
        store.get_ticket(a.id, w.ticket.id).await.unwrap(),
        Some(first.ticket)
    );
    assert_eq!(store.list_events(a.id, w.ticket.id).await.unwrap().len(), 2);
}

/// A `previous` of another version than the expected one, or of another ticket, is a
/// `Validation` error on `previous`, and a ticket planned on `previous` that does not take
/// the next version one on `ticket.version`; none of them writes anything. (A stale write planned on an older
/// ticket is an ordinary `Conflict`: `stale_update_conflicts_and_writes_nothing`.)
pub async fn update_with_a_mismatched_previous_is_refused(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let w = create(&store, a.id, customer.id, "Help", Priority::Low, 0).await;
    let mut wrong_version = tagging(&w.ticket, "x", 1, agent.id);
    if let Some(p) = &mut wrong_version.previous {
        p.version = 7;
    }
    match store.update_ticket(1, &wrong_version).await {
        Err(Error::Validation { field, .. }) => assert_eq!(field, "previous"),
        other => panic!("expected a Validation error on previous, got {other:?}"),
    }

    let mut unversioned = tagging(&w.ticket, "z", 1, agent.id);
    unversioned.ticket.version = 1;
    match store.update_ticket(1, &unversioned).await {
        Err(Error::Validation { field, .. }) => assert_eq!(field, "ticket.version"),
        other => panic!("expected a Validation error on ticket.version, got {other:?}"),
    }

    let mut other_ticket = tagging(&w.ticket, "y", 1, agent.id);
    if let Some(p) = &mut other_ticket.previous {
        p.id = TicketId::new();
    }
    match store.update_ticket(1, &other_ticket).await {
        Err(Error::Validation { field, .. }) => assert_eq!(field, "previous"),
        other => panic!("expected a Validation error on previous, got {other:?}"),
    }
    assert_eq!(
        store.get_ticket(a.id, w.ticket.id).await.unwrap(),
        Some(w.ticket.clone())
    );
    assert_eq!(store.list_events(a.id, w.ticket.id).await.unwrap().len(), 1);
}
