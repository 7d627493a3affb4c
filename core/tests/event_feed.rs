//! The tenant event feed (issue 17): what each role sees, resuming without loss or
//! duplicates across pages, events another instance commits late, and cursor errors.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use helpdesk_core::domain::{
    Actor, AuthorKind, DraftState, Event, EventKind, MessageKind, Role, TicketStatus,
};
use helpdesk_core::service::{
    FeedCursor, FeedItem, FeedPage, NewReply, NewTenant, NewTicket, NewUser, customer_sees,
};
use helpdesk_core::testkit::ManualClock;
use helpdesk_core::{Error, EventId, Helpdesk, MessageId, TicketId};

use common::{World, world};

/// Every page after `after` until the feed has nothing more, with the cursor after each.
async fn drain(
    hd: &Helpdesk,
    actor: &Actor,
    after: Option<FeedCursor>,
    limit: u32,
) -> (Vec<FeedItem>, FeedCursor) {
    let mut cursor = after;
    let mut items = Vec::new();
    for _ in 0..100 {
        let FeedPage {
            items: page,
            cursor: next,
            more,
        } = hd.event_feed(actor, cursor.as_ref(), limit).await.unwrap();
        // The cursor goes through its text form, as it does over SSE.
        let next = FeedCursor::decode(&next.encode()).unwrap();
        let empty = page.is_empty();
        items.extend(page);
        cursor = Some(next);
        if empty && !more {
            break;
        }
    }
    (items, cursor.unwrap())
}

fn ids(items: &[FeedItem]) -> Vec<EventId> {
    items.iter().map(|i| i.id).collect()
}

fn assert_unique(items: &[FeedItem]) {
    let unique: HashSet<EventId> = items.iter().map(|i| i.id).collect();
    assert_eq!(unique.len(), items.len(), "an event was delivered twice");
}

async fn open(w: &World, actor: &Actor, subject: &str) -> TicketId {
    w.hd.open_ticket(actor, NewTicket::new(subject, "Please help with this."))
        .await
        .unwrap()
        .ticket
        .id
}

/// All events of the tenant's tickets, as the store has them, in (at, id) order.
async fn all_events(w: &World, tickets: &[TicketId]) -> Vec<Event> {
    let mut all = Vec::new();
    for t in tickets {
        all.extend(w.store.list_events(w.tenant.id, *t).await.unwrap());
    }
    all.sort_by_key(|e| (e.at, e.id));
    all
}

#[tokio::test]
async fn staff_see_every_event_of_their_tenant_and_nothing_of_another() {
    let w = world().await;
    let first = open(&w, &w.customer, "Cannot log in").await;
    w.clock.advance(Duration::from_secs(1));
    let second = open(&w, &w.customer2, "Invoice wrong").await;
    w.hd.add_note(&w.agent, first, "Checking the logs")
        .await
        .unwrap();
    // Another tenant with its own ticket.
    let (_, other_admin) =
        w.hd.register_tenant(NewTenant {
            name: "Globex".into(),
            slug: "globex".into(),
            admin: NewUser::new("admin@globex.test", "Gil", Role::Admin),
            settings: None,
        })
        .await
        .unwrap();
    let other_admin = Actor::for_user(&other_admin);
    w.hd.open_ticket(&other_admin, NewTicket::new("Theirs", "Their problem."))
        .await
        .unwrap();

    let expected = all_events(&w, &[first, second]).await;
    for staff in [&w.agent, &w.admin] {
        let (items, _) = drain(&w.hd, staff, None, 100).await;
        assert_eq!(
            ids(&items),
            expected.iter().map(|e| e.id).collect::<Vec<_>>()
        );
        for item in &items {
            assert_eq!(item.kind, item.event.kind.name());
            assert_eq!(
                (item.at, item.ticket_id),
                (item.event.at, item.event.ticket_id)
            );
            let number = if item.ticket_id == first { 1 } else { 2 };
            assert_eq!(item.ticket_number, number);
        }
    }
    let (theirs, _) = drain(&w.hd, &other_admin, None, 100).await;
    assert!(!theirs.is_empty());
    assert!(
        theirs
            .iter()
            .all(|i| i.ticket_id != first && i.ticket_id != second)
    );
}

