//! Full-text search agrees with the in-memory reference store on random tickets, messages,
//! notes, drafts, tags and requesters (Unicode, FTS syntax words, digits), for random
//! queries of one to three terms, staff or customer, walked page by page; and the
//! documented differences (README, "Full-text search") are what they say.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use helpdesk_core::domain::{AuthorKind, EventKind, Message, MessageKind, Priority, Role};
use helpdesk_core::store::{
    MemoryStore, SearchHit, SearchQuery, SearchSource, SearchStore, TenantStore, TicketStore,
    UserStore, search_words,
};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, tenant, user};
use helpdesk_core::{MessageId, Store, TenantId, UserId};
use helpdesk_store_sqlite::SqliteStore;

use common::Rng;

/// Subjects, bodies and tags: where SQLite's words are core's words.
const TEXTS: &[&str] = &[
    "Printer on FIRE",
    "printer offline again",
    "Résumé upload fails",
    "RÉSUMÉ TEMPLATE",
    "Straße gesperrt",
    "ΣΊΣΥΦΟΣ login σίσυφος",
    "Größe 42, GRÖSSE 44",
    "東京タワー 2024",
    "สวัสดีครับ thai",
    "ﬁle ligature, ＦＵＬＬ width",
    "e-mail re:refund #1234",
    "AND OR NOT NEAR",
    "col:umn \"quoted\" it's",
    "ДОКУМЕНТ утерян",
    "refund refunded prefund",
    "card cards discard",
];

/// Requesters: names and addresses whose uppercase letters are ASCII (see the README).
const PEOPLE: &[(&str, &str)] = &[
    ("Alice Doe", "alice@example.com"),
    ("zoë quinn", "zoe@quinn-mail.test"),
    ("Bob O'Neil", "bob.oneil@corp.test"),
];

struct Stores {
    sqlite: Arc<dyn Store>,
    pool: sqlx::SqlitePool,
    memory: Arc<dyn Store>,
    tenant: TenantId,
    people: Vec<UserId>,
}

fn message(
    ticket: &helpdesk_core::domain::Ticket,
    kind: MessageKind,
    body: &str,
    second: i64,
) -> Message {
    Message {
        id: MessageId::new(),
        tenant_id: ticket.tenant_id,
        ticket_id: ticket.id,
        author: None,
        author_kind: AuthorKind::Agent,
        kind,
        body: body.into(),
        created_at: at(1_000) + jiff::SignedDuration::from_secs(second),
        citations: Vec::new(),
        email: None,
        draft: None,
    }
}

