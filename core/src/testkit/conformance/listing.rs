//! Conformance cases for the ticket listing: filters, the text filter, orders, cursor pages and open counts.

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) async fn seed_listing(store: &S) -> (Tenant, User, User, User, Vec<TicketWrite>) {
    let (a, customer, agent) = seed_tenant(store, "acme").await;
    let other_customer = user(&a, Role::Customer, "other@acme.test");
    store.create_user(&other_customer).await.unwrap();
    type Spec<'a> = (
        &'a str,
        Priority,
        TicketStatus,
        bool,
        Option<&'a str>,
        UserId,
    );
    let specs: [Spec<'_>; 8] = [
        (
            "Login broken",
            Priority::High,
            TicketStatus::Open,
            true,
            Some("account"),
            customer.id,
        ),
        (
            "Invoice wrong",
            Priority::Low,
            TicketStatus::New,
            false,
            Some("billing"),
            customer.id,
        ),
        (
            "App crashes",
            Priority::Urgent,
            TicketStatus::InProgress,
            true,
            Some("technical"),
            other_customer.id,
        ),
        (
            "Refund please",
            Priority::Medium,
            TicketStatus::Pending,
            false,
            Some("billing"),
            other_customer.id,
        ),
        (
            "How do I export",
            Priority::Low,
            TicketStatus::Resolved,
            true,
            None,
            customer.id,
        ),
        (
            "URGENT outage",
            Priority::Urgent,
            TicketStatus::Open,
            false,
            Some("technical"),
            customer.id,
        ),
        (
            "Login slow",
            Priority::High,
            TicketStatus::New,
            true,
            Some("account"),
            other_customer.id,
        ),
        (
            "Password reset",
            Priority::Medium,
            TicketStatus::Closed,
            false,
            Some("account"),
            customer.id,
        ),
    ];
    let mut writes = Vec::new();
    for (i, (subject, p, status, assigned, category, requester)) in specs.into_iter().enumerate() {
        let w = create(store, a.id, requester, subject, p, i as i64 * 10).await;
        let mut kinds = vec![EventKind::CategoryChanged {
            to: category.map(String::from),
        }];
        if status != TicketStatus::New {
            kinds.push(EventKind::StatusChanged {
                from: TicketStatus::New,
                to: status,
            });
        }
        if assigned {
            kinds.push(EventKind::Assigned {
                from: None,
                to: Some(agent.id),
            });
        }
        let c = change(&w.ticket, kinds, at(i as i64 * 10 + 1), Some(agent.id));
        store.update_ticket(1, &c).await.unwrap();
        writes.push(c);
    }
    (a, customer, other_customer, agent, writes)
}

async fn subjects(store: &S, tenant: TenantId, q: TicketQuery) -> Vec<String> {
    store
        .list_tickets(tenant, &q)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|t| t.subject)
        .collect()
}

