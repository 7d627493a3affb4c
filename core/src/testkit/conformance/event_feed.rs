//! Conformance case for the tenant event feed read: every ticket's events of the tenant
//! from a time on, ordered by (at, id), limited, never another tenant's.

use std::sync::Arc;

use super::{S, create, seed_tenant};
use crate::Helpdesk;
use crate::domain::{Actor, Event, EventKind, Priority, Role, TicketStatus};
use crate::service::{FeedCursor, NewReply, NewTenant, NewTicket, NewUser};
use crate::testkit::ManualClock;
use crate::testkit::fixtures::{at, change, t0};

/// `list_tenant_events` returns the tenant's events of every ticket with `at >= since`,
/// in (at, id) order, at most `limit`, and nothing of another tenant.
pub async fn tenant_events_are_ordered_limited_and_isolated(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let (b, other, _) = seed_tenant(&store, "globex").await;
    let first = create(&store, a.id, customer.id, "First", Priority::Low, 0).await;
    let second = create(&store, a.id, customer.id, "Second", Priority::Low, 1).await;
    let foreign = create(&store, b.id, other.id, "Foreign", Priority::Low, 2).await;
    // Changes at the same minute on both tickets (ties broken by id), and one later.
    let open = |from| EventKind::StatusChanged {
        from,
        to: TicketStatus::Open,
    };
    let w = change(
        &second.ticket,
        vec![open(TicketStatus::New)],
        at(3),
        Some(agent.id),
    );
    store.update_ticket(1, &w).await.unwrap();
    let w = change(
        &first.ticket,
        vec![
            open(TicketStatus::New),
            EventKind::TagsChanged {
                tags: vec!["vip".into()],
            },
        ],
        at(3),
        Some(agent.id),
    );
    store.update_ticket(1, &w).await.unwrap();
    let first_v2 = w.ticket.clone();
    let w = change(
        &first_v2,
        vec![EventKind::PriorityChanged {
            from: Priority::Low,
            to: Priority::High,
        }],
        at(5),
        None,
    );
    store.update_ticket(2, &w).await.unwrap();
    let w = change(&foreign.ticket, vec![open(TicketStatus::New)], at(3), None);
    store.update_ticket(1, &w).await.unwrap();

    let mut expected: Vec<Event> = Vec::new();
    for t in [first.ticket.id, second.ticket.id] {
        expected.extend(store.list_events(a.id, t).await.unwrap());
    }
    expected.sort_by_key(|e| (e.at, e.id));
    assert_eq!(expected.len(), 6);

    let all = store.list_tenant_events(a.id, at(0), 100).await.unwrap();
    assert_eq!(all, expected);
    assert!(all.iter().all(|e| e.tenant_id == a.id));

    // From a time on (inclusive), limited.
    let since = store.list_tenant_events(a.id, at(3), 100).await.unwrap();
    assert_eq!(since, expected[2..].to_vec());
    let page = store.list_tenant_events(a.id, at(3), 2).await.unwrap();
    assert_eq!(page, expected[2..4].to_vec());
    assert!(
        store
            .list_tenant_events(a.id, at(6), 100)
            .await
            .unwrap()
            .is_empty()
    );

    // The other tenant sees only its own two events.
    let theirs = store.list_tenant_events(b.id, at(0), 100).await.unwrap();
    assert_eq!(theirs.len(), 2);
    assert!(theirs.iter().all(|e| e.ticket_id == foreign.ticket.id));
}

/// The service's event feed on the store under test: pages of two resume through the
/// cursor's text form without loss or duplicates, in the store's (at, id) order, and a
/// customer gets only the public events of their own ticket.
pub async fn event_feed_pages_through_the_store(store: S) {
    let clock = Arc::new(ManualClock::new(t0()));
    let hd = Helpdesk::builder(store.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    let (tenant, admin) = hd
        .register_tenant(NewTenant {
            name: "Acme".into(),
            slug: "acme".into(),
            admin: NewUser::new("admin@acme.test", "Ada", Role::Admin),
            settings: None,
        })
        .await
        .unwrap();
    let admin = Actor::for_user(&admin);
    let mut customers = Vec::new();
    for name in ["carl", "cora"] {
        let new = NewUser::new(&format!("{name}@customer.test"), name, Role::Customer);
        customers.push(Actor::for_user(&hd.add_user(&admin, new).await.unwrap()));
    }
    let mut tickets = Vec::new();
    for (i, customer) in customers.iter().cycle().take(4).enumerate() {
        let new = NewTicket::new(&format!("Problem {i}"), "Please help.");
        let id = hd.open_ticket(customer, new).await.unwrap().ticket.id;
        hd.add_note(&admin, id, "Internal").await.unwrap();
        hd.reply(&admin, id, NewReply::new("On it.")).await.unwrap();
        tickets.push(id);
        if i % 2 == 1 {
            clock.advance(std::time::Duration::from_millis(1));
        }
    }
    let mut expected: Vec<Event> = Vec::new();
    for t in &tickets {
        expected.extend(store.list_events(tenant.id, *t).await.unwrap());
    }
    expected.sort_by_key(|e| (e.at, e.id));

    for (actor, limit) in [(&admin, 2), (&customers[0], 1)] {
        let mut cursor: Option<FeedCursor> = None;
        let mut delivered = Vec::new();
        for _ in 0..100 {
            let page = hd.event_feed(actor, cursor.as_ref(), limit).await.unwrap();
            let done = page.items.is_empty() && !page.more;
            delivered.extend(page.items.into_iter().map(|i| i.event));
            cursor = Some(page.cursor.encode().parse().unwrap());
            if done {
                break;
            }
        }
        let wanted: Vec<&Event> = expected
            .iter()
            .filter(|e| {
                actor.is_staff() || {
                    let mine = [tickets[0], tickets[2]].contains(&e.ticket_id);
                    mine && crate::service::customer_sees(&e.kind)
                }
            })
            .collect();
        assert_eq!(delivered.iter().collect::<Vec<_>>(), wanted, "{actor:?}");
    }
}
