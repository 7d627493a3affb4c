//! Behaviour specific to the MongoDB backend: 64 concurrent writers, recovery of a commit
//! whose writer stopped before applying it (attachments too), racing counters and leases,
//! schema set-up.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use bson::{Bson, Document, doc};
use futures_util::TryStreamExt;
use helpdesk_core::domain::{
    Attachment, AuthorKind, EventKind, Message, MessageKind, NotificationKind, Priority, Role,
    Sha256, TicketStatus,
};
use helpdesk_core::store::{
    AttachmentStore, LeaseStore, OutboxStore, TenantStore, TicketStore, TicketWrite, UserStore,
};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, outbox_entry, tenant, user};
use helpdesk_core::{AttachmentId, Error, MessageId, Store, TenantId, UserId};
use helpdesk_store_mongo::MongoStore;

use common::{fresh_db_name, fresh_mongo};

async fn seed(store: &MongoStore) -> (TenantId, UserId, TicketWrite) {
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let customer = user(&t, Role::Customer, "customer@acme.test");
    store.create_user(&customer).await.unwrap();
    let w = new_ticket(t.id, customer.id, 0, "Hot", Priority::Low, at(0));
    let w = store.create_ticket(w).await.unwrap();
    (t.id, customer.id, w)
}

/// 64 tasks do read-modify-write updates of one ticket, retrying on `Conflict`: the final
/// version and the event count equal 1 + the successful updates, and no tag is lost.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_writers_lose_no_update() {
    let store = Arc::new(fresh_mongo().await);
    let (tenant, _, w) = seed(&store).await;
    let id = w.ticket.id;
    let mut set = tokio::task::JoinSet::new();
    for task in 0..64usize {
        let store = store.clone();
        set.spawn(async move {
            let (mut conflicts, mut attempts) = (0usize, 0usize);
            loop {
                attempts += 1;
                assert!(attempts < 5_000, "task {task} starved");
                let current = store.get_ticket(tenant, id).await.unwrap().unwrap();
                let mut tags = current.tags.clone();
                tags.push(format!("task-{task}"));
                let c = change(&current, vec![EventKind::TagsChanged { tags }], at(1), None);
                match store.update_ticket(current.version, &c).await {
                    Ok(()) => return conflicts,
                    Err(Error::Conflict { .. }) => conflicts += 1,
                    Err(e) if e.is_temporary() => {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                    Err(e) => panic!("task {task}: {e:?}"),
                }
            }
        });
    }
    let mut conflicts = 0;
    while let Some(r) = set.join_next().await {
        conflicts += r.unwrap();
    }
    let t = store.get_ticket(tenant, id).await.unwrap().unwrap();
    assert_eq!(t.version, 65, "one version per successful update");
    let mut tags = t.tags.clone();
    tags.sort();
    tags.dedup();
    assert_eq!(tags.len(), 64, "every task's tag is kept");
    let events = store.list_events(tenant, id).await.unwrap();
    assert_eq!(events.len(), 65, "one event per successful update");
    assert_eq!(helpdesk_core::domain::Ticket::replay(&events), Some(t));
    assert!(conflicts > 0, "the test produced no contention at all");
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

/// Puts a ticket back into the state a writer leaves when it stops right after its commit:
/// the last commit's events, messages and outbox entries only inside `pending`.
async fn unapply_last_commit(store: &MongoStore, ticket: &str, version: i64) {
    let db = store.database();
    let by_ticket = doc! { "ticket_id": ticket };
    let events = all(
        store,
        "events",
        doc! { "ticket_id": ticket, "version": version },
    )
    .await;
    let messages = all(
        store,
        "messages",
        doc! { "ticket_id": ticket, "ticket_version": version },
    )
    .await;
    let outbox: Vec<Document> = all(store, "outbox", by_ticket.clone())
        .await
        .into_iter()
        .filter(|o| o.get_str("kind") == Ok("status_changed"))
        .collect();
    assert!(!events.is_empty() && !outbox.is_empty());
    for (collection, docs) in [
        ("events", &events),
        ("messages", &messages),
        ("outbox", &outbox),
    ] {
        for d in docs {
            db.collection::<Document>(&store.collection_name(collection))
                .delete_one(doc! { "_id": d.get("_id").unwrap().clone() })
                .await
                .unwrap();
        }
    }
    let as_array =
        |docs: &Vec<Document>| docs.iter().cloned().map(Bson::Document).collect::<Vec<_>>();
    db.collection::<Document>(&store.collection_name("tickets"))
        .update_one(
            doc! { "_id": ticket },
            doc! { "$set": { "pending": {
                "commit": "crashed-writer",
                "version": version,
                "events": as_array(&events),
                "messages": as_array(&messages),
                "outbox": as_array(&outbox),
            } } },
        )
        .await
        .unwrap();
}

/// A commit whose writer stopped before applying it is applied by the next reader, and by
/// the next writer; nothing of it is lost or applied twice.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_left_pending_is_applied_by_readers_and_writers() {
    let store = fresh_mongo().await;
    let (tenant, customer, w) = seed(&store).await;
    let id = w.ticket.id.to_string();
    let mut c = change(
        &w.ticket,
        vec![EventKind::StatusChanged {
            from: TicketStatus::New,
            to: TicketStatus::Open,
        }],
        at(5),
        None,
    );
    c.outbox.push(outbox_entry(
        &c.ticket,
        vec![customer],
        NotificationKind::StatusChanged {
            from: TicketStatus::New,
            to: TicketStatus::Open,
        },
        at(5),
    ));
    store.update_ticket(1, &c).await.unwrap();

    // Readers: events, outbox (tenant and due), each settling the pending commit.
    unapply_last_commit(&store, &id, 2).await;
    assert_eq!(
        store.list_events(tenant, w.ticket.id).await.unwrap().len(),
        2
    );
    assert_eq!(
        all(&store, "tickets", doc! { "pending": { "$exists": true } })
            .await
            .len(),
        0
    );
    unapply_last_commit(&store, &id, 2).await;
    let due = store.due_outbox(at(10), 10).await.unwrap();
    assert_eq!(
        due.len(),
        2,
        "the created and the pending status-change notification"
    );
    unapply_last_commit(&store, &id, 2).await;
    assert_eq!(store.list_outbox(tenant).await.unwrap().len(), 2);

    // A writer: a stale writer still conflicts; the up-to-date one settles and commits.
    unapply_last_commit(&store, &id, 2).await;
    let stale = change(
        &w.ticket,
        vec![EventKind::TagsChanged {
            tags: vec!["x".into()],
        }],
        at(6),
        None,
    );
    assert!(matches!(
        store.update_ticket(1, &stale).await,
        Err(Error::Conflict { expected: 1, .. })
    ));
    let next = change(
        &c.ticket,
        vec![EventKind::TagsChanged {
            tags: vec!["y".into()],
        }],
        at(7),
        None,
    );
    store.update_ticket(2, &next).await.unwrap();
    let events = store.list_events(tenant, w.ticket.id).await.unwrap();
    assert_eq!(events.len(), 3, "created, status change (settled), tags");
    assert_eq!(
        helpdesk_core::domain::Ticket::replay(&events),
        store.get_ticket(tenant, w.ticket.id).await.unwrap()
    );
    assert_eq!(
        store.list_outbox(tenant).await.unwrap().len(),
        2,
        "applied once"
    );
}

