//! Random lifecycle operation sequences on one tenant (an admin, an agent, a customer) over
//! the in-memory store: transitions, replies (with a status), notes, assignments, CSAT,
//! merges, new tickets and the passing of time with SLA sweeps.
//!
//! Properties after every step: no panic; every failure is a typed domain error (never a
//! store or backend error); a transition that succeeded was allowed by the lifecycle table
//! for that role and one that was refused as illegal was not; a refused operation leaves
//! the ticket unchanged; every ticket equals the replay of its own events.
#![no_main]

mod common;

use std::sync::Arc;
use std::time::Duration;

use arbitrary::Arbitrary;
use helpdesk_core::domain::{Actor, Role, Ticket, TicketStatus};
use helpdesk_core::lifecycle::can_transition;
use helpdesk_core::service::{NewReply, NewTenant, NewTicket, NewUser};
use helpdesk_core::store::MemoryStore;
use helpdesk_core::testkit::ManualClock;
use helpdesk_core::{Error, Helpdesk, Store};
use libfuzzer_sys::fuzz_target;

const STATUSES: [TicketStatus; 7] = [
    TicketStatus::New,
    TicketStatus::Open,
    TicketStatus::InProgress,
    TicketStatus::Pending,
    TicketStatus::Escalated,
    TicketStatus::Resolved,
    TicketStatus::Closed,
];

#[derive(Debug, Arbitrary)]
enum Op {
    Transition {
        who: u8,
        ticket: u8,
        to: u8,
    },
    Reply {
        who: u8,
        ticket: u8,
        status_after: Option<u8>,
    },
    Note {
        who: u8,
        ticket: u8,
    },
    Assign {
        who: u8,
        ticket: u8,
        to: Option<u8>,
    },
    Csat {
        ticket: u8,
        score: u8,
    },
    Merge {
        who: u8,
        a: u8,
        b: u8,
    },
    Open {
        who: u8,
    },
    Wait {
        hours: u8,
    },
}

fn typed(e: &Error) -> bool {
    matches!(
        e,
        Error::IllegalTransition { .. }
            | Error::Forbidden { .. }
            | Error::InvalidState(_)
            | Error::Validation { .. }
            | Error::NotFound { .. }
    )
}

async fn run(ops: Vec<Op>) {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let hd = Helpdesk::builder(store.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    let (tenant, admin) = hd
        .register_tenant(NewTenant {
            name: "Life".into(),
            slug: "life".into(),
            admin: NewUser::new("admin@life.test", "Admin", Role::Admin),
            settings: None,
        })
        .await
        .unwrap();
    let tenant_id = tenant.id;
    let admin = Actor::for_user(&admin);
    let agent = Actor::for_user(
        &hd.add_user(
            &admin,
            NewUser::new("agent@life.test", "Agent", Role::Agent),
        )
        .await
        .unwrap(),
    );
    let customer = Actor::for_user(
        &hd.add_user(&admin, NewUser::new("c@life.test", "C", Role::Customer))
            .await
            .unwrap(),
    );
    let actors = [admin, agent, customer.clone()];
    let actor = |i: u8| &actors[usize::from(i) % actors.len()];
    let mut tickets = vec![
        hd.open_ticket(&customer, NewTicket::new("First", "Help me"))
            .await
            .unwrap()
            .ticket
            .id,
    ];
    let get = |id| {
        let store = store.clone();
        async move { store.get_ticket(tenant_id, id).await.unwrap() }
    };
    for op in ops.into_iter().take(64) {
        let pick = |i: u8| tickets[usize::from(i) % tickets.len()];
        match op {
            Op::Transition { who, ticket, to } => {
                let actor = actor(who);
                let id = pick(ticket);
                let before = get(id).await.unwrap();
                let to = STATUSES[usize::from(to) % STATUSES.len()];
                match hd.transition(actor, id, to).await {
                    Ok(t) => {
                        assert!(can_transition(Some(actor.role), before.status, to));
                        assert_eq!(t.status, to);
                    }
                    Err(Error::IllegalTransition { from, .. }) => {
                        assert_eq!(from, before.status);
                        assert!(
                            !can_transition(Some(actor.role), before.status, to)
                                || before.merged_into.is_some()
                        );
                        assert_eq!(get(id).await.unwrap(), before);
                    }
                    Err(e) => {
                        assert!(typed(&e), "{e:?}");
                        assert_eq!(get(id).await.unwrap(), before);
                    }
                }
            }
            Op::Reply {
                who,
                ticket,
                status_after,
            } => {
                let reply = NewReply {
                    body: "A reply.".into(),
                    status_after: status_after.map(|s| STATUSES[usize::from(s) % STATUSES.len()]),
                    attachments: Vec::new(),
                };
                match hd.reply(actor(who), pick(ticket), reply).await {
                    Ok(out) if out.follow_up_of.is_some() => tickets.push(out.ticket.id),
                    Ok(_) => {}
                    Err(e) => assert!(typed(&e), "{e:?}"),
                }
            }
            Op::Note { who, ticket } => {
                if let Err(e) = hd.add_note(actor(who), pick(ticket), "note").await {
                    assert!(typed(&e), "{e:?}");
                }
            }
            Op::Assign { who, ticket, to } => {
                let to = to.map(|i| actor(i).user_id);
                if let Err(e) = hd.assign(actor(who), pick(ticket), to).await {
                    assert!(typed(&e), "{e:?}");
                }
            }
            Op::Csat { ticket, score } => {
                if let Err(e) = hd.record_csat(&customer, pick(ticket), score, None).await {
                    assert!(typed(&e), "{e:?}");
                }
            }
            Op::Merge { who, a, b } => {
                if let Err(e) = hd.merge(actor(who), pick(a), pick(b)).await {
                    assert!(typed(&e), "{e:?}");
                }
            }
            Op::Open { who } => {
                match hd
                    .open_ticket(actor(who), NewTicket::new("Another", "Again"))
                    .await
                {
                    Ok(out) => tickets.push(out.ticket.id),
                    Err(e) => assert!(typed(&e), "{e:?}"),
                }
            }
            Op::Wait { hours } => {
                clock.advance(Duration::from_secs(u64::from(hours) * 3600));
                hd.sla_sweep().await.unwrap();
            }
        }
        for id in &tickets {
            let stored: Ticket = get(*id).await.unwrap();
            let events = store.list_events(tenant_id, *id).await.unwrap();
            assert_eq!(
                Ticket::replay(&events).as_ref(),
                Some(&stored),
                "replay of {id}"
            );
            assert_eq!(events.last().map(|e| e.version), Some(stored.version));
        }
    }
}

fuzz_target!(|ops: Vec<Op>| {
    common::runtime().block_on(run(ops));
});
