//! Canned responses on MongoDB: the stored document, the indexes an existing database gets
//! when a store opens, and the usage count of a commit its writer left pending.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use bson::{Bson, Document, doc};
use futures_util::TryStreamExt;
use helpdesk_core::domain::{
    AuditEvent, AuditKind, CannedActions, CannedResponse, EventKind, Priority, Role, TicketStatus,
};
use helpdesk_core::store::{
    AdminChange, AdminWrite, AuditStore, CannedResponseStore, TenantStore, TicketStore, UserStore,
};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, tenant, user};
use helpdesk_core::{CannedResponseId, TenantId, UserId};
use helpdesk_store_mongo::MongoStore;

use common::fresh_mongo;

async fn seed(store: &MongoStore) -> (TenantId, UserId) {
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let agent = user(&t, Role::Agent, "agent@acme.test");
    store.create_user(&agent).await.unwrap();
    (t.id, agent.id)
}

fn canned(tenant: TenantId, owner: Option<UserId>, name: &str, creator: UserId) -> CannedResponse {
    CannedResponse {
        id: CannedResponseId::new(),
        tenant_id: tenant,
        owner,
        name: name.into(),
        body: "Hello {{customer.name}}.".into(),
        internal: false,
        actions: CannedActions {
            status: Some(TicketStatus::Pending),
            add_tags: vec!["refund".into()],
            ..CannedActions::default()
        },
        created_by: creator,
        created_at: at(1),
        updated_at: at(1),
    }
}

async fn create(store: &MongoStore, c: &CannedResponse) {
    let kind = AuditKind::CannedResponseCreated {
        canned_response: c.id,
        name: c.name.clone(),
        shared: c.owner.is_none(),
    };
    let audit = AuditEvent::new(c.tenant_id, at(1), None, kind);
    let change = AdminChange::CreateCannedResponse(c.clone());
    store
        .commit_admin_change(&AdminWrite::new(change, audit))
        .await
        .unwrap();
}

async fn all(store: &MongoStore, collection: &str, filter: Document) -> Vec<Document> {
    store
        .database()
        .collection::<Document>(&store.collection_name(collection))
        .find(filter)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}

async fn index_names(store: &MongoStore, collection: &str) -> Vec<String> {
    store
        .database()
        .collection::<Document>(&store.collection_name(collection))
        .list_index_names()
        .await
        .unwrap()
}

/// A response is stored with its folded name, a null owner when shared, and its actions
/// as an embedded document (what host tools and the cross-check read).
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn a_response_is_stored_with_its_folded_name() {
    let store = fresh_mongo().await;
    let (tenant, agent) = seed(&store).await;
    let shared = canned(tenant, None, "  Refund Issued ", agent);
    create(&store, &shared).await;
    let docs = all(&store, "canned_responses", doc! {}).await;
    assert_eq!(docs.len(), 1);
    let d = &docs[0];
    assert_eq!(d.get_str("name_folded"), Ok("refund issued"));
    assert_eq!(d.get("owner"), Some(&Bson::Null));
    let actions = d.get_document("actions").unwrap();
    assert_eq!(actions.get_str("status"), Ok("pending"));
    assert_eq!(
        store.get_canned_response(tenant, shared.id).await.unwrap(),
        Some(shared)
    );
    store.database().drop().await.unwrap();
}

/// A database of this schema version written before canned responses (no collection, no
/// events index for the usage) gets both when a store opens on it.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn an_existing_database_gets_the_canned_indexes_on_open() {
    let store = fresh_mongo().await;
    let db = store.database().clone();
    db.collection::<Document>(&store.collection_name("canned_responses"))
        .drop()
        .await
        .unwrap();
    db.collection::<Document>(&store.collection_name("events"))
        .drop_index("tenant_type_at")
        .await
        .unwrap();
    let reopened = MongoStore::new(db.clone()).await.unwrap();
    let canned = index_names(&reopened, "canned_responses").await;
    for expected in ["tenant_owner_name_unique", "tenant_name"] {
        assert!(canned.iter().any(|n| n == expected), "{canned:?}");
    }
    let events = index_names(&reopened, "events").await;
    assert!(events.iter().any(|n| n == "tenant_type_at"), "{events:?}");
    db.drop().await.unwrap();
}

/// A use committed by a writer that stopped before applying its commit (the event only in
/// the ticket's `pending` field) is counted: the usage settles the tenant first, like the
/// event feed.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn a_use_left_pending_is_counted() {
    let store = fresh_mongo().await;
    let (tenant, agent) = seed(&store).await;
    let refund = CannedResponseId::new();
    let w = new_ticket(tenant, agent, 0, "Refund", Priority::Low, at(0));
    let w = store.create_ticket(w).await.unwrap();
    let applied = EventKind::CannedResponseApplied {
        canned_response: refund,
        name: "refund".into(),
    };
    let c = change(&w.ticket, vec![applied], at(5), Some(agent));
    store.update_ticket(1, &c).await.unwrap();

    // Put the commit back into `pending`, as a writer that stopped leaves it.
    let ticket = w.ticket.id.to_string();
    let events = all(
        &store,
        "events",
        doc! { "ticket_id": &ticket, "version": 2 },
    )
    .await;
    assert_eq!(events.len(), 1);
    let db = store.database();
    db.collection::<Document>(&store.collection_name("events"))
        .delete_many(doc! { "ticket_id": &ticket, "version": 2 })
        .await
        .unwrap();
    let events: Vec<Bson> = events.into_iter().map(Bson::Document).collect();
    db.collection::<Document>(&store.collection_name("tickets"))
        .update_one(
            doc! { "_id": &ticket },
            doc! { "$set": { "pending": {
                "commit": "crashed-writer",
                "version": 2_i64,
                "events": events,
                "messages": [],
                "outbox": [],
            } } },
        )
        .await
        .unwrap();

    let usage = store.canned_response_usage(tenant, at(5)).await.unwrap();
    assert_eq!(usage.len(), 1, "{usage:?}");
    assert_eq!(
        (
            usage[0].canned_response,
            usage[0].uses,
            usage[0].last_used_at
        ),
        (refund, 1, at(5))
    );
    assert!(
        all(&store, "tickets", doc! { "pending": { "$exists": true } })
            .await
            .is_empty(),
        "the pending commit was applied"
    );
    db.drop().await.unwrap();
}