/// First creates of a new tenant race to insert its counter; every ticket still gets a
/// distinct number.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_first_ticket_numbers_are_distinct() {
    let store = Arc::new(fresh_mongo().await);
    let tenant = TenantId::new();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..24 {
        let store = store.clone();
        set.spawn(async move {
            let w = new_ticket(tenant, UserId::new(), 0, "Racing", Priority::Low, at(0));
            store
                .create_ticket(w)
                .await
                .unwrap_or_else(|e| panic!("{e:?}"))
                .ticket
                .number
        });
    }
    let mut numbers = Vec::new();
    while let Some(n) = set.join_next().await {
        numbers.push(n.unwrap());
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=24).collect::<Vec<u64>>());
}

/// Many instances racing for one lease: exactly one holds it.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_lease_acquisitions_have_one_winner() {
    let store = Arc::new(fresh_mongo().await);
    let mut set = tokio::task::JoinSet::new();
    for i in 0..16 {
        let store = store.clone();
        set.spawn(async move {
            store
                .try_acquire_lease(
                    "sweep",
                    &format!("instance-{i}"),
                    at(0),
                    Duration::from_secs(30),
                )
                .await
                .unwrap()
        });
    }
    let mut winners = 0;
    while let Some(won) = set.join_next().await {
        winners += usize::from(won.unwrap());
    }
    assert_eq!(winners, 1);
}

/// Opening a store twice on one database (two app instances) is fine, and the unique
/// indexes exist.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn schema_set_up_is_idempotent() {
    let uri = std::env::var("MONGODB_URI").unwrap();
    let name = fresh_db_name();
    let (a, b) = tokio::join!(
        MongoStore::connect(&uri, &name),
        MongoStore::connect(&uri, &name)
    );
    let (a, _b) = (a.unwrap(), b.unwrap());
    let again = MongoStore::new(a.database().clone()).await.unwrap();
    assert_eq!(again.backend_name(), "mongodb");
    let names: Vec<String> = a
        .database()
        .collection::<Document>(&a.collection_name("tickets"))
        .list_index_names()
        .await
        .unwrap();
    for expected in ["tenant_number_unique", "tenant_idempotency_key_unique"] {
        assert!(names.iter().any(|n| n == expected), "{names:?}");
    }
    assert!(format!("{a:?}").contains(&name));
}

