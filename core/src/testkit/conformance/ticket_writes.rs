//! Conformance cases for ticket writes: numbers, creates, idempotency, version checks, message replacement, replay and concurrent writers.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Ticket numbers count 1, 2, 3 per tenant, independently, and are the store's: the
/// number a write carries is replaced.
pub async fn ticket_numbers_per_tenant(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let (b, b_customer, _) = seed_tenant(&store, "beta").await;
    let mut numbers = Vec::new();
    for (tenant, requester) in [
        (a.id, customer.id),
        (a.id, customer.id),
        (b.id, b_customer.id),
        (a.id, customer.id),
    ] {
        // A writer's number (here 7 every time) is not what is stored.
        let w = new_ticket(tenant, requester, 7, "Numbered", Priority::Low, at(1));
        let id = w.ticket.id;
        let stored = store.create_ticket(w).await.unwrap();
        assert_eq!(stored.ticket.id, id);
        numbers.push(stored.ticket.number);
        assert_eq!(
            store
                .get_ticket_by_number(tenant, stored.ticket.number)
                .await
                .unwrap(),
            Some(stored.ticket)
        );
    }
    assert_eq!(numbers, [1, 2, 1, 3]);
}

/// Concurrent creates in one tenant get distinct numbers, 1 to n when none fails, and
/// each ticket's `Created` snapshot carries its own number.
pub async fn concurrent_creates_get_distinct_numbers(store: S) {
    const N: u64 = 16;
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..N {
        let store = Arc::clone(&store);
        let (tenant, requester) = (a.id, customer.id);
        set.spawn(async move {
            let w = new_ticket(tenant, requester, 0, &format!("T{i}"), Priority::Low, at(1));
            store.create_ticket(w).await.unwrap()
        });
    }
    let mut numbers = Vec::new();
    while let Some(stored) = set.join_next().await {
        numbers.push(stored.unwrap().ticket.number);
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=N).collect::<Vec<_>>(), "distinct, no gaps");
    let page = store
        .list_tickets(
            a.id,
            &TicketQuery {
                limit: 100,
                ..TicketQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 16);
    for t in &page.items {
        let events = store.list_events(a.id, t.id).await.unwrap();
        match &events[0].kind {
            EventKind::Created { ticket } => assert_eq!(ticket.number, t.number),
            other => panic!("first event is {other:?}, not Created"),
        }
    }
}

/// `create_ticket` allocates per-tenant numbers in order and stores the number everywhere
/// the write carries it (ticket, `Created` snapshot, outbox), whatever number the writer
/// put there; a create that fails on a used idempotency key writes nothing (it may spend a
/// number) and a later one gets a higher number.
pub async fn create_ticket_numbers_everything(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let (b, b_customer, _) = seed_tenant(&store, "beta").await;
    let numbered = |tenant: TenantId, requester: UserId, subject: &str, key: &str| {
        // 42: not the number the store allocates, so a store that kept it fails.
        let mut w = new_ticket(tenant, requester, 42, subject, Priority::Medium, at(1));
        w.idempotency_key = Some(key.to_string());
        w
    };
    let mut first = numbered(a.id, customer.id, "First", "k1");
    first.outbox.push(outbox_entry(
        &first.ticket,
        vec![agent.id],
        NotificationKind::Assigned,
        at(1),
    ));
    let first = store.create_ticket(first).await.unwrap();
    assert_eq!(first.ticket.number, 1);
    let second = store
        .create_ticket(numbered(a.id, customer.id, "Second", "k2"))
        .await
        .unwrap();
    assert_eq!(second.ticket.number, 2);
    let other = store
        .create_ticket(numbered(b.id, b_customer.id, "Other tenant", "k1"))
        .await
        .unwrap();
    assert_eq!(other.ticket.number, 1, "numbers count per tenant");

    let stored = store
        .get_ticket_by_number(a.id, 1)
        .await
        .unwrap()
        .expect("ticket 1 stored under its number");
    assert_eq!(stored, first.ticket);
    let events = store.list_events(a.id, first.ticket.id).await.unwrap();
    match &events[0].kind {
        EventKind::Created { ticket } => assert_eq!(ticket.number, 1),
        other => panic!("first event is {other:?}, not Created"),
    }
    let outbox = store.list_outbox(a.id).await.unwrap();
    assert!(
        outbox
            .iter()
            .any(|o| o.notification.ticket_id == first.ticket.id
                && o.notification.ticket_number == 1),
        "the outbox entry carries the allocated number: {outbox:?}"
    );

    let reused = store
        .create_ticket(numbered(a.id, customer.id, "Reused key", "k1"))
        .await;
    assert!(
        matches!(
            reused,
            Err(Error::Duplicate {
                kind: DuplicateKind::IdempotencyKey,
                ..
            })
        ),
        "{reused:?}"
    );
    let third = store
        .create_ticket(numbered(a.id, customer.id, "Third", "k3"))
        .await
        .unwrap();
    assert!(third.ticket.number > 2, "numbers are never reused");
    let page = store
        .list_tickets(a.id, &TicketQuery::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 3, "the failed create wrote nothing");
}

