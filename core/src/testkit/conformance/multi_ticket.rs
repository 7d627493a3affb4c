//! Conformance cases for [`TicketStore::update_tickets`](crate::store::TicketStore::update_tickets):
//! several tickets changed in one atomic commit, and the merge built on it, which must
//! leave exactly one merge when two agents merge two tickets into each other at once.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use jiff::Timestamp;

use super::{S, create, seed_tenant};
use crate::domain::{
    Actor, AuthorKind, EventKind, Message, MessageKind, NotificationKind, Priority, Tenant, Ticket,
    TicketStatus, User,
};
use crate::store::{MessageFilter, TicketWrite};
use crate::testkit::fixtures::{at, change, outbox_entry, t0, tenant};
use crate::{Clock, Error, Helpdesk, MessageId, TicketId, UserId};

/// A change of `ticket` with one event, one internal note and one notification: a write
/// that touches every collection a ticket commit writes.
fn full_change(ticket: &Ticket, kind: EventKind, note: &str, actor: UserId) -> TicketWrite {
    let mut write = change(ticket, vec![kind], at(5), Some(actor));
    let message = Message {
        id: MessageId::new(),
        tenant_id: ticket.tenant_id,
        ticket_id: ticket.id,
        author: Some(actor),
        author_kind: AuthorKind::System,
        kind: MessageKind::Note,
        body: note.into(),
        created_at: at(5),
        citations: Vec::new(),
        email: None,
        draft: None,
    };
    write.messages.push(message);
    write.outbox.push(outbox_entry(
        &write.ticket,
        vec![ticket.requester],
        NotificationKind::Replied { message_id: None },
        at(5),
    ));
    write
}

/// Asserts that `ticket` is stored exactly as `before` with only the events, messages and
/// outbox entries it had (one of each, from its creation).
async fn assert_untouched(store: &S, before: &Ticket) {
    let (tenant, id) = (before.tenant_id, before.id);
    assert_eq!(
        store.get_ticket(tenant, id).await.unwrap().as_ref(),
        Some(before),
        "ticket {id} changed"
    );
    assert_eq!(store.list_events(tenant, id).await.unwrap().len(), 1);
    assert_eq!(
        store
            .list_messages(tenant, id, MessageFilter::All)
            .await
            .unwrap()
            .len(),
        1
    );
    let outbox = store.list_outbox(tenant).await.unwrap();
    assert_eq!(
        outbox
            .iter()
            .filter(|o| o.notification.ticket_id == id)
            .count(),
        1,
        "ticket {id} queued a notification"
    );
}

/// A two-ticket commit lands both tickets with their events, messages and outbox entries.
pub async fn update_tickets_lands_every_ticket(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let dup = create(&store, a.id, customer.id, "Dup", Priority::Low, 0).await;
    let target = create(&store, a.id, customer.id, "Target", Priority::Low, 1).await;
    let dup_write = full_change(
        &dup.ticket,
        EventKind::Merged {
            into: target.ticket.id,
        },
        "merged away",
        agent.id,
    );
    let target_write = full_change(
        &target.ticket,
        EventKind::MergedFrom {
            source: dup.ticket.id,
        },
        "merged here",
        agent.id,
    );
    store
        .update_tickets(&[(1, dup_write.clone()), (1, target_write.clone())])
        .await
        .unwrap();

    for write in [&dup_write, &target_write] {
        let id = write.ticket.id;
        assert_eq!(
            store.get_ticket(a.id, id).await.unwrap().as_ref(),
            Some(&write.ticket)
        );
        let events = store.list_events(a.id, id).await.unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[1], write.events[0]);
        assert_eq!(
            Ticket::replay(&events).as_ref(),
            Some(&write.ticket),
            "the events replay to the stored ticket"
        );
        let messages = store
            .list_messages(a.id, id, MessageFilter::All)
            .await
            .unwrap();
        assert_eq!(messages.len(), 2);
        assert!(messages.contains(&write.messages[0]));
        let outbox = store.list_outbox(a.id).await.unwrap();
        assert!(outbox.iter().any(|o| o.id == write.outbox[0].id));
    }
    let dup_now = store
        .get_ticket(a.id, dup.ticket.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dup_now.merged_into, Some(target.ticket.id));
    assert_eq!(dup_now.status, TicketStatus::Closed);
    assert_eq!(dup_now.version, 2);
    store.update_tickets(&[]).await.unwrap();
}

