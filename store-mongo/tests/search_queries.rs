//! What a search sends to MongoDB and what it makes of what it reads: each source's filter
//! leads with the tenant and puts an anchored pattern on its words (served by the word
//! indexes), a page takes the rounds the module docs promise, a commit left pending is
//! searched, malformed documents are typed errors, tenants stay apart and the requester
//! follows a rename.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use bson::{Bson, Document, doc};
use helpdesk_core::Error;
use helpdesk_core::domain::{FieldValue, MessageKind, Priority, Role};
use helpdesk_core::store::{
    SearchQuery, SearchSource, SearchStore, TenantStore, TicketQuery, TicketStore, UserStore,
};
use helpdesk_core::testkit::fixtures::{at, new_ticket, tenant, user};
use helpdesk_store_mongo::MongoStore;

use common::tickets::{all, found, post, query, with};
use common::{bounds_anchored_regexes, fresh_mongo, usable_indexes, watched_mongo};

/// The first filter of a command: a find's `filter`, an aggregation's first `$match`.
fn filter_of(name: &str, command: &Document) -> Option<Document> {
    match name {
        "find" => command.get_document("filter").ok().cloned(),
        "aggregate" => command
            .get_array("pipeline")
            .ok()?
            .first()?
            .as_document()?
            .get_document("$match")
            .ok()
            .cloned(),
        _ => None,
    }
}

/// The collection of a command, without the store's prefix.
fn collection_of(store: &MongoStore, name: &str, command: &Document) -> String {
    let full = command.get_str(name).unwrap_or_default();
    full.strip_prefix(store.collection_prefix())
        .unwrap_or(full)
        .to_owned()
}

/// The words fields a filter puts a pattern on, with the patterns (top level and in
/// `$and`).
fn patterns(filter: &Document) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut visit = |d: &Document| {
        for (k, v) in d {
            if let Some(p) = v.as_document().and_then(|v| v.get_str("$regex").ok()) {
                assert!(
                    !v.as_document().unwrap().contains_key("$options"),
                    "no options: {d}"
                );
                out.push((k.clone(), p.to_owned()));
            }
        }
    };
    visit(filter);
    for c in filter.get_array("$and").into_iter().flatten() {
        if let Some(c) = c.as_document() {
            visit(c);
        }
    }
    out
}

