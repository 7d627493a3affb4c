//! Conformance cases for routing decided in the store: a routed assignment's
//! [`RoutingClaim`] moves the assignee's stamp in the write's own commit, and a claim that
//! no longer holds (stamp moved, no room under the capacity, not active staff) refuses the
//! whole write, so instances sharing a database never over-assign an agent.

use super::{S, seed_tenant};
use crate::domain::{EventKind, Priority, Role, Ticket, TicketStatus, User};
use crate::store::{ROUTING_ENTITY, RoutingClaim, TicketWrite};
use crate::testkit::fixtures::{at, change, new_ticket, user};
use crate::{Error, TenantId, UserId};

fn claim(assignee: UserId, expected: u64, stamp: u64) -> RoutingClaim {
    RoutingClaim {
        assignee,
        expected_last_routed: expected,
        last_routed: stamp,
    }
}

/// A new open ticket of `tenant` assigned to `assignee`, claimed with `routing`.
fn routed(
    tenant: TenantId,
    requester: UserId,
    assignee: UserId,
    minutes: i64,
    routing: Option<RoutingClaim>,
) -> TicketWrite {
    let mut w = new_ticket(
        tenant,
        requester,
        0,
        "Routed",
        Priority::Medium,
        at(minutes),
    );
    w.ticket.status = TicketStatus::Open;
    w.ticket.assignee = Some(assignee);
    w.idempotency_key = Some(format!("routed-{minutes}-{assignee}"));
    w.routing = routing;
    w
}

async fn stamp(store: &S, tenant: TenantId, who: UserId) -> u64 {
    store
        .routing_staff(tenant)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.user.id == who)
        .map_or(0, |s| s.last_routed)
}

fn assert_routing_conflict<T: std::fmt::Debug>(result: crate::Result<T>, who: UserId) {
    match result {
        Err(Error::Conflict { entity, id, .. })
            if entity == ROUTING_ENTITY && id == who.to_string() => {}
        other => panic!("expected a routing Conflict on {who}, got {other:?}"),
    }
}