#[tokio::test]
async fn a_customer_sees_only_public_events_of_their_own_tickets() {
    let w = world().await;
    let mine = open(&w, &w.customer, "Cannot log in").await;
    let theirs = open(&w, &w.customer2, "Invoice wrong").await;
    w.hd.add_note(&w.agent, mine, "Internal: VIP customer")
        .await
        .unwrap();
    w.hd.assign(&w.agent, mine, Some(w.agent.user_id))
        .await
        .unwrap();
    w.hd.reply(&w.agent, mine, NewReply::new("We are on it."))
        .await
        .unwrap();
    w.hd.reply(&w.agent, theirs, NewReply::new("Looking at your invoice."))
        .await
        .unwrap();
    w.hd.transition(&w.agent, mine, TicketStatus::Resolved)
        .await
        .unwrap();

    let (items, _) = drain(&w.hd, &w.customer, None, 2).await;
    assert_unique(&items);
    assert!(items.iter().all(|i| i.ticket_id == mine), "{items:?}");
    let kinds: Vec<&str> = items.iter().map(|i| i.kind).collect();
    assert!(
        kinds.contains(&"created") && kinds.contains(&"status_changed"),
        "{kinds:?}"
    );
    for item in &items {
        assert!(customer_sees(&item.event.kind), "{item:?}");
        if let EventKind::MessageAdded { kind, .. } = &item.event.kind {
            assert_eq!(*kind, MessageKind::Reply);
        }
    }
    // The staff-only events of the customer's ticket exist, and are left out.
    let all = all_events(&w, &[mine]).await;
    let hidden: Vec<&Event> = all.iter().filter(|e| !customer_sees(&e.kind)).collect();
    assert!(
        hidden
            .iter()
            .any(|e| matches!(e.kind, EventKind::Assigned { .. }))
    );
    assert!(hidden.iter().any(|e| matches!(
        e.kind,
        EventKind::MessageAdded {
            kind: MessageKind::Note,
            ..
        }
    )));
    assert_eq!(items.len(), all.len() - hidden.len());
}

#[test]
fn customers_never_see_notes_drafts_or_internals() {
    let message = |kind| EventKind::MessageAdded {
        message_id: MessageId::new(),
        kind,
        author_kind: AuthorKind::Agent,
    };
    assert!(customer_sees(&message(MessageKind::Reply)));
    assert!(customer_sees(&message(MessageKind::Chat)));
    assert!(!customer_sees(&message(MessageKind::Note)));
    assert!(!customer_sees(&message(MessageKind::Draft)));
    assert!(!customer_sees(&EventKind::DraftDecided {
        message_id: MessageId::new(),
        state: DraftState::Discarded,
    }));
    assert!(!customer_sees(&EventKind::SlaBreached {
        kind: helpdesk_core::domain::SlaKind::FirstResponse,
    }));
    assert!(!customer_sees(&EventKind::TagsChanged { tags: vec![] }));
}

#[tokio::test]
async fn paging_resumes_without_loss_or_duplicates() {
    let w = world().await;
    let mut tickets = Vec::new();
    for i in 0..7 {
        tickets.push(open(&w, &w.customer, &format!("Problem {i}")).await);
        // Several events per millisecond and several milliseconds.
        if i % 2 == 0 {
            w.clock.advance(Duration::from_millis(1));
        }
    }
    for limit in [1, 3, 5, 100] {
        // Each round adds a note: the whole feed is read again from the beginning.
        let expected: Vec<EventId> = all_events(&w, &tickets)
            .await
            .iter()
            .map(|e| e.id)
            .collect();
        assert!(expected.len() > 14);
        let (items, cursor) = drain(&w.hd, &w.agent, None, limit).await;
        assert_eq!(ids(&items), expected, "limit {limit}");
        // Resuming from the end gives nothing new until something happens.
        let page = w.hd.event_feed(&w.agent, Some(&cursor), 10).await.unwrap();
        assert!(page.items.is_empty() && !page.more);
        w.hd.add_note(&w.agent, tickets[0], &format!("Note {limit}"))
            .await
            .unwrap();
        let (next, _) = drain(&w.hd, &w.agent, Some(cursor), limit).await;
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].kind, "message_added");
    }
}

#[tokio::test]
async fn more_events_in_the_window_than_a_cursor_remembers_are_delivered_once() {
    let w = world().await;
    let mut tickets = Vec::new();
    // All in one millisecond: the look-back re-reads every one of them each page.
    for i in 0..25 {
        tickets.push(open(&w, &w.customer, &format!("Burst {i}")).await);
    }
    let expected: Vec<EventId> = all_events(&w, &tickets)
        .await
        .iter()
        .map(|e| e.id)
        .collect();
    assert!(expected.len() > helpdesk_core::service::FEED_CURSOR_MAX_IDS * 2);
    let (items, cursor) = drain(&w.hd, &w.agent, None, 7).await;
    assert_eq!(ids(&items), expected);
    assert!(cursor.encode().len() < 2000, "{}", cursor.encode().len());
}