/// The queries a search sends: each source's filter starts with the tenant's equality and
/// puts an anchored pattern on its words (or the requester's text), which the word
/// indexes serve wherever the server bounds an index with such a pattern (checked with
/// `explain`); the rounds are the ones the module docs promise.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn searches_read_the_word_indexes_in_few_rounds() {
    let (store, commands) = watched_mongo().await;
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let customer = user(&t, Role::Customer, "carl@acme.test");
    store.create_user(&customer).await.unwrap();
    let w = new_ticket(t.id, customer.id, 0, "Printer jam", Priority::Low, at(0));
    let ticket = store.create_ticket(w).await.unwrap().ticket;
    let w = new_ticket(
        t.id,
        customer.id,
        0,
        "Printer offline",
        Priority::Low,
        at(1),
    );
    store.create_ticket(w).await.unwrap();
    post(
        &store,
        &ticket,
        1,
        &[(MessageKind::Note, "toner replaced, printer fine")],
    )
    .await;
    let regex_bounds = bounds_anchored_regexes(store.database()).await;

    // A page the subject fills: one round of five reads (pending commits, subject,
    // details, people, messages), no ticket read by id, no message body read.
    commands.take();
    let page = store
        .search_tickets(
            t.id,
            &SearchQuery {
                limit: 1,
                ..query(&["printer"], true)
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let sent = commands.take();
    let names: Vec<String> = sent
        .iter()
        .map(|(name, c)| format!("{name} {}", collection_of(&store, name, c)))
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "aggregate messages",
            "find tickets",
            "find tickets",
            "find tickets",
            "find users"
        ],
        "{names:?}"
    );

    // A note's hit: the second round (tickets of the message matches) and the body.
    let hits = store
        .search_tickets(t.id, &query(&["toner"], true))
        .await
        .unwrap();
    assert_eq!(hits.items[0].source, SearchSource::Note);
    assert_eq!(hits.items[0].text, "toner replaced, printer fine");
    let sent = commands.take();
    assert!(
        sent.len() <= 8,
        "{:?}",
        sent.iter().map(|s| &s.0).collect::<Vec<_>>()
    );
    let mut words_queries = 0;
    for (name, command) in &sent {
        let Some(filter) = filter_of(name, command) else {
            continue;
        };
        let collection = collection_of(&store, name, command);
        assert_eq!(
            filter.keys().next().map(String::as_str),
            Some("tenant_id"),
            "the tenant leads: {filter}"
        );
        let found = patterns(&filter);
        for (field, pattern) in &found {
            let (index, anchored) = match field.as_str() {
                "search_subject" => ("tenant_search_subject", true),
                "search_details" => ("tenant_search_details", true),
                "search_body" => ("tenant_search_body", true),
                "search_requester" => ("tenant_search_requester", false),
                other => panic!("a pattern on {other}: {filter}"),
            };
            assert_eq!(pattern.starts_with('^'), anchored, "{field}: {pattern}");
            words_queries += 1;
            if regex_bounds {
                // The index is a candidate of the plan for the pattern alone with the
                // tenant (the other conditions only narrow what it reads).
                let alone = doc! {
                    "tenant_id": t.id.to_string(),
                    field.as_str(): { "$regex": pattern.as_str() },
                };
                let full = store.collection_name(&collection);
                let usable = usable_indexes(store.database(), &full, alone).await;
                assert!(usable.iter().any(|n| n == index), "{field}: {usable:?}");
            }
        }
    }
    assert!(words_queries >= 4, "{words_queries}");
    if !regex_bounds {
        println!(
            "this server reads the collection for any $regex (SecantusDB): the word \
             indexes were checked to exist, not to be used"
        );
    }
    for (collection, index) in [
        ("tickets", "tenant_search_subject"),
        ("tickets", "tenant_search_details"),
        ("tickets", "tenant_field_tokens"),
        ("messages", "tenant_search_body"),
        ("users", "tenant_search_requester"),
    ] {
        let names = store
            .database()
            .collection::<Document>(&store.collection_name(collection))
            .list_index_names()
            .await
            .unwrap();
        assert!(names.iter().any(|n| n == index), "{collection}: {names:?}");
    }
}

/// A commit whose writer stopped before copying its messages: a search applies it and
/// finds the message.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn a_message_left_pending_is_found() {
    let store = fresh_mongo().await;
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let customer = user(&t, Role::Customer, "carl@acme.test");
    store.create_user(&customer).await.unwrap();
    let w = new_ticket(t.id, customer.id, 0, "Hello", Priority::Low, at(0));
    let ticket = store.create_ticket(w).await.unwrap().ticket;
    let ticket = post(&store, &ticket, 1, &[(MessageKind::Reply, "Parcel lost")]).await;
    let messages = all(&store, "messages", doc! { "kind": "reply" }).await;
    let coll = |name: &str| {
        store
            .database()
            .collection::<Document>(&store.collection_name(name))
    };
    coll("messages")
        .delete_many(doc! { "kind": "reply" })
        .await
        .unwrap();
    coll("tickets")
        .update_one(
            doc! { "_id": ticket.id.to_string() },
            doc! { "$set": { "pending": {
                "commit": "crashed-writer",
                "version": 2_i64,
                "events": [],
                "messages": messages.into_iter().map(Bson::Document).collect::<Vec<_>>(),
                "outbox": [],
                "attachments": [],
            } } },
        )
        .await
        .unwrap();
    let q = SearchQuery {
        requester: Some(customer.id),
        ..query(&["parcel"], false)
    };
    let hits = store.search_tickets(t.id, &q).await.unwrap().items;
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].source, hits[0].text.as_str()),
        (SearchSource::Message, "Parcel lost")
    );
    assert!(
        all(&store, "tickets", doc! { "pending": { "$exists": true } })
            .await
            .is_empty()
    );
}

