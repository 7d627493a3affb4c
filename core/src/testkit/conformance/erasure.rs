//! Conformance cases for erasure: a customer's erasure and the retention policy remove
//! personal data from the ticket, its events, messages, files, outbox and search
//! entries on every backend, keep what analytics counts, and an invalid erasure writes
//! nothing.

use std::sync::Arc;
use std::time::Duration;

use super::S;
use crate::domain::{
    Actor, AuditKind, CustomFieldDef, ErasureReason, EventKind, FieldKind, FieldValue, Role,
    Ticket, TicketStatus,
};
use crate::erasure::ERASED_TEXT;
use crate::service::{NewAttachment, NewReply, NewTenant, NewTicket, NewUser, SearchRequest};
use crate::store::{AuditQuery, MessageFilter, TicketErasure, TimeRange};
use crate::testkit::blobs::MemoryBlobStore;
use crate::testkit::clock::ManualClock;
use crate::{Clock, Helpdesk};
use crate::{Error, EventId};

struct Desk {
    hd: Helpdesk,
    admin: Actor,
    agent: Actor,
    clock: Arc<ManualClock>,
    blobs: Arc<MemoryBlobStore>,
}

fn field(key: &str, kind: FieldKind) -> CustomFieldDef {
    CustomFieldDef {
        key: key.into(),
        label: key.into(),
        kind,
        required_to_resolve: false,
        customer_visible: true,
        customer_editable: true,
    }
}

/// A helpdesk on `store` with a blob store, a manual clock, a text and a dropdown field.
async fn desk(store: S, slug: &str) -> Desk {
    let clock = Arc::new(ManualClock::new(crate::testkit::fixtures::t0()));
    let blobs = Arc::new(MemoryBlobStore::new());
    let hd = Helpdesk::builder(store)
        .clock(clock.clone())
        .blob_store(blobs.clone())
        .build()
        .unwrap();
    let (tenant, admin) = hd
        .register_tenant(NewTenant {
            name: "Erasure Co".into(),
            slug: slug.into(),
            admin: NewUser::new(&format!("admin@{slug}.test"), "Ada", Role::Admin),
            settings: None,
        })
        .await
        .unwrap();
    let admin = Actor::for_user(&admin);
    let mut settings = tenant.settings;
    settings.custom_fields = vec![
        field("order_ref", FieldKind::Text),
        field(
            "plan",
            FieldKind::Dropdown {
                options: vec!["free".into(), "pro".into()],
            },
        ),
    ];
    hd.update_settings(&admin, settings).await.unwrap();
    let agent = hd
        .add_user(
            &admin,
            NewUser::new(&format!("agent@{slug}.test"), "Bob", Role::Agent),
        )
        .await
        .unwrap();
    Desk {
        hd,
        admin,
        agent: Actor::for_user(&agent),
        clock,
        blobs,
    }
}

async fn customer(d: &Desk, email: &str, name: &str) -> Actor {
    let user =
        d.hd.add_user(
            &d.admin,
            NewUser::new(email, name, Role::Customer).with_password("correct horse battery"),
        )
        .await
        .unwrap();
    Actor::for_user(&user)
}

/// A resolved, rated ticket with a file, a reply, a note and both fields, all naming `word`.
async fn worked_ticket(d: &Desk, customer: &Actor, word: &str) -> Ticket {
    let mut new = NewTicket::new(
        &format!("Refund {word}"),
        &format!("My card {word} was charged"),
    );
    new.fields = [
        (
            "order_ref".to_owned(),
            FieldValue::Text(format!("order {word}")),
        ),
        ("plan".to_owned(), FieldValue::Text("pro".into())),
    ]
    .into();
    new.attachments = vec![NewAttachment::new("receipt.txt", format!("receipt {word}"))];
    let ticket = d.hd.open_ticket(customer, new).await.unwrap().ticket;
    d.hd.add_note(&d.agent, ticket.id, format!("called {word} back"))
        .await
        .unwrap();
    let mut reply = NewReply::new(&format!("Refunded, {word}"));
    reply.status_after = Some(TicketStatus::Resolved);
    d.hd.reply(&d.agent, ticket.id, reply).await.unwrap();
    d.hd.record_csat(customer, ticket.id, 4, Some(format!("thanks {word}")))
        .await
        .unwrap()
}

