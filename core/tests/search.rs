//! Searching tickets through the service: what staff and customers each find, snippets,
//! the filters a person picks (me, due soon), and refusals naming the field.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use helpdesk_core::domain::{TicketStatus, ViewAssignee};
use helpdesk_core::service::{NewReply, NewTicket, SearchRequest, SlaCondition, TicketPatch};
use helpdesk_core::store::SearchSource;
use helpdesk_core::{Error, UserId};

use common::world;

fn search(q: &str) -> SearchRequest {
    SearchRequest {
        q: q.into(),
        ..SearchRequest::default()
    }
}

fn field_of(err: Error) -> String {
    match err {
        Error::Validation { field, .. } => field.into_owned(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn staff_find_notes_and_tags_customers_only_their_own_public_text() {
    let w = world().await;
    let mine =
        w.hd.open_ticket(
            &w.customer,
            NewTicket::new("Card declined", "My card was declined twice."),
        )
        .await
        .unwrap()
        .ticket;
    let theirs =
        w.hd.open_ticket(
            &w.customer2,
            NewTicket::new("Declined payment", "Payment declined."),
        )
        .await
        .unwrap()
        .ticket;
    w.hd.add_note(
        &w.agent,
        mine.id,
        "Possible FRAUD pattern, escalate to risk team",
    )
    .await
    .unwrap();
    w.hd.reply(
        &w.agent,
        mine.id,
        NewReply::new("We reset the fraud filter on your card."),
    )
    .await
    .unwrap();
    w.hd.update_ticket(
        &w.agent,
        theirs.id,
        TicketPatch {
            tags: Some(vec!["chargeback".into()]),
            ..TicketPatch::default()
        },
    )
    .await
    .unwrap();

    let staff =
        w.hd.search_tickets(&w.agent, search("Fraud"))
            .await
            .unwrap();
    assert_eq!(staff.items.len(), 1);
    assert_eq!(staff.items[0].ticket.id, mine.id);
    assert_eq!(
        staff.items[0].source,
        SearchSource::Message,
        "a public message ranks before a note"
    );
    let marked: Vec<&str> = staff.items[0]
        .snippet
        .parts
        .iter()
        .filter(|p| p.hit)
        .map(|p| p.text.as_str())
        .collect();
    assert_eq!(marked, ["fraud"]);
    let note =
        w.hd.search_tickets(&w.agent, search("risk team"))
            .await
            .unwrap();
    assert_eq!(note.items[0].source, SearchSource::Note);
    let tag =
        w.hd.search_tickets(&w.admin, search("chargeback"))
            .await
            .unwrap();
    assert_eq!(tag.items[0].ticket.id, theirs.id);
    assert_eq!(tag.items[0].source, SearchSource::Details);

    // The customer finds the public reply on their ticket, never the note or another's.
    let own =
        w.hd.search_tickets(&w.customer, search("fraud filter"))
            .await
            .unwrap();
    assert_eq!(own.items.len(), 1);
    assert!(
        w.hd.search_tickets(&w.customer, search("risk"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        w.hd.search_tickets(&w.customer, search("payment"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        w.hd.search_tickets(&w.customer2, search("chargeback"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // A customer's staff-only filters are ignored, not an error and not a leak.
    let sneaky = SearchRequest {
        assignee: Some(ViewAssignee::Unassigned),
        tag: Some("chargeback".into()),
        ..search("declined")
    };
    let found = w.hd.search_tickets(&w.customer2, sneaky).await.unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].ticket.id, theirs.id);
}

#[tokio::test]
async fn filters_me_status_and_due_soon() {
    let w = world().await;
    let a =
        w.hd.open_ticket(&w.customer, NewTicket::new("Printer jam", "Jammed."))
            .await
            .unwrap()
            .ticket;
    let b =
        w.hd.open_ticket(&w.customer, NewTicket::new("Printer ink", "Empty."))
            .await
            .unwrap()
            .ticket;
    w.hd.assign(&w.admin, a.id, Some(w.agent.user_id))
        .await
        .unwrap();
    let mine = SearchRequest {
        assignee: Some(ViewAssignee::Me),
        ..search("printer")
    };
    let found = w.hd.search_tickets(&w.agent, mine.clone()).await.unwrap();
    assert_eq!(
        found.items.iter().map(|r| r.ticket.id).collect::<Vec<_>>(),
        [a.id]
    );
    w.hd.assign(&w.admin, b.id, Some(w.agent2.user_id))
        .await
        .unwrap();
    let found = w.hd.search_tickets(&w.agent2, mine).await.unwrap();
    assert_eq!(
        found.items.iter().map(|r| r.ticket.id).collect::<Vec<_>>(),
        [b.id]
    );
    w.hd.transition(&w.agent, b.id, TicketStatus::Resolved)
        .await
        .unwrap();
    let open = SearchRequest {
        statuses: vec![TicketStatus::New, TicketStatus::Open],
        ..search("printer")
    };
    let found = w.hd.search_tickets(&w.agent, open).await.unwrap();
    assert_eq!(
        found.items.iter().map(|r| r.ticket.id).collect::<Vec<_>>(),
        [a.id]
    );

    // Due soon is relative to the clock: nothing is due in the next hour at first, the
    // open ticket is once the clock nears its first-response target.
    let due_soon = SearchRequest {
        sla: Some(SlaCondition::DueSoon),
        ..search("printer")
    };
    assert!(
        w.hd.search_tickets(&w.agent, due_soon.clone())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let target =
        w.hd.get_ticket(&w.agent, a.id)
            .await
            .unwrap()
            .ticket
            .sla
            .first_response_due
            .unwrap();
    w.clock.set(target - jiff::SignedDuration::from_mins(30));
    let found = w.hd.search_tickets(&w.agent, due_soon).await.unwrap();
    assert_eq!(
        found.items.iter().map(|r| r.ticket.id).collect::<Vec<_>>(),
        [a.id]
    );
}

#[tokio::test]
async fn refusals_name_the_field() {
    let w = world().await;
    for (request, field) in [
        (search("  -- "), "q"),
        (search(&"word ".repeat(50)), "q"),
        (search("a b c d e f g h i"), "q"),
        (search("tab\u{7}bell"), "q"),
        (
            SearchRequest {
                category: Some("nope".into()),
                ..search("x")
            },
            "category",
        ),
        (
            SearchRequest {
                assignee: Some(ViewAssignee::User {
                    id: w.customer.user_id,
                }),
                ..search("x")
            },
            "assignee",
        ),
        (
            SearchRequest {
                assignee: Some(ViewAssignee::User { id: UserId::new() }),
                ..search("x")
            },
            "assignee",
        ),
        (
            SearchRequest {
                tag: Some(" ".into()),
                ..search("x")
            },
            "tag",
        ),
        (
            SearchRequest {
                limit: 101,
                ..search("x")
            },
            "limit",
        ),
        (
            SearchRequest {
                cursor: Some("garbage".into()),
                ..search("x")
            },
            "cursor",
        ),
    ] {
        let err =
            w.hd.search_tickets(&w.agent, request.clone())
                .await
                .unwrap_err();
        assert_eq!(field_of(err), field, "{request:?}");
    }
}