/// Stored documents that are not what the store writes are typed errors naming the
/// collection and field, not panics or wrong hits.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn malformed_documents_fail_the_search_with_typed_errors() {
    let store = fresh_mongo().await;
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let customer = user(&t, Role::Customer, "carl@acme.test");
    store.create_user(&customer).await.unwrap();
    let w = new_ticket(t.id, customer.id, 0, "Hello", Priority::Low, at(0));
    let ticket = store.create_ticket(w).await.unwrap().ticket;
    post(&store, &ticket, 1, &[(MessageKind::Note, "Parcel lost")]).await;
    let coll = |name: &str| {
        store
            .database()
            .collection::<Document>(&store.collection_name(name))
    };
    let cases: [(&str, Document, &str, &str); 3] = [
        (
            "messages",
            doc! { "$set": { "body": 7_i32 } },
            "parcel",
            "body",
        ),
        ("users", doc! { "$unset": { "name": "" } }, "carl", "name"),
        (
            "tickets",
            doc! { "$set": { "custom_fields": { "plan": { "x": 1_i32 } } } },
            "hello",
            "custom_fields",
        ),
    ];
    for (collection, update, term, field) in cases {
        coll(collection).update_many(doc! {}, update).await.unwrap();
        let e = store
            .search_tickets(t.id, &query(&[term], true))
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::Backend {
                    backend: "mongodb",
                    temporary: false,
                    ..
                }
            ),
            "{e:?}"
        );
        let chain = format!("{}", std::error::Error::source(&e).unwrap());
        assert!(
            chain.contains(collection) && chain.contains(field),
            "{chain}"
        );
    }
}

/// The same words, names and field values in another tenant are never found, and a
/// user's new name is found at once (the old one no longer).
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn tenants_stay_apart_and_the_requester_follows_a_rename() {
    let store = fresh_mongo().await;
    let mut ids = Vec::new();
    let mut bobs = Vec::new();
    for slug in ["acme", "globex"] {
        let t = tenant(slug);
        store.create_tenant(&t).await.unwrap();
        let mut bob = user(&t, Role::Customer, "bob@example.test");
        bob.name = "Bobby Tables".into();
        store.create_user(&bob).await.unwrap();
        let w = new_ticket(t.id, bob.id, 0, "Printer jam", Priority::Low, at(0));
        let mut fields = BTreeMap::new();
        fields.insert("plan".to_owned(), FieldValue::Text("Pro".into()));
        let w = with(w, vec!["vip".into()], fields);
        let ticket = store.create_ticket(w).await.unwrap().ticket;
        post(&store, &ticket, 1, &[(MessageKind::Note, "toner empty")]).await;
        ids.push((t.id, ticket.id));
        bobs.push(bob);
    }
    for (tenant, ticket) in &ids {
        for (terms, source) in [
            (&["printer"][..], SearchSource::Subject),
            (&["vip"], SearchSource::Details),
            (&["pro"], SearchSource::Details),
            (&["tables"], SearchSource::Requester),
            (&["toner"], SearchSource::Note),
        ] {
            assert_eq!(
                found(&store, *tenant, terms).await,
                [(*ticket, source)],
                "{terms:?}"
            );
        }
        let q = TicketQuery {
            fields: vec!["plan=Pro".into()],
            ..TicketQuery::default()
        };
        let listed = store.list_tickets(*tenant, &q).await.unwrap().items;
        assert_eq!(listed.iter().map(|t| t.id).collect::<Vec<_>>(), [*ticket]);
        assert_eq!(store.count_tickets(*tenant, &q).await.unwrap(), 1);
    }
    let (acme, acme_ticket) = ids[0];
    let mut bob = bobs[0].clone();
    bob.name = "Robert Droptable".into();
    store.update_user(&bob).await.unwrap();
    assert!(found(&store, acme, &["tables"]).await.is_empty());
    assert_eq!(
        found(&store, acme, &["droptable"]).await,
        [(acme_ticket, SearchSource::Requester)]
    );
    let (globex, globex_ticket) = ids[1];
    assert_eq!(
        found(&store, globex, &["tables"]).await,
        [(globex_ticket, SearchSource::Requester)]
    );
    assert!(found(&store, globex, &["droptable"]).await.is_empty());
}
