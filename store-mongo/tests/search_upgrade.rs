//! A database of schema version 2 (before search and custom fields) is indexed when a
//! store of this version opens it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use bson::{Document, doc};
use helpdesk_core::domain::{EventKind, FieldValue, MessageKind, Priority, Role};
use helpdesk_core::store::{SearchSource, TenantStore, TicketQuery, TicketStore, UserStore};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, tenant, user};
use helpdesk_store_mongo::{MongoStore, SCHEMA_VERSION};

use common::fresh_mongo;
use common::tickets::{all, found, post, with};

/// A database as schema version 2 left it (no words, tokens, field values or requester
/// texts, none of their indexes, a commit left pending) is indexed when a store opens it:
/// every source is found, drafts stay out, and the version is recorded.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn an_upgraded_database_indexes_what_it_had() {
    let store = fresh_mongo().await;
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let mut zoe = user(&t, Role::Customer, "zoe@quinn-mail.test");
    zoe.name = "Zoë Quinn".into();
    store.create_user(&zoe).await.unwrap();
    let w = new_ticket(t.id, zoe.id, 0, "Printer jam", Priority::Low, at(0));
    let w = with(w, vec!["hardware".into()], BTreeMap::new());
    let ticket = store.create_ticket(w).await.unwrap().ticket;
    let ticket = post(
        &store,
        &ticket,
        1,
        &[
            (MessageKind::Reply, "Toner replaced"),
            (MessageKind::Note, "Warranty expired"),
            (MessageKind::Draft, "Drafted apology"),
        ],
    )
    .await;
    let ticket = post(&store, &ticket, 2, &[(MessageKind::Chat, "Courier called")]).await;
    let db = store.database().clone();
    let coll = |name: &str| db.collection::<Document>(&store.collection_name(name));
    // Version 2: no new fields, no new indexes, the last commit's message only in `pending`.
    coll("tickets")
        .update_many(
            doc! {},
            doc! { "$unset": {
                "search_subject": "", "search_details": "", "field_tokens": "",
                "custom_fields": "",
            } },
        )
        .await
        .unwrap();
    coll("messages")
        .update_many(doc! {}, doc! { "$unset": { "search_body": "" } })
        .await
        .unwrap();
    coll("users")
        .update_many(doc! {}, doc! { "$unset": { "search_requester": "" } })
        .await
        .unwrap();
    for terms in [&["toner"][..], &["jam"], &["quinn"], &["hard"]] {
        assert!(
            found(&store, t.id, terms).await.is_empty(),
            "the simulated version 2 has no words: {terms:?}"
        );
    }
    let chat = all(&store, "messages", doc! { "kind": "chat" }).await;
    coll("messages")
        .delete_many(doc! { "kind": "chat" })
        .await
        .unwrap();
    let mut old_chat = chat[0].clone();
    old_chat.remove("search_body");
    coll("tickets")
        .update_one(
            doc! { "_id": ticket.id.to_string() },
            doc! { "$set": { "pending": {
                "commit": "v2-writer", "version": 3_i64, "events": [],
                "messages": [old_chat], "outbox": [], "attachments": [],
            } } },
        )
        .await
        .unwrap();
    for (collection, index) in [
        ("tickets", "tenant_search_subject"),
        ("tickets", "tenant_search_details"),
        ("tickets", "tenant_field_tokens"),
        ("messages", "tenant_search_body"),
        ("users", "tenant_search_requester"),
    ] {
        coll(collection).drop_index(index).await.unwrap();
    }
    coll("meta")
        .update_one(
            doc! { "_id": "schema" },
            doc! { "$set": { "version": 2_i64 } },
        )
        .await
        .unwrap();

    let store = MongoStore::new(db.clone()).await.unwrap();
    for (terms, source) in [
        (&["jam"][..], SearchSource::Subject),
        (&["hard"], SearchSource::Details),
        (&["quinn"], SearchSource::Requester),
        (&["toner"], SearchSource::Message),
        (&["courier"], SearchSource::Message),
        (&["warranty"], SearchSource::Note),
    ] {
        assert_eq!(
            found(&store, t.id, terms).await,
            [(ticket.id, source)],
            "{terms:?}"
        );
    }
    assert!(found(&store, t.id, &["apology"]).await.is_empty());
    let drafts = all(&store, "messages", doc! { "kind": "draft" }).await;
    assert!(!drafts[0].contains_key("search_body"));
    assert_eq!(
        all(&store, "meta", doc! {}).await,
        [doc! { "_id": "schema", "version": SCHEMA_VERSION as i64 }]
    );
    let stored = store.get_ticket(t.id, ticket.id).await.unwrap().unwrap();
    assert!(stored.custom_fields.is_empty());
    let tickets = all(&store, "tickets", doc! {}).await;
    assert_eq!(tickets[0].get_array("field_tokens").unwrap().len(), 0);
    for (collection, index) in [
        ("tickets", "tenant_search_subject"),
        ("messages", "tenant_search_body"),
        ("users", "tenant_search_requester"),
    ] {
        let names = coll(collection).list_index_names().await.unwrap();
        assert!(names.iter().any(|n| n == index), "{names:?}");
    }
    // Opening again finds nothing more to do, and the fields filter works on new values.
    let store = MongoStore::new(db.clone()).await.unwrap();
    let mut fields = BTreeMap::new();
    fields.insert("plan".to_owned(), FieldValue::Text("Pro".into()));
    let update = change(
        &stored,
        vec![EventKind::CustomFieldsChanged { fields }],
        at(3),
        None,
    );
    store.update_ticket(stored.version, &update).await.unwrap();
    let q = TicketQuery {
        fields: vec!["plan=Pro".into()],
        ..TicketQuery::default()
    };
    assert_eq!(store.list_tickets(t.id, &q).await.unwrap().items.len(), 1);
    assert_eq!(
        found(&store, t.id, &["pro"]).await,
        [(ticket.id, SearchSource::Details)]
    );
}
