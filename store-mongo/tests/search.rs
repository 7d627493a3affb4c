//! Full-text search on MongoDB beyond the conformance cases: it agrees with the in-memory
//! reference store on random tickets, messages, notes, drafts, tags, field values and
//! requesters (Unicode, regex metacharacters, digits), walked page by page, with another
//! tenant holding the same texts; and the words are core's, whatever a regular expression
//! would make of the text.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use bson::{Bson, doc};
use helpdesk_core::domain::{
    EventKind, FieldValue, Message, MessageKind, Priority, Role, TicketStatus,
};
use helpdesk_core::store::{
    MemoryStore, SearchHit, SearchQuery, SearchSource, SearchStore, TenantStore, TicketStore,
    UserStore, search_words,
};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, tenant, user};
use helpdesk_core::{Error, Store, TenantId, UserId};

use common::tickets::{all, found, message, message_events, post, query, with};
use common::{Rng, fresh_mongo};

/// Subjects, bodies and tags: Unicode, regex metacharacters, digits.
const TEXTS: &[&str] = &[
    "Printer on FIRE",
    "printer offline again",
    "Résumé upload fails",
    "Straße gesperrt",
    "ΣΊΣΥΦΟΣ login σίσυφος",
    "Größe 42, GRÖSSE 44",
    "東京タワー 2024",
    "e-mail re:refund #1234",
    "a.b (c) [d] {e} *f* +g+ ?h? ^i$ |j| \\k\\",
    "regex .* ^$ (?i) \\d+ [a-z]",
    "col:umn \"quoted\" it's",
    "ДОКУМЕНТ утерян",
    "refund refunded prefund",
    "card cards discard",
    "İstanbul office",
];

/// Requesters, with letters outside ASCII in either case and metacharacters in addresses.
const PEOPLE: &[(&str, &str)] = &[
    ("Alice Doe", "alice@example.com"),
    ("ZOË Quinn", "zoe@quinn-mail.test"),
    ("Bob O'Neil", "bob.oneil@corp.test"),
    ("Ørjan Ålesund", "orjan+help@fjord.test"),
    ("İlker (admin)", "ilker.*@x.test"),
];

struct Stores {
    mongo: Arc<dyn Store>,
    memory: Arc<dyn Store>,
    tenant: TenantId,
    people: Vec<UserId>,
}