async fn staff_finds(d: &Desk, word: &str) -> usize {
    let request = SearchRequest {
        q: word.into(),
        ..SearchRequest::default()
    };
    d.hd.search_tickets(&d.agent, request)
        .await
        .unwrap()
        .items
        .len()
}

/// An admin erases a customer: the profile is anonymised and the login gone, the texts of
/// their tickets are erased in the ticket, its events, messages, outbox, search entries
/// and files, analytics counts stay, another customer's data is untouched, replay still
/// rebuilds the ticket, and a second erasure finds nothing left.
pub async fn erasing_a_customer_removes_their_data_everywhere(store: S) {
    let d = desk(store.clone(), "erase-customer").await;
    let jane = customer(&d, "jane@erase.test", "Jane Roe").await;
    let other = customer(&d, "olga@erase.test", "Olga").await;
    let ticket = worked_ticket(&d, &jane, "zanzibarquux").await;
    let kept = worked_ticket(&d, &other, "kilimanjaroquux").await;
    let tenant = ticket.tenant_id;
    let range = TimeRange::new(
        crate::testkit::fixtures::at(-60),
        crate::testkit::fixtures::at(24 * 60),
    )
    .unwrap();
    let before = d.hd.analytics(&d.admin, range).await.unwrap();
    assert_eq!(staff_finds(&d, "zanzibarquux").await, 1);
    assert_eq!(
        staff_finds(&d, "jane").await,
        1,
        "the requester's name is searched"
    );
    assert_eq!(d.blobs.len(), 2);

    d.clock.advance(Duration::from_secs(60));
    let report = d.hd.erase_customer(&d.admin, jane.user_id).await.unwrap();
    assert_eq!((report.tickets, report.files), (1, 1));
    assert!(report.blobs_left.is_empty());

    // The profile and the login.
    let user = store.get_user(tenant, jane.user_id).await.unwrap().unwrap();
    assert_eq!(user.name, "Erased customer");
    assert!(!user.active);
    assert!(!user.email.contains("jane"));
    assert!(
        store
            .get_user_by_email(tenant, "jane@erase.test")
            .await
            .unwrap()
            .is_none()
    );
    let login = store.login_credentials(tenant, &user.email).await.unwrap();
    assert!(matches!(login, Some((_, None))), "no password hash is left");
    assert!(
        d.hd.login("erase-customer", "jane@erase.test", "correct horse battery")
            .await
            .is_err()
    );

    // The ticket, its events (replayed to it), messages, files and outbox.
    let stored = store.get_ticket(tenant, ticket.id).await.unwrap().unwrap();
    assert_eq!(stored.subject, ERASED_TEXT);
    assert!(stored.description.is_empty());
    assert_eq!(
        stored.custom_fields,
        [("plan".to_owned(), FieldValue::Text("pro".into()))].into()
    );
    let csat = stored.csat.clone().unwrap();
    assert_eq!((csat.score, csat.comment), (4, None));
    assert_eq!(
        stored.status,
        TicketStatus::Resolved,
        "a customer erasure keeps the status"
    );
    assert!(stored.erased_at.is_some());
    let events = store.list_events(tenant, ticket.id).await.unwrap();
    assert_eq!(Ticket::replay(&events).as_ref(), Some(&stored));
    assert!(matches!(
        events.last().map(|e| &e.kind),
        Some(EventKind::PersonalDataErased {
            reason: ErasureReason::CustomerRequest
        })
    ));
    let recorded = serde_json::to_string(&events).unwrap();
    assert!(
        !recorded.contains("zanzibarquux"),
        "events keep no text: {recorded}"
    );
    let messages = store
        .list_messages(tenant, ticket.id, MessageFilter::All)
        .await
        .unwrap();
    assert_eq!(messages.len(), 2, "the note and the reply");
    assert!(
        messages
            .iter()
            .all(|m| m.body == ERASED_TEXT && m.email.is_none())
    );
    assert!(
        store
            .list_attachments(tenant, ticket.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        d.blobs.len(),
        1,
        "the erased file's bytes are gone, the other's stay"
    );
    let outbox = store.list_outbox(tenant).await.unwrap();
    assert!(outbox.iter().all(|o| o.notification.ticket_id != ticket.id));
    assert!(outbox.iter().any(|o| o.notification.ticket_id == kept.id));

    // Search, analytics and the audit log.
    assert_eq!(staff_finds(&d, "zanzibarquux").await, 0);
    assert_eq!(staff_finds(&d, "jane").await, 0);
    assert_eq!(
        staff_finds(&d, "kilimanjaroquux").await,
        1,
        "another customer's text stays"
    );
    let after = d.hd.analytics(&d.admin, range).await.unwrap();
    assert_eq!(
        after.analytics, before.analytics,
        "analytics count what they counted"
    );
    let audit = store
        .list_audit_events(tenant, &AuditQuery::newest(100))
        .await
        .unwrap();
    let recorded = serde_json::to_string(&audit).unwrap();
    assert!(!recorded.contains("jane@erase.test"), "{recorded}");
    assert!(recorded.contains("olga@erase.test"));
    assert!(
        audit
            .iter()
            .any(|a| a.kind == AuditKind::CustomerErased { user: jane.user_id })
    );

    // Idempotent, and only for customers.
    let again = d.hd.erase_customer(&d.admin, jane.user_id).await.unwrap();
    assert_eq!((again.tickets, again.files), (0, 0));
    assert_eq!(
        store.get_ticket(tenant, ticket.id).await.unwrap(),
        Some(stored)
    );
    let refused =
        d.hd.erase_customer(&d.admin, d.agent.user_id)
            .await
            .unwrap_err();
    assert!(matches!(refused, Error::Validation { .. }), "{refused:?}");
    let refused =
        d.hd.erase_customer(&d.agent, other.user_id)
            .await
            .unwrap_err();
    assert!(matches!(refused, Error::Forbidden { .. }), "{refused:?}");
}

/// An erasure planned on a stale version, or naming an event the ticket does not have,
/// writes nothing at all.
pub async fn an_invalid_erasure_writes_nothing(store: S) {
    let d = desk(store.clone(), "erase-invalid").await;
    let jane = customer(&d, "jane@invalid.test", "Jane").await;
    let ticket = worked_ticket(&d, &jane, "quokkaquux").await;
    let tenant = ticket.tenant_id;
    let events = store.list_events(tenant, ticket.id).await.unwrap();
    let messages = store
        .list_messages(tenant, ticket.id, MessageFilter::All)
        .await
        .unwrap();
    let redaction = crate::erasure::Redaction::new(&[]);
    let erasure = |version_of: &Ticket| {
        let mut write = crate::testkit::fixtures::change(
            version_of,
            vec![EventKind::PersonalDataErased {
                reason: ErasureReason::CustomerRequest,
            }],
            crate::testkit::fixtures::at(90),
            None,
        );
        write.ticket = redaction.ticket(&write.ticket);
        write.messages = messages
            .iter()
            .filter_map(|m| redaction.message(m))
            .collect();
        TicketErasure {
            write,
            events: events.iter().filter_map(|e| redaction.event(e)).collect(),
            attachments: Vec::new(),
        }
    };
    let mut stale = ticket.clone();
    stale.version -= 1;
    let mut stale_erasure = erasure(&stale);
    stale_erasure.write.previous = None;
    stale_erasure.events.clear();
    let e = store
        .erase_ticket(stale.version, &stale_erasure)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict { .. }), "{e:?}");

    let mut unknown = erasure(&ticket);
    let mut foreign = unknown.events[0].clone();
    foreign.id = EventId::new();
    unknown.events.push(foreign);
    let e = store
        .erase_ticket(ticket.version, &unknown)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");

    let mut unmarked = erasure(&ticket);
    unmarked.write.events.clear();
    let e = store
        .erase_ticket(ticket.version, &unmarked)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Validation { .. }), "{e:?}");

    assert_eq!(
        store.get_ticket(tenant, ticket.id).await.unwrap(),
        Some(ticket.clone())
    );
    assert_eq!(store.list_events(tenant, ticket.id).await.unwrap(), events);
    assert_eq!(
        store
            .list_messages(tenant, ticket.id, MessageFilter::All)
            .await
            .unwrap(),
        messages
    );
    assert_eq!(
        store
            .list_attachments(tenant, ticket.id)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(staff_finds(&d, "quokkaquux").await, 1);
}

