//! The storage conformance suite. Every backend runs every case, each in its own test with
//! its own fresh store, through [`store_conformance_tests!`](crate::store_conformance_tests):
//!
//! ```text
//! async fn fresh_store() -> std::sync::Arc<dyn helpdesk_core::Store> { /* new database */ }
//! helpdesk_core::store_conformance_tests!(setup = fresh_store);
//! ```
//!
//! Attributes before `setup` are put on every generated test (for example a `cfg_attr`
//! that ignores the tests when a server is not configured). The calling crate needs
//! `tokio` with the `macros` and `rt-multi-thread` features as a dev-dependency.

mod audit;
mod chat_activity;
mod credentials;
mod previous;
mod service_concurrency;
mod visible_messages;

use std::sync::Arc;
use std::time::Duration;

pub use audit::{
    admin_changes_commit_with_their_audit_events,
    audit_events_are_per_tenant_newest_first_and_paged, failed_admin_changes_write_no_audit_event,
};
pub use chat_activity::{
    chat_activity_links_a_session_once, chat_activity_of_another_tenant_writes_nothing,
    chat_activity_touches_the_session, chat_session_reads_with_its_ticket,
};
pub use credentials::{
    credentials_of_another_tenant_are_not_found, password_hashes_round_trip_outside_users,
};
pub use previous::{
    update_with_a_mismatched_previous_is_refused, update_without_previous_checks_the_stored_ticket,
    updates_planned_on_the_last_write_store_every_change,
};
pub use service_concurrency::{
    concurrent_first_chat_messages_share_one_ticket,
    sixty_four_concurrent_replies_and_notes_all_land,
};
pub use visible_messages::customer_visible_messages_are_replies_and_chat_turns;

use crate::analytics::Analytics;
use crate::domain::AuthorKind;
use crate::domain::{
    Article, AuthSession, ChatSession, ChatState, Citation, Csat, DraftInfo, DraftSource,
    DraftState, EventKind, Message, MessageKind, NotificationKind, Priority, Role, SlaState,
    Tenant, TicketStatus, User,
};
use crate::store::{AssigneeFilter, TicketQuery, TicketSort, TicketWrite, TimeRange};
use crate::testkit::fixtures::{at, change, new_ticket, outbox_entry, t0, tenant, user};
use crate::{
    ArticleId, ChatSessionId, DuplicateKind, Error, MessageId, Store, TenantId, TicketId, UserId,
};