/// A created ticket reads back exactly, with its events, messages, outbox entries and
/// idempotency key; lookups by number work.
pub async fn create_ticket_round_trips_everything(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let mut w = new_ticket(
        a.id,
        customer.id,
        0,
        "Printer on fire",
        Priority::High,
        at(3),
    );
    w.ticket.tags = vec!["printer".into(), "fire".into()];
    w.ticket.category = Some("technical".into());
    w.ticket.required_skills = vec!["technical".into()];
    w.ticket.language = Some("en".into());
    w.ticket.sla = SlaState {
        first_response_due: Some(at(63)),
        resolution_due: Some(at(243)),
        ..SlaState::default()
    };
    if let EventKind::Created { ticket } = &mut w.events[0].kind {
        **ticket = w.ticket.clone();
    }
    w.idempotency_key = Some("msg-1@example.com".into());
    w.messages[0].citations = vec![Citation {
        chunk_id: "c1".into(),
        article_id: ArticleId::new(),
        title: "Printers".into(),
    }];
    w.outbox.push(outbox_entry(
        &w.ticket,
        vec![agent.id],
        NotificationKind::Assigned,
        at(3),
    ));
    let w = store.create_ticket(w).await.unwrap();
    let n = w.ticket.number;
    assert_eq!(n, 1);

    assert_eq!(
        store.get_ticket(a.id, w.ticket.id).await.unwrap(),
        Some(w.ticket.clone())
    );
    assert_eq!(
        store.get_ticket_by_number(a.id, n).await.unwrap(),
        Some(w.ticket.clone())
    );
    assert_eq!(
        store.get_ticket_by_number(a.id, n + 100).await.unwrap(),
        None
    );
    assert_eq!(
        store.list_events(a.id, w.ticket.id).await.unwrap(),
        w.events
    );
    assert_eq!(
        store
            .list_messages(a.id, w.ticket.id, MessageFilter::All)
            .await
            .unwrap(),
        w.messages
    );
    assert_eq!(
        store.get_message(a.id, w.messages[0].id).await.unwrap(),
        Some(w.messages[0].clone())
    );
    assert_eq!(
        store
            .find_by_idempotency_key(a.id, "msg-1@example.com")
            .await
            .unwrap(),
        Some(w.ticket.id)
    );
    assert_eq!(
        store.find_by_idempotency_key(a.id, "other").await.unwrap(),
        None
    );
    let mut outbox = store.list_outbox(a.id).await.unwrap();
    outbox.sort_by_key(|o| o.id);
    let mut expected = w.outbox.clone();
    expected.sort_by_key(|o| o.id);
    assert_eq!(outbox, expected);
}

