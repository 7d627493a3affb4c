//! Routing with several helpdesk instances on one store: the round-robin rotation and the
//! agents' capacities are decided in the store, so two instances never over-assign an
//! agent and share one rotation; a routing race retries routing, never the model call.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ai_common;
mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use helpdesk_core::ai::ChatReply;
use helpdesk_core::domain::{Actor, ChatState, Priority, Role, Ticket};
use helpdesk_core::routing::{Candidate, RoundRobin, Router, RouterChain};
use helpdesk_core::service::{NewTicket, NewUser};
use helpdesk_core::store::RoutingClaim;
use helpdesk_core::testkit::MockTurn;
use helpdesk_core::testkit::fixtures::{new_ticket, t0};
use helpdesk_core::{Helpdesk, Store, UserId};

use ai_common::{Wiring, ai_world_with, chat_json, triage_json};
use common::{World, world_with};

/// A second helpdesk on the world's store (and clock, router of the same kind).
fn second_instance(w: &World, router: Arc<dyn Router>) -> Helpdesk {
    Helpdesk::builder(w.store.clone())
        .clock(w.clock.clone())
        .router(router)
        .build()
        .unwrap()
}

fn round_robin() -> Arc<dyn Router> {
    Arc::new(RouterChain::new().with(RoundRobin).without_admin_fallback())
}

async fn set_capacity(w: &World, agent: &Actor, capacity: u32) {
    let mut user = w
        .store
        .get_user(w.tenant.id, agent.user_id)
        .await
        .unwrap()
        .unwrap();
    user.capacity = capacity;
    w.store.update_user(&user).await.unwrap();
}

/// Opens `n` tickets at once, alternating between `desks`; every intake succeeds.
async fn open_concurrently(desks: &[Helpdesk], customer: &Actor, n: usize) -> Vec<Ticket> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let hd = desks[i % desks.len()].clone();
            let customer = customer.clone();
            tokio::spawn(async move {
                hd.open_ticket(&customer, NewTicket::new(&format!("Help {i}"), "Please"))
                    .await
            })
        })
        .collect();
    let mut tickets = Vec::new();
    for task in tasks {
        tickets.push(task.await.unwrap().unwrap().ticket);
    }
    tickets
}

