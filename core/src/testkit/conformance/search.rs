//! Conformance cases for full-text search ([`SearchStore`](crate::store::SearchStore)): every
//! source, the word-start rule, who sees what, the order, the filters, paging, and that the
//! index follows every change.

use super::{S, seed_tenant};
use crate::domain::{
    AuthorKind, Channel, EventKind, Message, MessageKind, Priority, SlaKind, SlaState, Ticket,
    TicketStatus,
};
use crate::store::{
    AssigneeFilter, SearchCursor, SearchHit, SearchQuery, SearchSource, SlaFilter, TicketWrite,
    TimeRange, compare_hits,
};
use crate::testkit::fixtures::{at, change, new_ticket, user};
use crate::{MessageId, TenantId, TicketId, UserId};

fn query(terms: &[&str], staff: bool) -> SearchQuery {
    SearchQuery {
        terms: terms.iter().map(|t| (*t).to_string()).collect(),
        staff,
        ..SearchQuery::default()
    }
}

async fn open(
    store: &S,
    tenant: TenantId,
    requester: UserId,
    subject: &str,
    minute: i64,
    edit: impl FnOnce(&mut Ticket),
) -> Ticket {
    let mut w = new_ticket(tenant, requester, 0, subject, Priority::Medium, at(minute));
    edit(&mut w.ticket);
    if let Some(EventKind::Created { ticket }) = w.events.first_mut().map(|e| &mut e.kind) {
        **ticket = w.ticket.clone();
    }
    store.create_ticket(w).await.unwrap().ticket
}

/// Adds messages (`kind`, body) at `minute` and returns the stored ticket.
async fn post(
    store: &S,
    ticket: &Ticket,
    minute: i64,
    messages_in: &[(MessageKind, &str)],
) -> Ticket {
    let mut kinds = Vec::new();
    let mut messages = Vec::new();
    for (i, (kind, body)) in messages_in.iter().enumerate() {
        let id = MessageId::new();
        messages.push(Message {
            id,
            tenant_id: ticket.tenant_id,
            ticket_id: ticket.id,
            author: None,
            author_kind: AuthorKind::Agent,
            kind: *kind,
            body: (*body).into(),
            created_at: at(minute) + jiff::SignedDuration::from_secs(i as i64),
            citations: Vec::new(),
            email: None,
            draft: None,
        });
        kinds.push(EventKind::MessageAdded {
            message_id: id,
            kind: *kind,
            author_kind: AuthorKind::Agent,
        });
    }
    let write = TicketWrite {
        messages,
        ..change(ticket, kinds, at(minute), None)
    };
    store.update_ticket(ticket.version, &write).await.unwrap();
    store
        .get_ticket(ticket.tenant_id, ticket.id)
        .await
        .unwrap()
        .unwrap()
}

async fn ids(store: &S, tenant: TenantId, q: &SearchQuery) -> Vec<(TicketId, SearchSource)> {
    let page = store.search_tickets(tenant, q).await.unwrap();
    assert_eq!(page.next_cursor, None);
    page.items.iter().map(|h| (h.ticket.id, h.source)).collect()
}