/// Generates one `#[tokio::test]` per conformance case, each calling `setup` for a fresh
/// store. See the [module docs](crate::testkit::conformance).
#[macro_export]
macro_rules! store_conformance_tests {
    ($(#[$attr:meta])* setup = $setup:path) => {
        $crate::store_conformance_tests!(@cases [$(#[$attr])*] $setup;
            tenants_crud_and_unique_slug,
            users_crud_and_unique_email_per_tenant,
            password_hashes_round_trip_outside_users,
            credentials_of_another_tenant_are_not_found,
            sessions_lifecycle,
            ticket_numbers_per_tenant,
            create_numbered_ticket_numbers_everything,
            create_ticket_round_trips_everything,
            duplicate_idempotency_key_writes_nothing,
            duplicate_ticket_number_writes_nothing,
            stale_update_conflicts_and_writes_nothing,
            update_in_another_tenant_is_not_found,
            updates_planned_on_the_last_write_store_every_change,
            update_without_previous_checks_the_stored_ticket,
            update_with_a_mismatched_previous_is_refused,
            update_replaces_messages_by_id,
            customer_visible_messages_are_replies_and_chat_turns,
            list_filters,
            list_text_filter_is_plain_text,
            list_orders_and_pages,
            list_queue_of_several_statuses_pages,
            tenant_isolation,
            open_ticket_counts_per_assignee,
            routing_staff_lists_active_staff_with_open_loads,
            user_with_tenant_is_scoped,
            sla_due_tickets_selection,
            events_replay_to_stored_ticket,
            analytics_matches_reference,
            articles_crud_and_conflict,
            admin_changes_commit_with_their_audit_events,
            failed_admin_changes_write_no_audit_event,
            audit_events_are_per_tenant_newest_first_and_paged,
            chat_sessions_crud_conflict_and_idle,
            chat_activity_touches_the_session,
            chat_activity_of_another_tenant_writes_nothing,
            chat_activity_links_a_session_once,
            chat_session_reads_with_its_ticket,
            outbox_due_and_marking,
            leases_exclusive_and_expiring,
            concurrent_writers_lose_no_update,
            sixty_four_concurrent_replies_and_notes_all_land,
            concurrent_first_chat_messages_share_one_ticket,
        );
    };
    (@cases [$($attrs:tt)*] $setup:path; $case:ident, $($rest:ident,)*) => {
        $($attrs)*
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $case() {
            let store = $setup().await;
            $crate::testkit::conformance::$case(store).await;
        }
        $crate::store_conformance_tests!(@cases [$($attrs)*] $setup; $($rest,)*);
    };
    (@cases [$($attrs:tt)*] $setup:path;) => {};
}

type S = Arc<dyn Store>;

async fn seed_tenant(store: &S, slug: &str) -> (Tenant, User, User) {
    let t = tenant(slug);
    store.create_tenant(&t).await.unwrap();
    let customer = user(&t, Role::Customer, &format!("customer@{slug}.test"));
    let agent = user(&t, Role::Agent, &format!("agent@{slug}.test"));
    store.create_user(&customer).await.unwrap();
    store.create_user(&agent).await.unwrap();
    (t, customer, agent)
}

async fn create(
    store: &S,
    tenant: TenantId,
    requester: UserId,
    subject: &str,
    p: Priority,
    minutes: i64,
) -> TicketWrite {
    let n = store.next_ticket_number(tenant).await.unwrap();
    let w = new_ticket(tenant, requester, n, subject, p, at(minutes));
    store.create_ticket(&w).await.unwrap();
    w
}

fn assert_duplicate(result: Result<(), Error>, kind: DuplicateKind) {
    match result {
        Err(Error::Duplicate { kind: k, .. }) if k == kind => {}
        other => panic!("expected Duplicate {{ kind: {kind:?} }}, got {other:?}"),
    }
}

/// Tenants: create, read by id and slug, update, list; a taken slug is a typed duplicate.
pub async fn tenants_crud_and_unique_slug(store: S) {
    let a = tenant("acme");
    store.create_tenant(&a).await.unwrap();
    assert_eq!(store.get_tenant(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(
        store.get_tenant_by_slug("acme").await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(store.get_tenant_by_slug("nope").await.unwrap(), None);
    assert_eq!(store.get_tenant(TenantId::new()).await.unwrap(), None);

    let mut other = tenant("acme");
    other.name = "Other".into();
    assert_duplicate(store.create_tenant(&other).await, DuplicateKind::TenantSlug);

    let mut changed = a.clone();
    changed.name = "Acme Renamed".into();
    changed.settings.categories.push("hardware".into());
    changed.settings.chat_inactivity_minutes = 45;
    store.update_tenant(&changed).await.unwrap();
    assert_eq!(store.get_tenant(a.id).await.unwrap(), Some(changed.clone()));

    let missing = tenant("missing");
    assert!(matches!(
        store.update_tenant(&missing).await,
        Err(Error::NotFound { .. })
    ));

    let mut b = tenant("beta");
    b.created_at = at(5);
    store.create_tenant(&b).await.unwrap();
    let ids: Vec<TenantId> = store
        .list_tenants()
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, vec![a.id, b.id]);
}

/// Users: e-mail unique per tenant (not across tenants), update, list by role, lookups
/// scoped by tenant (password hashes: [`password_hashes_round_trip_outside_users`]).
pub async fn users_crud_and_unique_email_per_tenant(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let (b, _, _) = seed_tenant(&store, "beta").await;

    assert_eq!(
        store.get_user(a.id, customer.id).await.unwrap(),
        Some(customer.clone())
    );
    assert_eq!(
        store.get_user(b.id, customer.id).await.unwrap(),
        None,
        "other tenant"
    );
    assert_eq!(
        store
            .get_user_by_email(a.id, "agent@acme.test")
            .await
            .unwrap(),
        Some(agent.clone())
    );
    assert_eq!(
        store
            .get_user_by_email(b.id, "agent@acme.test")
            .await
            .unwrap(),
        None
    );

    let dup = user(&a, Role::Agent, "agent@acme.test");
    assert_duplicate(store.create_user(&dup).await, DuplicateKind::Email);
    let same_email_other_tenant = user(&b, Role::Agent, "agent@acme.test");
    store.create_user(&same_email_other_tenant).await.unwrap();

    let mut admin = user(&a, Role::Admin, "admin@acme.test");
    admin.created_at = at(1);
    admin.skills = vec!["billing".into(), "technical".into()];
    admin.capacity = 7;
    store.create_user(&admin).await.unwrap();
    assert_eq!(
        store.get_user(a.id, admin.id).await.unwrap(),
        Some(admin.clone())
    );

    let mut updated = agent.clone();
    updated.active = false;
    updated.skills = vec!["account".into()];
    updated.name = "Renamed".into();
    store.update_user(&updated).await.unwrap();
    assert_eq!(
        store.get_user(a.id, agent.id).await.unwrap(),
        Some(updated.clone())
    );

    let mut clash = updated.clone();
    clash.email = "customer@acme.test".into();
    assert_duplicate(store.update_user(&clash).await, DuplicateKind::Email);

    let ghost = user(&a, Role::Agent, "ghost@acme.test");
    assert!(matches!(
        store.update_user(&ghost).await,
        Err(Error::NotFound { .. })
    ));
    let mut foreign = updated.clone();
    foreign.tenant_id = b.id;
    assert!(matches!(
        store.update_user(&foreign).await,
        Err(Error::NotFound { .. })
    ));

    let all: Vec<UserId> = store
        .list_users(a.id, None)
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(all.len(), 3);
    assert!(all.contains(&customer.id) && all.contains(&agent.id) && all.contains(&admin.id));
    let agents = store.list_users(a.id, Some(Role::Agent)).await.unwrap();
    assert_eq!(agents.len(), 1);
    assert_eq!(agents[0].id, agent.id);
    assert_eq!(
        store
            .list_users(b.id, Some(Role::Admin))
            .await
            .unwrap()
            .len(),
        0
    );
}

/// Sessions: create, read, delete, expiry sweep.
pub async fn sessions_lifecycle(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let live = AuthSession {
        token_hash: "a".repeat(64),
        tenant_id: a.id,
        user_id: customer.id,
        created_at: t0(),
        expires_at: at(60),
    };
    let old = AuthSession {
        token_hash: "b".repeat(64),
        tenant_id: a.id,
        user_id: agent.id,
        created_at: t0(),
        expires_at: at(10),
    };
    store.create_session(&live).await.unwrap();
    store.create_session(&old).await.unwrap();
    assert_eq!(
        store.get_session(&live.token_hash).await.unwrap(),
        Some(live.clone())
    );
    assert_eq!(store.delete_expired_sessions(at(30)).await.unwrap(), 1);
    assert_eq!(store.get_session(&old.token_hash).await.unwrap(), None);
    store.delete_session(&live.token_hash).await.unwrap();
    assert_eq!(store.get_session(&live.token_hash).await.unwrap(), None);
    store.delete_session("missing").await.unwrap();
}

/// Ticket numbers count 1, 2, 3 per tenant, independently.
pub async fn ticket_numbers_per_tenant(store: S) {
    let (a, _, _) = seed_tenant(&store, "acme").await;
    let (b, _, _) = seed_tenant(&store, "beta").await;
    assert_eq!(store.next_ticket_number(a.id).await.unwrap(), 1);
    assert_eq!(store.next_ticket_number(a.id).await.unwrap(), 2);
    assert_eq!(store.next_ticket_number(b.id).await.unwrap(), 1);
    assert_eq!(store.next_ticket_number(a.id).await.unwrap(), 3);
}

/// `create_numbered_ticket` allocates per-tenant numbers in order and stores the number
/// everywhere the write carries it (ticket, `Created` snapshot, outbox); a create that
/// fails on a used idempotency key writes nothing and a later one gets a higher number.
pub async fn create_numbered_ticket_numbers_everything(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let (b, b_customer, _) = seed_tenant(&store, "beta").await;
    let numbered = |tenant: TenantId, requester: UserId, subject: &str, key: &str| {
        let mut w = new_ticket(tenant, requester, 0, subject, Priority::Medium, at(1));
        w.idempotency_key = Some(key.to_string());
        w
    };
    let mut first = numbered(a.id, customer.id, "First", "k1");
    first.outbox.push(outbox_entry(
        &first.ticket,
        vec![agent.id],
        NotificationKind::Assigned,
        at(1),
    ));
    let first = store.create_numbered_ticket(first).await.unwrap();
    assert_eq!(first.ticket.number, 1);
    let second = store
        .create_numbered_ticket(numbered(a.id, customer.id, "Second", "k2"))
        .await
        .unwrap();
    assert_eq!(second.ticket.number, 2);
    let other = store
        .create_numbered_ticket(numbered(b.id, b_customer.id, "Other tenant", "k1"))
        .await
        .unwrap();
    assert_eq!(other.ticket.number, 1, "numbers count per tenant");

    let stored = store
        .get_ticket_by_number(a.id, 1)
        .await
        .unwrap()
        .expect("ticket 1 stored under its number");
    assert_eq!(stored, first.ticket);
    let events = store.list_events(a.id, first.ticket.id).await.unwrap();
    match &events[0].kind {
        EventKind::Created { ticket } => assert_eq!(ticket.number, 1),
        other => panic!("first event is {other:?}, not Created"),
    }
    let outbox = store.list_outbox(a.id).await.unwrap();
    assert!(
        outbox
            .iter()
            .any(|o| o.notification.ticket_id == first.ticket.id
                && o.notification.ticket_number == 1),
        "the outbox entry carries the allocated number: {outbox:?}"
    );

    let reused = store
        .create_numbered_ticket(numbered(a.id, customer.id, "Reused key", "k1"))
        .await;
    assert!(
        matches!(
            reused,
            Err(Error::Duplicate {
                kind: DuplicateKind::IdempotencyKey,
                ..
            })
        ),
        "{reused:?}"
    );
    let third = store
        .create_numbered_ticket(numbered(a.id, customer.id, "Third", "k3"))
        .await
        .unwrap();
    assert!(third.ticket.number > 2, "numbers are never reused");
    let page = store
        .list_tickets(a.id, &TicketQuery::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 3, "the failed create wrote nothing");
}

/// A created ticket reads back exactly, with its events, messages, outbox entries and
/// idempotency key; lookups by number work.
pub async fn create_ticket_round_trips_everything(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let n = store.next_ticket_number(a.id).await.unwrap();
    let mut w = new_ticket(
        a.id,
        customer.id,
        n,
        "Printer on fire",
        Priority::High,
        at(3),
    );
    w.ticket.tags = vec!["printer".into(), "fire".into()];
    w.ticket.category = Some("technical".into());
    w.ticket.required_skills = vec!["technical".into()];
    w.ticket.language = Some("en".into());
    w.ticket.sla = SlaState {
        first_response_due: Some(at(63)),
        resolution_due: Some(at(243)),
        ..SlaState::default()
    };
    if let EventKind::Created { ticket } = &mut w.events[0].kind {
        **ticket = w.ticket.clone();
    }
    w.idempotency_key = Some("msg-1@example.com".into());
    w.messages[0].citations = vec![Citation {
        chunk_id: "c1".into(),
        article_id: ArticleId::new(),
        title: "Printers".into(),
    }];
    w.outbox.push(outbox_entry(
        &w.ticket,
        vec![agent.id],
        NotificationKind::Assigned,
        at(3),
    ));
    store.create_ticket(&w).await.unwrap();

    assert_eq!(
        store.get_ticket(a.id, w.ticket.id).await.unwrap(),
        Some(w.ticket.clone())
    );
    assert_eq!(
        store.get_ticket_by_number(a.id, n).await.unwrap(),
        Some(w.ticket.clone())
    );
    assert_eq!(
        store.get_ticket_by_number(a.id, n + 100).await.unwrap(),
        None
    );
    assert_eq!(
        store.list_events(a.id, w.ticket.id).await.unwrap(),
        w.events
    );
    assert_eq!(
        store.list_messages(a.id, w.ticket.id).await.unwrap(),
        w.messages
    );
    assert_eq!(
        store.get_message(a.id, w.messages[0].id).await.unwrap(),
        Some(w.messages[0].clone())
    );
    assert_eq!(
        store
            .find_by_idempotency_key(a.id, "msg-1@example.com")
            .await
            .unwrap(),
        Some(w.ticket.id)
    );
    assert_eq!(
        store.find_by_idempotency_key(a.id, "other").await.unwrap(),
        None
    );
    let mut outbox = store.list_outbox(a.id).await.unwrap();
    outbox.sort_by_key(|o| o.id);
    let mut expected = w.outbox.clone();
    expected.sort_by_key(|o| o.id);
    assert_eq!(outbox, expected);
}

/// A second create with a used idempotency key fails typed and writes nothing.
pub async fn duplicate_idempotency_key_writes_nothing(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let (b, b_customer, _) = seed_tenant(&store, "beta").await;
    let mut first = new_ticket(a.id, customer.id, 1, "One", Priority::Low, at(1));
    first.idempotency_key = Some("key-1".into());
    store.create_ticket(&first).await.unwrap();

    let mut second = new_ticket(a.id, customer.id, 2, "Two", Priority::Low, at(2));
    second.idempotency_key = Some("key-1".into());
    assert_duplicate(
        store.create_ticket(&second).await,
        DuplicateKind::IdempotencyKey,
    );
    assert_eq!(
        store.get_ticket(a.id, second.ticket.id).await.unwrap(),
        None
    );
    assert!(
        store
            .list_events(a.id, second.ticket.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_messages(a.id, second.ticket.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.list_outbox(a.id).await.unwrap().len(), 1);

    // The same key in another tenant is independent.
    let mut other = new_ticket(b.id, b_customer.id, 1, "Other", Priority::Low, at(2));
    other.idempotency_key = Some("key-1".into());
    store.create_ticket(&other).await.unwrap();
    assert_eq!(
        store.find_by_idempotency_key(b.id, "key-1").await.unwrap(),
        Some(other.ticket.id)
    );
    assert_eq!(
        store.find_by_idempotency_key(a.id, "key-1").await.unwrap(),
        Some(first.ticket.id)
    );
}

/// A used number fails typed and writes nothing.
pub async fn duplicate_ticket_number_writes_nothing(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let first = new_ticket(a.id, customer.id, 7, "One", Priority::Low, at(1));
    store.create_ticket(&first).await.unwrap();
    let second = new_ticket(a.id, customer.id, 7, "Two", Priority::Low, at(2));
    assert_duplicate(
        store.create_ticket(&second).await,
        DuplicateKind::TicketNumber,
    );
    assert_eq!(
        store.get_ticket(a.id, second.ticket.id).await.unwrap(),
        None
    );
    assert!(
        store
            .list_events(a.id, second.ticket.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.list_outbox(a.id).await.unwrap().len(), 1);
}

/// A writer with a stale version gets `Conflict`; the ticket, events, messages and outbox
/// are unchanged.
pub async fn stale_update_conflicts_and_writes_nothing(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let w = create(&store, a.id, customer.id, "Help", Priority::Medium, 0).await;
    let t1 = w.ticket.clone();

    let first = change(
        &t1,
        vec![EventKind::StatusChanged {
            from: TicketStatus::New,
            to: TicketStatus::Open,
        }],
        at(5),
        Some(agent.id),
    );
    store.update_ticket(1, &first).await.unwrap();
    assert_eq!(
        store
            .get_ticket(a.id, t1.id)
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );

    let mut stale = change(
        &t1,
        vec![EventKind::PriorityChanged {
            from: Priority::Medium,
            to: Priority::Urgent,
        }],
        at(6),
        Some(agent.id),
    );
    stale.outbox.push(outbox_entry(
        &stale.ticket,
        vec![agent.id],
        NotificationKind::Replied,
        at(6),
    ));
    stale.messages.push(Message {
        id: MessageId::new(),
        tenant_id: a.id,
        ticket_id: t1.id,
        author: Some(agent.id),
        author_kind: AuthorKind::Agent,
        kind: MessageKind::Note,
        body: "lost".into(),
        created_at: at(6),
        citations: Vec::new(),
        draft: None,
    });
    match store.update_ticket(1, &stale).await {
        Err(Error::Conflict { expected: 1, .. }) => {}
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert_eq!(
        store.get_ticket(a.id, t1.id).await.unwrap(),
        Some(first.ticket.clone())
    );
    assert_eq!(store.list_events(a.id, t1.id).await.unwrap().len(), 2);
    assert_eq!(store.list_messages(a.id, t1.id).await.unwrap().len(), 1);
    assert_eq!(store.list_outbox(a.id).await.unwrap().len(), 1);
}

/// Updating a ticket through another tenant is `NotFound` and changes nothing.
pub async fn update_in_another_tenant_is_not_found(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let (b, _, _) = seed_tenant(&store, "beta").await;
    let w = create(&store, a.id, customer.id, "Mine", Priority::Low, 0).await;
    let mut hijack = change(
        &w.ticket,
        vec![EventKind::TagsChanged {
            tags: vec!["x".into()],
        }],
        at(1),
        None,
    );
    hijack.ticket.tenant_id = b.id;
    if let Some(previous) = &mut hijack.previous {
        previous.tenant_id = b.id;
    }
    for e in &mut hijack.events {
        e.tenant_id = b.id;
    }
    assert!(matches!(
        store.update_ticket(1, &hijack).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        store.get_ticket(a.id, w.ticket.id).await.unwrap(),
        Some(w.ticket.clone())
    );
    assert_eq!(store.get_ticket(b.id, w.ticket.id).await.unwrap(), None);
    let missing = change(&w.ticket, vec![], at(1), None);
    let mut ghost = missing.clone();
    ghost.ticket.id = TicketId::new();
    if let Some(previous) = &mut ghost.previous {
        previous.id = ghost.ticket.id;
    }
    assert!(matches!(
        store.update_ticket(1, &ghost).await,
        Err(Error::NotFound { .. })
    ));
}

/// Messages in a write are inserted, or replaced when their id exists (draft decisions).
pub async fn update_replaces_messages_by_id(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let w = create(&store, a.id, customer.id, "Draft me", Priority::Low, 0).await;
    let draft = Message {
        id: MessageId::new(),
        tenant_id: a.id,
        ticket_id: w.ticket.id,
        author: None,
        author_kind: AuthorKind::Bot,
        kind: MessageKind::Draft,
        body: "Try turning it off and on.".into(),
        created_at: at(2),
        citations: Vec::new(),
        draft: Some(DraftInfo {
            source: DraftSource::Llm,
            state: DraftState::Proposed,
            decided_at: None,
            sent_as: None,
        }),
    };
    let mut c1 = change(
        &w.ticket,
        vec![EventKind::MessageAdded {
            message_id: draft.id,
            kind: MessageKind::Draft,
            author_kind: AuthorKind::Bot,
        }],
        at(2),
        Some(agent.id),
    );
    c1.messages.push(draft.clone());
    store.update_ticket(1, &c1).await.unwrap();

    let reply = Message {
        id: MessageId::new(),
        author: Some(agent.id),
        author_kind: AuthorKind::Agent,
        kind: MessageKind::Reply,
        body: "Try turning it off and on!".into(),
        created_at: at(3),
        draft: None,
        ..draft.clone()
    };
    let mut decided = draft.clone();
    decided.draft = Some(DraftInfo {
        source: DraftSource::Llm,
        state: DraftState::Edited,
        decided_at: Some(at(3)),
        sent_as: Some(reply.id),
    });
    let mut c2 = change(
        &c1.ticket,
        vec![
            EventKind::DraftDecided {
                message_id: draft.id,
                state: DraftState::Edited,
            },
            EventKind::MessageAdded {
                message_id: reply.id,
                kind: MessageKind::Reply,
                author_kind: AuthorKind::Agent,
            },
        ],
        at(3),
        Some(agent.id),
    );
    c2.messages = vec![decided.clone(), reply.clone()];
    store.update_ticket(2, &c2).await.unwrap();

    let messages = store.list_messages(a.id, w.ticket.id).await.unwrap();
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[1], decided);
    assert_eq!(messages[2], reply);
    let stored = store.get_ticket(a.id, w.ticket.id).await.unwrap().unwrap();
    assert_eq!(stored.first_response_at, Some(at(3)));
    assert_eq!(stored, c2.ticket);
}

async fn seed_listing(store: &S) -> (Tenant, User, User, User, Vec<TicketWrite>) {
    let (a, customer, agent) = seed_tenant(store, "acme").await;
    let other_customer = user(&a, Role::Customer, "other@acme.test");
    store.create_user(&other_customer).await.unwrap();
    type Spec<'a> = (
        &'a str,
        Priority,
        TicketStatus,
        bool,
        Option<&'a str>,
        UserId,
    );
    let specs: [Spec<'_>; 8] = [
        (
            "Login broken",
            Priority::High,
            TicketStatus::Open,
            true,
            Some("account"),
            customer.id,
        ),
        (
            "Invoice wrong",
            Priority::Low,
            TicketStatus::New,
            false,
            Some("billing"),
            customer.id,
        ),
        (
            "App crashes",
            Priority::Urgent,
            TicketStatus::InProgress,
            true,
            Some("technical"),
            other_customer.id,
        ),
        (
            "Refund please",
            Priority::Medium,
            TicketStatus::Pending,
            false,
            Some("billing"),
            other_customer.id,
        ),
        (
            "How do I export",
            Priority::Low,
            TicketStatus::Resolved,
            true,
            None,
            customer.id,
        ),
        (
            "URGENT outage",
            Priority::Urgent,
            TicketStatus::Open,
            false,
            Some("technical"),
            customer.id,
        ),
        (
            "Login slow",
            Priority::High,
            TicketStatus::New,
            true,
            Some("account"),
            other_customer.id,
        ),
        (
            "Password reset",
            Priority::Medium,
            TicketStatus::Closed,
            false,
            Some("account"),
            customer.id,
        ),
    ];
    let mut writes = Vec::new();
    for (i, (subject, p, status, assigned, category, requester)) in specs.into_iter().enumerate() {
        let w = create(store, a.id, requester, subject, p, i as i64 * 10).await;
        let mut kinds = vec![EventKind::CategoryChanged {
            to: category.map(String::from),
        }];
        if status != TicketStatus::New {
            kinds.push(EventKind::StatusChanged {
                from: TicketStatus::New,
                to: status,
            });
        }
        if assigned {
            kinds.push(EventKind::Assigned {
                from: None,
                to: Some(agent.id),
            });
        }
        let c = change(&w.ticket, kinds, at(i as i64 * 10 + 1), Some(agent.id));
        store.update_ticket(1, &c).await.unwrap();
        writes.push(c);
    }
    (a, customer, other_customer, agent, writes)
}

async fn subjects(store: &S, tenant: TenantId, q: TicketQuery) -> Vec<String> {
    store
        .list_tickets(tenant, &q)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|t| t.subject)
        .collect()
}

/// Each filter alone and combined.
pub async fn list_filters(store: S) {
    let (a, customer, _other, agent, _) = seed_listing(&store).await;
    let q = |f: &dyn Fn(&mut TicketQuery)| {
        let mut q = TicketQuery::default();
        f(&mut q);
        q
    };
    assert_eq!(
        subjects(&store, a.id, q(&|q| q.statuses = vec![TicketStatus::New])).await,
        vec!["Login slow", "Invoice wrong"]
    );
    assert_eq!(
        subjects(
            &store,
            a.id,
            q(&|q| q.statuses = vec![TicketStatus::Open, TicketStatus::InProgress])
        )
        .await,
        vec!["App crashes", "URGENT outage", "Login broken"]
    );
    assert_eq!(
        subjects(&store, a.id, q(&|q| q.priorities = vec![Priority::Low])).await,
        vec!["Invoice wrong", "How do I export"]
    );
    assert_eq!(
        subjects(
            &store,
            a.id,
            q(&|q| q.assignee = Some(AssigneeFilter::User(agent.id)))
        )
        .await,
        vec![
            "App crashes",
            "Login broken",
            "Login slow",
            "How do I export"
        ]
    );
    assert_eq!(
        subjects(
            &store,
            a.id,
            q(&|q| q.assignee = Some(AssigneeFilter::Unassigned))
        )
        .await,
        vec![
            "URGENT outage",
            "Refund please",
            "Password reset",
            "Invoice wrong"
        ]
    );
    assert_eq!(
        subjects(&store, a.id, q(&|q| q.requester = Some(customer.id))).await,
        vec![
            "URGENT outage",
            "Login broken",
            "Password reset",
            "Invoice wrong",
            "How do I export"
        ]
    );
    assert_eq!(
        subjects(&store, a.id, q(&|q| q.category = Some("billing".into()))).await,
        vec!["Refund please", "Invoice wrong"]
    );
    assert_eq!(
        subjects(&store, a.id, q(&|q| q.text = Some("login".into()))).await,
        vec!["Login broken", "Login slow"]
    );
    assert_eq!(
        subjects(&store, a.id, q(&|q| q.text = Some("URGENT".into()))).await,
        vec!["URGENT outage"]
    );
    assert_eq!(
        subjects(
            &store,
            a.id,
            q(&|q| {
                q.requester = Some(customer.id);
                q.statuses = vec![TicketStatus::Open, TicketStatus::New];
                q.category = Some("account".into());
            })
        )
        .await,
        vec!["Login broken"]
    );
    assert!(
        subjects(&store, a.id, q(&|q| q.category = Some("nothing".into())))
            .await
            .is_empty()
    );
    let too_big = TicketQuery {
        limit: 201,
        ..TicketQuery::default()
    };
    assert!(matches!(
        store.list_tickets(a.id, &too_big).await,
        Err(Error::Validation { .. })
    ));
}

/// The text filter treats `%`, `_`, `.`, `*`, `\`, quotes and regex syntax as plain text.
pub async fn list_text_filter_is_plain_text(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    for (i, s) in [
        "100% broken",
        "100 percent fine",
        "snake_case name",
        "snakeXcase",
        "a.b*c(d)",
        "abxc",
        "back\\slash 'quote\"",
        "Résumé upload",
    ]
    .iter()
    .enumerate()
    {
        create(&store, a.id, customer.id, s, Priority::Low, i as i64).await;
    }
    let find = |text: &str| {
        let store = store.clone();
        let text = text.to_string();
        async move {
            let mut v = subjects(
                &store,
                a.id,
                TicketQuery {
                    text: Some(text),
                    ..TicketQuery::default()
                },
            )
            .await;
            v.sort();
            v
        }
    };
    assert_eq!(find("100%").await, vec!["100% broken"]);
    assert_eq!(find("_case").await, vec!["snake_case name"]);
    assert_eq!(find("a.b*c(").await, vec!["a.b*c(d)"]);
    assert_eq!(find("b.c").await, Vec::<String>::new());
    assert_eq!(
        find("back\\slash 'quote\"").await,
        vec!["back\\slash 'quote\""]
    );
    assert_eq!(
        find("résumé").await.len(),
        1,
        "unicode text matches at least case-sensitively"
    );
    assert_eq!(find("UPLOAD").await, vec!["Résumé upload"]);
    assert_eq!(find("   ").await.len(), 8, "blank text is no filter");
}

/// Follows `query`'s cursors from the first page to the last: the ids in order and the
/// number of pages. Each page holds at most `query.limit` tickets; more than 20 pages
/// means the pagination does not terminate.
async fn all_pages(store: &S, tenant: TenantId, mut query: TicketQuery) -> (Vec<TicketId>, usize) {
    let mut seen = Vec::new();
    for pages in 1..=20 {
        let page = store.list_tickets(tenant, &query).await.unwrap();
        assert!(page.items.len() <= query.limit as usize);
        seen.extend(page.items.iter().map(|t| t.id));
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => return (seen, pages),
        }
    }
    panic!("pagination does not terminate");
}

/// Both sort orders, and cursor pages that cover every ticket exactly once.
pub async fn list_orders_and_pages(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let mut expected_queue = Vec::new();
    let priorities = [
        Priority::Low,
        Priority::Urgent,
        Priority::Medium,
        Priority::High,
    ];
    for i in 0..23i64 {
        // Several tickets share a creation time, so the id breaks ties.
        let w = create(
            &store,
            a.id,
            customer.id,
            &format!("T{i:02}"),
            priorities[(i % 4) as usize],
            i / 3,
        )
        .await;
        expected_queue.push(w.ticket);
    }
    let mut newest = expected_queue.clone();
    expected_queue.sort_by(|x, y| crate::store::cursor::compare(TicketSort::PriorityThenAge, x, y));
    newest.sort_by(|x, y| crate::store::cursor::compare(TicketSort::Newest, x, y));

    for (sort, expected) in [
        (TicketSort::PriorityThenAge, &expected_queue),
        (TicketSort::Newest, &newest),
    ] {
        let query = TicketQuery {
            sort,
            limit: 5,
            ..TicketQuery::default()
        };
        let (seen, pages) = all_pages(&store, a.id, query).await;
        let want: Vec<TicketId> = expected.iter().map(|t| t.id).collect();
        assert_eq!(seen, want, "{sort:?}");
        assert_eq!(pages, 5);
    }
    let all = store
        .list_tickets(
            a.id,
            &TicketQuery {
                limit: 23,
                ..TicketQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.items.len(), 23);
    assert_eq!(
        all.next_cursor, None,
        "an exactly full last page has no cursor"
    );

    let q = TicketQuery {
        sort: TicketSort::PriorityThenAge,
        limit: 5,
        ..TicketQuery::default()
    };
    let c = store
        .list_tickets(a.id, &q)
        .await
        .unwrap()
        .next_cursor
        .unwrap();
    let wrong = TicketQuery {
        sort: TicketSort::Newest,
        cursor: Some(c),
        ..TicketQuery::default()
    };
    assert!(matches!(
        store.list_tickets(a.id, &wrong).await,
        Err(Error::Validation { .. })
    ));
    let garbage = TicketQuery {
        cursor: Some("'; drop table tickets; --".into()),
        ..TicketQuery::default()
    };
    assert!(matches!(
        store.list_tickets(a.id, &garbage).await,
        Err(Error::Validation { .. })
    ));
}

/// The agent queue: several statuses (one repeated) sorted by priority then age, paged
/// with cursors, alone and with a priority filter, returns exactly the matching tickets
/// in order, each once.
pub async fn list_queue_of_several_statuses_pages(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let statuses = [
        TicketStatus::New,
        TicketStatus::Open,
        TicketStatus::Pending,
        TicketStatus::Closed,
        TicketStatus::Escalated,
        TicketStatus::InProgress,
    ];
    let priorities = [
        Priority::Low,
        Priority::Urgent,
        Priority::Medium,
        Priority::High,
    ];
    let mut all = Vec::new();
    for i in 0..41i64 {
        let n = store.next_ticket_number(a.id).await.unwrap();
        let priority = priorities[(i % 4) as usize];
        let mut w = new_ticket(
            a.id,
            customer.id,
            n,
            &format!("Q{i:02}"),
            priority,
            at(i / 4),
        );
        w.ticket.status = statuses[(i % 6) as usize];
        if let EventKind::Created { ticket } = &mut w.events[0].kind {
            **ticket = w.ticket.clone();
        }
        store.create_ticket(&w).await.unwrap();
        all.push(w.ticket);
    }
    all.sort_by(|x, y| crate::store::cursor::compare(TicketSort::PriorityThenAge, x, y));
    let wanted = vec![
        TicketStatus::Open,
        TicketStatus::New,
        TicketStatus::Escalated,
        TicketStatus::Pending,
        TicketStatus::Open,
    ];
    for only in [None, Some(Priority::Urgent)] {
        let expected: Vec<TicketId> = all
            .iter()
            .filter(|t| wanted.contains(&t.status))
            .filter(|t| only.is_none_or(|p| t.priority == p))
            .map(|t| t.id)
            .collect();
        let query = TicketQuery {
            statuses: wanted.clone(),
            priorities: only.into_iter().collect(),
            sort: TicketSort::PriorityThenAge,
            limit: 4,
            ..TicketQuery::default()
        };
        let (seen, _) = all_pages(&store, a.id, query).await;
        assert_eq!(seen, expected, "priority filter {only:?}");
    }
}

/// Nothing of tenant A is visible, countable or changeable through tenant B.
pub async fn tenant_isolation(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let (b, _, b_agent) = seed_tenant(&store, "beta").await;
    let w = create(&store, a.id, customer.id, "Secret", Priority::Urgent, 0).await;
    let c = change(
        &w.ticket,
        vec![EventKind::Assigned {
            from: None,
            to: Some(agent.id),
        }],
        at(1),
        None,
    );
    store.update_ticket(1, &c).await.unwrap();
    let article = Article {
        id: ArticleId::new(),
        tenant_id: a.id,
        title: "Secret article".into(),
        body: "body".into(),
        tags: vec![],
        created_at: t0(),
        updated_at: t0(),
        version: 1,
    };
    store.create_article(&article).await.unwrap();
    let chat = ChatSession {
        ticket_id: Some(w.ticket.id),
        ..chat_activity::bot_session(a.id, customer.id)
    };
    store.create_chat_session(&chat).await.unwrap();

    assert_eq!(store.get_ticket(b.id, w.ticket.id).await.unwrap(), None);
    assert_eq!(
        store
            .get_ticket_by_number(b.id, w.ticket.number)
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .list_tickets(b.id, &TicketQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        store
            .list_events(b.id, w.ticket.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_messages(b.id, w.ticket.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.get_message(b.id, w.messages[0].id).await.unwrap(),
        None
    );
    assert!(store.open_ticket_counts(b.id).await.unwrap().is_empty());
    assert!(store.list_outbox(b.id).await.unwrap().is_empty());
    assert_eq!(store.get_article(b.id, article.id).await.unwrap(), None);
    assert!(store.list_articles(b.id).await.unwrap().is_empty());
    assert!(matches!(
        store.delete_article(b.id, article.id).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(store.get_chat_session(b.id, chat.id).await.unwrap(), None);
    assert!(
        store
            .list_chat_sessions(b.id, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .idle_chat_sessions(b.id, at(1000))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_users(b.id, None)
            .await
            .unwrap()
            .iter()
            .all(|u| u.tenant_id == b.id)
    );
    assert_eq!(store.get_user(b.id, agent.id).await.unwrap(), None);
    assert_eq!(store.get_user(a.id, b_agent.id).await.unwrap(), None);
    let range = TimeRange::new(at(-60), at(10_000)).unwrap();
    let stats = store.analytics(b.id, range, at(100)).await.unwrap();
    assert_eq!(stats.total, 0);
    assert_eq!(stats.backlog, 0);
    assert!(stats.agents.is_empty());
    let mut foreign_article = article.clone();
    foreign_article.tenant_id = b.id;
    assert!(matches!(
        store.update_article(1, &foreign_article).await,
        Err(Error::NotFound { .. })
    ));
    let mut foreign_chat = chat.clone();
    foreign_chat.tenant_id = b.id;
    foreign_chat.version = 2;
    assert!(matches!(
        store.update_chat_session(1, &foreign_chat).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        store.get_article(a.id, article.id).await.unwrap(),
        Some(article)
    );
    assert_eq!(
        store.get_chat_session(a.id, chat.id).await.unwrap(),
        Some(chat)
    );
}

/// Open tickets are counted per assignee; resolved and closed ones are not.
pub async fn open_ticket_counts_per_assignee(store: S) {
    let (a, _customer, agent, writes) = {
        let (a, customer, _o, agent, writes) = seed_listing(&store).await;
        (a, customer, agent, writes)
    };
    let expected = writes
        .iter()
        .filter(|w| w.ticket.assignee == Some(agent.id) && w.ticket.status.is_open())
        .count() as u64;
    assert_eq!(expected, 3);
    assert_eq!(
        store.open_ticket_counts(a.id).await.unwrap(),
        vec![(agent.id, expected)]
    );
}

/// `user_with_tenant` returns a user with its tenant, exactly as stored; a user of another
/// tenant or an unknown one is `None`.
pub async fn user_with_tenant_is_scoped(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let (b, b_customer, _) = seed_tenant(&store, "beta").await;
    assert_eq!(
        store.user_with_tenant(a.id, agent.id).await.unwrap(),
        Some((a.clone(), agent.clone()))
    );
    assert_eq!(
        store.user_with_tenant(a.id, customer.id).await.unwrap(),
        Some((a.clone(), customer))
    );
    assert_eq!(
        store.user_with_tenant(b.id, b_customer.id).await.unwrap(),
        Some((b.clone(), b_customer.clone()))
    );
    assert_eq!(
        store.user_with_tenant(a.id, b_customer.id).await.unwrap(),
        None,
        "another tenant's user"
    );
    assert_eq!(store.user_with_tenant(b.id, agent.id).await.unwrap(), None);
    assert_eq!(
        store.user_with_tenant(a.id, UserId::new()).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .user_with_tenant(TenantId::new(), agent.id)
            .await
            .unwrap(),
        None
    );
}

/// `routing_staff`: active agents then active admins, oldest first, each with its open
/// assigned tickets; customers, inactive staff and other tenants never appear.
pub async fn routing_staff_lists_active_staff_with_open_loads(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let (b, b_customer, b_agent) = seed_tenant(&store, "beta").await;
    let admin = user(&a, Role::Admin, "admin@acme.test");
    store.create_user(&admin).await.unwrap();
    let mut idle_agent = user(&a, Role::Agent, "idle@acme.test");
    idle_agent.created_at = at(1);
    store.create_user(&idle_agent).await.unwrap();
    let mut gone = user(&a, Role::Agent, "gone@acme.test");
    gone.active = false;
    store.create_user(&gone).await.unwrap();
    let statuses = [
        TicketStatus::Open,
        TicketStatus::Pending,
        TicketStatus::Resolved,
        TicketStatus::Closed,
        TicketStatus::Escalated,
    ];
    for (i, status) in statuses.into_iter().enumerate() {
        let n = store.next_ticket_number(a.id).await.unwrap();
        let mut w = new_ticket(a.id, customer.id, n, "Load", Priority::Medium, at(i as i64));
        w.ticket.status = status;
        w.ticket.assignee = Some(agent.id);
        store.create_ticket(&w).await.unwrap();
    }
    let n = store.next_ticket_number(a.id).await.unwrap();
    let mut w = new_ticket(a.id, customer.id, n, "Admin's", Priority::Medium, at(9));
    w.ticket.assignee = Some(admin.id);
    store.create_ticket(&w).await.unwrap();
    // Another tenant's open ticket, assigned to its agent.
    let n = store.next_ticket_number(b.id).await.unwrap();
    let mut w = new_ticket(b.id, b_customer.id, n, "Other", Priority::Medium, at(9));
    w.ticket.assignee = Some(b_agent.id);
    store.create_ticket(&w).await.unwrap();

    let staff: Vec<(UserId, u64)> = store
        .routing_staff(a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|(u, n)| (u.id, n))
        .collect();
    // Agents oldest first (`idle_agent` was created after the seeded agent), then admins.
    assert_eq!(
        staff,
        vec![(agent.id, 3), (idle_agent.id, 0), (admin.id, 1)]
    );
    let full = store.routing_staff(a.id).await.unwrap();
    assert!(full.iter().all(|(u, _)| u.tenant_id == a.id && u.active));
    assert_eq!(store.routing_staff(b.id).await.unwrap()[0].0.id, b_agent.id);
    assert!(
        store
            .routing_staff(TenantId::new())
            .await
            .unwrap()
            .is_empty()
    );
}

/// Only open, unpaused tickets with an unflagged target due by `now` are returned,
/// oldest due first.
pub async fn sla_due_tickets_selection(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let mk = |fr: i64, res: i64| SlaState {
        first_response_due: Some(at(fr)),
        resolution_due: Some(at(res)),
        ..SlaState::default()
    };
    let mut ids = Vec::new();
    // 0: first response due at 10 -> due
    // 1: resolution due at 20, already responded -> due
    // 2: first response breached already, resolution later -> not due
    // 3: paused (pending) -> not due
    // 4: resolved -> not due
    // 5: due later than now -> not due
    // 6: first response due at 5 -> due (oldest)
    let plan: [(SlaState, Vec<EventKind>); 7] = [
        (mk(10, 500), vec![]),
        (
            mk(15, 20),
            vec![EventKind::MessageAdded {
                message_id: MessageId::new(),
                kind: MessageKind::Reply,
                author_kind: AuthorKind::Agent,
            }],
        ),
        (
            mk(10, 500),
            vec![EventKind::SlaBreached {
                kind: crate::domain::SlaKind::FirstResponse,
            }],
        ),
        (
            mk(10, 20),
            vec![EventKind::StatusChanged {
                from: TicketStatus::New,
                to: TicketStatus::Pending,
            }],
        ),
        (
            mk(10, 20),
            vec![EventKind::StatusChanged {
                from: TicketStatus::New,
                to: TicketStatus::Resolved,
            }],
        ),
        (mk(200, 500), vec![]),
        (mk(5, 500), vec![]),
    ];
    for (i, (sla, mut extra)) in plan.into_iter().enumerate() {
        let w = create(
            &store,
            a.id,
            customer.id,
            &format!("S{i}"),
            Priority::High,
            0,
        )
        .await;
        extra.insert(0, EventKind::SlaScheduled { sla });
        let c = change(&w.ticket, extra, at(1), Some(agent.id));
        store.update_ticket(1, &c).await.unwrap();
        ids.push(c.ticket.id);
    }
    let due: Vec<TicketId> = store
        .sla_due_tickets(a.id, at(100), 50)
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(due, vec![ids[6], ids[0], ids[1]]);
    let limited = store.sla_due_tickets(a.id, at(100), 1).await.unwrap();
    assert_eq!(limited.len(), 1);
    assert_eq!(limited[0].id, ids[6]);
    assert!(
        store
            .sla_due_tickets(a.id, at(4), 50)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Events come back in commit order and fold into the stored ticket.
pub async fn events_replay_to_stored_ticket(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let w = create(&store, a.id, customer.id, "Replay", Priority::Low, 0).await;
    let mut t = w.ticket.clone();
    let steps: Vec<Vec<EventKind>> = vec![
        vec![
            EventKind::Assigned {
                from: None,
                to: Some(agent.id),
            },
            EventKind::StatusChanged {
                from: TicketStatus::New,
                to: TicketStatus::Open,
            },
        ],
        vec![EventKind::PriorityChanged {
            from: Priority::Low,
            to: Priority::High,
        }],
        vec![EventKind::StatusChanged {
            from: TicketStatus::Open,
            to: TicketStatus::Pending,
        }],
        vec![EventKind::StatusChanged {
            from: TicketStatus::Pending,
            to: TicketStatus::Resolved,
        }],
        vec![EventKind::CsatRecorded {
            csat: Csat {
                score: 4,
                comment: Some("thanks".into()),
                at: at(50),
            },
        }],
    ];
    for (i, kinds) in steps.into_iter().enumerate() {
        let c = change(&t, kinds, at(10 * (i as i64 + 1)), Some(agent.id));
        store.update_ticket(t.version, &c).await.unwrap();
        t = c.ticket;
    }
    let events = store.list_events(a.id, t.id).await.unwrap();
    assert_eq!(events.len(), 7);
    let versions: Vec<u64> = events.iter().map(|e| e.version).collect();
    assert_eq!(versions, vec![1, 2, 2, 3, 4, 5, 6]);
    let stored = store.get_ticket(a.id, t.id).await.unwrap().unwrap();
    assert_eq!(stored, t);
    assert_eq!(crate::domain::Ticket::replay(&events), Some(stored));
}

fn assert_close(a: Option<f64>, b: Option<f64>, what: &str) {
    match (a, b) {
        (None, None) => {}
        (Some(x), Some(y)) => assert!(
            (x - y).abs() <= 1e-6 * y.abs().max(1.0),
            "{what}: {x} vs {y}"
        ),
        _ => panic!("{what}: {a:?} vs {b:?}"),
    }
}

/// Store analytics equal [`Analytics::compute`] over the same data (floats to 1e-6).
pub async fn analytics_matches_reference(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let agent2 = user(&a, Role::Agent, "agent2@acme.test");
    store.create_user(&agent2).await.unwrap();
    let (b, b_customer, _) = seed_tenant(&store, "beta").await;
    create(
        &store,
        b.id,
        b_customer.id,
        "Other tenant",
        Priority::Urgent,
        30,
    )
    .await;

    let mut tickets = Vec::new();
    let mut drafts = Vec::new();
    let categories = [Some("billing"), Some("technical"), None, Some("account")];
    let priorities = [
        Priority::Low,
        Priority::Medium,
        Priority::High,
        Priority::Urgent,
    ];
    for i in 0..24i64 {
        // Spread over three days, some before the range.
        let created = i * 170 - 200;
        let w = create(
            &store,
            a.id,
            customer.id,
            &format!("A{i}"),
            priorities[(i % 4) as usize],
            created,
        )
        .await;
        let owner = if i % 3 == 0 { agent2.id } else { agent.id };
        let mut kinds = vec![
            EventKind::CategoryChanged {
                to: categories[(i % 4) as usize].map(String::from),
            },
            EventKind::SlaScheduled {
                sla: SlaState {
                    first_response_due: Some(at(created + 60)),
                    resolution_due: Some(at(created + 600)),
                    ..SlaState::default()
                },
            },
        ];
        if i % 5 != 4 {
            kinds.push(EventKind::Assigned {
                from: None,
                to: Some(owner),
            });
        }
        let mut t = w.ticket.clone();
        let c = change(&t, kinds, at(created + 1), Some(agent.id));
        store.update_ticket(1, &c).await.unwrap();
        t = c.ticket;
        if i % 4 != 3 {
            let reply = MessageId::new();
            let c = change(
                &t,
                vec![EventKind::MessageAdded {
                    message_id: reply,
                    kind: MessageKind::Reply,
                    author_kind: AuthorKind::Agent,
                }],
                at(created + 7 * i + 3),
                Some(agent.id),
            );
            store.update_ticket(t.version, &c).await.unwrap();
            t = c.ticket;
        }
        if i % 6 == 1 {
            let c = change(
                &t,
                vec![EventKind::SlaBreached {
                    kind: crate::domain::SlaKind::Resolution,
                }],
                at(created + 601),
                None,
            );
            store.update_ticket(t.version, &c).await.unwrap();
            t = c.ticket;
        }
        if i % 2 == 0 {
            let c = change(
                &t,
                vec![EventKind::StatusChanged {
                    from: TicketStatus::New,
                    to: TicketStatus::Resolved,
                }],
                at(created + 13 * i + 30),
                Some(owner),
            );
            store.update_ticket(t.version, &c).await.unwrap();
            t = c.ticket;
            if i % 4 == 0 {
                let c = change(
                    &t,
                    vec![EventKind::CsatRecorded {
                        csat: Csat {
                            score: (i % 5 + 1) as u8,
                            comment: None,
                            at: at(created + 13 * i + 40),
                        },
                    }],
                    at(created + 13 * i + 40),
                    Some(customer.id),
                );
                store.update_ticket(t.version, &c).await.unwrap();
                t = c.ticket;
            }
        }
        if i == 9 {
            let target = tickets
                .first()
                .map(|x: &crate::domain::Ticket| x.id)
                .unwrap();
            let c = change(
                &t,
                vec![EventKind::Merged { into: target }],
                at(created + 50),
                Some(agent.id),
            );
            store.update_ticket(t.version, &c).await.unwrap();
            t = c.ticket;
        }
        if i % 3 == 1 {
            let state = [
                DraftState::Proposed,
                DraftState::Accepted,
                DraftState::Edited,
                DraftState::Discarded,
            ][(i % 4) as usize];
            let draft = Message {
                id: MessageId::new(),
                tenant_id: a.id,
                ticket_id: t.id,
                author: None,
                author_kind: AuthorKind::Bot,
                kind: MessageKind::Draft,
                body: "draft".into(),
                created_at: at(created + 5),
                citations: vec![],
                draft: Some(DraftInfo {
                    source: DraftSource::Llm,
                    state,
                    decided_at: None,
                    sent_as: None,
                }),
            };
            let mut c = change(
                &t,
                vec![EventKind::MessageAdded {
                    message_id: draft.id,
                    kind: MessageKind::Draft,
                    author_kind: AuthorKind::Bot,
                }],
                at(created + 5),
                Some(agent.id),
            );
            c.messages.push(draft.clone());
            store.update_ticket(t.version, &c).await.unwrap();
            t = c.ticket;
            drafts.push(draft);
        }
        tickets.push(t);
    }
    let mut chats = Vec::new();
    for i in 0..5i64 {
        let s = ChatSession {
            id: ChatSessionId::new(),
            tenant_id: a.id,
            customer: customer.id,
            ticket_id: None,
            state: if i == 1 {
                ChatState::Human
            } else {
                ChatState::Closed
            },
            handoff_reason: (i == 1 || i == 2).then(|| "asked for a human".to_string()),
            resolved_by_bot: i >= 3,
            created_at: at(i * 100),
            last_activity_at: at(i * 100 + 5),
            closed_at: None,
            version: 1,
        };
        store.create_chat_session(&s).await.unwrap();
        chats.push(s);
    }

    for (from, to) in [(0, 24 * 60), (-1000, 10_000), (100, 101), (5000, 6000)] {
        let range = TimeRange::new(at(from), at(to)).unwrap();
        let got = store.analytics(a.id, range, at(4000)).await.unwrap();
        let want = Analytics::compute(&tickets, &drafts, &chats, range, at(4000));
        assert_eq!(got.total, want.total, "total {from}..{to}");
        assert_eq!(
            got.volume_per_day, want.volume_per_day,
            "volume {from}..{to}"
        );
        assert_eq!(got.by_status, want.by_status, "by_status {from}..{to}");
        assert_eq!(
            got.by_priority, want.by_priority,
            "by_priority {from}..{to}"
        );
        assert_eq!(
            got.by_category, want.by_category,
            "by_category {from}..{to}"
        );
        for (g, w, what) in [
            (&got.first_response, &want.first_response, "first_response"),
            (&got.resolution, &want.resolution, "resolution"),
        ] {
            assert_eq!(g.count, w.count, "{what}.count {from}..{to}");
            assert_eq!(g.p50_ms, w.p50_ms, "{what}.p50 {from}..{to}");
            assert_eq!(g.p90_ms, w.p90_ms, "{what}.p90 {from}..{to}");
            assert_close(g.avg_ms, w.avg_ms, what);
        }
        assert_close(got.sla_met_pct, want.sla_met_pct, "sla_met_pct");
        assert_eq!(got.backlog, want.backlog, "backlog");
        assert_eq!(got.agents.len(), want.agents.len(), "agents {from}..{to}");
        for (g, w) in got.agents.iter().zip(&want.agents) {
            assert_eq!(
                (g.user_id, g.open_load, g.resolved),
                (w.user_id, w.open_load, w.resolved)
            );
            assert_close(g.avg_handle_ms, w.avg_handle_ms, "avg_handle_ms");
        }
        assert_eq!(got.csat.count, want.csat.count, "csat.count");
        assert_close(got.csat.average, want.csat.average, "csat.average");
        assert_eq!(got.drafts, want.drafts, "drafts {from}..{to}");
        assert_eq!(got.chat, want.chat, "chat {from}..{to}");
    }
    let everything = Analytics::compute(
        &tickets,
        &drafts,
        &chats,
        TimeRange::new(at(-1000), at(10_000)).unwrap(),
        at(4000),
    );
    assert_eq!(everything.total, 23, "the merged duplicate is excluded");
    assert!(
        everything.first_response.count > 0
            && everything.csat.count > 0
            && everything.drafts.proposed > 0
    );
}

/// Articles: create, update with version check, delete, list by title.
pub async fn articles_crud_and_conflict(store: S) {
    let (a, _, _) = seed_tenant(&store, "acme").await;
    let mk = |title: &str| Article {
        id: ArticleId::new(),
        tenant_id: a.id,
        title: title.into(),
        body: format!("# {title}\n\nBody of {title}."),
        tags: vec!["howto".into()],
        created_at: t0(),
        updated_at: t0(),
        version: 1,
    };
    let x = mk("Zeta");
    let y = mk("Alpha");
    store.create_article(&x).await.unwrap();
    store.create_article(&y).await.unwrap();
    assert_eq!(
        store.get_article(a.id, x.id).await.unwrap(),
        Some(x.clone())
    );
    let titles: Vec<String> = store
        .list_articles(a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.title)
        .collect();
    assert_eq!(titles, vec!["Alpha", "Zeta"]);

    let mut x2 = x.clone();
    x2.body = "new body".into();
    x2.version = 2;
    x2.updated_at = at(5);
    store.update_article(1, &x2).await.unwrap();
    assert_eq!(
        store.get_article(a.id, x.id).await.unwrap(),
        Some(x2.clone())
    );
    let mut stale = x.clone();
    stale.version = 2;
    assert!(matches!(
        store.update_article(1, &stale).await,
        Err(Error::Conflict { .. })
    ));
    assert_eq!(store.get_article(a.id, x.id).await.unwrap(), Some(x2));

    store.delete_article(a.id, x.id).await.unwrap();
    assert_eq!(store.get_article(a.id, x.id).await.unwrap(), None);
    assert!(matches!(
        store.delete_article(a.id, x.id).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(store.list_articles(a.id).await.unwrap().len(), 1);
}

/// Chat sessions: create, versioned update, list newest first, idle selection.
pub async fn chat_sessions_crud_conflict_and_idle(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let other = user(&a, Role::Customer, "other@acme.test");
    store.create_user(&other).await.unwrap();
    let mk = |who: UserId, minutes: i64| ChatSession {
        id: ChatSessionId::new(),
        tenant_id: a.id,
        customer: who,
        ticket_id: None,
        state: ChatState::Bot,
        handoff_reason: None,
        resolved_by_bot: false,
        created_at: at(minutes),
        last_activity_at: at(minutes),
        closed_at: None,
        version: 1,
    };
    let s1 = mk(customer.id, 0);
    let s2 = mk(other.id, 10);
    let s3 = mk(customer.id, 20);
    for s in [&s1, &s2, &s3] {
        store.create_chat_session(s).await.unwrap();
    }
    assert_eq!(
        store.get_chat_session(a.id, s1.id).await.unwrap(),
        Some(s1.clone())
    );
    let ids: Vec<ChatSessionId> = store
        .list_chat_sessions(a.id, None)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, vec![s3.id, s2.id, s1.id]);
    let mine: Vec<ChatSessionId> = store
        .list_chat_sessions(a.id, Some(customer.id))
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(mine, vec![s3.id, s1.id]);

    let mut s1b = s1.clone();
    s1b.state = ChatState::Human;
    s1b.handoff_reason = Some("asked".into());
    s1b.last_activity_at = at(40);
    s1b.version = 2;
    store.update_chat_session(1, &s1b).await.unwrap();
    let mut stale = s1.clone();
    stale.version = 2;
    stale.state = ChatState::Closed;
    assert!(matches!(
        store.update_chat_session(1, &stale).await,
        Err(Error::Conflict { .. })
    ));
    assert_eq!(
        store.get_chat_session(a.id, s1.id).await.unwrap(),
        Some(s1b.clone())
    );

    let mut s2c = s2.clone();
    s2c.state = ChatState::Closed;
    s2c.closed_at = Some(at(12));
    s2c.version = 2;
    store.update_chat_session(1, &s2c).await.unwrap();
    let idle: Vec<ChatSessionId> = store
        .idle_chat_sessions(a.id, at(30))
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(idle, vec![s3.id], "s1 active at 40, s2 closed");
    let idle: Vec<ChatSessionId> = store
        .idle_chat_sessions(a.id, at(41))
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(idle, vec![s3.id, s1.id], "oldest activity first");
    assert!(
        store
            .idle_chat_sessions(a.id, at(20))
            .await
            .unwrap()
            .is_empty(),
        "strictly before"
    );
}

/// The outbox: due entries of every tenant, oldest first; failures reschedule; delivered
/// entries are never due again.
pub async fn outbox_due_and_marking(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let (b, b_customer, _) = seed_tenant(&store, "beta").await;
    let wa = create(&store, a.id, customer.id, "A", Priority::Low, 0).await;
    let wb = create(&store, b.id, b_customer.id, "B", Priority::Low, 5).await;
    let mut c = change(
        &wa.ticket,
        vec![EventKind::Assigned {
            from: None,
            to: Some(agent.id),
        }],
        at(10),
        None,
    );
    let mut later = outbox_entry(
        &c.ticket,
        vec![agent.id],
        NotificationKind::Assigned,
        at(10),
    );
    later.next_attempt_at = at(60);
    c.outbox.push(later.clone());
    store.update_ticket(1, &c).await.unwrap();

    let due: Vec<_> = store
        .due_outbox(at(20), 10)
        .await
        .unwrap()
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(due, vec![wa.outbox[0].id, wb.outbox[0].id]);
    assert_eq!(store.due_outbox(at(20), 1).await.unwrap().len(), 1);

    store
        .mark_outbox_delivered(wa.outbox[0].id, at(21))
        .await
        .unwrap();
    store
        .mark_outbox_failed(wb.outbox[0].id, 1, at(80), "smtp down")
        .await
        .unwrap();
    assert!(store.due_outbox(at(30), 10).await.unwrap().is_empty());
    let due: Vec<_> = store.due_outbox(at(90), 10).await.unwrap();
    assert_eq!(
        due.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![later.id, wb.outbox[0].id]
    );
    assert_eq!(due[1].attempts, 1);
    assert_eq!(due[1].last_error.as_deref(), Some("smtp down"));
    let delivered = store.list_outbox(a.id).await.unwrap();
    assert!(
        delivered
            .iter()
            .any(|o| o.id == wa.outbox[0].id && o.delivered_at == Some(at(21)))
    );
}

/// Leases: one holder at a time, re-entrant for the holder, free after expiry or release.
pub async fn leases_exclusive_and_expiring(store: S) {
    let ttl = Duration::from_secs(60);
    assert!(
        store
            .try_acquire_lease("sla", "p1", at(0), ttl)
            .await
            .unwrap()
    );
    assert!(
        !store
            .try_acquire_lease("sla", "p2", at(0), ttl)
            .await
            .unwrap()
    );
    assert!(
        store
            .try_acquire_lease("outbox", "p2", at(0), ttl)
            .await
            .unwrap(),
        "names are independent"
    );
    assert!(
        store
            .try_acquire_lease("sla", "p1", at(0), ttl)
            .await
            .unwrap(),
        "holder renews"
    );
    assert!(
        !store
            .try_acquire_lease(
                "sla",
                "p2",
                at(0).checked_add(Duration::from_secs(59)).unwrap(),
                ttl
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .try_acquire_lease("sla", "p2", at(2), ttl)
            .await
            .unwrap(),
        "expired after 60 s"
    );
    store.release_lease("sla", "p1").await.unwrap();
    assert!(
        !store
            .try_acquire_lease("sla", "p1", at(2), ttl)
            .await
            .unwrap(),
        "release by a non-holder does nothing"
    );
    store.release_lease("sla", "p2").await.unwrap();
    assert!(
        store
            .try_acquire_lease("sla", "p1", at(2), ttl)
            .await
            .unwrap()
    );
}

/// Many tasks doing read-modify-write on one ticket: every successful update is kept, and
/// the events equal the successful updates.
pub async fn concurrent_writers_lose_no_update(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let w = create(&store, a.id, customer.id, "Hot", Priority::Low, 0).await;
    let tasks = 32usize;
    let updates_each = 3usize;
    let mut set = tokio::task::JoinSet::new();
    for task in 0..tasks {
        let store = store.clone();
        let (tenant, id) = (a.id, w.ticket.id);
        set.spawn(async move {
            let mut done = 0usize;
            let mut attempts = 0usize;
            while done < updates_each {
                attempts += 1;
                assert!(attempts < 10_000, "livelock");
                let current = store.get_ticket(tenant, id).await.unwrap().unwrap();
                let mut tags = current.tags.clone();
                tags.push(format!("t{task}-{done}"));
                let c = change(&current, vec![EventKind::TagsChanged { tags }], at(1), None);
                match store.update_ticket(current.version, &c).await {
                    Ok(()) => done += 1,
                    Err(Error::Conflict { .. }) => tokio::task::yield_now().await,
                    Err(e) if e.is_temporary() => {
                        tokio::time::sleep(Duration::from_millis(1)).await
                    }
                    Err(e) => panic!("unexpected error: {e:?}"),
                }
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    let total = (tasks * updates_each) as u64;
    let t = store.get_ticket(a.id, w.ticket.id).await.unwrap().unwrap();
    assert_eq!(t.version, 1 + total);
    assert_eq!(t.tags.len() as u64, total, "no tag lost");
    let events = store.list_events(a.id, w.ticket.id).await.unwrap();
    assert_eq!(events.len() as u64, 1 + total);
    assert_eq!(crate::domain::Ticket::replay(&events), Some(t));
}
