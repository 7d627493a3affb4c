//! Conformance cases for the SLA sweep selection and analytics.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Only open, unpaused tickets with an unflagged target due by `now` are returned,
/// oldest due first.
pub async fn sla_due_tickets_selection(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let mk = |fr: i64, res: i64| SlaState {
        first_response_due: Some(at(fr)),
        resolution_due: Some(at(res)),
        ..SlaState::default()
    };
    let mut ids = Vec::new();
    // 0: first response due at 10 -> due
    // 1: resolution due at 20, already responded -> due
    // 2: first response breached already, resolution later -> not due
    // 3: paused (pending) -> not due
    // 4: resolved -> not due
    // 5: due later than now -> not due
    // 6: first response due at 5 -> due (oldest)
    let plan: [(SlaState, Vec<EventKind>); 7] = [
        (mk(10, 500), vec![]),
        (
            mk(15, 20),
            vec![EventKind::MessageAdded {
                message_id: MessageId::new(),
                kind: MessageKind::Reply,
                author_kind: AuthorKind::Agent,
            }],
        ),
        (
            mk(10, 500),
            vec![EventKind::SlaBreached {
                kind: crate::domain::SlaKind::FirstResponse,
            }],
        ),
        (
            mk(10, 20),
            vec![EventKind::StatusChanged {
                from: TicketStatus::New,
                to: TicketStatus::Pending,
            }],
        ),
        (
            mk(10, 20),
            vec![EventKind::StatusChanged {
                from: TicketStatus::New,
                to: TicketStatus::Resolved,
            }],
        ),
        (mk(200, 500), vec![]),
        (mk(5, 500), vec![]),
    ];
    for (i, (sla, mut extra)) in plan.into_iter().enumerate() {
        let w = create(
            &store,
            a.id,
            customer.id,
            &format!("S{i}"),
            Priority::High,
            0,
        )
        .await;
        extra.insert(0, EventKind::SlaScheduled { sla });
        let c = change(&w.ticket, extra, at(1), Some(agent.id));
        store.update_ticket(1, &c).await.unwrap();
        ids.push(c.ticket.id);
    }
    let due: Vec<TicketId> = store
        .sla_due_tickets(a.id, at(100), 50)
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(due, vec![ids[6], ids[0], ids[1]]);
    let limited = store.sla_due_tickets(a.id, at(100), 1).await.unwrap();
    assert_eq!(limited.len(), 1);
    assert_eq!(limited[0].id, ids[6]);
    assert!(
        store
            .sla_due_tickets(a.id, at(4), 50)
            .await
            .unwrap()
            .is_empty()
    );
}

fn assert_close(a: Option<f64>, b: Option<f64>, what: &str) {
    match (a, b) {
        (None, None) => {}
        (Some(x), Some(y)) => assert!(
            (x - y).abs() <= 1e-6 * y.abs().max(1.0),
            "{what}: {x} vs {y}"
        ),
        _ => panic!("{what}: {a:?} vs {b:?}"),
    }
}