/// Each source is found by the start of its words, with its text; a ticket appears once
/// with its best source, sources in rank order; customers see only their own tickets'
/// subjects and public messages; drafts and other tenants are never found.
pub async fn search_finds_every_source_by_word_start(store: S) {
    let (a, alice, _agent) = seed_tenant(&store, "acme").await;
    let (b, stranger, _) = seed_tenant(&store, "globex").await;
    let mut zoe = user(&a, crate::domain::Role::Customer, "zoe@quinn-mail.test");
    zoe.name = "Zoë Quinn".into();
    store.create_user(&zoe).await.unwrap();

    let by_subject = open(&store, a.id, alice.id, "Refund request", 1, |_| {}).await;
    let by_tag = open(&store, a.id, alice.id, "Other", 2, |t| {
        t.tags = vec!["vip".into(), "refund-risk".into()];
    })
    .await;
    let thread = open(&store, a.id, alice.id, "App crashes", 3, |_| {}).await;
    let thread = post(
        &store,
        &thread,
        4,
        &[
            (MessageKind::Reply, "Your refund is pending"),
            (
                MessageKind::Chat,
                "We issued a refund for the duplicated charge",
            ),
        ],
    )
    .await;
    let noted = open(&store, a.id, zoe.id, "Login trouble", 5, |_| {}).await;
    let noted = post(
        &store,
        &noted,
        6,
        &[(MessageKind::Note, "wants a refund, check for fraud")],
    )
    .await;
    let drafted = open(&store, a.id, zoe.id, "Printer", 7, |_| {}).await;
    post(&store, &drafted, 8, &[(MessageKind::Draft, "refund draft")]).await;
    open(&store, a.id, alice.id, "Prefunded plan", 9, |_| {}).await;
    open(&store, b.id, stranger.id, "Refund elsewhere", 10, |_| {}).await;

    let staff = store
        .search_tickets(a.id, &query(&["refund"], true))
        .await
        .unwrap();
    let found: Vec<(TicketId, SearchSource)> = staff
        .items
        .iter()
        .map(|h| (h.ticket.id, h.source))
        .collect();
    assert_eq!(
        found,
        [
            (by_subject.id, SearchSource::Subject),
            (by_tag.id, SearchSource::Details),
            (thread.id, SearchSource::Message),
            (noted.id, SearchSource::Note),
        ]
    );
    let texts: Vec<&str> = staff.items.iter().map(|h| h.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Refund request\nDescription of Refund request",
            "vip refund-risk",
            "We issued a refund for the duplicated charge",
            "wants a refund, check for fraud",
        ],
        "each hit carries the text it matched (the newest matching message)"
    );
    assert_eq!(
        staff.items[2].ticket, thread,
        "hits carry the stored ticket"
    );

    // Every term in one text: the older reply has "refund" but not "duplicated".
    assert_eq!(
        ids(&store, a.id, &query(&["duplicated", "refund"], true)).await,
        [(thread.id, SearchSource::Message)]
    );
    assert!(
        ids(&store, a.id, &query(&["crashes", "refund"], true))
            .await
            .is_empty(),
        "terms split over the subject and a message do not match"
    );
    assert!(
        ids(&store, a.id, &query(&["fund"], true)).await.is_empty(),
        "a term matches the start of a word only"
    );

    // The requester's name and e-mail, anywhere in them, for staff only.
    let by_requester = ids(&store, a.id, &query(&["uinn"], true)).await;
    assert_eq!(
        by_requester,
        [
            (drafted.id, SearchSource::Requester),
            (noted.id, SearchSource::Requester)
        ]
    );
    let hit = store
        .search_tickets(a.id, &query(&["quinn", "mail"], true))
        .await
        .unwrap();
    assert_eq!(hit.items[0].text, "Zoë Quinn <zoe@quinn-mail.test>");

    // Customers: their own tickets, subjects and public messages only.
    let mine = SearchQuery {
        requester: Some(alice.id),
        ..query(&["refund"], false)
    };
    assert_eq!(
        ids(&store, a.id, &mine).await,
        [
            (by_subject.id, SearchSource::Subject),
            (thread.id, SearchSource::Message)
        ]
    );
    let hers = SearchQuery {
        requester: Some(zoe.id),
        ..query(&["refund"], false)
    };
    assert!(
        ids(&store, a.id, &hers).await.is_empty(),
        "notes and drafts stay hidden"
    );
    let hers = SearchQuery {
        requester: Some(zoe.id),
        ..query(&["quinn"], false)
    };
    assert!(ids(&store, a.id, &hers).await.is_empty());

    // Other tenants and unknown words.
    assert_eq!(
        ids(&store, b.id, &query(&["refund"], true)).await.len(),
        1,
        "the other tenant finds only its own"
    );
    assert!(ids(&store, a.id, &query(&["zzzz"], true)).await.is_empty());
}

