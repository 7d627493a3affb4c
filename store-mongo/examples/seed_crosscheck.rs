//! Writes a small, complete data set through `MongoStore` into the database named on the
//! command line (with the collection prefix given second, else the store's default), and
//! prints a JSON manifest of what it wrote, the prefix and schema version included.
//! `scripts/mongo_crosscheck.py` runs it and reads the documents back with pymongo.
//!
//! ```sh
//! MONGODB_URI=mongodb://127.0.0.1:27017 cargo run -p helpdesk-store-mongo --example seed_crosscheck -- hdcross_demo [PREFIX]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use helpdesk_core::domain::{
    Article, AuthSession, AuthorKind, ChatSession, ChatState, Csat, DraftInfo, DraftSource,
    DraftState, EventKind, Message, MessageKind, NotificationKind, PasswordHash, Priority, Role,
    SlaState, TicketStatus,
};
use helpdesk_core::store::{
    ArticleStore, ChatStore, LeaseStore, MessageFilter, TenantStore, TicketStore, UserStore,
};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, outbox_entry, tenant, user};
use helpdesk_core::{ArticleId, ChatSessionId, MessageId};
use helpdesk_store_mongo::{MongoStore, MongoStoreOptions, SCHEMA_VERSION};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let db = std::env::args()
        .nth(1)
        .expect("usage: seed_crosscheck DATABASE_NAME [COLLECTION_PREFIX]");
    let mut options = MongoStoreOptions::default();
    if let Some(prefix) = std::env::args().nth(2) {
        options = options.collection_prefix(prefix).expect("a valid prefix");
    }
    let uri = std::env::var("MONGODB_URI").expect("MONGODB_URI is set");
    let store = MongoStore::connect_with(&uri, &db, options)
        .await
        .expect("connect");

    let t = tenant("crosscheck");
    store.create_tenant(&t).await.unwrap();
    let customer = user(&t, Role::Customer, "customer@crosscheck.test");
    let mut agent = user(&t, Role::Agent, "agent@crosscheck.test");
    agent.skills = vec!["billing".into()];
    agent.capacity = 5;
    let admin = user(&t, Role::Admin, "admin@crosscheck.test");
    for u in [&customer, &agent] {
        store.create_user(u).await.unwrap();
    }
    let hash = PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
    store
        .create_user_with_password(&admin, &hash)
        .await
        .unwrap();
    store
        .create_session(&AuthSession {
            token_hash: "c".repeat(64),
            tenant_id: t.id,
            user_id: agent.id,
            created_at: at(0),
            expires_at: at(600),
        })
        .await
        .unwrap();

    // A ticket with an idempotency key, then one change with several events, a reply, a
    // draft and a notification.
    let created_at = at(0).checked_add(Duration::from_millis(123)).unwrap();
    let mut w = new_ticket(
        t.id,
        customer.id,
        0,
        "Invoice twice",
        Priority::High,
        created_at,
    );
    w.idempotency_key = Some("mail-1@example.com".into());
    let w = store.create_ticket(w).await.unwrap();

    let reply_id = MessageId::new();
    let draft_id = MessageId::new();
    let mut c = change(
        &w.ticket,
        vec![
            EventKind::SlaScheduled {
                sla: SlaState {
                    first_response_due: Some(at(60)),
                    resolution_due: Some(at(480)),
                    ..SlaState::default()
                },
            },
            EventKind::Assigned {
                from: None,
                to: Some(agent.id),
            },
            EventKind::StatusChanged {
                from: TicketStatus::New,
                to: TicketStatus::InProgress,
            },
            EventKind::MessageAdded {
                message_id: draft_id,
                kind: MessageKind::Draft,
                author_kind: AuthorKind::Bot,
            },
            EventKind::MessageAdded {
                message_id: reply_id,
                kind: MessageKind::Reply,
                author_kind: AuthorKind::Agent,
            },
        ],
        at(10),
        Some(agent.id),
    );
    c.messages.push(Message {
        id: draft_id,
        tenant_id: t.id,
        ticket_id: w.ticket.id,
        author: None,
        author_kind: AuthorKind::Bot,
        kind: MessageKind::Draft,
        body: "We refunded the duplicate charge.".into(),
        created_at: at(10),
        citations: Vec::new(),
        email: None,
        draft: Some(DraftInfo {
            source: DraftSource::Llm,
            state: DraftState::Edited,
            decided_at: Some(at(10)),
            sent_as: Some(reply_id),
            model: None,
        }),
    });
    c.messages.push(Message {
        id: reply_id,
        tenant_id: t.id,
        ticket_id: w.ticket.id,
        author: Some(agent.id),
        author_kind: AuthorKind::Agent,
        kind: MessageKind::Reply,
        body: "We refunded the duplicate charge today.".into(),
        created_at: at(10),
        citations: Vec::new(),
        email: None,
        draft: None,
    });
    c.outbox.push(outbox_entry(
        &c.ticket,
        vec![agent.id],
        NotificationKind::Assigned,
        at(10),
    ));
    store.update_ticket(1, &c).await.unwrap();
    let resolved = change(
        &c.ticket,
        vec![
            EventKind::StatusChanged {
                from: TicketStatus::InProgress,
                to: TicketStatus::Resolved,
            },
            EventKind::CsatRecorded {
                csat: Csat {
                    score: 5,
                    comment: Some("fast".into()),
                    at: at(30),
                },
            },
        ],
        at(30),
        Some(customer.id),
    );
    store.update_ticket(2, &resolved).await.unwrap();

    store
        .create_article(&Article {
            id: ArticleId::new(),
            tenant_id: t.id,
            title: "Refunds".into(),
            body: "# Refunds\n\nWithin 5 days.".into(),
            tags: vec!["billing".into()],
            created_at: at(0),
            updated_at: at(0),
            version: 1,
        })
        .await
        .unwrap();
    store
        .create_chat_session(&ChatSession {
            id: ChatSessionId::new(),
            tenant_id: t.id,
            customer: customer.id,
            ticket_id: Some(w.ticket.id),
            state: ChatState::Human,
            handoff_reason: Some("asked for a human".into()),
            resolved_by_bot: false,
            created_at: at(1),
            last_activity_at: at(2),
            closed_at: None,
            version: 1,
        })
        .await
        .unwrap();
    assert!(
        store
            .try_acquire_lease("sla-sweep", "crosscheck", at(0), Duration::from_secs(60))
            .await
            .unwrap()
    );

    let ticket = store.get_ticket(t.id, w.ticket.id).await.unwrap().unwrap();
    let events = store.list_events(t.id, ticket.id).await.unwrap();
    let manifest = serde_json::json!({
        "database": db,
        "collection_prefix": store.collection_prefix(),
        "schema_version": SCHEMA_VERSION,
        "tenant_id": t.id.to_string(),
        "tenant_created_at_ms": t.created_at.as_millisecond(),
        "users": [customer.id.to_string(), agent.id.to_string(), admin.id.to_string()],
        "ticket_id": ticket.id.to_string(),
        "ticket_number": ticket.number,
        "ticket_version": ticket.version,
        "ticket_created_at_ms": ticket.created_at.as_millisecond(),
        "first_response_at_ms": ticket.first_response_at.map(|t| t.as_millisecond()),
        "resolved_at_ms": ticket.resolved_at.map(|t| t.as_millisecond()),
        "idempotency_key": "mail-1@example.com",
        "event_count": events.len(),
        "event_types": events.iter().map(|e| e.kind.name()).collect::<Vec<_>>(),
        "message_count": store.list_messages(t.id, ticket.id, MessageFilter::All).await.unwrap().len(),
        "outbox_count": 2,
    });
    println!("{manifest}");
}