/// Store analytics equal [`Analytics::compute`] over the same data (floats to 1e-6).
pub async fn analytics_matches_reference(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let agent2 = user(&a, Role::Agent, "agent2@acme.test");
    store.create_user(&agent2).await.unwrap();
    let (b, b_customer, _) = seed_tenant(&store, "beta").await;
    create(
        &store,
        b.id,
        b_customer.id,
        "Other tenant",
        Priority::Urgent,
        30,
    )
    .await;

    let mut tickets = Vec::new();
    let mut drafts = Vec::new();
    let categories = [Some("billing"), Some("technical"), None, Some("account")];
    let priorities = [
        Priority::Low,
        Priority::Medium,
        Priority::High,
        Priority::Urgent,
    ];
    for i in 0..24i64 {
        // Spread over three days, some before the range.
        let created = i * 170 - 200;
        let w = create(
            &store,
            a.id,
            customer.id,
            &format!("A{i}"),
            priorities[(i % 4) as usize],
            created,
        )
        .await;
        let owner = if i % 3 == 0 { agent2.id } else { agent.id };
        let mut kinds = vec![
            EventKind::CategoryChanged {
                to: categories[(i % 4) as usize].map(String::from),
            },
            EventKind::SlaScheduled {
                sla: SlaState {
                    first_response_due: Some(at(created + 60)),
                    resolution_due: Some(at(created + 600)),
                    ..SlaState::default()
                },
            },
        ];
        if i % 5 != 4 {
            kinds.push(EventKind::Assigned {
                from: None,
                to: Some(owner),
            });
        }
        let mut t = w.ticket.clone();
        let c = change(&t, kinds, at(created + 1), Some(agent.id));
        store.update_ticket(1, &c).await.unwrap();
        t = c.ticket;
        if i % 4 != 3 {
            let reply = MessageId::new();
            let c = change(
                &t,
                vec![EventKind::MessageAdded {
                    message_id: reply,
                    kind: MessageKind::Reply,
                    author_kind: AuthorKind::Agent,
                }],
                at(created + 7 * i + 3),
                Some(agent.id),
            );
            store.update_ticket(t.version, &c).await.unwrap();
            t = c.ticket;
        }
        if i % 6 == 1 {
            let c = change(
                &t,
                vec![EventKind::SlaBreached {
                    kind: crate::domain::SlaKind::Resolution,
                }],
                at(created + 601),
                None,
            );
            store.update_ticket(t.version, &c).await.unwrap();
            t = c.ticket;
        }
        if i % 2 == 0 {
            let c = change(
                &t,
                vec![EventKind::StatusChanged {
                    from: TicketStatus::New,
                    to: TicketStatus::Resolved,
                }],
                at(created + 13 * i + 30),
                Some(owner),
            );
            store.update_ticket(t.version, &c).await.unwrap();
            t = c.ticket;
            if i % 4 == 0 {
                let c = change(
                    &t,
                    vec![EventKind::CsatRecorded {
                        csat: Csat {
                            score: (i % 5 + 1) as u8,
                            comment: None,
                            at: at(created + 13 * i + 40),
                        },
                    }],
                    at(created + 13 * i + 40),
                    Some(customer.id),
                );
                store.update_ticket(t.version, &c).await.unwrap();
                t = c.ticket;
            }
        }
        if i == 9 {
            let target = tickets
                .first()
                .map(|x: &crate::domain::Ticket| x.id)
                .unwrap();
            let c = change(
                &t,
                vec![EventKind::Merged { into: target }],
                at(created + 50),
                Some(agent.id),
            );
            store.update_ticket(t.version, &c).await.unwrap();
            t = c.ticket;
        }
        if i % 3 == 1 {
            let state = [
                DraftState::Proposed,
                DraftState::Accepted,
                DraftState::Edited,
                DraftState::Discarded,
            ][(i % 4) as usize];
            let draft = Message {
                id: MessageId::new(),
                tenant_id: a.id,
                ticket_id: t.id,
                author: None,
                author_kind: AuthorKind::Bot,
                kind: MessageKind::Draft,
                body: "draft".into(),
                created_at: at(created + 5),
                citations: vec![],
                email: None,
                draft: Some(DraftInfo {
                    source: DraftSource::Llm,
                    state,
                    decided_at: None,
                    sent_as: None,
                    model: None,
                }),
            };
            let mut c = change(
                &t,
                vec![EventKind::MessageAdded {
                    message_id: draft.id,
                    kind: MessageKind::Draft,
                    author_kind: AuthorKind::Bot,
                }],
                at(created + 5),
                Some(agent.id),
            );
            c.messages.push(draft.clone());
            store.update_ticket(t.version, &c).await.unwrap();
            t = c.ticket;
            drafts.push(draft);
        }
        tickets.push(t);
    }
    let mut chats = Vec::new();
    for i in 0..5i64 {
        let s = ChatSession {
            id: ChatSessionId::new(),
            tenant_id: a.id,
            customer: customer.id,
            ticket_id: None,
            state: if i == 1 {
                ChatState::Human
            } else {
                ChatState::Closed
            },
            handoff_reason: (i == 1 || i == 2).then(|| "asked for a human".to_string()),
            resolved_by_bot: i >= 3,
            created_at: at(i * 100),
            last_activity_at: at(i * 100 + 5),
            closed_at: None,
            version: 1,
        };
        store.create_chat_session(&s).await.unwrap();
        chats.push(s);
    }

    for (from, to) in [(0, 24 * 60), (-1000, 10_000), (100, 101), (5000, 6000)] {
        let range = TimeRange::new(at(from), at(to)).unwrap();
        let got = store.analytics(a.id, range, at(4000)).await.unwrap();
        let want = Analytics::compute(&tickets, &drafts, &chats, range, at(4000));
        assert_eq!(got.total, want.total, "total {from}..{to}");
        assert_eq!(
            got.volume_per_day, want.volume_per_day,
            "volume {from}..{to}"
        );
        assert_eq!(got.by_status, want.by_status, "by_status {from}..{to}");
        assert_eq!(
            got.by_priority, want.by_priority,
            "by_priority {from}..{to}"
        );
        assert_eq!(
            got.by_category, want.by_category,
            "by_category {from}..{to}"
        );
        for (g, w, what) in [
            (&got.first_response, &want.first_response, "first_response"),
            (&got.resolution, &want.resolution, "resolution"),
        ] {
            assert_eq!(g.count, w.count, "{what}.count {from}..{to}");
            assert_eq!(g.p50_ms, w.p50_ms, "{what}.p50 {from}..{to}");
            assert_eq!(g.p90_ms, w.p90_ms, "{what}.p90 {from}..{to}");
            assert_close(g.avg_ms, w.avg_ms, what);
        }
        assert_close(got.sla_met_pct, want.sla_met_pct, "sla_met_pct");
        assert_eq!(got.backlog, want.backlog, "backlog");
        assert_eq!(got.agents.len(), want.agents.len(), "agents {from}..{to}");
        for (g, w) in got.agents.iter().zip(&want.agents) {
            assert_eq!(
                (g.user_id, g.open_load, g.resolved),
                (w.user_id, w.open_load, w.resolved)
            );
            assert_close(g.avg_handle_ms, w.avg_handle_ms, "avg_handle_ms");
        }
        assert_eq!(got.csat.count, want.csat.count, "csat.count");
        assert_close(got.csat.average, want.csat.average, "csat.average");
        assert_eq!(got.drafts, want.drafts, "drafts {from}..{to}");
        assert_eq!(got.chat, want.chat, "chat {from}..{to}");
    }
    let everything = Analytics::compute(
        &tickets,
        &drafts,
        &chats,
        TimeRange::new(at(-1000), at(10_000)).unwrap(),
        at(4000),
    );
    assert_eq!(everything.total, 23, "the merged duplicate is excluded");
    assert!(
        everything.first_response.count > 0
            && everything.csat.count > 0
            && everything.drafts.proposed > 0
    );
}