/// Each filter keeps exactly the tickets [`SearchQuery::keeps`] keeps, in the reference
/// order, and pages of any size walk the whole result once.
pub async fn search_filters_and_pages_by_cursor(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let statuses = [
        TicketStatus::New,
        TicketStatus::Open,
        TicketStatus::Pending,
        TicketStatus::Resolved,
    ];
    let priorities = [
        Priority::Low,
        Priority::Medium,
        Priority::High,
        Priority::Urgent,
    ];
    let channels = [Channel::Form, Channel::Email, Channel::Chat];
    for i in 0..24_i64 {
        let n = i as usize;
        let subject = if n.is_multiple_of(5) {
            "Printer jam"
        } else {
            "Printer jam again"
        };
        open(&store, a.id, customer.id, subject, i, |t| {
            t.status = statuses[n % 4];
            t.priority = priorities[(n / 2) % 4];
            t.channel = channels[n % 3];
            t.assignee = (n % 3 == 1).then_some(agent.id);
            t.category = n.is_multiple_of(2).then(|| "billing".into());
            t.tags = if n % 4 == 1 {
                vec!["vip".into()]
            } else {
                Vec::new()
            };
            // Several tickets share an update time, so ties fall to the id.
            t.updated_at = at(100 + i / 3);
            t.sla = SlaState {
                first_response_due: Some(at(200 + i * 10)),
                resolution_due: Some(at(400 + i * 10)),
                first_response_breached: n % 7 == 3,
                ..SlaState::default()
            };
        })
        .await;
    }
    // A change updates the ticket in the index too.
    let page = store
        .search_tickets(a.id, &query(&["jam"], true))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 24);
    let target = page
        .items
        .iter()
        .map(|h| h.ticket.clone())
        .find(|t| !t.sla.first_response_breached)
        .unwrap();
    let breached = change(
        &target,
        vec![EventKind::SlaBreached {
            kind: SlaKind::Resolution,
        }],
        at(300),
        None,
    );
    store
        .update_ticket(target.version, &breached)
        .await
        .unwrap();

    let stored: Vec<Ticket> = {
        let all = store
            .search_tickets(a.id, &query(&["printer"], true))
            .await
            .unwrap();
        all.items.into_iter().map(|h| h.ticket).collect()
    };
    assert_eq!(stored.len(), 24);
    let filters: Vec<(&str, SearchQuery)> = vec![
        ("none", SearchQuery::default()),
        (
            "statuses",
            SearchQuery {
                statuses: vec![TicketStatus::Open, TicketStatus::Pending],
                ..SearchQuery::default()
            },
        ),
        (
            "priorities",
            SearchQuery {
                priorities: vec![Priority::Urgent],
                ..SearchQuery::default()
            },
        ),
        (
            "unassigned",
            SearchQuery {
                assignee: Some(AssigneeFilter::Unassigned),
                ..SearchQuery::default()
            },
        ),
        (
            "assignee",
            SearchQuery {
                assignee: Some(AssigneeFilter::User(agent.id)),
                ..SearchQuery::default()
            },
        ),
        (
            "category",
            SearchQuery {
                category: Some("billing".into()),
                ..SearchQuery::default()
            },
        ),
        (
            "channel",
            SearchQuery {
                channel: Some(Channel::Email),
                ..SearchQuery::default()
            },
        ),
        (
            "tag",
            SearchQuery {
                tag: Some("vip".into()),
                ..SearchQuery::default()
            },
        ),
        (
            "created",
            SearchQuery {
                created: Some(TimeRange::new(at(5), at(12)).unwrap()),
                ..SearchQuery::default()
            },
        ),
        (
            "updated",
            SearchQuery {
                updated: Some(TimeRange::new(at(102), at(105)).unwrap()),
                ..SearchQuery::default()
            },
        ),
        (
            "breached",
            SearchQuery {
                sla: Some(SlaFilter::Breached),
                ..SearchQuery::default()
            },
        ),
        (
            "due by",
            SearchQuery {
                sla: Some(SlaFilter::DueBy { by: at(290) }),
                ..SearchQuery::default()
            },
        ),
        (
            "combined",
            SearchQuery {
                statuses: vec![TicketStatus::New, TicketStatus::Open],
                category: Some("billing".into()),
                assignee: Some(AssigneeFilter::Unassigned),
                ..SearchQuery::default()
            },
        ),
    ];
    for (name, filter) in filters {
        for terms in [&["printer"][..], &["jam", "again"][..]] {
            let q = SearchQuery {
                terms: terms.iter().map(|t| (*t).to_string()).collect(),
                staff: true,
                ..filter.clone()
            };
            let mut expected: Vec<SearchHit> = stored
                .iter()
                .filter(|t| q.keeps(t) && q.found_in_words(&t.subject))
                .map(|t| SearchHit {
                    ticket: t.clone(),
                    source: SearchSource::Subject,
                    text: format!("{}\n{}", t.subject, t.description),
                })
                .collect();
            expected.sort_by(compare_hits);
            for limit in [1, 5, 100] {
                let mut walked = Vec::new();
                let mut cursor = None;
                loop {
                    let page = store
                        .search_tickets(
                            a.id,
                            &SearchQuery {
                                limit,
                                cursor: cursor.take(),
                                ..q.clone()
                            },
                        )
                        .await
                        .unwrap();
                    assert!(page.items.len() <= limit as usize, "{name}");
                    if let (Some(next), Some(last)) = (&page.next_cursor, page.items.last()) {
                        assert_eq!(*next, SearchCursor::after(last).encode(), "{name}");
                    }
                    walked.extend(page.items);
                    match page.next_cursor {
                        Some(next) => cursor = Some(next),
                        None => break,
                    }
                    assert!(walked.len() <= 24, "{name}: paging does not end");
                }
                assert_eq!(walked, expected, "{name} {terms:?} by {limit}");
            }
        }
    }
    // Expected sizes, so the reference itself is not vacuous.
    let count = |q: SearchQuery| stored.iter().filter(|t| q.keeps(t)).count();
    assert!(
        stored
            .iter()
            .any(|t| t.id == target.id && t.sla.resolution_breached)
    );
    assert!(
        count(SearchQuery {
            sla: Some(SlaFilter::Breached),
            ..SearchQuery::default()
        }) >= 4
    );
    assert!(
        count(SearchQuery {
            sla: Some(SlaFilter::DueBy { by: at(290) }),
            ..SearchQuery::default()
        }) > 0
    );
    for bad in [vec![], vec!["Printer"], vec!["print*"], vec!["a\"b"]] {
        let q = SearchQuery {
            terms: bad.iter().map(|t| (*t).to_string()).collect(),
            ..query(&[], true)
        };
        assert!(
            matches!(
                store.search_tickets(a.id, &q).await,
                Err(crate::Error::Validation { .. })
            ),
            "terms {bad:?}"
        );
    }
    for bad in ["", "p1.2.3", "s9.0.0"] {
        let q = SearchQuery {
            cursor: Some(bad.into()),
            ..query(&["printer"], true)
        };
        assert!(
            matches!(
                store.search_tickets(a.id, &q).await,
                Err(crate::Error::Validation { .. })
            ),
            "cursor {bad:?}"
        );
    }
}

