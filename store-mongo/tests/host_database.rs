//! The store as a guest in the host's database: prefixed collections next to the host's own,
//! the upgrade of the unprefixed layout of earlier releases, and the refusal of a database
//! a newer engine wrote.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use bson::{Document, doc};
use futures_util::TryStreamExt;
use helpdesk_core::domain::{EventKind, Priority, Role};
use helpdesk_core::store::{TenantStore, TicketStore, UserStore};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, tenant, user};
use helpdesk_core::{Error, TenantId, TicketId};
use helpdesk_store_mongo::{MongoStore, MongoStoreOptions, SCHEMA_VERSION};
use mongodb::Database;

use common::fresh_db_name;

async fn fresh_database() -> Database {
    let uri = std::env::var("MONGODB_URI").expect("MONGODB_URI is set");
    mongodb::Client::with_uri_str(&uri)
        .await
        .unwrap()
        .database(&fresh_db_name())
}

fn unprefixed() -> MongoStoreOptions {
    MongoStoreOptions::default().collection_prefix("").unwrap()
}

async fn docs(db: &Database, collection: &str) -> Vec<Document> {
    db.collection::<Document>(collection)
        .find(doc! {})
        .sort(doc! { "_id": 1 })
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}

async fn collections(db: &Database) -> Vec<String> {
    let mut names = db.list_collection_names().await.unwrap();
    names.sort();
    names
}

/// The host's own `users`, `tickets` and `tenants`: documents of its own shape and a unique
/// index of its own.
async fn create_host_collections(db: &Database) {
    db.collection::<Document>("users")
        .insert_many([
            doc! { "_id": 1, "login": "alice", "email": "alice@host.test" },
            doc! { "_id": 2, "login": "bob", "email": "bob@host.test" },
        ])
        .await
        .unwrap();
    db.collection::<Document>("users")
        .create_index(
            mongodb::IndexModel::builder()
                .keys(doc! { "login": 1 })
                .options(
                    mongodb::options::IndexOptions::builder()
                        .name("host_login".to_string())
                        .unique(true)
                        .build(),
                )
                .build(),
        )
        .await
        .unwrap();
    db.collection::<Document>("tickets")
        .insert_one(doc! { "_id": "T-1", "event": "concert", "seat": 12 })
        .await
        .unwrap();
    db.collection::<Document>("tenants")
        .insert_one(doc! { "_id": "flat-3", "rent": 900 })
        .await
        .unwrap();
}

async fn host_snapshot(db: &Database) -> Vec<(Vec<Document>, Vec<String>)> {
    let mut snapshot = Vec::new();
    for name in ["users", "tickets", "tenants"] {
        let mut indexes = db
            .collection::<Document>(name)
            .list_index_names()
            .await
            .unwrap();
        indexes.sort();
        snapshot.push((docs(db, name).await, indexes));
    }
    snapshot
}

/// A tenant, a customer and an agent, a ticket with its created event, message and outbox
/// entry, and a second event: what the upgrade has to carry.
async fn seed(store: &MongoStore) -> (TenantId, TicketId) {
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let customer = user(&t, Role::Customer, "customer@acme.test");
    store.create_user(&customer).await.unwrap();
    store
        .create_user(&user(&t, Role::Agent, "agent@acme.test"))
        .await
        .unwrap();
    let w = new_ticket(t.id, customer.id, 0, "Printer", Priority::High, at(0));
    let w = store.create_ticket(w).await.unwrap();
    let c = change(
        &w.ticket,
        vec![EventKind::TagsChanged {
            tags: vec!["paper".into()],
        }],
        at(1),
        None,
    );
    store.update_ticket(w.ticket.version, &c).await.unwrap();
    (t.id, w.ticket.id)
}