/// The same tickets in both stores.
async fn stores(rng: &mut Rng, tickets: usize) -> Stores {
    let store = SqliteStore::temporary().await.unwrap();
    let pool = store.pool().clone();
    let sqlite: Arc<dyn Store> = Arc::new(store);
    let memory: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let t = tenant("acme");
    let mut people = Vec::new();
    for store in [&sqlite, &memory] {
        store.create_tenant(&t).await.unwrap();
    }
    for (name, email) in PEOPLE {
        let mut u = user(&t, Role::Customer, email);
        u.name = (*name).into();
        for store in [&sqlite, &memory] {
            store.create_user(&u).await.unwrap();
        }
        people.push(u.id);
    }
    let pick = |rng: &mut Rng| TEXTS[rng.below(TEXTS.len() as u64) as usize];
    let kinds = [
        MessageKind::Reply,
        MessageKind::Chat,
        MessageKind::Note,
        MessageKind::Draft,
    ];
    for i in 0..tickets {
        let requester = people[rng.below(people.len() as u64) as usize];
        let mut w = new_ticket(
            t.id,
            requester,
            0,
            pick(rng),
            Priority::Low,
            // A few share an update time, so ties fall to the id.
            at(rng.below(5) as i64),
        );
        w.ticket.description = pick(rng).into();
        w.messages[0].body = w.ticket.description.clone();
        w.ticket.tags = (0..rng.below(3))
            .map(|_| search_words(pick(rng)).join("-"))
            .collect();
        if let Some(EventKind::Created { ticket }) = w.events.first_mut().map(|e| &mut e.kind) {
            **ticket = w.ticket.clone();
        }
        let created = sqlite.create_ticket(w.clone()).await.unwrap();
        memory.create_ticket(w).await.unwrap();
        let mut next = change(&created.ticket, Vec::new(), at(10 + i as i64), None);
        for n in 0..rng.below(4) {
            let kind = kinds[rng.below(4) as usize];
            next.messages.push(message(
                &created.ticket,
                kind,
                pick(rng),
                rng.below(3) as i64 + n as i64,
            ));
        }
        next.events = next
            .messages
            .iter()
            .map(|m| helpdesk_core::domain::Event {
                id: helpdesk_core::EventId::new(),
                tenant_id: t.id,
                ticket_id: created.ticket.id,
                version: 2,
                at: next.ticket.updated_at,
                actor: None,
                kind: EventKind::MessageAdded {
                    message_id: m.id,
                    kind: m.kind,
                    author_kind: m.author_kind,
                },
            })
            .collect();
        for store in [&sqlite, &memory] {
            store.update_ticket(1, &next).await.unwrap();
        }
        // Now and then a draft sent as a reply (replaced by id) or new tags.
        let draft = next.messages.iter().find(|m| m.kind == MessageKind::Draft);
        if let Some(draft) = draft.filter(|_| rng.below(2) == 0) {
            let mut sent = change(&next.ticket, Vec::new(), at(100 + i as i64), None);
            sent.messages.push(Message {
                kind: MessageKind::Reply,
                body: pick(rng).into(),
                ..draft.clone()
            });
            for store in [&sqlite, &memory] {
                store.update_ticket(2, &sent).await.unwrap();
            }
        } else if rng.below(3) == 0 {
            let tags = vec![search_words(pick(rng)).join("-")];
            let retag = change(
                &next.ticket,
                vec![EventKind::TagsChanged { tags }],
                at(100 + i as i64),
                None,
            );
            for store in [&sqlite, &memory] {
                store.update_ticket(2, &retag).await.unwrap();
            }
        }
    }
    Stores {
        sqlite,
        pool,
        memory,
        tenant: t.id,
        people,
    }
}

/// Every hit of `query`, page by page.
async fn walk(store: &Arc<dyn Store>, tenant: TenantId, query: &SearchQuery) -> Vec<SearchHit> {
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .search_tickets(
                tenant,
                &SearchQuery {
                    cursor: cursor.take(),
                    ..query.clone()
                },
            )
            .await
            .unwrap();
        all.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return all,
        }
    }
}

/// A term: the start of a word of the corpus (or of a requester's name or address).
fn term(rng: &mut Rng) -> String {
    let text = if rng.below(5) == 0 {
        let (name, email) = PEOPLE[rng.below(PEOPLE.len() as u64) as usize];
        format!("{name} {email}")
    } else {
        TEXTS[rng.below(TEXTS.len() as u64) as usize].to_owned()
    };
    let words = search_words(&text);
    let word: Vec<char> = words[rng.below(words.len() as u64) as usize]
        .chars()
        .collect();
    let len = 1 + rng.below(word.len() as u64) as usize;
    // Sometimes a piece from inside the word: found in a requester only.
    let start = if rng.below(4) == 0 {
        rng.below(len as u64) as usize
    } else {
        0
    };
    word[start..len].iter().collect()
}