/// The same tickets in both stores, and in a second tenant of the MongoDB store the same
/// texts again (which no search of the first may find).
async fn stores(rng: &mut Rng, tickets: usize) -> Stores {
    let mongo: Arc<dyn Store> = Arc::new(fresh_mongo().await);
    let memory: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let t = tenant("acme");
    let other = tenant("globex");
    mongo.create_tenant(&other).await.unwrap();
    let stranger = user(&other, Role::Customer, "alice@example.com");
    mongo.create_user(&stranger).await.unwrap();
    let mut people = Vec::new();
    for store in [&mongo, &memory] {
        store.create_tenant(&t).await.unwrap();
    }
    for (name, email) in PEOPLE {
        let mut u = user(&t, Role::Customer, email);
        u.name = (*name).into();
        for store in [&mongo, &memory] {
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
    let plans = ["Pro", "Free", "Größe XL"];
    for i in 0..tickets {
        let requester = people[rng.below(people.len() as u64) as usize];
        let mut w = new_ticket(t.id, requester, 0, pick(rng), Priority::Low, at(0));
        // A few share an update time, so ties fall to the id.
        w.ticket.updated_at = at(rng.below(5) as i64);
        w.ticket.status = [TicketStatus::New, TicketStatus::Open][rng.below(2) as usize];
        w.ticket.description = pick(rng).into();
        w.messages[0].body = w.ticket.description.clone();
        let tags = (0..rng.below(3))
            .map(|_| search_words(pick(rng)).join("-"))
            .collect();
        let mut fields = BTreeMap::new();
        if rng.below(2) == 0 {
            let plan = plans[rng.below(plans.len() as u64) as usize];
            fields.insert("plan".to_owned(), FieldValue::Text(plan.into()));
        }
        let w = with(w, tags, fields);
        let created = mongo.create_ticket(w.clone()).await.unwrap();
        memory.create_ticket(w.clone()).await.unwrap();
        let elsewhere = new_ticket(other.id, stranger.id, 0, pick(rng), Priority::Low, at(0));
        mongo.create_ticket(elsewhere).await.unwrap();
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
        message_events(&mut next);
        for store in [&mongo, &memory] {
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
            for store in [&mongo, &memory] {
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
            for store in [&mongo, &memory] {
                store.update_ticket(2, &retag).await.unwrap();
            }
        }
    }
    Stores {
        mongo,
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

#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_agrees_with_the_reference_store() {
    let mut rng = Rng::from_env();
    let s = stores(&mut rng, 40).await;
    let mut found = 0;
    let mut checked = 0;
    while checked < 150 {
        let staff = rng.below(2) == 0;
        let mut query = SearchQuery {
            terms: (0..1 + rng.below(3)).map(|_| term(&mut rng)).collect(),
            staff,
            requester: (!staff && rng.below(2) == 0)
                .then(|| s.people[rng.below(s.people.len() as u64) as usize]),
            limit: [1, 4, 100][rng.below(3) as usize],
            ..SearchQuery::default()
        };
        match rng.below(6) {
            0 => query.statuses = vec![TicketStatus::Open],
            1 => query.fields = vec!["plan=Pro".into()],
            _ => {}
        }
        let mut terms = query.terms.clone();
        terms.dedup();
        if terms.len() != query.terms.len() || query.check_terms().is_err() {
            continue;
        }
        checked += 1;
        let expected = walk(&s.memory, s.tenant, &query).await;
        assert_eq!(
            walk(&s.mongo, s.tenant, &query).await,
            expected,
            "{query:?}"
        );
        found += usize::from(!expected.is_empty());
    }
    assert!(found > 50, "the queries find something: {found}");
}

/// Words as core splits them, whatever a regular expression would make of the text:
/// metacharacters are separators in the text and refused in a term, letters outside
/// ASCII are words, e-mail addresses split, a long word is found by its start, and a text
/// with more words than one document should hold is indexed up to the limit.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn words_are_cores_and_terms_are_literal() {
    let store = fresh_mongo().await;
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let mut zoe = user(&t, Role::Customer, "zoe@quinn-mail.test");
    zoe.name = "ZOË Quinn".into();
    store.create_user(&zoe).await.unwrap();
    let w = new_ticket(
        t.id,
        zoe.id,
        0,
        "Größe (a.b) *star* $HOME ^caret [x] back\\slash",
        Priority::Low,
        at(0),
    );
    let w = with(w, vec!["vip".into(), "refund-risk".into()], BTreeMap::new());
    let ticket = store.create_ticket(w).await.unwrap().ticket;
    let long = "Q".repeat(3_000);
    let huge: Vec<String> = (0..150_000).map(|i| format!("w{i:07}")).collect();
    let ticket = post(
        &store,
        &ticket,
        1,
        &[
            (
                MessageKind::Reply,
                "Write to billing@example.com, don't call",
            ),
            (MessageKind::Chat, &format!("log: {long} end")),
            (MessageKind::Note, &huge.join(" ")),
            (MessageKind::Draft, "drafted apology"),
        ],
    )
    .await;
    let id = ticket.id;
    let cases: [(&[&str], SearchSource); 16] = [
        (&["grö"], SearchSource::Subject),
        (&["größe", "a", "b"], SearchSource::Subject),
        (&["star", "home"], SearchSource::Subject),
        (&["caret", "x"], SearchSource::Subject),
        (&["back", "slash"], SearchSource::Subject),
        (&["risk"], SearchSource::Details),
        (&["example"], SearchSource::Message),
        (&["billing", "com"], SearchSource::Message),
        (&["don", "t"], SearchSource::Message),
        (&["end", "qqqq"], SearchSource::Message),
        (&[&"q".repeat(64)], SearchSource::Message),
        (&["w0000000", "w0000001"], SearchSource::Note),
        (&["zoë"], SearchSource::Requester),
        (&["uinn", "mail"], SearchSource::Requester),
        (&["ë"], SearchSource::Requester),
        (&["test"], SearchSource::Requester),
    ];
    for (terms, source) in cases {
        assert_eq!(
            found(&store, t.id, terms).await,
            [(id, source)],
            "{terms:?}"
        );
    }
    for missing in [
        &["xample"][..],
        &["öße"],
        &["billingexample"],
        &["w0149999"],
        &["apology"],
        &["ome"],
    ] {
        assert!(found(&store, t.id, missing).await.is_empty(), "{missing:?}");
    }
    // Anything that is not one lowercase word is refused before it reaches a pattern.
    for bad in [
        "a.b", "(", "*", "$", ".*", "^", "a|b", "\\", "[x]", "Größe", "ab ",
    ] {
        match store.search_tickets(t.id, &query(&[bad], true)).await {
            Err(Error::Validation { field, .. }) => assert_eq!(field, "terms", "{bad:?}"),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    // The words stored are core's, distinct, cut to 64 characters; a draft has none.
    let messages = all(&store, "messages", doc! { "ticket_id": id.to_string() }).await;
    let words_of = |kind: &str| {
        messages
            .iter()
            .find(|m| m.get_str("kind") == Ok(kind))
            .map(|m| m.get("search_body").cloned())
            .unwrap()
    };
    assert_eq!(words_of("draft"), None);
    assert_eq!(
        words_of("chat"),
        Some(Bson::from(vec![
            "log".to_owned(),
            "q".repeat(64),
            "end".to_owned()
        ]))
    );
    let Some(Bson::Array(note)) = words_of("note") else {
        panic!("the note has no words");
    };
    assert!(
        note.len() > 20_000 && note.len() < 150_000,
        "{}",
        note.len()
    );
    let tickets = all(&store, "tickets", doc! { "_id": id.to_string() }).await;
    assert_eq!(
        tickets[0].get_array("search_subject").unwrap(),
        &[
            "größe",
            "a",
            "b",
            "star",
            "home",
            "caret",
            "x",
            "back",
            "slash",
            "description",
            "of"
        ]
        .map(Bson::from)
        .to_vec()
    );
    let users = all(&store, "users", doc! { "_id": zoe.id.to_string() }).await;
    assert_eq!(
        users[0].get_str("search_requester").unwrap(),
        "zoë quinn <zoe@quinn-mail.test>"
    );
}
