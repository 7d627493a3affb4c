//! SQL analytics equal the reference `Analytics::compute` (via the in-memory store) on
//! random data: many tickets over several days, merges, breaches, ratings, drafts and chats,
//! for several ranges (including empty ones and day boundaries).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use helpdesk_core::domain::{
    AuthorKind, ChatSession, ChatState, Csat, DraftInfo, DraftSource, DraftState, EventKind,
    Message, MessageKind, Priority, Role, SlaKind, SlaState, TicketStatus,
};
use helpdesk_core::store::{MemoryStore, TimeRange};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, tenant, user};
use helpdesk_core::{ChatSessionId, MessageId, Store, TicketId};
use helpdesk_store_sqlite::SqliteStore;

const STATUSES: [TicketStatus; 5] = [
    TicketStatus::Open,
    TicketStatus::InProgress,
    TicketStatus::Pending,
    TicketStatus::Escalated,
    TicketStatus::Resolved,
];
const PRIORITIES: [Priority; 4] = [
    Priority::Low,
    Priority::Medium,
    Priority::High,
    Priority::Urgent,
];
const CATEGORIES: [Option<&str>; 4] = [Some("billing"), Some("technical"), None, Some("account")];
const DRAFT_STATES: [DraftState; 4] = [
    DraftState::Proposed,
    DraftState::Accepted,
    DraftState::Edited,
    DraftState::Discarded,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_analytics_equal_the_reference_on_random_data() {
    let sqlite: Arc<dyn Store> = Arc::new(SqliteStore::temporary().await.unwrap());
    let memory: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let stores = [&sqlite, &memory];
    let mut rng = common::Rng::from_env();

    let t = tenant("acme");
    let other = tenant("other");
    let customer = user(&t, Role::Customer, "c@acme.test");
    let agents: Vec<_> = (0..4)
        .map(|i| user(&t, Role::Agent, &format!("a{i}@acme.test")))
        .collect();
    for s in stores {
        s.create_tenant(&t).await.unwrap();
        s.create_tenant(&other).await.unwrap();
        s.create_user(&customer).await.unwrap();
        for a in &agents {
            s.create_user(a).await.unwrap();
        }
    }

    let mut first: Option<TicketId> = None;
    for n in 1..=150u64 {
        // Creation spread over ~5 days (minutes), some at exact day boundaries.
        let created = if rng.below(10) == 0 {
            1440 * rng.below(5) as i64 - 600
        } else {
            rng.below(7200) as i64 - 600
        };
        let tenant_id = if rng.below(15) == 0 { other.id } else { t.id };
        let p = PRIORITIES[rng.below(4) as usize];
        let w = new_ticket(tenant_id, customer.id, 0, &format!("T{n}"), p, at(created));
        let mut created_in = Vec::new();
        for s in stores {
            created_in.push(s.create_ticket(w.clone()).await.unwrap());
        }
        assert_eq!(created_in[0], created_in[1], "both stores number alike");
        let w = created_in.swap_remove(0);
        let mut ticket = w.ticket;
        let mut writes = Vec::new();
        let mut kinds = vec![EventKind::CategoryChanged {
            to: CATEGORIES[rng.below(4) as usize].map(String::from),
        }];
        if rng.below(4) != 0 {
            kinds.push(EventKind::SlaScheduled {
                sla: SlaState {
                    first_response_due: Some(at(created + 60)),
                    resolution_due: (rng.below(3) != 0).then(|| at(created + 600)),
                    ..SlaState::default()
                },
            });
        }
        if rng.below(5) != 0 {
            kinds.push(EventKind::Assigned {
                from: None,
                to: Some(agents[rng.below(4) as usize].id),
            });
        }
        let mut minute = created + 1;
        let c = change(&ticket, kinds, at(minute), None);
        ticket = c.ticket.clone();
        writes.push(c);
        if rng.below(3) != 0 {
            minute += rng.below(300) as i64;
            let c = change(
                &ticket,
                vec![EventKind::MessageAdded {
                    message_id: MessageId::new(),
                    kind: MessageKind::Reply,
                    author_kind: AuthorKind::Agent,
                }],
                at(minute),
                None,
            );
            ticket = c.ticket.clone();
            writes.push(c);
        }
        if rng.below(4) == 0 {
            let kind = if rng.below(2) == 0 {
                SlaKind::FirstResponse
            } else {
                SlaKind::Resolution
            };
            let c = change(
                &ticket,
                vec![EventKind::SlaBreached { kind }],
                at(minute + 1),
                None,
            );
            ticket = c.ticket.clone();
            writes.push(c);
        }
        let status = STATUSES[rng.below(5) as usize];
        minute += rng.below(2000) as i64;
        let c = change(
            &ticket,
            vec![EventKind::StatusChanged {
                from: TicketStatus::New,
                to: status,
            }],
            at(minute),
            None,
        );
        ticket = c.ticket.clone();
        writes.push(c);
        if status == TicketStatus::Resolved && rng.below(2) == 0 {
            let csat = Csat {
                score: 1 + rng.below(5) as u8,
                comment: None,
                at: at(minute + 5),
            };
            let c = change(
                &ticket,
                vec![EventKind::CsatRecorded { csat }],
                at(minute + 5),
                None,
            );
            ticket = c.ticket.clone();
            writes.push(c);
        }
        if rng.below(3) == 0 {
            let draft = Message {
                id: MessageId::new(),
                tenant_id,
                ticket_id: ticket.id,
                author: None,
                author_kind: AuthorKind::Bot,
                kind: MessageKind::Draft,
                body: "draft".into(),
                created_at: at(created + rng.below(100) as i64),
                citations: vec![],
                email: None,
                draft: (rng.below(5) != 0).then(|| DraftInfo {
                    source: DraftSource::Llm,
                    state: DRAFT_STATES[rng.below(4) as usize],
                    decided_at: None,
                    sent_as: None,
                    model: None,
                }),
            };
            let mut c = change(
                &ticket,
                vec![EventKind::MessageAdded {
                    message_id: draft.id,
                    kind: MessageKind::Draft,
                    author_kind: AuthorKind::Bot,
                }],
                draft.created_at,
                None,
            );
            c.messages.push(draft);
            ticket = c.ticket.clone();
            writes.push(c);
        }
        if tenant_id == t.id
            && rng.below(12) == 0
            && let Some(into) = first
        {
            let c = change(
                &ticket,
                vec![EventKind::Merged { into }],
                at(minute + 9),
                None,
            );
            ticket = c.ticket.clone();
            writes.push(c);
        }
        if tenant_id == t.id && first.is_none() {
            first = Some(ticket.id);
        }
        for c in &writes {
            for s in stores {
                s.update_ticket(c.ticket.version - 1, c).await.unwrap();
            }
        }
    }
    for i in 0..40 {
        let created = at(rng.below(7200) as i64 - 600);
        let state = [ChatState::Bot, ChatState::Human, ChatState::Closed][rng.below(3) as usize];
        let chat = ChatSession {
            id: ChatSessionId::new(),
            tenant_id: if i % 9 == 0 { other.id } else { t.id },
            customer: customer.id,
            ticket_id: None,
            state,
            handoff_reason: (rng.below(4) == 0).then(|| "asked for a human".to_string()),
            resolved_by_bot: rng.below(3) == 0,
            created_at: created,
            last_activity_at: created,
            closed_at: None,
            version: 1,
        };
        for s in stores {
            s.create_chat_session(&chat).await.unwrap();
        }
    }

    let mut ranges = vec![
        (-10_000, 10_000),
        (0, 1440),
        (1440, 2880),
        (-600, 7200),
        (9000, 9001),
    ];
    for _ in 0..10 {
        let from = rng.below(7800) as i64 - 700;
        ranges.push((from, from + 1 + rng.below(4000) as i64));
    }
    for (from, to) in ranges {
        let range = TimeRange::new(at(from), at(to)).unwrap();
        for tenant_id in [t.id, other.id] {
            let want = memory.analytics(tenant_id, range, at(8000)).await.unwrap();
            let got = sqlite.analytics(tenant_id, range, at(8000)).await.unwrap();
            assert_eq!(got, want, "range {from}..{to} minutes");
        }
    }
}