/// A stale expected version on either ticket (or a missing ticket) fails the whole commit
/// with `Conflict` (`NotFound`), and neither ticket is written.
pub async fn update_tickets_with_a_stale_version_writes_nothing(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let one = create(&store, a.id, customer.id, "One", Priority::Low, 0).await;
    let two = create(&store, a.id, customer.id, "Two", Priority::Low, 1).await;
    let tags = |t: &Ticket| EventKind::TagsChanged {
        tags: vec![format!("t{}", t.number)],
    };
    let w1 = full_change(&one.ticket, tags(&one.ticket), "one", agent.id);
    let w2 = full_change(&two.ticket, tags(&two.ticket), "two", agent.id);

    // The stale writer expects version 2: the ticket is still at 1.
    let mut stale1 = full_change(&w1.ticket, tags(&one.ticket), "stale one", agent.id);
    stale1.previous = None;
    let mut stale2 = full_change(&w2.ticket, tags(&two.ticket), "stale two", agent.id);
    stale2.previous = None;
    for writes in [
        vec![(2, stale1.clone()), (1, w2.clone())],
        vec![(1, w1.clone()), (2, stale2.clone())],
    ] {
        match store.update_tickets(&writes).await {
            Err(Error::Conflict { expected: 2, .. }) => {}
            other => panic!("expected a Conflict on the stale ticket, got {other:?}"),
        }
        assert_untouched(&store, &one.ticket).await;
        assert_untouched(&store, &two.ticket).await;
    }

    let mut missing = w2.clone();
    missing.ticket.id = TicketId::new();
    missing.previous = None;
    missing.events.clear();
    missing.messages.clear();
    missing.outbox.clear();
    match store.update_tickets(&[(1, w1.clone()), (1, missing)]).await {
        Err(Error::NotFound { .. }) => {}
        other => panic!("expected NotFound for the missing ticket, got {other:?}"),
    }
    assert_untouched(&store, &one.ticket).await;
    assert_untouched(&store, &two.ticket).await;

    // After a successful commit, the same writes are stale on both tickets.
    store
        .update_tickets(&[(1, w1.clone()), (1, w2.clone())])
        .await
        .unwrap();
    assert!(matches!(
        store
            .update_tickets(&[(1, w1.clone()), (1, w2.clone())])
            .await,
        Err(Error::Conflict { expected: 1, .. })
    ));
    assert_eq!(
        store.list_events(a.id, one.ticket.id).await.unwrap().len(),
        2
    );
    assert_eq!(
        store.list_events(a.id, two.ticket.id).await.unwrap().len(),
        2
    );
}

/// Writes of two tenants, or two writes of one ticket, are refused as a `Validation` error
/// on `writes`, and nothing is written.
pub async fn update_tickets_refuses_mixed_tenants_and_repeated_tickets(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let other = tenant("globex");
    store.create_tenant(&other).await.unwrap();
    let other_customer = crate::testkit::fixtures::user(
        &other,
        crate::domain::Role::Customer,
        "customer@globex.test",
    );
    store.create_user(&other_customer).await.unwrap();
    let mine = create(&store, a.id, customer.id, "Mine", Priority::Low, 0).await;
    let theirs = create(
        &store,
        other.id,
        other_customer.id,
        "Theirs",
        Priority::Low,
        0,
    )
    .await;
    let tags = EventKind::TagsChanged {
        tags: vec!["x".into()],
    };
    let w_mine = full_change(&mine.ticket, tags.clone(), "mine", agent.id);
    let w_theirs = full_change(&theirs.ticket, tags.clone(), "theirs", agent.id);
    let again = full_change(&mine.ticket, tags, "again", agent.id);
    for writes in [
        vec![(1, w_mine.clone()), (1, w_theirs.clone())],
        vec![(1, w_mine.clone()), (1, again)],
    ] {
        match store.update_tickets(&writes).await {
            Err(Error::Validation { field, .. }) => assert_eq!(field, "writes"),
            other => panic!("expected a Validation error on writes, got {other:?}"),
        }
        assert_untouched(&store, &mine.ticket).await;
        assert_untouched(&store, &theirs.ticket).await;
    }
}

