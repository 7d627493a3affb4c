//! Schema upgrades of databases of this layout: a migration that adds to the schema fills
//! or defaults what the rows already there need, and the store keeps working on them
//! (migration 11 indexes them for search, migration 12 gives them no custom field values,
//! migration 20 keeps the learned-triage models there in service).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use helpdesk_core::Store;
use helpdesk_core::domain::{
    AuthorKind, EventKind, FieldValue, Message, MessageKind, Priority, Role,
};
use helpdesk_core::store::{
    RoutingClaim, SearchSource, TenantStore, TicketQuery, TicketStore, TicketWrite, TriageModel,
    TriageModelStore, UserStore,
};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, tenant, triage_model, user};
use helpdesk_store_sqlite::SqliteStore;
use sqlx::SqlitePool;

use common::search;

/// A message of `kind` for a write.
fn message(write: &TicketWrite, kind: MessageKind, body: &str, minute: i64) -> Message {
    Message {
        id: helpdesk_core::MessageId::new(),
        tenant_id: write.ticket.tenant_id,
        ticket_id: write.ticket.id,
        author: None,
        author_kind: AuthorKind::Agent,
        kind,
        body: body.into(),
        created_at: at(minute),
        citations: Vec::new(),
        email: None,
        draft: None,
    }
}

/// Takes migration 20 (retiring learned-triage models) back out of a database: its column
/// and its row in the migrations table.
async fn back_to_version_19(pool: &SqlitePool) {
    for statement in [
        "ALTER TABLE helpdesk_triage_models DROP COLUMN retired_at",
        "DELETE FROM helpdesk_schema_migrations WHERE version = 20",
    ] {
        sqlx::query(statement).execute(pool).await.unwrap();
    }
}

/// Takes migration 19 (learned-triage models) back out of a database: its table and its
/// row in the migrations table.
async fn back_to_version_18(pool: &SqlitePool) {
    back_to_version_19(pool).await;
    for statement in [
        "DROP TABLE helpdesk_triage_models",
        "DELETE FROM helpdesk_schema_migrations WHERE version = 19",
    ] {
        sqlx::query(statement).execute(pool).await.unwrap();
    }
}

/// Takes migration 18 (knowledge-base chunks) back out of a database: its tables, its
/// index and its row in the migrations table.
async fn back_to_version_17(pool: &SqlitePool) {
    back_to_version_18(pool).await;
    for statement in [
        "DROP INDEX helpdesk_articles_updated",
        "DROP TABLE helpdesk_kb_chunks",
        "DROP TABLE helpdesk_kb_articles",
        "DROP TABLE helpdesk_kb_sequences",
        "DELETE FROM helpdesk_schema_migrations WHERE version = 18",
    ] {
        sqlx::query(statement).execute(pool).await.unwrap();
    }
}

/// Takes migration 17 (routing stamps) back out of a database: its column and its row in
/// the migrations table.
async fn back_to_version_16(pool: &SqlitePool) {
    back_to_version_17(pool).await;
    for statement in [
        "ALTER TABLE helpdesk_users DROP COLUMN last_routed",
        "DELETE FROM helpdesk_schema_migrations WHERE version = 17",
    ] {
        sqlx::query(statement).execute(pool).await.unwrap();
    }
}

/// Takes migration 16 (model usage) back out of a database: its table and its row in the
/// migrations table.
async fn back_to_version_15(pool: &SqlitePool) {
    back_to_version_16(pool).await;
    for statement in [
        "DROP TABLE helpdesk_model_usage",
        "DELETE FROM helpdesk_schema_migrations WHERE version = 16",
    ] {
        sqlx::query(statement).execute(pool).await.unwrap();
    }
}

/// Takes migration 15 (erasure) back out of a database: its indexes, its column and its
/// row in the migrations table.
async fn back_to_version_14(pool: &SqlitePool) {
    back_to_version_15(pool).await;
    for statement in [
        "DROP INDEX helpdesk_tickets_retention",
        "DROP INDEX helpdesk_outbox_ticket",
        "DROP INDEX helpdesk_attachments_sha256",
        "ALTER TABLE helpdesk_tickets DROP COLUMN erased_at",
        "DELETE FROM helpdesk_schema_migrations WHERE version = 15",
    ] {
        sqlx::query(statement).execute(pool).await.unwrap();
    }
}