/// Asserts that the refused create `w` left no trace: no ticket, no events, no outbox
/// entry, no idempotency key.
async fn assert_not_created(store: &S, w: &TicketWrite, outbox_before: usize) {
    let t = &w.ticket;
    assert_eq!(store.get_ticket(t.tenant_id, t.id).await.unwrap(), None);
    assert!(
        store
            .list_events(t.tenant_id, t.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.list_outbox(t.tenant_id).await.unwrap().len(),
        outbox_before
    );
    if let Some(key) = &w.idempotency_key {
        assert_eq!(
            store
                .find_by_idempotency_key(t.tenant_id, key)
                .await
                .unwrap(),
            None
        );
    }
}

/// A claimed create moves the assignee's stamp (read back by `routing_staff`, 0 before);
/// a claim expecting a stamp that has moved is a routing `Conflict` and writes nothing.
pub async fn a_routing_claim_stamps_its_assignee_once(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    assert_eq!(stamp(&store, a.id, agent.id).await, 0);
    let first = routed(a.id, customer.id, agent.id, 1, Some(claim(agent.id, 0, 1)));
    store.create_ticket(first).await.unwrap();
    assert_eq!(stamp(&store, a.id, agent.id).await, 1);
    let next = routed(a.id, customer.id, agent.id, 2, Some(claim(agent.id, 1, 7)));
    store.create_ticket(next).await.unwrap();
    assert_eq!(stamp(&store, a.id, agent.id).await, 7);

    // Routed on the read before the last commit: stale.
    let outbox = store.list_outbox(a.id).await.unwrap().len();
    let stale = routed(a.id, customer.id, agent.id, 3, Some(claim(agent.id, 1, 8)));
    assert_routing_conflict(store.create_ticket(stale.clone()).await, agent.id);
    assert_not_created(&store, &stale, outbox).await;
    assert_eq!(stamp(&store, a.id, agent.id).await, 7);
    // A write without a claim (a manual assignment) neither checks nor moves the stamp.
    store
        .create_ticket(routed(a.id, customer.id, agent.id, 4, None))
        .await
        .unwrap();
    assert_eq!(stamp(&store, a.id, agent.id).await, 7);
}

/// With a capacity on the user row, a claim lands only while the assignee's open tickets,
/// this one included, stay within it; resolved and closed tickets do not count, and a
/// manual assignment (no claim) may go beyond it.
pub async fn a_claim_beyond_the_assignees_capacity_conflicts(store: S) {
    let (a, customer, mut agent) = seed_tenant(&store, "acme").await;
    agent.capacity = 2;
    store.update_user(&agent).await.unwrap();
    let mut done = routed(a.id, customer.id, agent.id, 0, None);
    done.ticket.status = TicketStatus::Resolved;
    store.create_ticket(done).await.unwrap();
    for (i, expected) in [(1, 0), (2, 1)] {
        let w = routed(
            a.id,
            customer.id,
            agent.id,
            i,
            Some(claim(agent.id, expected, expected + 1)),
        );
        store.create_ticket(w).await.unwrap();
    }
    let outbox = store.list_outbox(a.id).await.unwrap().len();
    let full = routed(a.id, customer.id, agent.id, 3, Some(claim(agent.id, 2, 3)));
    assert_routing_conflict(store.create_ticket(full.clone()).await, agent.id);
    assert_not_created(&store, &full, outbox).await;
    assert_eq!(stamp(&store, a.id, agent.id).await, 2);
    // A person may assign beyond capacity.
    store
        .create_ticket(routed(a.id, customer.id, agent.id, 4, None))
        .await
        .unwrap();
    // Capacity 0 means unlimited.
    agent.capacity = 0;
    store.update_user(&agent).await.unwrap();
    let w = routed(a.id, customer.id, agent.id, 5, Some(claim(agent.id, 2, 3)));
    store.create_ticket(w).await.unwrap();
    assert_eq!(stamp(&store, a.id, agent.id).await, 3);
}

/// A claim on a user who cannot be routed is refused and writes nothing: an inactive
/// agent or a customer (routing `Conflict`: the routing read no longer holds), another
/// tenant's agent or an unknown id (`NotFound` user), and a claim that does not match its
/// write (`Validation`).
pub async fn claims_on_unroutable_users_are_refused(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let (_, _, b_agent) = seed_tenant(&store, "beta").await;
    let mut gone = user(&a, Role::Agent, "gone@acme.test");
    gone.active = false;
    store.create_user(&gone).await.unwrap();
    let outbox = store.list_outbox(a.id).await.unwrap().len();
    let mut minute = 0;
    let mut attempt = |who: UserId, claim: RoutingClaim| {
        minute += 1;
        routed(a.id, customer.id, who, minute, Some(claim))
    };

    for who in [gone.id, customer.id] {
        let w = attempt(who, claim(who, 0, 1));
        assert_routing_conflict(store.create_ticket(w.clone()).await, who);
        assert_not_created(&store, &w, outbox).await;
    }
    for who in [b_agent.id, UserId::new()] {
        let w = attempt(who, claim(who, 0, 1));
        match store.create_ticket(w.clone()).await {
            Err(Error::NotFound { entity: "user", .. }) => {}
            other => panic!("expected NotFound user, got {other:?}"),
        }
        assert_not_created(&store, &w, outbox).await;
    }
    let not_the_assignee = attempt(agent.id, claim(gone.id, 0, 1));
    let backwards = attempt(agent.id, claim(agent.id, 3, 3));
    for (w, field) in [
        (not_the_assignee, "routing.assignee"),
        (backwards, "routing.last_routed"),
    ] {
        match store.create_ticket(w.clone()).await {
            Err(Error::Validation { field: f, .. }) if f == field => {}
            other => panic!("expected Validation on {field}, got {other:?}"),
        }
        assert_not_created(&store, &w, outbox).await;
    }
    assert_eq!(stamp(&store, a.id, agent.id).await, 0);
}

/// Creates a ticket routed to `agent` like an instance would: read, claim, commit, and on
/// a routing conflict read again, until the read shows no room. Whether it landed.
async fn route_until_full(
    store: &S,
    tenant: TenantId,
    requester: UserId,
    agent: &User,
    n: i64,
) -> bool {
    for _ in 0..200 {
        let staff = store.routing_staff(tenant).await.unwrap();
        let Some(me) = staff.iter().find(|s| s.user.id == agent.id) else {
            return false;
        };
        if me.open_tickets >= u64::from(agent.capacity) {
            return false;
        }
        let claim = RoutingClaim::pick(&staff, agent.id);
        match store
            .create_ticket(routed(tenant, requester, agent.id, n, claim))
            .await
        {
            Ok(_) => return true,
            Err(e) if e.is_routing_conflict() => tokio::task::yield_now().await,
            Err(e) if e.is_temporary() => tokio::task::yield_now().await,
            Err(e) => panic!("routed create failed: {e:?}"),
        }
    }
    panic!("routing never settled");
}

/// Concurrent claimed creates on one agent: of those claiming the same stamp exactly one
/// lands, and writers that route again on fresh reads fill the capacity exactly.
pub async fn concurrent_claims_never_exceed_the_capacity(store: S) {
    let (a, customer, mut agent) = seed_tenant(&store, "acme").await;
    agent.capacity = 3;
    store.update_user(&agent).await.unwrap();

    let same_read: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let w = routed(a.id, customer.id, agent.id, i, Some(claim(agent.id, 0, 1)));
            tokio::spawn(async move { store.create_ticket(w).await })
        })
        .collect();
    let mut landed = 0;
    for task in same_read {
        match task.await.unwrap() {
            Ok(_) => landed += 1,
            Err(e) if e.is_temporary() => {}
            Err(e) => panic!("expected a conflict, got {e:?}"),
        }
    }
    assert_eq!(landed, 1, "one claim per stamp");

    let racers: Vec<_> = (0..10)
        .map(|i| {
            let store = store.clone();
            let agent = agent.clone();
            let (tenant, requester) = (a.id, customer.id);
            tokio::spawn(async move {
                route_until_full(&store, tenant, requester, &agent, 100 + i).await
            })
        })
        .collect();
    let mut landed = 0;
    for task in racers {
        landed += usize::from(task.await.unwrap());
    }
    assert_eq!(landed, 2, "the capacity of 3 held one ticket already");
    let load = store
        .routing_staff(a.id)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.user.id == agent.id)
        .map(|s| s.open_tickets);
    assert_eq!(load, Some(3));
}