/// Two agents merge A into B and B into A at the same moment, through the service on this
/// store, several times: each time exactly one merge lands (the other gets a typed
/// `InvalidState` or `Conflict`), exactly one ticket is merged, and the losing merge
/// leaves nothing on its target: no `MergedFrom` event, no merge note, no notification.
pub async fn crossed_concurrent_merges_leave_exactly_one(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let agents = agents(&store, &a).await;
    for round in 0..12 {
        let x = create(&store, a.id, customer.id, "X", Priority::Low, round).await;
        let y = create(&store, a.id, customer.id, "Y", Priority::Low, round).await;
        let (x, y) = (x.ticket.id, y.ticket.id);
        let won = race(&store, &agents, [(x, y), (y, x)], round).await;
        assert_one_merge(&store, a.id, won.0.id, won.1.id, round).await;
    }
}

/// Two agents merge the same duplicate into two different tickets at the same moment:
/// exactly one merge lands, and the losing one leaves nothing on its target (before, the
/// target's `MergedFrom` and note were committed ahead of the duplicate's change, and
/// stayed when that change lost).
pub async fn racing_merges_of_one_duplicate_leave_no_trace_on_the_losers_target(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let agents = agents(&store, &a).await;
    for round in 0..12 {
        let dup = create(&store, a.id, customer.id, "Dup", Priority::Low, round).await;
        let b = create(&store, a.id, customer.id, "B", Priority::Low, round).await;
        let c = create(&store, a.id, customer.id, "C", Priority::Low, round).await;
        let id = dup.ticket.id;
        let won = race(
            &store,
            &agents,
            [(id, b.ticket.id), (id, c.ticket.id)],
            round,
        )
        .await;
        assert_eq!(won.0.id, id);
        assert_one_merge(&store, a.id, id, won.1.id, round).await;
        let loser = if won.1.id == b.ticket.id { &c } else { &b };
        assert_untouched(&store, &loser.ticket).await;
    }
}

/// Two active agents of the tenant, as actors.
async fn agents(store: &S, tenant: &Tenant) -> [Actor; 2] {
    [
        staff(store, tenant, "one@acme.test").await,
        staff(store, tenant, "two@acme.test").await,
    ]
}

/// Runs the two merges `(duplicate, into)` at once through a service on `store`, and
/// returns the one that landed (the other must fail with a typed `InvalidState` or
/// `Conflict`).
async fn race(
    store: &S,
    agents: &[Actor; 2],
    merges: [(TicketId, TicketId); 2],
    round: i64,
) -> (Ticket, Ticket) {
    // A fresh clock per race: its first two readings meet, so two merges that read the
    // clock between reading the tickets and writing them have both read before either
    // writes (the worst interleaving, made certain instead of lucky).
    let hd = Helpdesk::builder(store.clone())
        .clock(Arc::new(RendezvousClock::default()))
        .build()
        .unwrap();
    // Spawned from the test's own thread, so both land in the shared queue and run on two
    // workers.
    let mut tasks = Vec::new();
    for (agent, (dup, into)) in agents.iter().zip(merges) {
        let (hd, agent) = (hd.clone(), agent.clone());
        tasks.push(tokio::spawn(
            async move { hd.merge(&agent, dup, into).await },
        ));
    }
    let mut won = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(merged) => won.push(merged),
            Err(Error::InvalidState(_) | Error::Conflict { .. }) => {}
            Err(other) => panic!("round {round}: untyped loss {other:?}"),
        }
    }
    assert_eq!(won.len(), 1, "round {round}: both racing merges succeeded");
    won.remove(0)
}