/// A second create with a used idempotency key fails typed and writes nothing.
pub async fn duplicate_idempotency_key_writes_nothing(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let (b, b_customer, _) = seed_tenant(&store, "beta").await;
    let mut first = new_ticket(a.id, customer.id, 1, "One", Priority::Low, at(1));
    first.idempotency_key = Some("key-1".into());
    let first = store.create_ticket(first).await.unwrap();

    let mut second = new_ticket(a.id, customer.id, 2, "Two", Priority::Low, at(2));
    second.idempotency_key = Some("key-1".into());
    assert_duplicate(
        store.create_ticket(second.clone()).await,
        DuplicateKind::IdempotencyKey,
    );
    assert_eq!(
        store.get_ticket(a.id, second.ticket.id).await.unwrap(),
        None
    );
    assert!(
        store
            .list_events(a.id, second.ticket.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_messages(a.id, second.ticket.id, MessageFilter::All)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.list_outbox(a.id).await.unwrap().len(), 1);

    // The same key in another tenant is independent.
    let mut other = new_ticket(b.id, b_customer.id, 1, "Other", Priority::Low, at(2));
    other.idempotency_key = Some("key-1".into());
    let other = store.create_ticket(other).await.unwrap();
    assert_eq!(
        store.find_by_idempotency_key(b.id, "key-1").await.unwrap(),
        Some(other.ticket.id)
    );
    assert_eq!(
        store.find_by_idempotency_key(a.id, "key-1").await.unwrap(),
        Some(first.ticket.id)
    );
}

/// A writer with a stale version gets `Conflict`; the ticket, events, messages and outbox
/// are unchanged.
pub async fn stale_update_conflicts_and_writes_nothing(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let w = create(&store, a.id, customer.id, "Help", Priority::Medium, 0).await;
    let t1 = w.ticket.clone();

    let first = change(
        &t1,
        vec![EventKind::StatusChanged {
            from: TicketStatus::New,
            to: TicketStatus::Open,
        }],
        at(5),
        Some(agent.id),
    );
    store.update_ticket(1, &first).await.unwrap();
    assert_eq!(
        store
            .get_ticket(a.id, t1.id)
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );

    let mut stale = change(
        &t1,
        vec![EventKind::PriorityChanged {
            from: Priority::Medium,
            to: Priority::Urgent,
        }],
        at(6),
        Some(agent.id),
    );
    stale.outbox.push(outbox_entry(
        &stale.ticket,
        vec![agent.id],
        NotificationKind::Replied { message_id: None },
        at(6),
    ));
    stale.messages.push(Message {
        id: MessageId::new(),
        tenant_id: a.id,
        ticket_id: t1.id,
        author: Some(agent.id),
        author_kind: AuthorKind::Agent,
        kind: MessageKind::Note,
        body: "lost".into(),
        created_at: at(6),
        citations: Vec::new(),
        email: None,
        draft: None,
    });
    match store.update_ticket(1, &stale).await {
        Err(Error::Conflict { expected: 1, .. }) => {}
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert_eq!(
        store.get_ticket(a.id, t1.id).await.unwrap(),
        Some(first.ticket.clone())
    );
    assert_eq!(store.list_events(a.id, t1.id).await.unwrap().len(), 2);
    assert_eq!(
        store
            .list_messages(a.id, t1.id, MessageFilter::All)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.list_outbox(a.id).await.unwrap().len(), 1);
}

/// Updating a ticket through another tenant is `NotFound` and changes nothing.
pub async fn update_in_another_tenant_is_not_found(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let (b, _, _) = seed_tenant(&store, "beta").await;
    let w = create(&store, a.id, customer.id, "Mine", Priority::Low, 0).await;
    let mut hijack = change(
        &w.ticket,
        vec![EventKind::TagsChanged {
            tags: vec!["x".into()],
        }],
        at(1),
        None,
    );
    hijack.ticket.tenant_id = b.id;
    if let Some(previous) = &mut hijack.previous {
        previous.tenant_id = b.id;
    }
    for e in &mut hijack.events {
        e.tenant_id = b.id;
    }
    assert!(matches!(
        store.update_ticket(1, &hijack).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        store.get_ticket(a.id, w.ticket.id).await.unwrap(),
        Some(w.ticket.clone())
    );
    assert_eq!(store.get_ticket(b.id, w.ticket.id).await.unwrap(), None);
    let missing = change(&w.ticket, vec![], at(1), None);
    let mut ghost = missing.clone();
    ghost.ticket.id = TicketId::new();
    if let Some(previous) = &mut ghost.previous {
        previous.id = ghost.ticket.id;
    }
    assert!(matches!(
        store.update_ticket(1, &ghost).await,
        Err(Error::NotFound { .. })
    ));
}

/// Messages in a write are inserted, or replaced when their id exists (draft decisions).
pub async fn update_replaces_messages_by_id(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let w = create(&store, a.id, customer.id, "Draft me", Priority::Low, 0).await;
    let draft = Message {
        id: MessageId::new(),
        tenant_id: a.id,
        ticket_id: w.ticket.id,
        author: None,
        author_kind: AuthorKind::Bot,
        kind: MessageKind::Draft,
        body: "Try turning it off and on.".into(),
        created_at: at(2),
        citations: Vec::new(),
        email: None,
        draft: Some(DraftInfo {
            source: DraftSource::Llm,
            state: DraftState::Proposed,
            decided_at: None,
            sent_as: None,
            model: Some("gemini-2.5-flash".into()),
        }),
    };
    let mut c1 = change(
        &w.ticket,
        vec![EventKind::MessageAdded {
            message_id: draft.id,
            kind: MessageKind::Draft,
            author_kind: AuthorKind::Bot,
        }],
        at(2),
        Some(agent.id),
    );
    c1.messages.push(draft.clone());
    store.update_ticket(1, &c1).await.unwrap();

    let reply = Message {
        id: MessageId::new(),
        author: Some(agent.id),
        author_kind: AuthorKind::Agent,
        kind: MessageKind::Reply,
        body: "Try turning it off and on!".into(),
        created_at: at(3),
        draft: None,
        ..draft.clone()
    };
    let mut decided = draft.clone();
    decided.draft = Some(DraftInfo {
        source: DraftSource::Llm,
        state: DraftState::Edited,
        decided_at: Some(at(3)),
        sent_as: Some(reply.id),
        model: Some("gemini-2.5-flash".into()),
    });
    let mut c2 = change(
        &c1.ticket,
        vec![
            EventKind::DraftDecided {
                message_id: draft.id,
                state: DraftState::Edited,
            },
            EventKind::MessageAdded {
                message_id: reply.id,
                kind: MessageKind::Reply,
                author_kind: AuthorKind::Agent,
            },
        ],
        at(3),
        Some(agent.id),
    );
    c2.messages = vec![decided.clone(), reply.clone()];
    store.update_ticket(2, &c2).await.unwrap();

    let messages = store
        .list_messages(a.id, w.ticket.id, MessageFilter::All)
        .await
        .unwrap();
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[1], decided);
    assert_eq!(messages[2], reply);
    let stored = store.get_ticket(a.id, w.ticket.id).await.unwrap().unwrap();
    assert_eq!(stored.first_response_at, Some(at(3)));
    assert_eq!(stored, c2.ticket);
}

/// Events come back in commit order and fold into the stored ticket.
pub async fn events_replay_to_stored_ticket(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let w = create(&store, a.id, customer.id, "Replay", Priority::Low, 0).await;
    let mut t = w.ticket.clone();
    let steps: Vec<Vec<EventKind>> = vec![
        vec![
            EventKind::Assigned {
                from: None,
                to: Some(agent.id),
            },
            EventKind::StatusChanged {
                from: TicketStatus::New,
                to: TicketStatus::Open,
            },
        ],
        vec![EventKind::PriorityChanged {
            from: Priority::Low,
            to: Priority::High,
        }],
        vec![EventKind::StatusChanged {
            from: TicketStatus::Open,
            to: TicketStatus::Pending,
        }],
        vec![EventKind::StatusChanged {
            from: TicketStatus::Pending,
            to: TicketStatus::Resolved,
        }],
        vec![EventKind::CsatRecorded {
            csat: Csat {
                score: 4,
                comment: Some("thanks".into()),
                at: at(50),
            },
        }],
    ];
    for (i, kinds) in steps.into_iter().enumerate() {
        let c = change(&t, kinds, at(10 * (i as i64 + 1)), Some(agent.id));
        store.update_ticket(t.version, &c).await.unwrap();
        t = c.ticket;
    }
    let events = store.list_events(a.id, t.id).await.unwrap();
    assert_eq!(events.len(), 7);
    let versions: Vec<u64> = events.iter().map(|e| e.version).collect();
    assert_eq!(versions, vec![1, 2, 2, 3, 4, 5, 6]);
    let stored = store.get_ticket(a.id, t.id).await.unwrap().unwrap();
    assert_eq!(stored, t);
    assert_eq!(crate::domain::Ticket::replay(&events), Some(stored));
}

/// Many tasks doing read-modify-write on one ticket: every successful update is kept, and
/// the events equal the successful updates.
pub async fn concurrent_writers_lose_no_update(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let w = create(&store, a.id, customer.id, "Hot", Priority::Low, 0).await;
    let tasks = 32usize;
    let updates_each = 3usize;
    let mut set = tokio::task::JoinSet::new();
    for task in 0..tasks {
        let store = store.clone();
        let (tenant, id) = (a.id, w.ticket.id);
        set.spawn(async move {
            let mut done = 0usize;
            let mut attempts = 0usize;
            while done < updates_each {
                attempts += 1;
                assert!(attempts < 10_000, "livelock");
                let current = store.get_ticket(tenant, id).await.unwrap().unwrap();
                let mut tags = current.tags.clone();
                tags.push(format!("t{task}-{done}"));
                let c = change(&current, vec![EventKind::TagsChanged { tags }], at(1), None);
                match store.update_ticket(current.version, &c).await {
                    Ok(()) => done += 1,
                    Err(Error::Conflict { .. }) => tokio::task::yield_now().await,
                    Err(e) if e.is_temporary() => {
                        tokio::time::sleep(Duration::from_millis(1)).await
                    }
                    Err(e) => panic!("unexpected error: {e:?}"),
                }
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    let total = (tasks * updates_each) as u64;
    let t = store.get_ticket(a.id, w.ticket.id).await.unwrap().unwrap();
    assert_eq!(t.version, 1 + total);
    assert_eq!(t.tags.len() as u64, total, "no tag lost");
    let events = store.list_events(a.id, w.ticket.id).await.unwrap();
    assert_eq!(events.len() as u64, 1 + total);
    assert_eq!(crate::domain::Ticket::replay(&events), Some(t));
}