/// Each filter alone and combined.
pub async fn list_filters(store: S) {
    let (a, customer, _other, agent, _) = seed_listing(&store).await;
    let q = |f: &dyn Fn(&mut TicketQuery)| {
        let mut q = TicketQuery::default();
        f(&mut q);
        q
    };
    assert_eq!(
        subjects(&store, a.id, q(&|q| q.statuses = vec![TicketStatus::New])).await,
        vec!["Login slow", "Invoice wrong"]
    );
    assert_eq!(
        subjects(
            &store,
            a.id,
            q(&|q| q.statuses = vec![TicketStatus::Open, TicketStatus::InProgress])
        )
        .await,
        vec!["App crashes", "URGENT outage", "Login broken"]
    );
    assert_eq!(
        subjects(&store, a.id, q(&|q| q.priorities = vec![Priority::Low])).await,
        vec!["Invoice wrong", "How do I export"]
    );
    assert_eq!(
        subjects(
            &store,
            a.id,
            q(&|q| q.assignee = Some(AssigneeFilter::User(agent.id)))
        )
        .await,
        vec![
            "App crashes",
            "Login broken",
            "Login slow",
            "How do I export"
        ]
    );
    assert_eq!(
        subjects(
            &store,
            a.id,
            q(&|q| q.assignee = Some(AssigneeFilter::Unassigned))
        )
        .await,
        vec![
            "URGENT outage",
            "Refund please",
            "Password reset",
            "Invoice wrong"
        ]
    );
    assert_eq!(
        subjects(&store, a.id, q(&|q| q.requester = Some(customer.id))).await,
        vec![
            "URGENT outage",
            "Login broken",
            "Password reset",
            "Invoice wrong",
            "How do I export"
        ]
    );
    assert_eq!(
        subjects(&store, a.id, q(&|q| q.category = Some("billing".into()))).await,
        vec!["Refund please", "Invoice wrong"]
    );
    assert_eq!(
        subjects(&store, a.id, q(&|q| q.text = Some("login".into()))).await,
        vec!["Login broken", "Login slow"]
    );
    assert_eq!(
        subjects(&store, a.id, q(&|q| q.text = Some("URGENT".into()))).await,
        vec!["URGENT outage"]
    );
    assert_eq!(
        subjects(
            &store,
            a.id,
            q(&|q| {
                q.requester = Some(customer.id);
                q.statuses = vec![TicketStatus::Open, TicketStatus::New];
                q.category = Some("account".into());
            })
        )
        .await,
        vec!["Login broken"]
    );
    assert!(
        subjects(&store, a.id, q(&|q| q.category = Some("nothing".into())))
            .await
            .is_empty()
    );
    let too_big = TicketQuery {
        limit: 201,
        ..TicketQuery::default()
    };
    assert!(matches!(
        store.list_tickets(a.id, &too_big).await,
        Err(Error::Validation { .. })
    ));
}

/// The text filter treats `%`, `_`, `.`, `*`, `\`, quotes and regex syntax as plain text.
pub async fn list_text_filter_is_plain_text(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    for (i, s) in [
        "100% broken",
        "100 percent fine",
        "snake_case name",
        "snakeXcase",
        "a.b*c(d)",
        "abxc",
        "back\\slash 'quote\"",
        "Résumé upload",
    ]
    .iter()
    .enumerate()
    {
        create(&store, a.id, customer.id, s, Priority::Low, i as i64).await;
    }
    let find = |text: &str| {
        let store = store.clone();
        let text = text.to_string();
        async move {
            let mut v = subjects(
                &store,
                a.id,
                TicketQuery {
                    text: Some(text),
                    ..TicketQuery::default()
                },
            )
            .await;
            v.sort();
            v
        }
    };
    assert_eq!(find("100%").await, vec!["100% broken"]);
    assert_eq!(find("_case").await, vec!["snake_case name"]);
    assert_eq!(find("a.b*c(").await, vec!["a.b*c(d)"]);
    assert_eq!(find("b.c").await, Vec::<String>::new());
    assert_eq!(
        find("back\\slash 'quote\"").await,
        vec!["back\\slash 'quote\""]
    );
    assert_eq!(
        find("résumé").await.len(),
        1,
        "unicode text matches at least case-sensitively"
    );
    assert_eq!(find("UPLOAD").await, vec!["Résumé upload"]);
    assert_eq!(find("   ").await.len(), 8, "blank text is no filter");
}

/// Follows `query`'s cursors from the first page to the last: the ids in order and the
/// number of pages. Each page holds at most `query.limit` tickets; more than 20 pages
/// means the pagination does not terminate.
async fn all_pages(store: &S, tenant: TenantId, mut query: TicketQuery) -> (Vec<TicketId>, usize) {
    let mut seen = Vec::new();
    for pages in 1..=20 {
        let page = store.list_tickets(tenant, &query).await.unwrap();
        assert!(page.items.len() <= query.limit as usize);
        seen.extend(page.items.iter().map(|t| t.id));
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => return (seen, pages),
        }
    }
    panic!("pagination does not terminate");
}