/// Two instances on one store, the second one's clock 2 s behind: an event it commits
/// after a reader has passed its time is delivered on the next page (the look-back is
/// 5 s); one 10 s behind is beyond the look-back and is not.
#[tokio::test]
async fn an_event_committed_late_by_another_instance_is_not_lost() {
    let w = world().await;
    let behind = Arc::new(ManualClock::new(w.hd.now()));
    let other = Helpdesk::builder(w.store.clone())
        .clock(behind.clone())
        .build()
        .unwrap();
    let ticket = open(&w, &w.customer, "Cannot log in").await;
    w.clock.advance(Duration::from_secs(60));
    behind.set(w.hd.now());
    w.hd.add_note(&w.agent, ticket, "First note").await.unwrap();
    let (seen, cursor) = drain(&w.hd, &w.agent, None, 100).await;
    assert_unique(&seen);

    // Stamped 2 s before the last delivered event, committed after the read.
    behind.set(
        w.hd.now()
            .checked_sub(jiff::SignedDuration::from_secs(2))
            .unwrap(),
    );
    other.add_note(&w.agent, ticket, "Late note").await.unwrap();
    let (late, cursor) = drain(&w.hd, &w.agent, Some(cursor), 100).await;
    assert_eq!(late.len(), 1, "{late:?}");
    assert!(late[0].at < cursor.at());
    // Delivered once: the next pages have nothing.
    let (again, cursor) = drain(&w.hd, &w.agent, Some(cursor), 100).await;
    assert!(again.is_empty(), "{again:?}");

    // Beyond the look-back: documented as not delivered.
    behind.set(
        w.hd.now()
            .checked_sub(jiff::SignedDuration::from_secs(10))
            .unwrap(),
    );
    other
        .add_note(&w.agent, ticket, "Very late note")
        .await
        .unwrap();
    let (lost, _) = drain(&w.hd, &w.agent, Some(cursor), 100).await;
    assert!(lost.is_empty(), "{lost:?}");
}

#[tokio::test]
async fn a_cursor_from_a_time_starts_there() {
    let w = world().await;
    let old = open(&w, &w.customer, "Old").await;
    w.clock.advance(Duration::from_secs(30));
    let start = w.hd.now();
    let new = open(&w, &w.customer, "New").await;
    let (items, _) = drain(&w.hd, &w.agent, Some(FeedCursor::from_time(start)), 100).await;
    assert!(!items.is_empty());
    assert!(
        items
            .iter()
            .all(|i| i.ticket_id == new && i.ticket_id != old)
    );
}

#[tokio::test]
async fn garbage_cursors_are_validation_errors() {
    for text in [
        "",
        "x",
        "f",
        "fabc",
        "f12.",
        "f12.3",
        "f12.-3_0123456789abcdef0123456789abcdef",
        "f12.3_0123",
        "f12.3_0123456789abcdef0123456789abcdeg",
        "f12~5",
        "f99999999999999999999",
        "f12.3_0123456789abcdef0123456789abcdef\n",
        &format!("f1{}", ".0_0123456789abcdef0123456789abcdef".repeat(200)),
    ] {
        match FeedCursor::decode(text) {
            Err(Error::Validation { field, .. }) => assert_eq!(field, "cursor", "{text:?}"),
            other => panic!("{text:?}: {other:?}"),
        }
        assert!(text.parse::<FeedCursor>().is_err());
    }
    // What the feed writes reads back the same.
    let w = world().await;
    open(&w, &w.customer, "Round trip").await;
    let page = w.hd.event_feed(&w.agent, None, 2).await.unwrap();
    let text = page.cursor.to_string();
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)),
        "{text}"
    );
    assert_eq!(text.parse::<FeedCursor>().unwrap(), page.cursor);
    let start = FeedCursor::from_time(w.hd.now());
    assert_eq!(FeedCursor::decode(&start.encode()).unwrap(), start);
}

#[tokio::test]
async fn the_feed_needs_a_valid_actor() {
    let w = world().await;
    let stranger = Actor::new(w.tenant.id, helpdesk_core::UserId::new(), Role::Agent);
    assert!(matches!(
        w.hd.event_feed(&stranger, None, 10).await,
        Err(Error::Unauthenticated { .. })
    ));
}

#[tokio::test]
async fn the_helpdesks_own_commits_wake_feed_readers_of_their_tenant_only() {
    let w = world().await;
    let mut reader = w.hd.commit_waiter().await;
    // The memory store lives in one process: nothing to relay, the helpdesk signals.
    assert_eq!(w.hd.relays_commits(), Some(false));
    let other = world().await;
    let mut other_reader = other.hd.commit_waiter().await;
    let wait = Duration::from_secs(5);

    let id = open(&w, &w.customer, "Printer jam").await;
    assert!(reader.wait_for(w.tenant.id, wait).await, "intake signals");
    // Another helpdesk (another store) does not hear of it.
    assert!(
        !other_reader
            .wait_for(other.tenant.id, Duration::from_millis(100))
            .await
    );
    // Routing may have assigned either agent: after these two the ticket is agent2's, and
    // a reader made now has no signal waiting.
    for agent in [w.agent.user_id, w.agent2.user_id] {
        w.hd.assign(&w.admin, id, Some(agent)).await.unwrap();
    }
    let mut reader = w.hd.commit_waiter().await;
    w.hd.assign(&w.admin, id, Some(w.agent.user_id))
        .await
        .unwrap();
    assert!(reader.wait_for(w.tenant.id, wait).await, "a change signals");
    // A change that fails writes nothing and signals nothing.
    assert!(
        w.hd.assign(&w.customer, id, Some(w.agent.user_id))
            .await
            .is_err()
    );
    assert!(
        !reader
            .wait_for(w.tenant.id, Duration::from_millis(100))
            .await
    );
    // A reader of another tenant on the same helpdesk skips this tenant's signals.
    open(&w, &w.customer, "Second").await;
    assert!(
        !reader
            .wait_for(other.tenant.id, Duration::from_millis(100))
            .await
    );
}
