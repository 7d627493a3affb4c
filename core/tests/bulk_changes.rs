//! Bulk changes through the service: each ticket of a selection changed through the same
//! checks as a single change, one result per ticket, a refused ticket leaving the others
//! changed, invalid actions refusing the whole request first.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use helpdesk_core::domain::{CannedActions, CannedAssign, EventKind, Priority, TicketStatus};
use helpdesk_core::service::{MAX_BULK_TICKETS, NewTicket};
use helpdesk_core::{Error, StateError, TicketId};

use common::{World, world};

async fn open(w: &World, subject: &str) -> TicketId {
    w.hd.open_ticket(&w.customer, NewTicket::new(subject, "Please help."))
        .await
        .unwrap()
        .ticket
        .id
}

#[tokio::test]
async fn each_ticket_gets_the_change_or_its_own_refusal() {
    let w = world().await;
    let a = open(&w, "First").await;
    let b = open(&w, "Second").await;
    let closed = open(&w, "Third").await;
    for to in [TicketStatus::Resolved, TicketStatus::Closed] {
        w.hd.transition(&w.agent, closed, to).await.unwrap();
    }
    let foreign = TicketId::new();
    let actions = CannedActions {
        status: Some(TicketStatus::Pending),
        priority: Some(Priority::Urgent),
        add_tags: vec!["outage".into()],
        assign: Some(CannedAssign::User {
            id: w.agent2.user_id,
        }),
        ..CannedActions::default()
    };
    let before_b = w.hd.get_ticket(&w.agent, b).await.unwrap().ticket;
    let outcomes =
        w.hd.bulk_change(&w.agent, &[a, closed, b, a, foreign], actions.clone())
            .await
            .unwrap();
    let order: Vec<TicketId> = outcomes.iter().map(|o| o.ticket).collect();
    assert_eq!(order, [a, closed, b, foreign], "in order, each once");
    for done in [&outcomes[0], &outcomes[2]] {
        let t = done.result.as_ref().unwrap();
        assert_eq!(t.status, TicketStatus::Pending);
        assert_eq!(t.priority, Priority::Urgent);
        assert_eq!(t.tags, ["outage"]);
        assert_eq!(t.assignee, Some(w.agent2.user_id));
    }
    // One write per ticket, every change's events in it.
    let b_after = w.hd.get_ticket(&w.agent, b).await.unwrap();
    assert_eq!(b_after.ticket.version, before_b.version + 1);
    assert!(
        b_after
            .events
            .iter()
            .any(|e| matches!(e.kind, EventKind::PriorityChanged { .. })
                && e.version == before_b.version + 1)
    );
    assert!(matches!(
        outcomes[1].result,
        Err(Error::InvalidState(StateError::ClosedTicket { .. }))
    ));
    assert!(matches!(outcomes[3].result, Err(Error::NotFound { .. })));

    // Asked again, nothing is written: the tickets already are as asked.
    let again = w.hd.bulk_change(&w.agent, &[b], actions).await.unwrap();
    assert_eq!(
        again[0].result.as_ref().unwrap().version,
        b_after.ticket.version
    );
}

#[tokio::test]
async fn a_refused_transition_leaves_the_ticket_as_it_was() {
    let w = world().await;
    let fresh = open(&w, "New one").await;
    let resolved = open(&w, "Resolved one").await;
    w.hd.transition(&w.agent, resolved, TicketStatus::Resolved)
        .await
        .unwrap();
    let before = w.hd.get_ticket(&w.agent, resolved).await.unwrap().ticket;
    let actions = CannedActions {
        status: Some(TicketStatus::Pending),
        add_tags: vec!["waiting".into()],
        ..CannedActions::default()
    };
    let outcomes =
        w.hd.bulk_change(&w.agent, &[fresh, resolved], actions)
            .await
            .unwrap();
    assert!(outcomes[0].result.is_ok());
    assert!(matches!(
        outcomes[1].result,
        Err(Error::IllegalTransition { .. })
    ));
    let after = w.hd.get_ticket(&w.agent, resolved).await.unwrap().ticket;
    assert_eq!(after, before, "not even the tag was added");
}

#[tokio::test]
async fn invalid_requests_are_refused_before_any_ticket_changes() {
    let w = world().await;
    let t = open(&w, "One").await;
    let before = w.hd.get_ticket(&w.agent, t).await.unwrap().ticket;
    let tag = CannedActions {
        add_tags: vec!["ok".into()],
        ..CannedActions::default()
    };
    let cases: Vec<(Vec<TicketId>, CannedActions, &str)> = vec![
        (Vec::new(), tag.clone(), "tickets"),
        (vec![t; MAX_BULK_TICKETS + 1], tag.clone(), "tickets"),
        (vec![t], CannedActions::default(), "actions"),
        (
            vec![t],
            CannedActions {
                add_tags: vec![" ".into()],
                ..CannedActions::default()
            },
            "actions.add_tags[0]",
        ),
        (
            vec![t],
            CannedActions {
                assign: Some(CannedAssign::User {
                    id: w.customer.user_id,
                }),
                ..CannedActions::default()
            },
            "actions.assign",
        ),
    ];
    for (ids, actions, field) in cases {
        match w.hd.bulk_change(&w.agent, &ids, actions).await {
            Err(Error::Validation { field: f, .. }) => assert_eq!(f.as_ref(), field),
            other => panic!("{field}: {other:?}"),
        }
    }
    let r = w.hd.bulk_change(&w.customer, &[t], tag).await;
    assert!(matches!(r, Err(Error::Forbidden { .. })), "{r:?}");
    assert_eq!(w.hd.get_ticket(&w.agent, t).await.unwrap().ticket, before);
}