/// Whatever the order, the store never reads or writes the host's `users`, `tickets` or
/// `tenants`, and works next to them; reopening the store does not take them for an old
/// layout either.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn host_collections_are_untouched_in_either_order() {
    for host_first in [true, false] {
        let db = fresh_database().await;
        if host_first {
            create_host_collections(&db).await;
        }
        let before = MongoStore::new(db.clone()).await.unwrap();
        if !host_first {
            create_host_collections(&db).await;
        }
        let snapshot = host_snapshot(&db).await;
        let (tenant, ticket) = seed(&before).await;
        // A restart next to the host's collections.
        let store = MongoStore::new(db.clone()).await.unwrap();
        assert_eq!(
            host_snapshot(&db).await,
            snapshot,
            "host_first={host_first}"
        );
        assert_eq!(store.list_users(tenant, None).await.unwrap().len(), 2);
        assert_eq!(store.list_events(tenant, ticket).await.unwrap().len(), 2);
        assert_eq!(
            docs(&db, "helpdesk_tickets").await.len(),
            1,
            "the ticket is in the helpdesk's collection"
        );
        let names = collections(&db).await;
        assert!(names.contains(&"helpdesk_meta".to_string()), "{names:?}");
        db.drop().await.unwrap();
    }
}

/// A database of the unprefixed layout of earlier releases (no version document) is moved
/// under the prefix with everything in it, and the old collections are gone afterwards.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn the_unprefixed_layout_is_upgraded_with_its_data() {
    let db = fresh_database().await;
    let old = MongoStore::with_options(db.clone(), unprefixed())
        .await
        .unwrap();
    let (tenant, ticket) = seed(&old).await;
    let tickets = old.get_ticket(tenant, ticket).await.unwrap();
    let users = old.list_users(tenant, None).await.unwrap();
    let events = old.list_events(tenant, ticket).await.unwrap();
    let messages = docs(&db, "messages").await;
    let outbox = docs(&db, "outbox").await;
    assert!(!messages.is_empty() && !outbox.is_empty());
    // Earlier releases kept no version document and had no API keys, webhooks,
    // attachments, quarantine, canned responses, saved views, model usage,
    // knowledge-base chunks or triage models: exactly their layout. (An unprefixed `api_keys` next to that layout is the host's, never moved.)
    db.collection::<Document>("meta").drop().await.unwrap();
    db.collection::<Document>("api_keys").drop().await.unwrap();
    db.collection::<Document>("webhooks").drop().await.unwrap();
    db.collection::<Document>("attachments")
        .drop()
        .await
        .unwrap();
    db.collection::<Document>("quarantine")
        .drop()
        .await
        .unwrap();
    db.collection::<Document>("canned_responses")
        .drop()
        .await
        .unwrap();
    db.collection::<Document>("saved_views")
        .drop()
        .await
        .unwrap();
    db.collection::<Document>("model_usage")
        .drop()
        .await
        .unwrap();
    for later in ["kb_sequences", "kb_articles", "kb_chunks", "triage_models"] {
        db.collection::<Document>(later).drop().await.unwrap();
    }

    let store = MongoStore::new(db.clone()).await.unwrap();
    assert_eq!(store.get_ticket(tenant, ticket).await.unwrap(), tickets);
    assert_eq!(store.list_users(tenant, None).await.unwrap(), users);
    assert_eq!(store.list_events(tenant, ticket).await.unwrap(), events);
    assert_eq!(docs(&db, "helpdesk_messages").await, messages);
    assert_eq!(docs(&db, "helpdesk_outbox").await, outbox);
    let names = collections(&db).await;
    assert!(
        names.iter().all(|n| n.starts_with("helpdesk_")),
        "old collections left: {names:?}"
    );
    let version = docs(&db, "helpdesk_meta").await;
    assert_eq!(
        version,
        vec![doc! { "_id": "schema", "version": SCHEMA_VERSION as i64 }]
    );
    // The ticket counter came along: numbering goes on where it stopped.
    let requester = users[0].id;
    let next = new_ticket(tenant, requester, 0, "Next", Priority::Low, at(2));
    assert_eq!(store.create_ticket(next).await.unwrap().ticket.number, 2);
    db.drop().await.unwrap();
}