/// The update path (a handoff routing an existing ticket): a claimed `update_ticket`
/// assigns and stamps in one commit; a stale claim refuses the whole update (the ticket
/// stays at its version, no event lands); a batch refuses a claim.
pub async fn a_claimed_update_routes_an_existing_ticket(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let created = store
        .create_ticket(new_ticket(
            a.id,
            customer.id,
            0,
            "Chat",
            Priority::Medium,
            at(0),
        ))
        .await
        .unwrap();
    let assign = |t: &Ticket, minutes: i64, c: RoutingClaim| {
        let mut w = change(
            t,
            vec![
                EventKind::StatusChanged {
                    from: t.status,
                    to: TicketStatus::Escalated,
                },
                EventKind::Assigned {
                    from: None,
                    to: Some(c.assignee),
                },
            ],
            at(minutes),
            None,
        );
        w.routing = Some(c);
        w
    };
    // Another ticket routed to the agent meanwhile moves its stamp to 1.
    store
        .create_ticket(routed(
            a.id,
            customer.id,
            agent.id,
            1,
            Some(claim(agent.id, 0, 1)),
        ))
        .await
        .unwrap();
    let stale = assign(&created.ticket, 2, claim(agent.id, 0, 1));
    assert_routing_conflict(store.update_ticket(1, &stale).await, agent.id);
    let stored = store
        .get_ticket(a.id, created.ticket.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.version, stored.assignee), (1, None));
    assert_eq!(store.list_events(a.id, stored.id).await.unwrap().len(), 1);

    let batch = vec![(1, assign(&stored, 3, claim(agent.id, 1, 2)))];
    match store.update_tickets(&batch).await {
        Err(Error::Validation { field, .. }) if field == "routing" => {}
        other => panic!("expected Validation on routing, got {other:?}"),
    }

    let fresh = assign(&stored, 4, claim(agent.id, 1, 2));
    store.update_ticket(1, &fresh).await.unwrap();
    let stored = store.get_ticket(a.id, stored.id).await.unwrap().unwrap();
    assert_eq!(stored.assignee, Some(agent.id));
    assert_eq!(stamp(&store, a.id, agent.id).await, 2);
}
