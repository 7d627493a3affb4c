//! Erasure on MongoDB beyond the conformance cases: an erasure whose writer stopped right
//! after its commit (the erased ticket stored, its events, attachments and outbox entries
//! not yet changed) is finished by the next reader of the ticket; a learned-triage model
//! stored before models could be retired (no `retired_at` field) is in service and retired
//! like the others.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use bson::{Document, doc};
use futures_util::TryStreamExt;
use helpdesk_core::domain::{ErasureReason, EventKind, Priority, Role};
use helpdesk_core::erasure::Redaction;
use helpdesk_core::store::{
    ErasureStore, MessageFilter, TenantStore, TicketErasure, TicketStore, TriageModel,
    TriageModelStore, UserStore,
};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, tenant, triage_model, user};
use helpdesk_store_mongo::MongoStore;

use common::fresh_mongo;

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

#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn a_stopped_erasure_is_finished_by_the_next_reader() {
    let store = fresh_mongo().await;
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let customer = user(&t, Role::Customer, "customer@acme.test");
    store.create_user(&customer).await.unwrap();
    let w = new_ticket(
        t.id,
        customer.id,
        0,
        "Card 4111 stolen",
        Priority::High,
        at(0),
    );
    let created = store.create_ticket(w).await.unwrap();
    let ticket = created.ticket.clone();
    let events = store.list_events(t.id, ticket.id).await.unwrap();
    let messages = store
        .list_messages(t.id, ticket.id, MessageFilter::All)
        .await
        .unwrap();
    let redaction = Redaction::new(&[]);
    let mut write = change(
        &ticket,
        vec![EventKind::PersonalDataErased {
            reason: ErasureReason::CustomerRequest,
        }],
        at(10),
        None,
    );
    write.ticket = redaction.ticket(&write.ticket);
    write.messages = messages
        .iter()
        .filter_map(|m| redaction.message(m))
        .collect();
    let erasure = TicketErasure {
        write,
        events: events.iter().filter_map(|e| redaction.event(e)).collect(),
        attachments: Vec::new(),
    };
    assert_eq!(erasure.events.len(), 1, "the Created snapshot");
    store.erase_ticket(ticket.version, &erasure).await.unwrap();
    let erased_events = store.list_events(t.id, ticket.id).await.unwrap();

    // Undo what applying did to the Created event, and put the erasure's `erase` part
    // back in `pending`, as a writer that stopped right after its commit leaves it.
    let created_event = &events[0];
    let events_coll = store
        .database()
        .collection::<Document>(&store.collection_name("events"));
    events_coll
        .update_one(
            doc! { "_id": created_event.id.to_string() },
            doc! { "$set": { "kind": bson::to_bson(&created_event.kind).unwrap() } },
        )
        .await
        .unwrap();
    let erased_kind = bson::to_bson(&erasure.events[0].kind).unwrap();
    store
        .database()
        .collection::<Document>(&store.collection_name("tickets"))
        .update_one(
            doc! { "_id": ticket.id.to_string() },
            doc! { "$set": { "pending": {
                "commit": "stopped-erasure",
                "version": 2_i64,
                "events": [],
                "messages": [],
                "outbox": [],
                "attachments": [],
                "erase": {
                    "tenant_id": t.id.to_string(),
                    "at": bson::DateTime::from_millis(at(10).as_millisecond()),
                    "events": [{ "_id": created_event.id.to_string(), "kind": erased_kind }],
                    "attachments": [],
                },
            } } },
        )
        .await
        .unwrap();
    let raw = all(
        &store,
        "events",
        doc! { "_id": created_event.id.to_string() },
    )
    .await;
    assert!(
        format!("{raw:?}").contains("4111"),
        "the text is back before the reader"
    );

    assert_eq!(
        store.list_events(t.id, ticket.id).await.unwrap(),
        erased_events
    );
    let raw = all(&store, "events", doc! {}).await;
    assert!(!format!("{raw:?}").contains("4111"), "{raw:?}");
    assert!(
        all(&store, "tickets", doc! { "pending": { "$exists": true } })
            .await
            .is_empty()
    );
    assert!(
        store
            .retention_due(t.id, at(60 * 24), 10)
            .await
            .unwrap()
            .is_empty(),
        "an erased ticket is not due"
    );
}

#[tokio::test]
async fn a_model_stored_without_a_retirement_field_is_in_service_and_retired_once() {
    let store = fresh_mongo().await;
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let model = triage_model(t.id, 1, b"model");
    store.put_triage_model(&model).await.unwrap();
    store
        .database()
        .collection::<Document>(&store.collection_name("triage_models"))
        .update_one(
            doc! { "_id": format!("{}/1", t.id) },
            doc! { "$unset": { "retired_at": "" } },
        )
        .await
        .unwrap();
    let stored = all(&store, "triage_models", doc! {}).await;
    assert!(!stored[0].contains_key("retired_at"), "{stored:?}");

    assert_eq!(
        store.latest_triage_model(t.id).await.unwrap(),
        Some(model.clone())
    );
    assert_eq!(store.retire_triage_models(t.id, at(2)).await.unwrap(), 1);
    assert_eq!(store.retire_triage_models(t.id, at(3)).await.unwrap(), 0);
    assert_eq!(
        store.latest_triage_model(t.id).await.unwrap(),
        Some(TriageModel {
            retired_at: Some(at(2)),
            ..model
        })
    );
}
