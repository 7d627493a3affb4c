//! Changes that change nothing, and changes under a version precondition (`If-Match`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::world;
use helpdesk_core::Error;
use helpdesk_core::domain::TicketStatus;
use helpdesk_core::service::{NewTicket, TicketPatch};

#[tokio::test]
async fn a_change_that_changes_nothing_succeeds_and_writes_nothing() {
    let w = world().await;
    let ticket =
        w.hd.open_ticket(&w.customer, NewTicket::new("Printer", "It jams"))
            .await
            .unwrap()
            .ticket;
    let assigned =
        w.hd.assign(&w.agent, ticket.id, Some(w.agent.user_id))
            .await
            .unwrap();
    // Assigning the current assignee again, and a patch with the current values.
    let again =
        w.hd.assign(&w.agent, ticket.id, Some(w.agent.user_id))
            .await
            .unwrap();
    assert_eq!(again.version, assigned.version);
    let patched =
        w.hd.update_ticket(
            &w.agent,
            ticket.id,
            TicketPatch {
                priority: Some(assigned.priority),
                tags: Some(assigned.tags.clone()),
                ..TicketPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(patched.version, assigned.version);
    let events = w.store.list_events(w.tenant.id, ticket.id).await.unwrap();
    assert_eq!(
        events.last().unwrap().version,
        assigned.version,
        "no new event"
    );
}

#[tokio::test]
async fn a_precondition_that_holds_lets_the_change_through() {
    let w = world().await;
    let ticket =
        w.hd.open_ticket(&w.customer, NewTicket::new("Printer", "It jams"))
            .await
            .unwrap()
            .ticket;
    let current = w.hd.get_ticket(&w.agent, ticket.id).await.unwrap().ticket;
    let moved =
        w.hd.if_ticket_version(
            ticket.id,
            current.version,
            w.hd.transition(&w.agent, ticket.id, TicketStatus::Open),
        )
        .await
        .unwrap();
    assert_eq!(moved.status, TicketStatus::Open);
    assert_eq!(moved.version, current.version + 1);
}

#[tokio::test]
async fn a_stale_precondition_fails_and_writes_nothing() {
    let w = world().await;
    let ticket =
        w.hd.open_ticket(&w.customer, NewTicket::new("Printer", "It jams"))
            .await
            .unwrap()
            .ticket;
    let seen = w.hd.get_ticket(&w.agent, ticket.id).await.unwrap().ticket;
    // Someone else changes the ticket after it was read.
    w.hd.assign(&w.agent2, ticket.id, Some(w.agent2.user_id))
        .await
        .unwrap();
    let err =
        w.hd.if_ticket_version(
            ticket.id,
            seen.version,
            w.hd.transition(&w.agent, ticket.id, TicketStatus::Resolved),
        )
        .await
        .unwrap_err();
    match err {
        Error::PreconditionFailed {
            expected, found, ..
        } => {
            assert_eq!(expected, seen.version);
            assert_eq!(found, seen.version + 1);
        }
        other => panic!("expected PreconditionFailed, got {other:?}"),
    }
    let now = w.hd.get_ticket(&w.agent, ticket.id).await.unwrap().ticket;
    assert_ne!(now.status, TicketStatus::Resolved);
    assert_eq!(now.version, seen.version + 1);
}

#[tokio::test]
async fn a_precondition_names_one_ticket_and_leaves_others_alone() {
    let w = world().await;
    let a =
        w.hd.open_ticket(&w.customer, NewTicket::new("A", "first"))
            .await
            .unwrap()
            .ticket;
    let b =
        w.hd.open_ticket(&w.customer, NewTicket::new("B", "second"))
            .await
            .unwrap()
            .ticket;
    // A precondition on A does not apply to a write of B inside the same scope.
    let moved =
        w.hd.if_ticket_version(
            a.id,
            999,
            w.hd.transition(&w.agent, b.id, TicketStatus::Open),
        )
        .await
        .unwrap();
    assert_eq!(moved.id, b.id);
}
