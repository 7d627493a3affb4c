//! Property tests: the service enforces exactly the lifecycle table, and a ticket folded
//! from its stored events equals the stored ticket after any sequence of operations.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use helpdesk_core::domain::{Priority, Role, Ticket, TicketStatus};
use helpdesk_core::lifecycle::can_transition;
use helpdesk_core::service::{NewReply, NewTicket, TicketPatch};
use helpdesk_core::{Error, TicketId};
use proptest::prelude::*;

use common::{World, world};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn status() -> impl Strategy<Value = TicketStatus> {
    prop::sample::select(TicketStatus::ALL.to_vec())
}

fn role() -> impl Strategy<Value = Role> {
    prop::sample::select(vec![Role::Customer, Role::Agent, Role::Admin])
}

#[test]
fn table_invariants() {
    for &from in TicketStatus::ALL {
        for &to in TicketStatus::ALL {
            for role in [
                None,
                Some(Role::Customer),
                Some(Role::Agent),
                Some(Role::Admin),
            ] {
                let ok = can_transition(role, from, to);
                if from == to || to == TicketStatus::New || from == TicketStatus::Closed {
                    assert!(!ok, "{role:?} {from}->{to}");
                }
                // Whatever a customer or agent may do, an admin may do.
                if role.is_some() && ok {
                    assert!(
                        can_transition(Some(Role::Admin), from, to),
                        "{role:?} {from}->{to}"
                    );
                }
            }
        }
    }
    assert!(can_transition(
        Some(Role::Customer),
        TicketStatus::Resolved,
        TicketStatus::Open
    ));
    assert!(!can_transition(
        Some(Role::Customer),
        TicketStatus::Open,
        TicketStatus::InProgress
    ));
    assert!(!can_transition(
        Some(Role::Agent),
        TicketStatus::Open,
        TicketStatus::Closed
    ));
    assert!(can_transition(
        Some(Role::Admin),
        TicketStatus::Open,
        TicketStatus::Closed
    ));
}

fn actor_for(w: &World, role: Role) -> helpdesk_core::domain::Actor {
    match role {
        Role::Customer => w.customer.clone(),
        Role::Agent => w.agent.clone(),
        _ => w.admin.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random (role, target) moves through the service are accepted exactly when the table
    /// allows them; a refusal is a typed error naming both statuses and the role, and
    /// leaves the ticket unchanged.
    #[test]
    fn service_follows_the_table(moves in prop::collection::vec((role(), status()), 1..25)) {
        runtime().block_on(async {
            let w = world().await;
            let id = w.hd.open_ticket(&w.customer, NewTicket::new("Lifecycle", "x")).await.unwrap().ticket.id;
            for (role, to) in moves {
                let before = w.store.get_ticket(w.tenant.id, id).await.unwrap().unwrap();
                let result = w.hd.transition(&actor_for(&w, role), id, to).await;
                let allowed = can_transition(Some(role), before.status, to);
                match result {
                    Ok(t) => {
                        assert!(allowed, "{role} {} -> {to} accepted", before.status);
                        assert_eq!(t.status, to);
                    }
                    Err(Error::IllegalTransition { from, to: t, role: r }) => {
                        assert!(!allowed, "{role} {} -> {to} refused", before.status);
                        assert_eq!((from, t, r), (before.status, to, role));
                        let after = w.store.get_ticket(w.tenant.id, id).await.unwrap().unwrap();
                        assert_eq!(after, before, "a refused move writes nothing");
                    }
                    Err(e) => panic!("unexpected {e}"),
                }
            }
        });
    }
}

#[derive(Debug, Clone)]
enum Op {
    CustomerReply,
    AgentReply(Option<TicketStatus>),
    Note,
    Transition(Role, TicketStatus),
    Assign(bool),
    Priority(Priority),
    Tags(u8),
    Csat(u8),
    Advance(u16),
    Sweep,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::CustomerReply),
        prop::option::of(status()).prop_map(Op::AgentReply),
        Just(Op::Note),
        (role(), status()).prop_map(|(r, s)| Op::Transition(r, s)),
        any::<bool>().prop_map(Op::Assign),
        prop::sample::select(Priority::ALL.to_vec()).prop_map(Op::Priority),
        (0u8..4).prop_map(Op::Tags),
        (0u8..7).prop_map(Op::Csat),
        (1u16..600).prop_map(Op::Advance),
        Just(Op::Sweep),
    ]
}

async fn check_replay(w: &World, id: TicketId) {
    let stored = w.store.get_ticket(w.tenant.id, id).await.unwrap().unwrap();
    let events = w.store.list_events(w.tenant.id, id).await.unwrap();
    assert_eq!(Ticket::replay(&events).as_ref(), Some(&stored));
    let versions: Vec<u64> = events.iter().map(|e| e.version).collect();
    assert!(
        versions
            .windows(2)
            .all(|p| p[0] <= p[1] && p[1] <= p[0] + 1),
        "{versions:?}"
    );
    assert_eq!(versions.last().copied(), Some(stored.version));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    /// Folding a ticket's events from empty rebuilds the stored ticket exactly, after any
    /// sequence of service operations (failed ones included).
    #[test]
    fn replay_rebuilds_the_stored_ticket(ops in prop::collection::vec(op(), 1..30)) {
        runtime().block_on(async {
            let w = world().await;
            let id = w.hd.open_ticket(&w.customer, NewTicket::new("Refund not working", "urgent please")).await.unwrap().ticket.id;
            check_replay(&w, id).await;
            for op in ops {
                let hd = &w.hd;
                let _ = match op {
                    Op::CustomerReply => hd.reply(&w.customer, id, NewReply::new("any news?")).await.map(drop),
                    Op::AgentReply(status_after) => hd.reply(&w.agent, id, NewReply { status_after, ..NewReply::new("working on it") }).await.map(drop),
                    Op::Note => hd.add_note(&w.agent, id, "internal").await.map(drop),
                    Op::Transition(role, to) => hd.transition(&actor_for(&w, role), id, to).await.map(drop),
                    Op::Assign(to_agent2) => hd.assign(&w.admin, id, Some(if to_agent2 { w.agent2.user_id } else { w.agent.user_id })).await.map(drop),
                    Op::Priority(p) => hd.update_ticket(&w.agent, id, TicketPatch { priority: Some(p), ..TicketPatch::default() }).await.map(drop),
                    Op::Tags(n) => hd.update_ticket(&w.agent, id, TicketPatch { tags: Some((0..n).map(|i| format!("tag{i}")).collect()), ..TicketPatch::default() }).await.map(drop),
                    Op::Csat(score) => hd.record_csat(&w.customer, id, score, Some("ok".into())).await.map(drop),
                    Op::Advance(minutes) => {
                        w.clock.advance(std::time::Duration::from_secs(u64::from(minutes) * 60));
                        Ok(())
                    }
                    Op::Sweep => hd.sla_sweep().await.map(drop),
                };
                check_replay(&w, id).await;
            }
            // Every other ticket the operations created (follow-ups) replays too.
            let all = w.store.list_tickets(w.tenant.id, &Default::default()).await.unwrap();
            for t in all.items {
                check_replay(&w, t.id).await;
            }
        });
    }
}