/// Takes migration 13 (teams) back out of a database, as a database of schema version 12
/// with the same rows (none of a team): its index, its column and its row in the
/// migrations table.
async fn back_to_version_12(pool: &SqlitePool) {
    back_to_version_14(pool).await;
    for statement in [
        "DROP INDEX helpdesk_tickets_team",
        "ALTER TABLE helpdesk_tickets DROP COLUMN team",
        "DELETE FROM helpdesk_schema_migrations WHERE version = 13",
    ] {
        sqlx::query(statement).execute(pool).await.unwrap();
    }
}

/// Takes migration 12 (custom fields) back out of a database, as a database of schema
/// version 11 with the same rows (none with custom field values): its two columns and its
/// row in the migrations table.
async fn back_to_version_11(pool: &SqlitePool) {
    back_to_version_12(pool).await;
    for statement in [
        "ALTER TABLE helpdesk_tickets DROP COLUMN field_tokens",
        "ALTER TABLE helpdesk_tickets DROP COLUMN custom_fields",
        "DELETE FROM helpdesk_schema_migrations WHERE version = 12",
    ] {
        sqlx::query(statement).execute(pool).await.unwrap();
    }
}

/// Takes migrations 12 and 11 (search) back out of a database, as a database of schema
/// version 10 with the same rows: also migration 11's triggers, indexes and key tables,
/// the `search_details` column and its row in the migrations table.
async fn back_to_version_10(pool: &SqlitePool) {
    back_to_version_11(pool).await;
    let objects: Vec<(String, String)> = sqlx::query_as(
        "SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'table') \
         AND name LIKE 'helpdesk_%search%' AND sql IS NOT NULL ORDER BY type DESC",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut dropped = 0;
    for (kind, name) in objects {
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = ?)")
                .bind(&name)
                .fetch_one(pool)
                .await
                .unwrap();
        if exists {
            sqlx::query(&format!("DROP {kind} {name}"))
                .execute(pool)
                .await
                .unwrap();
            dropped += 1;
        }
    }
    assert!(
        dropped >= 14,
        "9 triggers, 3 indexes, 2 key tables: {dropped}"
    );
    for statement in [
        "ALTER TABLE helpdesk_tickets DROP COLUMN search_details",
        "DELETE FROM helpdesk_schema_migrations WHERE version = 11",
    ] {
        sqlx::query(statement).execute(pool).await.unwrap();
    }
}

#[tokio::test]
async fn migration_11_indexes_the_rows_already_there_for_search() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v10.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let acme = tenant("acme");
    store.create_tenant(&acme).await.unwrap();
    let mut zoe = user(&acme, Role::Customer, "zoe@quinn-mail.test");
    zoe.name = "Zoë Quinn".into();
    store.create_user(&zoe).await.unwrap();
    let mut write = new_ticket(
        acme.id,
        zoe.id,
        0,
        "Printer jam",
        helpdesk_core::domain::Priority::Low,
        at(1),
    );
    write.ticket.tags = vec!["vip".into(), "hardware".into()];
    let created = store.create_ticket(write).await.unwrap();
    let mut reply = change(&created.ticket, Vec::new(), at(2), None);
    reply.messages = vec![
        message(&reply, MessageKind::Reply, "The toner cartridge leaks", 2),
        message(&reply, MessageKind::Note, "Ordered a replacement drum", 2),
        message(&reply, MessageKind::Draft, "Draftword suggestion", 2),
    ];
    reply.events = reply
        .messages
        .iter()
        .map(|m| helpdesk_core::domain::Event {
            id: helpdesk_core::EventId::new(),
            tenant_id: acme.id,
            ticket_id: created.ticket.id,
            version: 2,
            at: at(2),
            actor: None,
            kind: EventKind::MessageAdded {
                message_id: m.id,
                kind: m.kind,
                author_kind: m.author_kind,
            },
        })
        .collect();
    store.update_ticket(1, &reply).await.unwrap();
    back_to_version_10(store.pool()).await;
    store.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    for (terms, staff, expected) in [
        (&["printer"][..], false, Some(SearchSource::Subject)),
        (&["hardware"][..], true, Some(SearchSource::Details)),
        (&["uinn"][..], true, Some(SearchSource::Requester)),
        (&["toner", "leak"][..], false, Some(SearchSource::Message)),
        (&["replacement"][..], true, Some(SearchSource::Note)),
        (&["replacement"][..], false, None),
        (&["draftword"][..], true, None),
    ] {
        let found = search(&store, acme.id, terms, staff).await;
        let expected: Vec<(String, SearchSource)> = expected
            .map(|s| ("Printer jam".to_owned(), s))
            .into_iter()
            .collect();
        assert_eq!(found, expected, "{terms:?} staff {staff}");
    }
    // And the index follows the writes after the upgrade.
    let stored = store
        .get_ticket(acme.id, created.ticket.id)
        .await
        .unwrap()
        .unwrap();
    let retag = change(
        &stored,
        vec![EventKind::TagsChanged {
            tags: vec!["urgent".into()],
        }],
        at(3),
        None,
    );
    store.update_ticket(stored.version, &retag).await.unwrap();
    assert!(
        search(&store, acme.id, &["hardware"], true)
            .await
            .is_empty()
    );
    assert_eq!(
        search(&store, acme.id, &["urgent"], true).await,
        [("Printer jam".to_owned(), SearchSource::Details)]
    );
}