/// Both sort orders, and cursor pages that cover every ticket exactly once.
pub async fn list_orders_and_pages(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let mut expected_queue = Vec::new();
    let priorities = [
        Priority::Low,
        Priority::Urgent,
        Priority::Medium,
        Priority::High,
    ];
    for i in 0..23i64 {
        // Several tickets share a creation time, so the id breaks ties.
        let w = create(
            &store,
            a.id,
            customer.id,
            &format!("T{i:02}"),
            priorities[(i % 4) as usize],
            i / 3,
        )
        .await;
        expected_queue.push(w.ticket);
    }
    let mut newest = expected_queue.clone();
    expected_queue.sort_by(|x, y| crate::store::cursor::compare(TicketSort::PriorityThenAge, x, y));
    newest.sort_by(|x, y| crate::store::cursor::compare(TicketSort::Newest, x, y));

    for (sort, expected) in [
        (TicketSort::PriorityThenAge, &expected_queue),
        (TicketSort::Newest, &newest),
    ] {
        let query = TicketQuery {
            sort,
            limit: 5,
            ..TicketQuery::default()
        };
        let (seen, pages) = all_pages(&store, a.id, query).await;
        let want: Vec<TicketId> = expected.iter().map(|t| t.id).collect();
        assert_eq!(seen, want, "{sort:?}");
        assert_eq!(pages, 5);
    }
    let all = store
        .list_tickets(
            a.id,
            &TicketQuery {
                limit: 23,
                ..TicketQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.items.len(), 23);
    assert_eq!(
        all.next_cursor, None,
        "an exactly full last page has no cursor"
    );

    let q = TicketQuery {
        sort: TicketSort::PriorityThenAge,
        limit: 5,
        ..TicketQuery::default()
    };
    let c = store
        .list_tickets(a.id, &q)
        .await
        .unwrap()
        .next_cursor
        .unwrap();
    let wrong = TicketQuery {
        sort: TicketSort::Newest,
        cursor: Some(c),
        ..TicketQuery::default()
    };
    assert!(matches!(
        store.list_tickets(a.id, &wrong).await,
        Err(Error::Validation { .. })
    ));
    let garbage = TicketQuery {
        cursor: Some("'; drop table tickets; --".into()),
        ..TicketQuery::default()
    };
    assert!(matches!(
        store.list_tickets(a.id, &garbage).await,
        Err(Error::Validation { .. })
    ));
}

/// The agent queue: several statuses (one repeated) sorted by priority then age, paged
/// with cursors, alone and with a priority filter, returns exactly the matching tickets
/// in order, each once.
pub async fn list_queue_of_several_statuses_pages(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let statuses = [
        TicketStatus::New,
        TicketStatus::Open,
        TicketStatus::Pending,
        TicketStatus::Closed,
        TicketStatus::Escalated,
        TicketStatus::InProgress,
    ];
    let priorities = [
        Priority::Low,
        Priority::Urgent,
        Priority::Medium,
        Priority::High,
    ];
    let mut all = Vec::new();
    for i in 0..41i64 {
        let priority = priorities[(i % 4) as usize];
        let mut w = new_ticket(
            a.id,
            customer.id,
            0,
            &format!("Q{i:02}"),
            priority,
            at(i / 4),
        );
        w.ticket.status = statuses[(i % 6) as usize];
        if let EventKind::Created { ticket } = &mut w.events[0].kind {
            **ticket = w.ticket.clone();
        }
        let w = store.create_ticket(w).await.unwrap();
        all.push(w.ticket);
    }
    all.sort_by(|x, y| crate::store::cursor::compare(TicketSort::PriorityThenAge, x, y));
    let wanted = vec![
        TicketStatus::Open,
        TicketStatus::New,
        TicketStatus::Escalated,
        TicketStatus::Pending,
        TicketStatus::Open,
    ];
    for only in [None, Some(Priority::Urgent)] {
        let expected: Vec<TicketId> = all
            .iter()
            .filter(|t| wanted.contains(&t.status))
            .filter(|t| only.is_none_or(|p| t.priority == p))
            .map(|t| t.id)
            .collect();
        let query = TicketQuery {
            statuses: wanted.clone(),
            priorities: only.into_iter().collect(),
            sort: TicketSort::PriorityThenAge,
            limit: 4,
            ..TicketQuery::default()
        };
        let (seen, _) = all_pages(&store, a.id, query).await;
        assert_eq!(seen, expected, "priority filter {only:?}");
    }
}

/// The agent queue of issue 16: `exclude_bot_chats` leaves out the chats the bot still
/// handles (channel Chat, status New) and nothing else, and `EscalatedFirst` puts every
/// Escalated ticket (a customer waiting for a human) before the rest, then priority and
/// age; paged with cursors over several statuses, one status and all statuses.
pub async fn list_agent_queue_escalated_first_without_bot_chats(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let statuses = [
        TicketStatus::New,
        TicketStatus::Open,
        TicketStatus::Escalated,
        TicketStatus::InProgress,
        TicketStatus::Pending,
        TicketStatus::Resolved,
    ];
    let priorities = [
        Priority::Low,
        Priority::Urgent,
        Priority::Medium,
        Priority::High,
    ];
    let mut all = Vec::new();
    for i in 0..43i64 {
        let mut w = new_ticket(
            a.id,
            customer.id,
            0,
            &format!("Q{i:02}"),
            priorities[(i % 4) as usize],
            at(i / 3),
        );
        w.ticket.status = statuses[(i % 6) as usize];
        // Every other ticket came from the chat (6 and 2 are coprime: every status has both).
        if i % 2 == 0 {
            w.ticket.channel = Channel::Chat;
        }
        if let EventKind::Created { ticket } = &mut w.events[0].kind {
            **ticket = w.ticket.clone();
        }
        all.push(store.create_ticket(w).await.unwrap().ticket);
    }
    let bot_chats = all.iter().filter(|t| t.is_bot_chat()).count();
    assert!(bot_chats >= 3, "the seed has bot chats");
    let open: Vec<TicketStatus> = statuses.iter().copied().filter(|s| s.is_open()).collect();
    for (wanted, sort) in [
        (open.clone(), TicketSort::EscalatedFirst),
        (vec![TicketStatus::New], TicketSort::EscalatedFirst),
        (Vec::new(), TicketSort::EscalatedFirst),
        (open.clone(), TicketSort::Newest),
        (open.clone(), TicketSort::PriorityThenAge),
    ] {
        let mut expected: Vec<&Ticket> = all
            .iter()
            .filter(|t| wanted.is_empty() || wanted.contains(&t.status))
            .filter(|t| !t.is_bot_chat())
            .collect();
        expected.sort_by(|x, y| crate::store::cursor::compare(sort, x, y));
        let expected: Vec<TicketId> = expected.iter().map(|t| t.id).collect();
        let query = TicketQuery {
            statuses: wanted.clone(),
            exclude_bot_chats: true,
            sort,
            limit: 4,
            ..TicketQuery::default()
        };
        let (seen, _) = all_pages(&store, a.id, query).await;
        assert_eq!(seen, expected, "{wanted:?} {sort:?}");
    }
    // The queue starts with every escalated ticket, whatever its priority.
    let first = store
        .list_tickets(
            a.id,
            &TicketQuery {
                statuses: open.clone(),
                exclude_bot_chats: true,
                sort: TicketSort::EscalatedFirst,
                limit: 200,
                ..TicketQuery::default()
            },
        )
        .await
        .unwrap()
        .items;
    let escalated = all
        .iter()
        .filter(|t| t.status == TicketStatus::Escalated)
        .count();
    assert!(
        first[..escalated]
            .iter()
            .all(|t| t.status == TicketStatus::Escalated)
    );
    assert_eq!(first[escalated - 1].priority, Priority::Low);
    assert_eq!(first[escalated].priority, Priority::Urgent);
    // Without the filter the bot chats are listed.
    let everything = TicketQuery {
        sort: TicketSort::EscalatedFirst,
        limit: 200,
        ..TicketQuery::default()
    };
    let listed = store.list_tickets(a.id, &everything).await.unwrap().items;
    assert_eq!(listed.len(), all.len());
    assert_eq!(listed.iter().filter(|t| t.is_bot_chat()).count(), bot_chats);
}

/// Open tickets are counted per assignee; resolved and closed ones are not.
pub async fn open_ticket_counts_per_assignee(store: S) {
    let (a, _customer, agent, writes) = {
        let (a, customer, _o, agent, writes) = seed_listing(&store).await;
        (a, customer, agent, writes)
    };
    let expected = writes
        .iter()
        .filter(|w| w.ticket.assignee == Some(agent.id) && w.ticket.status.is_open())
        .count() as u64;
    assert_eq!(expected, 3);
    assert_eq!(
        store.open_ticket_counts(a.id).await.unwrap(),
        vec![(agent.id, expected)]
    );
}