/// A bad database name is refused before connecting, naming the field.
#[tokio::test]
async fn connect_validates_the_database_name() {
    match MongoStore::connect("mongodb://127.0.0.1:1", "bad.name").await {
        Err(Error::Validation { field, .. }) => assert_eq!(field, "db_name"),
        other => panic!("expected a validation error, got {other:?}"),
    }
    match MongoStore::connect("not a uri", "fine").await {
        Err(Error::Configuration { field, message }) => {
            assert_eq!(field, "uri");
            assert!(!message.contains("not a uri"), "the URI is not echoed");
        }
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

/// Documents that do not have the shape the store writes are typed backend errors naming
/// the collection and field, not panics or silent defaults.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn malformed_documents_are_typed_errors() {
    let store = fresh_mongo().await;
    let (tenant, _, w) = seed(&store).await;
    store
        .database()
        .collection::<Document>(&store.collection_name("tickets"))
        .update_one(
            doc! { "_id": w.ticket.id.to_string() },
            doc! { "$set": { "created_at": "yesterday" } },
        )
        .await
        .unwrap();
    let e = store.get_ticket(tenant, w.ticket.id).await.unwrap_err();
    assert!(matches!(
        e,
        Error::Backend {
            backend: "mongodb",
            temporary: false,
            ..
        }
    ));
    let chain = format!("{}", std::error::Error::source(&e).unwrap());
    assert!(
        chain.contains("tickets") && chain.contains("created_at"),
        "{chain}"
    );
}

/// A commit with a file whose writer stopped before applying it: the file's metadata is
/// only in the ticket's `pending` commit, and `get_attachment` and `list_attachments` apply
/// it before they read, once.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn a_pending_attachment_is_applied_by_its_readers() {
    let store = fresh_mongo().await;
    let (tenant, customer, mut w) = seed(&store).await;
    let mut c = change(&w.ticket, Vec::new(), at(5), Some(customer));
    let message = Message {
        id: MessageId::new(),
        tenant_id: tenant,
        ticket_id: w.ticket.id,
        author: Some(customer),
        author_kind: AuthorKind::Customer,
        kind: MessageKind::Reply,
        body: "the log".into(),
        created_at: at(5),
        citations: Vec::new(),
        email: None,
        draft: None,
    };
    let file = Attachment {
        id: AttachmentId::new(),
        tenant_id: tenant,
        ticket_id: w.ticket.id,
        message_id: Some(message.id),
        file_name: "log.txt".into(),
        content_type: "text/plain".into(),
        size: 3,
        sha256: Sha256::digest(b"log"),
        uploaded_by: Some(customer),
        created_at: at(5),
    };
    c.messages.push(message);
    c.attachments.push(file.clone());
    store.update_ticket(1, &c).await.unwrap();
    w.ticket = c.ticket.clone();

    // Undo the copy and put the commit back in `pending`, as a writer that stopped leaves it.
    let pending_of = |attachment: Document| {
        doc! { "$set": { "pending": {
            "commit": "crashed-writer",
            "version": 2_i64,
            "events": [],
            "messages": [],
            "outbox": [],
            "attachments": [attachment],
        } } }
    };
    let stored = all(&store, "attachments", doc! {}).await;
    assert_eq!(stored.len(), 1);
    for read_by_id in [true, false] {
        store
            .database()
            .collection::<Document>(&store.collection_name("attachments"))
            .delete_many(doc! {})
            .await
            .unwrap();
        store
            .database()
            .collection::<Document>(&store.collection_name("tickets"))
            .update_one(
                doc! { "_id": w.ticket.id.to_string() },
                pending_of(stored[0].clone()),
            )
            .await
            .unwrap();
        if read_by_id {
            assert_eq!(
                store.get_attachment(tenant, file.id).await.unwrap(),
                Some(file.clone())
            );
        } else {
            assert_eq!(
                store.list_attachments(tenant, w.ticket.id).await.unwrap(),
                vec![file.clone()]
            );
        }
        assert!(
            all(&store, "tickets", doc! { "pending": { "$exists": true } })
                .await
                .is_empty()
        );
        assert_eq!(all(&store, "attachments", doc! {}).await, stored, "once");
    }
}