fn loads(tickets: &[Ticket]) -> HashMap<Option<UserId>, usize> {
    let mut by = HashMap::new();
    for t in tickets {
        *by.entry(t.assignee).or_default() += 1;
    }
    by
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_never_give_an_agent_more_than_its_capacity() {
    let w = world_with(|b| b.router(round_robin())).await;
    set_capacity(&w, &w.agent, 2).await;
    set_capacity(&w, &w.agent2, 2).await;
    let desks = [w.hd.clone(), second_instance(&w, round_robin())];
    let tickets = open_concurrently(&desks, &w.customer, 10).await;
    let by = loads(&tickets);
    assert_eq!(by.get(&Some(w.agent.user_id)), Some(&2), "{by:?}");
    assert_eq!(by.get(&Some(w.agent2.user_id)), Some(&2), "{by:?}");
    // Nobody else is routable (no admin fallback): the rest wait unassigned.
    assert_eq!(by.get(&None), Some(&6), "{by:?}");
    // The store agrees with what the intakes returned.
    for staff in w.store.routing_staff(w.tenant.id).await.unwrap() {
        assert!(staff.open_tickets <= 2 || staff.user.role == Role::Admin);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn round_robin_stays_fair_across_two_instances() {
    let w = world_with(|b| b.router(round_robin())).await;
    let third = common::add(
        &w.hd,
        &w.admin,
        NewUser::new("third@acme.test", "Theo Third", Role::Agent),
    )
    .await;
    let desks = [w.hd.clone(), second_instance(&w, round_robin())];
    let tickets = open_concurrently(&desks, &w.customer, 30).await;
    let by = loads(&tickets);
    let counts: Vec<usize> = [w.agent.user_id, w.agent2.user_id, third.id]
        .iter()
        .map(|id| by.get(&Some(*id)).copied().unwrap_or(0))
        .collect();
    assert_eq!(counts.iter().sum::<usize>(), 30, "{by:?}");
    let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
    assert!(max - min <= 1, "unfair rotation: {counts:?}");
    // Sequential intakes on alternating instances follow one rotation too.
    let mut picks = Vec::new();
    for i in 0..6 {
        let hd = &desks[i % 2];
        let t = hd
            .open_ticket(&w.customer, NewTicket::new("More", "Please"))
            .await
            .unwrap();
        picks.push(t.ticket.assignee.unwrap());
    }
    assert_eq!(picks[0..3], picks[3..6], "one rotation across instances");
    assert_ne!(picks[0], picks[1]);
    assert_ne!(picks[1], picks[2]);
    assert_ne!(picks[0], picks[2]);
}

/// A router that, on its first pick, lets "another instance" route a ticket to the same
/// agent first (a claimed create through the store), so the caller's claim is stale.
#[derive(Debug, Default)]
struct Racing {
    store: OnceLock<Arc<dyn Store>>,
    calls: AtomicUsize,
}

#[async_trait]
impl Router for Racing {
    async fn route(&self, ticket: &Ticket, candidates: &[Candidate]) -> Option<UserId> {
        let pick = RoundRobin.route(ticket, candidates).await?;
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            let store = self.store.get().unwrap();
            let staff = store.routing_staff(ticket.tenant_id).await.unwrap();
            let mut other = new_ticket(
                ticket.tenant_id,
                ticket.requester,
                0,
                "Routed elsewhere",
                Priority::Low,
                t0(),
            );
            other.ticket.assignee = Some(pick);
            other.routing = RoutingClaim::pick(&staff, pick);
            store.create_ticket(other).await.unwrap();
        }
        Some(pick)
    }
}

#[tokio::test]
async fn a_routing_conflict_routes_again_without_a_second_model_call() {
    let racing = Arc::new(Racing::default());
    let router: Arc<dyn Router> = racing.clone();
    let ai = ai_world_with(
        Wiring {
            llm_triage: true,
            ..Wiring::FULL
        },
        vec![MockTurn::Json(triage_json("billing", "high", &[], 0.9))],
        |b| b.router(router),
    )
    .await;
    let w = &ai.w;
    racing.store.set(w.store.clone()).unwrap();
    let before = ai.model.calls();
    let opened =
        w.hd.open_ticket(
            &w.customer,
            NewTicket::new("Invoice wrong", "Charged twice"),
        )
        .await
        .unwrap();
    assert_eq!(ai.model.calls() - before, 1, "triage ran once");
    assert_eq!(racing.calls.load(Ordering::SeqCst), 2, "routed twice");
    // The retry saw the other instance's assignment and moved on in the rotation.
    let staff = w.store.routing_staff(w.tenant.id).await.unwrap();
    let first = staff
        .iter()
        .find(|s| s.open_tickets == 1 && s.last_routed == 1);
    assert!(first.is_some(), "{staff:?}");
    assert_ne!(opened.ticket.assignee, first.map(|s| s.user.id));
    assert!(opened.ticket.assignee.is_some());
    let events = w
        .store
        .list_events(w.tenant.id, opened.ticket.id)
        .await
        .unwrap();
    let assigned = events
        .iter()
        .filter(|e| e.kind.name() == "assigned")
        .count();
    assert_eq!(assigned, 1, "one Assigned event in the one commit");
}

#[tokio::test]
async fn a_routing_conflict_at_handoff_routes_again_without_a_second_model_call() {
    let racing = Arc::new(Racing::default());
    let router: Arc<dyn Router> = racing.clone();
    let ai = ai_world_with(
        Wiring::FULL,
        vec![MockTurn::Json(chat_json("", &[], true, false))],
        |b| b.router(router),
    )
    .await;
    ai.standard_articles().await;
    let w = &ai.w;
    racing.store.set(w.store.clone()).unwrap();
    let s = w.hd.start_chat(&w.customer).await.unwrap();
    let before = ai.model.calls();
    let out =
        w.hd.chat_message(&w.customer, s.id, "How do I reset my password?")
            .await
            .unwrap();
    assert!(
        matches!(out.reply, ChatReply::HandedOff { .. }),
        "{:?}",
        out.reply
    );
    assert_eq!(out.session.state, ChatState::Human);
    assert_eq!(ai.model.calls() - before, 1, "the bot's model ran once");
    assert_eq!(racing.calls.load(Ordering::SeqCst), 2, "routed twice");
    let ticket = w
        .store
        .get_ticket(w.tenant.id, out.session.ticket_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    let staff = w.store.routing_staff(w.tenant.id).await.unwrap();
    let raced = staff.iter().find(|s| s.last_routed == 1).map(|s| s.user.id);
    assert!(ticket.assignee.is_some());
    assert_ne!(ticket.assignee, raced);
}
