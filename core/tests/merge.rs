//! Merge: what the merged duplicate's requester is told, and what a refused merge leaves.
//! (Racing merges are a storage conformance case: `crossed_concurrent_merges_leave_exactly_one`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use helpdesk_core::domain::{EventKind, MessageKind, Ticket, TicketStatus};
use helpdesk_core::service::NewTicket;
use helpdesk_core::store::MessageFilter;
use helpdesk_core::{Error, StateError};

use common::{World, world};

async fn open(w: &World, customer: &helpdesk_core::domain::Actor, subject: &str) -> Ticket {
    w.hd.open_ticket(customer, NewTicket::new(subject, "Details."))
        .await
        .unwrap()
        .ticket
}

/// The reply the duplicate's requester sees about the merge.
async fn notice(w: &World, customer: &helpdesk_core::domain::Actor, dup: &Ticket) -> String {
    let view = w.hd.get_ticket(customer, dup.id).await.unwrap();
    let notices: Vec<_> = view
        .messages
        .into_iter()
        .filter(|m| m.body.starts_with("This ticket was merged into"))
        .collect();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].kind, MessageKind::Reply);
    notices[0].body.clone()
}

#[tokio::test]
async fn the_notice_names_another_requesters_ticket_by_number_only() {
    let w = world().await;
    let target = open(&w, &w.customer2, "Cora's salary slip for March").await;
    let dup = open(&w, &w.customer, "Payslip question").await;
    w.hd.merge(&w.agent, dup.id, target.id).await.unwrap();

    let body = notice(&w, &w.customer, &dup).await;
    assert_eq!(
        body,
        format!("This ticket was merged into #{}.", target.number)
    );
    assert!(!body.contains("salary"), "{body}");
    // Nor does the notification queued for the requester carry the target's subject.
    let outbox = w.store.list_outbox(w.tenant.id).await.unwrap();
    assert!(
        outbox
            .iter()
            .filter(|o| o.notification.ticket_id == dup.id)
            .all(|o| !o.notification.subject.contains("salary"))
    );
}

#[tokio::test]
async fn the_notice_names_the_subject_when_both_are_the_requesters_own() {
    let w = world().await;
    let target = open(&w, &w.customer, "Login fails").await;
    let dup = open(&w, &w.customer, "Cannot log in").await;
    w.hd.merge(&w.agent, dup.id, target.id).await.unwrap();
    assert_eq!(
        notice(&w, &w.customer, &dup).await,
        format!(
            "This ticket was merged into #{}: Login fails.",
            target.number
        )
    );
}

#[tokio::test]
async fn merges_into_or_out_of_a_merged_ticket_are_refused_without_a_trace() {
    let w = world().await;
    let a = open(&w, &w.customer, "A").await;
    let b = open(&w, &w.customer, "B").await;
    let c = open(&w, &w.customer, "C").await;
    w.hd.merge(&w.agent, a.id, b.id).await.unwrap();
    let before: Vec<_> = {
        let mut v = Vec::new();
        for t in [a.id, b.id, c.id] {
            v.push((
                w.store.get_ticket(w.tenant.id, t).await.unwrap().unwrap(),
                w.store.list_events(w.tenant.id, t).await.unwrap().len(),
                w.store
                    .list_messages(w.tenant.id, t, MessageFilter::All)
                    .await
                    .unwrap()
                    .len(),
            ));
        }
        v
    };
    let outbox_before = w.store.list_outbox(w.tenant.id).await.unwrap().len();
    // Into a merged ticket (a chain), the merged ticket again, and back (a cycle).
    for (dup, into) in [(c.id, a.id), (a.id, c.id), (b.id, a.id)] {
        match w.hd.merge(&w.agent, dup, into).await {
            Err(Error::InvalidState(_)) => {}
            other => panic!("merge {dup} into {into}: expected InvalidState, got {other:?}"),
        }
    }
    for (ticket, events, messages) in before {
        let id = ticket.id;
        assert_eq!(
            w.store.get_ticket(w.tenant.id, id).await.unwrap(),
            Some(ticket)
        );
        assert_eq!(
            w.store.list_events(w.tenant.id, id).await.unwrap().len(),
            events
        );
        assert_eq!(
            w.store
                .list_messages(w.tenant.id, id, MessageFilter::All)
                .await
                .unwrap()
                .len(),
            messages
        );
    }
    assert_eq!(
        w.store.list_outbox(w.tenant.id).await.unwrap().len(),
        outbox_before
    );
    let merged = w
        .store
        .get_ticket(w.tenant.id, a.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(merged.merged_into, Some(b.id));
    assert_eq!(merged.status, TicketStatus::Closed);
    let events = w.store.list_events(w.tenant.id, b.id).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::MergedFrom { .. }))
            .count(),
        1
    );
}

#[tokio::test]
async fn a_ticket_that_received_merges_is_not_merged_again_so_no_chains_form() {
    let w = world().await;
    let a = open(&w, &w.customer, "Login fails").await;
    let b = open(&w, &w.customer, "Cannot sign in").await;
    let c = open(&w, &w.customer, "Account locked").await;
    w.hd.merge(&w.agent, a.id, b.id).await.unwrap();
    let before_b = w
        .store
        .get_ticket(w.tenant.id, b.id)
        .await
        .unwrap()
        .unwrap();
    let before_c = w
        .store
        .get_ticket(w.tenant.id, c.id)
        .await
        .unwrap()
        .unwrap();
    let err = w.hd.merge(&w.agent, b.id, c.id).await.unwrap_err();
    assert!(
        matches!(
            &err,
            Error::InvalidState(StateError::ReceivedMerges { number, target })
                if *number == b.number && *target == c.number
        ),
        "{err:?}"
    );
    // Nothing written on either ticket.
    assert_eq!(
        w.store.get_ticket(w.tenant.id, b.id).await.unwrap(),
        Some(before_b)
    );
    assert_eq!(
        w.store.get_ticket(w.tenant.id, c.id).await.unwrap(),
        Some(before_c)
    );
    // The other way round is fine: C joins B, which keeps every merged ticket.
    let (merged, into) = w.hd.merge(&w.agent, c.id, b.id).await.unwrap();
    assert_eq!(merged.merged_into, Some(b.id));
    assert_eq!(into.merged_into, None);
    assert_eq!(into.status, TicketStatus::New);
    let events = w.store.list_events(w.tenant.id, b.id).await.unwrap();
    let sources: Vec<_> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::MergedFrom { source } => Some(source),
            _ => None,
        })
        .collect();
    assert_eq!(sources, vec![a.id, c.id]);
}