/// The index follows the ticket: a tag replaced, a message added, a subject changed by a
/// merge-free update are found at once, and what was replaced is no longer found.
pub async fn search_follows_every_change(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let t = open(&store, a.id, customer.id, "Shipping question", 1, |t| {
        t.tags = vec!["oldtag".into()];
    })
    .await;
    let retag = change(
        &t,
        vec![EventKind::TagsChanged {
            tags: vec!["newtag".into()],
        }],
        at(2),
        Some(agent.id),
    );
    store.update_ticket(t.version, &retag).await.unwrap();
    assert!(
        ids(&store, a.id, &query(&["oldtag"], true))
            .await
            .is_empty()
    );
    assert_eq!(
        ids(&store, a.id, &query(&["newtag"], true)).await,
        [(t.id, SearchSource::Details)]
    );
    let t = retag.ticket;
    let t = post(
        &store,
        &t,
        3,
        &[(MessageKind::Reply, "Parcel tracking number attached")],
    )
    .await;
    assert_eq!(
        ids(&store, a.id, &query(&["parcel", "track"], false)).await,
        [(t.id, SearchSource::Message)]
    );
    // A newer ticket with the same match comes first.
    let newer = open(&store, a.id, customer.id, "Parcel lost", 4, |_| {}).await;
    let later = post(
        &store,
        &t,
        5,
        &[(MessageKind::Note, "courier says parcel was delivered")],
    )
    .await;
    let hits = ids(&store, a.id, &query(&["parcel"], true)).await;
    assert_eq!(
        hits,
        [
            (newer.id, SearchSource::Subject),
            (later.id, SearchSource::Message)
        ]
    );
    assert_eq!(
        ids(&store, a.id, &query(&["courier"], true)).await,
        [(later.id, SearchSource::Note)]
    );
    assert!(
        ids(&store, a.id, &query(&["courier"], false))
            .await
            .is_empty()
    );
}