#[tokio::test]
async fn migration_12_gives_the_tickets_already_there_no_field_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v11.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let acme = tenant("acme");
    store.create_tenant(&acme).await.unwrap();
    let zoe = user(&acme, Role::Customer, "zoe@example.test");
    store.create_user(&zoe).await.unwrap();
    let mut write = new_ticket(
        acme.id,
        zoe.id,
        0,
        "Printer jam",
        helpdesk_core::domain::Priority::Low,
        at(1),
    );
    write.ticket.tags = vec!["hardware".into()];
    let created = store.create_ticket(write).await.unwrap().ticket;
    back_to_version_11(store.pool()).await;
    store.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    let stored = store
        .get_ticket(acme.id, created.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, created);
    assert!(stored.custom_fields.is_empty());
    assert_eq!(
        search(&store, acme.id, &["hardware"], true).await,
        [("Printer jam".to_owned(), SearchSource::Details)]
    );
    // Values written after the upgrade are stored, filtered on and searched.
    let fields: BTreeMap<String, FieldValue> = [
        ("plan".to_owned(), FieldValue::Text("Pro".into())),
        ("seats".to_owned(), FieldValue::Number(12.5)),
    ]
    .into();
    let update = change(
        &stored,
        vec![EventKind::CustomFieldsChanged { fields }],
        at(2),
        None,
    );
    store.update_ticket(stored.version, &update).await.unwrap();
    assert_eq!(
        store.get_ticket(acme.id, created.id).await.unwrap(),
        Some(update.ticket)
    );
    let query = TicketQuery {
        fields: vec!["plan=Pro".into(), "seats=12.5".into()],
        ..TicketQuery::default()
    };
    assert_eq!(
        store
            .list_tickets(acme.id, &query)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert_eq!(store.count_tickets(acme.id, &query).await.unwrap(), 1);
    assert_eq!(
        search(&store, acme.id, &["pro"], true).await,
        [("Printer jam".to_owned(), SearchSource::Details)]
    );
}

#[tokio::test]
async fn migration_17_gives_the_staff_already_there_a_zero_stamp() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v16.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let acme = tenant("acme");
    store.create_tenant(&acme).await.unwrap();
    let mut agent = user(&acme, Role::Agent, "agent@acme.test");
    agent.capacity = 1;
    store.create_user(&agent).await.unwrap();
    let zoe = user(&acme, Role::Customer, "zoe@quinn-mail.test");
    store.create_user(&zoe).await.unwrap();
    back_to_version_16(store.pool()).await;
    store.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    let staff = store.routing_staff(acme.id).await.unwrap();
    assert_eq!(staff.len(), 1);
    assert_eq!((staff[0].user.id, staff[0].last_routed), (agent.id, 0));
    // And a routed write claims the stamp, within the capacity kept on the user row.
    let mut write = new_ticket(acme.id, zoe.id, 0, "Routed", Priority::Low, at(1));
    write.ticket.assignee = Some(agent.id);
    write.routing = RoutingClaim::pick(&staff, agent.id);
    store.create_ticket(write).await.unwrap();
    assert_eq!(
        store.routing_staff(acme.id).await.unwrap()[0].last_routed,
        1
    );
}

#[tokio::test]
async fn migration_20_keeps_the_models_already_there_in_service() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v19.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let acme = tenant("acme");
    store.create_tenant(&acme).await.unwrap();
    let model = triage_model(acme.id, 1, b"model");
    store.put_triage_model(&model).await.unwrap();
    back_to_version_19(store.pool()).await;
    store.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(
        store.latest_triage_model(acme.id).await.unwrap(),
        Some(model.clone())
    );
    assert_eq!(store.retire_triage_models(acme.id, at(2)).await.unwrap(), 1);
    assert_eq!(
        store.latest_triage_model(acme.id).await.unwrap(),
        Some(TriageModel {
            retired_at: Some(at(2)),
            ..model
        })
    );
}