#[tokio::test]
async fn search_agrees_with_the_reference_store() {
    let mut rng = Rng::from_env();
    let s = stores(&mut rng, 60).await;
    let mut found = 0;
    for _ in 0..300 {
        let staff = rng.below(2) == 0;
        let query = SearchQuery {
            terms: (0..1 + rng.below(3)).map(|_| term(&mut rng)).collect(),
            staff,
            requester: (!staff && rng.below(2) == 0)
                .then(|| s.people[rng.below(s.people.len() as u64) as usize]),
            limit: [1, 4, 100][rng.below(3) as usize],
            ..SearchQuery::default()
        };
        let mut terms = query.terms.clone();
        terms.dedup();
        // A final sigma folds to σ in SQLite (a documented difference): `ς`, the end of a
        // word taken alone, would find the words starting with σ.
        let final_sigma = query.terms.iter().any(|t| t.starts_with('ς'));
        if terms.len() != query.terms.len() || final_sigma || query.check_terms().is_err() {
            continue;
        }
        let expected = walk(&s.memory, s.tenant, &query).await;
        assert_eq!(
            walk(&s.sqlite, s.tenant, &query).await,
            expected,
            "{query:?}"
        );
        found += usize::from(!expected.is_empty());
    }
    assert!(found > 100, "the queries find something: {found}");
    // The indexes are consistent after all those writes (for the tickets' index, with the
    // columns it indexes).
    for (index, with_content) in [
        ("helpdesk_tickets_search", 1),
        ("helpdesk_messages_search", 0),
        ("helpdesk_users_search", 0),
    ] {
        sqlx::query(&format!(
            "INSERT INTO {index} ({index}, rank) VALUES ('integrity-check', {with_content})"
        ))
        .execute(&s.pool)
        .await
        .unwrap();
    }
}

/// A renamed requester is found by the new name only.
#[tokio::test]
async fn the_requester_index_follows_a_renamed_user() {
    let store = SqliteStore::temporary().await.unwrap();
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let mut bob = user(&t, Role::Customer, "bob@example.test");
    bob.name = "Bobby Tables".into();
    store.create_user(&bob).await.unwrap();
    let w = new_ticket(t.id, bob.id, 0, "Hello", Priority::Low, at(0));
    store.create_ticket(w).await.unwrap();
    let count = async |term: &str| {
        let q = SearchQuery {
            terms: vec![term.to_owned()],
            staff: true,
            ..SearchQuery::default()
        };
        store.search_tickets(t.id, &q).await.unwrap().items.len()
    };
    assert_eq!((count("tables").await, count("droptable").await), (1, 0));
    bob.name = "Robert Droptable".into();
    bob.email = "robert@example.test".into();
    store.update_user(&bob).await.unwrap();
    assert_eq!((count("tables").await, count("droptable").await), (0, 1));
    assert_eq!((count("bob").await, count("robert").await), (0, 1));
}

/// The differences the README states, as they are.
#[tokio::test]
async fn the_documented_differences_are_as_stated() {
    let store = SqliteStore::temporary().await.unwrap();
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let mut orjan = user(&t, Role::Customer, "orjan@fjord.test");
    orjan.name = "Ørjan Ålesund".into();
    store.create_user(&orjan).await.unwrap();
    for (i, subject) in ["ⓐⓑ circled", "हिन्दी भाषा", "İstanbul office"]
        .into_iter()
        .enumerate()
    {
        let w = new_ticket(t.id, orjan.id, 0, subject, Priority::Low, at(i as i64));
        store.create_ticket(w).await.unwrap();
    }
    let search = async |term: &str| -> Vec<(String, SearchSource)> {
        let q = SearchQuery {
            terms: vec![term.to_owned()],
            staff: true,
            ..SearchQuery::default()
        };
        store
            .search_tickets(t.id, &q)
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|h| (h.ticket.subject, h.source))
            .collect()
    };
    // The requester: SQLite's lower() folds ASCII letters only.
    assert!(search("ørjan").await.is_empty());
    assert_eq!(search("rjan").await.len(), 3);
    // Symbols Unicode calls alphabetic (circled letters) are not word characters.
    assert!(search("ⓐ").await.is_empty());
    // A mark inside a word (here a virama) does not end it: the word is found by its start
    // only, not by what follows the mark.
    assert_eq!(
        search("हिन").await,
        [("हिन्दी भाषा".to_owned(), SearchSource::Subject)]
    );
    assert!(search("दी").await.is_empty());
    // Capital I with dot above folds to a plain i in core (then a mark), not in SQLite.
    assert!(search("i").await.is_empty());
    assert_eq!(
        search("office").await,
        [("İstanbul office".to_owned(), SearchSource::Subject)]
    );
}
