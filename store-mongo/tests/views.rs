//! Saved views on MongoDB: the stored document, the indexes an existing database gets when
//! a store opens, and the ticket count of a ticket whose commit its writer left pending.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use bson::{Bson, Document, doc};
use futures_util::TryStreamExt;
use helpdesk_core::domain::{
    AuditEvent, AuditKind, Priority, Role, SavedView, TicketStatus, ViewAssignee, ViewFilter,
};
use helpdesk_core::store::{
    AdminChange, AdminWrite, AuditStore, SavedViewStore, TenantStore, TicketQuery, TicketSort,
    TicketStore, UserStore,
};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, tenant, user};
use helpdesk_core::{SavedViewId, TenantId, UserId};
use helpdesk_store_mongo::MongoStore;

use common::fresh_mongo;

async fn seed(store: &MongoStore) -> (TenantId, UserId) {
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let agent = user(&t, Role::Agent, "agent@acme.test");
    store.create_user(&agent).await.unwrap();
    (t.id, agent.id)
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

/// A view is stored with its folded name, a null owner when shared, and its filter as an
/// embedded document in its serde form (what host tools read).
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn a_view_is_stored_with_its_folded_name_and_filter() {
    let store = fresh_mongo().await;
    let (tenant, agent) = seed(&store).await;
    let shared = SavedView {
        id: SavedViewId::new(),
        tenant_id: tenant,
        owner: None,
        team: Some("billing".into()),
        name: "  My Urgent ".into(),
        filter: ViewFilter {
            statuses: vec![TicketStatus::Open],
            priorities: vec![Priority::Urgent],
            assignee: Some(ViewAssignee::Me),
            text: Some("refund".into()),
            sort: TicketSort::Newest,
            ..ViewFilter::default()
        },
        created_by: agent,
        created_at: at(1),
        updated_at: at(1),
    };
    let kind = AuditKind::SavedViewCreated {
        view: shared.id,
        name: shared.name.clone(),
        shared: true,
    };
    let audit = AuditEvent::new(tenant, at(1), None, kind);
    let write = AdminWrite::new(AdminChange::CreateSavedView(shared.clone()), audit);
    store.commit_admin_change(&write).await.unwrap();

    let docs = all(&store, "saved_views", doc! {}).await;
    assert_eq!(docs.len(), 1);
    let d = &docs[0];
    assert_eq!(d.get_str("name_folded"), Ok("my urgent"));
    assert_eq!(d.get("owner"), Some(&Bson::Null));
    let filter = d.get_document("filter").unwrap();
    assert_eq!(
        filter.get_array("statuses").unwrap(),
        &vec![Bson::from("open")]
    );
    assert_eq!(
        filter.get_document("assignee").unwrap(),
        &doc! { "is": "me" }
    );
    assert_eq!(filter.get_str("sort"), Ok("newest"));
    assert_eq!(
        store.get_saved_view(tenant, shared.id).await.unwrap(),
        Some(shared)
    );
    store.database().drop().await.unwrap();
}

/// A database of this schema version written before saved views gets their collection's
/// indexes when a store opens on it.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn an_existing_database_gets_the_view_indexes_on_open() {
    let store = fresh_mongo().await;
    let db = store.database().clone();
    db.collection::<Document>(&store.collection_name("saved_views"))
        .drop()
        .await
        .unwrap();
    let reopened = MongoStore::new(db.clone()).await.unwrap();
    let names = db
        .collection::<Document>(&reopened.collection_name("saved_views"))
        .list_index_names()
        .await
        .unwrap();
    for expected in ["tenant_owner_name_unique", "tenant_name"] {
        assert!(names.iter().any(|n| n == expected), "{names:?}");
    }
    db.drop().await.unwrap();
}

/// A change whose writer stopped before applying it (its events still in the ticket's
/// `pending` field) is counted as listed: both read the ticket document, which the commit's
/// first write already changed.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn a_ticket_with_a_pending_commit_is_counted_as_listed() {
    let store = fresh_mongo().await;
    let (tenant, agent) = seed(&store).await;
    let w = new_ticket(tenant, agent, 0, "Refund please", Priority::Low, at(0));
    let w = store.create_ticket(w).await.unwrap();
    let mut urgent = w.ticket.clone();
    urgent.priority = Priority::Urgent;
    let c = change(&urgent, vec![], at(5), Some(agent));
    store.update_ticket(1, &c).await.unwrap();
    let ticket = w.ticket.id.to_string();
    store
        .database()
        .collection::<Document>(&store.collection_name("tickets"))
        .update_one(
            doc! { "_id": &ticket },
            doc! { "$set": { "pending": {
                "commit": "crashed-writer",
                "version": 2_i64,
                "events": [],
                "messages": [],
                "outbox": [],
            } } },
        )
        .await
        .unwrap();

    let query = TicketQuery {
        priorities: vec![Priority::Urgent],
        text: Some("REFUND".into()),
        ..TicketQuery::default()
    };
    let listed = store.list_tickets(tenant, &query).await.unwrap().items;
    assert_eq!(listed.len(), 1);
    assert_eq!(store.count_tickets(tenant, &query).await.unwrap(), 1);
    let low = TicketQuery {
        priorities: vec![Priority::Low],
        ..TicketQuery::default()
    };
    assert_eq!(store.count_tickets(tenant, &low).await.unwrap(), 0);
    store.database().drop().await.unwrap();
}