/// A clock whose first two readings wait for each other (up to a second, so a caller that
/// reads it once never hangs); later readings return at once. Always `t0`.
#[derive(Debug, Default)]
struct RendezvousClock {
    arrived: Mutex<u32>,
    met: Condvar,
}

impl Clock for RendezvousClock {
    fn now(&self) -> Timestamp {
        // Waiting blocks the thread: `block_in_place` first hands this worker's queued
        // tasks to another thread, so nothing the other merge needs (its own task, a
        // driver's task) waits behind this one. Needs the multi-thread runtime, which
        // the suite's macro gives every case.
        tokio::task::block_in_place(|| {
            let mut arrived = self.arrived.lock().unwrap();
            *arrived += 1;
            if *arrived <= 2 {
                self.met.notify_all();
                let _met = self
                    .met
                    .wait_timeout_while(arrived, Duration::from_secs(1), |n| *n < 2)
                    .unwrap();
            }
        });
        t0()
    }
}

/// An active agent of the tenant, as an actor.
async fn staff(store: &S, tenant: &Tenant, email: &str) -> Actor {
    let agent: User = crate::testkit::fixtures::user(tenant, crate::domain::Role::Agent, email);
    store.create_user(&agent).await.unwrap();
    Actor::for_user(&agent)
}

/// `merged` is merged into `survivor`, which is not merged, and only that merge left a
/// trace: one `MergedFrom`, one merge note, one closing notification.
async fn assert_one_merge(
    store: &S,
    tenant: crate::TenantId,
    merged: TicketId,
    survivor: TicketId,
    round: i64,
) {
    let m = store.get_ticket(tenant, merged).await.unwrap().unwrap();
    let s = store.get_ticket(tenant, survivor).await.unwrap().unwrap();
    assert_eq!(m.merged_into, Some(survivor), "round {round}");
    assert_eq!(m.status, TicketStatus::Closed, "round {round}");
    assert_eq!(
        s.merged_into, None,
        "round {round}: the survivor is merged too"
    );
    assert_ne!(s.status, TicketStatus::Closed, "round {round}");
    let merged_from = |t: TicketId| async move {
        store
            .list_events(tenant, t)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|e| match e.kind {
                EventKind::MergedFrom { source } => Some(source),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(merged_from(survivor).await, vec![merged], "round {round}");
    assert!(
        merged_from(merged).await.is_empty(),
        "round {round}: the losing merge left a MergedFrom on its target"
    );
    let merge_notes = |t: TicketId| async move {
        store
            .list_messages(tenant, t, MessageFilter::All)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.kind == MessageKind::Note && m.body.contains("was merged into this"))
            .count()
    };
    assert_eq!(merge_notes(survivor).await, 1, "round {round}");
    assert_eq!(
        merge_notes(merged).await,
        0,
        "round {round}: the losing merge left its note on its target"
    );
    for t in [&m, &s] {
        let events = store.list_events(tenant, t.id).await.unwrap();
        assert_eq!(Ticket::replay(&events).as_ref(), Some(t), "round {round}");
    }
    let closing = store
        .list_outbox(tenant)
        .await
        .unwrap()
        .into_iter()
        .filter(|o| {
            [merged, survivor].contains(&o.notification.ticket_id)
                && matches!(
                    o.notification.kind,
                    NotificationKind::StatusChanged {
                        to: TicketStatus::Closed,
                        ..
                    }
                )
        })
        .map(|o| o.notification.ticket_id)
        .collect::<Vec<_>>();
    assert_eq!(closing, vec![merged], "round {round}");
}