/// An unprefixed store of this release records its version, so a prefixed store in the
/// same database leaves its collections alone instead of taking them for an old layout.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn an_unprefixed_store_of_this_release_is_not_upgraded() {
    let db = fresh_database().await;
    let bare = MongoStore::with_options(db.clone(), unprefixed())
        .await
        .unwrap();
    let (tenant, ticket) = seed(&bare).await;
    let prefixed = MongoStore::new(db.clone()).await.unwrap();
    assert_eq!(prefixed.get_ticket(tenant, ticket).await.unwrap(), None);
    assert!(bare.get_ticket(tenant, ticket).await.unwrap().is_some());
    db.drop().await.unwrap();
}

/// A version newer than this build's is refused with a typed error, and nothing is written:
/// no collection, no index, no version change.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn a_newer_schema_is_refused_unwritten() {
    for (prefix, meta) in [("helpdesk_", "helpdesk_meta"), ("", "meta")] {
        let db = fresh_database().await;
        db.collection::<Document>(meta)
            .insert_one(doc! { "_id": "schema", "version": 99_i64 })
            .await
            .unwrap();
        let options = MongoStoreOptions::default()
            .collection_prefix(prefix)
            .unwrap();
        match MongoStore::with_options(db.clone(), options).await {
            Err(Error::SchemaTooNew {
                backend,
                found,
                supported,
                ..
            }) => {
                assert_eq!((backend, found, supported), ("mongodb", 99, SCHEMA_VERSION));
            }
            other => panic!("expected SchemaTooNew, got {other:?}"),
        }
        assert_eq!(collections(&db).await, vec![meta.to_string()]);
        assert_eq!(
            docs(&db, meta).await,
            vec![doc! { "_id": "schema", "version": 99_i64 }]
        );
        db.drop().await.unwrap();
    }
}

/// A newer engine's unprefixed store next to an old-looking layout is not moved either.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn a_newer_unprefixed_store_is_not_upgraded() {
    let db = fresh_database().await;
    let bare = MongoStore::with_options(db.clone(), unprefixed())
        .await
        .unwrap();
    seed(&bare).await;
    db.collection::<Document>("meta")
        .update_one(
            doc! { "_id": "schema" },
            doc! { "$set": { "version": 7_i64 } },
        )
        .await
        .unwrap();
    let before = collections(&db).await;
    match MongoStore::new(db.clone()).await {
        Err(Error::SchemaTooNew { found: 7, .. }) => {}
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert_eq!(collections(&db).await, before, "nothing created or dropped");
    db.drop().await.unwrap();
}

/// A custom prefix names every collection; a bad one is refused naming the field.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn a_custom_prefix_names_every_collection() {
    let uri = std::env::var("MONGODB_URI").unwrap();
    let name = fresh_db_name();
    let options = MongoStoreOptions::default()
        .collection_prefix("support.")
        .unwrap();
    let store = MongoStore::connect_with(&uri, &name, options)
        .await
        .unwrap();
    assert_eq!(store.collection_prefix(), "support.");
    assert_eq!(store.collection_name("tickets"), "support.tickets");
    seed(&store).await;
    let names = collections(store.database()).await;
    assert!(names.iter().all(|n| n.starts_with("support.")), "{names:?}");
    assert!(names.contains(&"support.tickets".to_string()));
    store.database().drop().await.unwrap();
}

/// The prefix is validated before anything connects.
#[test]
fn a_bad_prefix_names_the_field() {
    match MongoStoreOptions::default().collection_prefix("help desk") {
        Err(Error::Validation { field, .. }) => assert_eq!(field, "collection_prefix"),
        other => panic!("expected a validation error, got {other:?}"),
    }
}