/// The retention sweep closes and erases the tickets created before the tenant's
/// retention period, oldest first, and leaves newer ones alone; a second sweep finds
/// nothing to do.
pub async fn retention_closes_and_erases_old_tickets_only(store: S) {
    let d = desk(store.clone(), "retention").await;
    let jane = customer(&d, "jane@retention.test", "Jane").await;
    let old =
        d.hd.open_ticket(&jane, NewTicket::new("Old wombatquux", "from long ago"))
            .await
            .unwrap()
            .ticket;
    let resolved_old = worked_ticket(&d, &jane, "platypusquux").await;
    d.clock.advance(Duration::from_secs(200 * 24 * 3600));
    let recent =
        d.hd.open_ticket(&jane, NewTicket::new("Recent echidnaquux", "this week"))
            .await
            .unwrap()
            .ticket;
    let tenant = old.tenant_id;

    let none = d.hd.retention_sweep().await.unwrap();
    assert!(none.ran);
    assert_eq!(none.erased.tickets, 0, "no policy, nothing erased");

    let mut settings = store.get_tenant(tenant).await.unwrap().unwrap().settings;
    settings.retention_months = Some(6);
    d.hd.update_settings(&d.admin, settings.clone())
        .await
        .unwrap();
    settings.retention_months = Some(0);
    let e = d.hd.update_settings(&d.admin, settings).await.unwrap_err();
    assert!(
        matches!(e, Error::Validation { ref field, .. } if field == "settings.retention_months")
    );

    let swept = d.hd.retention_sweep().await.unwrap();
    assert_eq!((swept.erased.tickets, swept.erased.files), (2, 1));
    for id in [old.id, resolved_old.id] {
        let t = store.get_ticket(tenant, id).await.unwrap().unwrap();
        assert_eq!(t.status, TicketStatus::Closed);
        assert_eq!(t.subject, ERASED_TEXT);
        assert!(t.erased_at.is_some());
        let events = store.list_events(tenant, id).await.unwrap();
        assert_eq!(Ticket::replay(&events).as_ref(), Some(&t));
    }
    let closed_open = store.get_ticket(tenant, old.id).await.unwrap().unwrap();
    assert!(
        closed_open.resolved_at.is_none(),
        "closing by retention records no resolution"
    );
    let untouched = store.get_ticket(tenant, recent.id).await.unwrap().unwrap();
    assert_eq!(untouched, recent);
    assert_eq!(staff_finds(&d, "wombatquux").await, 0);
    assert_eq!(staff_finds(&d, "platypusquux").await, 0);
    assert_eq!(staff_finds(&d, "echidnaquux").await, 1);
    let cutoff = d.clock.now();
    assert!(
        store
            .retention_due(tenant, cutoff, 10)
            .await
            .unwrap()
            .iter()
            .all(|t| t.id == recent.id)
    );

    let again = d.hd.retention_sweep().await.unwrap();
    assert_eq!(again.erased.tickets, 0);
    let user = store.get_user(tenant, jane.user_id).await.unwrap().unwrap();
    assert!(user.active, "retention erases tickets, not the customer");
}
