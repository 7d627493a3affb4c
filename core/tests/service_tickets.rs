//! Service behaviour: intake validation, idempotency, visibility, replies, reopen and
//! follow-ups, merge, CSAT, SLA sweep, outbox, auth, analytics, tenant isolation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use helpdesk_core::domain::{
    AuthorKind, Channel, EventKind, MessageKind, NotificationKind, OutboxEntry, Priority, Role,
    SlaKind, Tenant, TicketStatus, TriageSource,
};
use helpdesk_core::notify::Notifier;
use helpdesk_core::service::{NewReply, NewTenant, NewTicket, NewUser, TicketPatch, UserPatch};
use helpdesk_core::store::{MessageFilter, TicketQuery, TimeRange};
use helpdesk_core::{BoxError, DuplicateKind, Error, TicketId};

use common::{world, world_with};

fn field(e: Error) -> String {
    match e {
        Error::Validation { field, .. } => field.into_owned(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn intake_triages_schedules_routes_and_notifies_in_one_write() {
    let w = world().await;
    let out =
        w.hd.open_ticket(
            &w.customer,
            NewTicket::new(
                "Refund for double charge",
                "I was charged twice, please refund",
            ),
        )
        .await
        .unwrap();
    assert!(out.created);
    let t = out.ticket;
    assert_eq!(t.number, 1);
    assert_eq!(t.status, TicketStatus::New);
    assert_eq!(t.channel, Channel::Form);
    assert_eq!(t.category.as_deref(), Some("billing"));
    assert_eq!(t.required_skills, vec!["billing".to_string()]);
    assert_eq!(t.triage.as_ref().unwrap().source, TriageSource::Rules);
    assert_eq!(t.assignee, Some(w.agent.user_id), "the billing agent");
    // Medium priority: 8 business hours from Monday 09:00 UTC is Monday 17:00.
    assert_eq!(
        t.sla.first_response_due.unwrap().to_string(),
        "2026-03-02T17:00:00Z"
    );
    let events = w.store.list_events(w.tenant.id, t.id).await.unwrap();
    let names: Vec<&str> = events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(
        names,
        vec!["created", "triaged", "sla_scheduled", "assigned"]
    );
    assert!(events.iter().all(|e| e.version == 1));
    let outbox = w.store.list_outbox(w.tenant.id).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].notification.kind, NotificationKind::Assigned);
    assert_eq!(outbox[0].notification.recipients, vec![w.agent.user_id]);
    let second =
        w.hd.open_ticket(&w.customer, NewTicket::new("Another", "x"))
            .await
            .unwrap();
    assert_eq!(second.ticket.number, 2);
}

#[tokio::test]
async fn invalid_intake_names_the_field_and_writes_nothing() {
    let w = world().await;
    let long = "x".repeat(201);
    let cases: Vec<(NewTicket, &str)> = vec![
        (NewTicket::new("   ", "d"), "subject"),
        (NewTicket::new(&long, "d"), "subject"),
        (NewTicket::new("ok", &"d".repeat(20_001)), "description"),
        (NewTicket::new("bell\u{7}", "d"), "subject"),
        (NewTicket::new("ok", "nul \u{0} byte"), "description"),
        (
            NewTicket {
                tags: (0..21).map(|i| format!("t{i}")).collect(),
                ..NewTicket::new("ok", "d")
            },
            "tags",
        ),
        (
            NewTicket {
                tags: vec!["fine".into(), "y".repeat(51)],
                ..NewTicket::new("ok", "d")
            },
            "tags[1]",
        ),
        (
            NewTicket {
                idempotency_key: Some(" ".into()),
                ..NewTicket::new("ok", "d")
            },
            "idempotency_key",
        ),
    ];
    for (new, expected) in cases {
        assert_eq!(
            field(w.hd.open_ticket(&w.customer, new).await.unwrap_err()),
            expected
        );
    }
    assert!(
        w.store
            .list_tickets(w.tenant.id, &TicketQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(w.store.list_outbox(w.tenant.id).await.unwrap().is_empty());
    // Exactly at the limits is fine.
    let ok = NewTicket {
        tags: (0..20).map(|i| format!("t{i}")).collect(),
        ..NewTicket::new(&"s".repeat(200), &"d".repeat(20_000))
    };
    w.hd.open_ticket(&w.customer, ok).await.unwrap();
}

#[tokio::test]
async fn customers_cannot_open_for_others_and_staff_open_for_customers() {
    let w = world().await;
    let err =
        w.hd.open_ticket(
            &w.customer,
            NewTicket {
                requester: Some(w.customer2.user_id),
                ..NewTicket::new("x", "y")
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden { .. }));
    let t =
        w.hd.open_ticket(
            &w.agent,
            NewTicket {
                requester: Some(w.customer2.user_id),
                channel: Some(Channel::Email),
                ..NewTicket::new("By phone", "called in")
            },
        )
        .await
        .unwrap()
        .ticket;
    assert_eq!(t.requester, w.customer2.user_id);
    assert_eq!(t.channel, Channel::Email);
    let missing = helpdesk_core::UserId::new();
    assert!(matches!(
        w.hd.open_ticket(
            &w.agent,
            NewTicket {
                requester: Some(missing),
                ..NewTicket::new("x", "y")
            }
        )
        .await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn idempotency_key_returns_the_existing_ticket() {
    let w = world().await;
    let new = || NewTicket {
        idempotency_key: Some("<msg-1@mail.test>".into()),
        ..NewTicket::new("Mail", "body")
    };
    let first = w.hd.open_ticket(&w.customer, new()).await.unwrap();
    let again = w.hd.open_ticket(&w.customer, new()).await.unwrap();
    assert!(first.created && !again.created);
    assert_eq!(first.ticket.id, again.ticket.id);
    assert_eq!(
        w.store
            .list_tickets(w.tenant.id, &TicketQuery::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    // Another customer reusing the key is refused, not shown the ticket.
    let err = w.hd.open_ticket(&w.customer2, new()).await.unwrap_err();
    assert!(matches!(
        err,
        Error::Duplicate {
            kind: DuplicateKind::IdempotencyKey,
            ..
        }
    ));
    // Concurrent intakes with one key create one ticket.
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let hd = w.hd.clone();
        let c = w.customer.clone();
        set.spawn(async move {
            hd.open_ticket(
                &c,
                NewTicket {
                    idempotency_key: Some("race".into()),
                    ..NewTicket::new("Race", "x")
                },
            )
            .await
            .unwrap()
        });
    }
    let mut ids = Vec::new();
    while let Some(r) = set.join_next().await {
        ids.push(r.unwrap().ticket.id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
}

#[tokio::test]
async fn customers_see_only_their_tickets_and_never_notes() {
    let w = world().await;
    let mine =
        w.hd.open_ticket(&w.customer, NewTicket::new("Mine", "x"))
            .await
            .unwrap()
            .ticket;
    let theirs =
        w.hd.open_ticket(&w.customer2, NewTicket::new("Theirs", "x"))
            .await
            .unwrap()
            .ticket;
    w.hd.add_note(&w.agent, mine.id, "customer is grumpy")
        .await
        .unwrap();
    w.hd.reply(&w.agent, mine.id, NewReply::new("We are on it"))
        .await
        .unwrap();
    let view = w.hd.get_ticket(&w.customer, mine.id).await.unwrap();
    assert_eq!(view.messages.len(), 1);
    assert!(view.messages.iter().all(|m| m.kind.customer_visible()));
    assert!(view.events.is_empty());
    let staff_view = w.hd.get_ticket(&w.agent, mine.id).await.unwrap();
    assert_eq!(staff_view.messages.len(), 2);
    assert!(!staff_view.events.is_empty());
    assert!(matches!(
        w.hd.get_ticket(&w.customer, theirs.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        w.hd.reply(&w.customer, theirs.id, NewReply::new("hi"))
            .await,
        Err(Error::NotFound { .. })
    ));
    let page =
        w.hd.list_tickets(
            &w.customer,
            TicketQuery {
                requester: Some(w.customer2.user_id),
                ..TicketQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![mine.id],
        "requester filter cannot be widened"
    );
}

#[tokio::test]
async fn replies_drive_pending_reopen_and_follow_ups() {
    let w = world().await;
    let t =
        w.hd.open_ticket(&w.customer, NewTicket::new("Question", "how?"))
            .await
            .unwrap()
            .ticket;
    // Agent replies and waits on the customer.
    let r =
        w.hd.reply(
            &w.agent,
            t.id,
            NewReply {
                body: "Which version?".into(),
                status_after: Some(TicketStatus::Pending),
                attachments: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(r.ticket.status, TicketStatus::Pending);
    assert!(r.ticket.first_response_at.is_some());
    assert!(r.ticket.sla.paused_since.is_some());
    w.clock.advance(Duration::from_secs(3600));
    let r =
        w.hd.reply(&w.customer, t.id, NewReply::new("Version 2"))
            .await
            .unwrap();
    assert_eq!(r.ticket.status, TicketStatus::Open);
    assert!(r.ticket.sla.paused_since.is_none());
    assert!(
        r.ticket.sla.resolution_due.unwrap() > t.sla.resolution_due.unwrap(),
        "paused time extends the due time"
    );
    // Resolved, then a customer reply within the window reopens.
    w.hd.transition(&w.agent, t.id, TicketStatus::Resolved)
        .await
        .unwrap();
    let r =
        w.hd.reply(&w.customer, t.id, NewReply::new("Still broken"))
            .await
            .unwrap();
    assert!(r.reopened);
    assert_eq!(r.ticket.status, TicketStatus::Open);
    let events = w.store.list_events(w.tenant.id, t.id).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Reopened { .. }))
    );
    // Resolved long ago: a reply opens a linked follow-up instead.
    w.hd.transition(&w.agent, t.id, TicketStatus::Resolved)
        .await
        .unwrap();
    w.clock.advance(Duration::from_secs(8 * 24 * 3600));
    assert!(matches!(
        w.hd.transition(&w.customer, t.id, TicketStatus::Open).await,
        Err(Error::InvalidState(_))
    ));
    let r =
        w.hd.reply(&w.customer, t.id, NewReply::new("It happened again"))
            .await
            .unwrap();
    assert_eq!(r.follow_up_of, Some(t.id));
    assert_ne!(r.ticket.id, t.id);
    assert_eq!(r.ticket.follow_up_of, Some(t.id));
    assert_eq!(r.message.body, "It happened again");
    // Closed is final: a message opens a follow-up too; the closed ticket keeps its status.
    w.hd.transition(&w.agent, t.id, TicketStatus::Closed)
        .await
        .unwrap();
    let r2 =
        w.hd.reply(&w.customer, t.id, NewReply::new("And again"))
            .await
            .unwrap();
    assert_eq!(r2.follow_up_of, Some(t.id));
    let closed = w
        .store
        .get_ticket(w.tenant.id, t.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(closed.status, TicketStatus::Closed);
    let err =
        w.hd.transition(&w.admin, t.id, TicketStatus::Open)
            .await
            .unwrap_err();
    assert_eq!(
        err.to_string(),
        "a admin may not move a ticket from closed to open"
    );
}

#[tokio::test]
async fn merge_closes_the_duplicate_and_keeps_its_thread() {
    let w = world().await;
    let a =
        w.hd.open_ticket(&w.customer, NewTicket::new("Login fails", "x"))
            .await
            .unwrap()
            .ticket;
    let b =
        w.hd.open_ticket(&w.customer, NewTicket::new("Cannot log in", "y"))
            .await
            .unwrap()
            .ticket;
    let (dup, target) = w.hd.merge(&w.agent, b.id, a.id).await.unwrap();
    assert_eq!(dup.status, TicketStatus::Closed);
    assert_eq!(dup.merged_into, Some(a.id));
    assert_eq!(target.merged_into, None);
    let view = w.hd.get_ticket(&w.customer, b.id).await.unwrap();
    assert!(
        view.messages
            .iter()
            .any(|m| m.body.contains(&format!("#{}", a.number)))
    );
    assert!(matches!(
        w.hd.reply(&w.customer, b.id, NewReply::new("hi")).await,
        Err(Error::InvalidState(_))
    ));
    assert!(matches!(
        w.hd.merge(&w.agent, b.id, a.id).await,
        Err(Error::InvalidState(_))
    ));
    assert!(matches!(
        w.hd.merge(&w.agent, a.id, a.id).await,
        Err(Error::Validation { .. })
    ));
}

#[tokio::test]
async fn csat_once_by_the_requester_after_resolution() {
    let w = world().await;
    let t =
        w.hd.open_ticket(&w.customer, NewTicket::new("Help", "x"))
            .await
            .unwrap()
            .ticket;
    assert!(
        matches!(
            w.hd.record_csat(&w.customer, t.id, 5, None).await,
            Err(Error::InvalidState(_))
        ),
        "not resolved yet"
    );
    w.hd.transition(&w.agent, t.id, TicketStatus::Resolved)
        .await
        .unwrap();
    assert!(matches!(
        w.hd.record_csat(&w.customer2, t.id, 5, None).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        w.hd.record_csat(&w.agent, t.id, 5, None).await,
        Err(Error::Forbidden { .. })
    ));
    assert_eq!(
        field(
            w.hd.record_csat(&w.customer, t.id, 0, None)
                .await
                .unwrap_err()
        ),
        "score"
    );
    assert_eq!(
        field(
            w.hd.record_csat(&w.customer, t.id, 6, None)
                .await
                .unwrap_err()
        ),
        "score"
    );
    let rated =
        w.hd.record_csat(&w.customer, t.id, 4, Some("quick".into()))
            .await
            .unwrap();
    assert_eq!(rated.csat.as_ref().unwrap().score, 4);
    assert!(matches!(
        w.hd.record_csat(&w.customer, t.id, 5, None).await,
        Err(Error::InvalidState(_))
    ));
}

#[tokio::test]
async fn sla_sweep_records_each_breach_exactly_once() {
    let w = world().await;
    let t =
        w.hd.open_ticket(&w.customer, NewTicket::new("Site down, urgent", "outage"))
            .await
            .unwrap()
            .ticket;
    assert_eq!(t.priority, Priority::Urgent);
    assert_eq!(w.hd.sla_sweep().await.unwrap().breaches, 0);
    w.clock.advance(Duration::from_secs(2 * 3600)); // past first response (1h), before resolution (4h)
    let r = w.hd.sla_sweep().await.unwrap();
    assert!(r.ran);
    assert_eq!(r.breaches, 1);
    assert_eq!(w.hd.sla_sweep().await.unwrap().breaches, 0, "idempotent");
    w.clock.advance(Duration::from_secs(3 * 3600));
    assert_eq!(w.hd.sla_sweep().await.unwrap().breaches, 1);
    assert_eq!(w.hd.sla_sweep().await.unwrap().breaches, 0);
    let events = w.store.list_events(w.tenant.id, t.id).await.unwrap();
    let breaches: Vec<SlaKind> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::SlaBreached { kind } => Some(kind),
            _ => None,
        })
        .collect();
    assert_eq!(breaches, vec![SlaKind::FirstResponse, SlaKind::Resolution]);
    let stored = w
        .store
        .get_ticket(w.tenant.id, t.id)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.sla.first_response_breached && stored.sla.resolution_breached);
    let notified = w
        .store
        .list_outbox(w.tenant.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|o| matches!(o.notification.kind, NotificationKind::SlaBreached { .. }))
        .count();
    assert_eq!(notified, 2);
    // A late first reply on another ticket is flagged at reply time, once.
    let u =
        w.hd.open_ticket(&w.customer, NewTicket::new("Another outage", "urgent"))
            .await
            .unwrap()
            .ticket;
    w.clock.advance(Duration::from_secs(2 * 3600));
    let r =
        w.hd.reply(&w.agent, u.id, NewReply::new("Sorry for the wait"))
            .await
            .unwrap();
    assert!(r.ticket.sla.first_response_breached);
    // Created Monday 14:00: resolution (4 business hours) is due Tuesday 10:00.
    assert_eq!(
        w.hd.sla_sweep().await.unwrap().breaches,
        0,
        "first response already flagged"
    );
    w.clock.advance(Duration::from_secs(24 * 3600));
    assert_eq!(
        w.hd.sla_sweep().await.unwrap().breaches,
        1,
        "only the resolution target remains"
    );
}

#[tokio::test]
async fn sla_sweep_skips_when_another_process_holds_the_lease() {
    let w = world().await;
    assert!(
        w.store
            .try_acquire_lease(
                "sla-sweep",
                "other-process",
                w.hd.now(),
                Duration::from_secs(60)
            )
            .await
            .unwrap()
    );
    let r = w.hd.sla_sweep().await.unwrap();
    assert!(!r.ran);
}

#[derive(Debug, Default)]
struct FlakyNotifier {
    fail_first: Mutex<u32>,
    delivered: Mutex<Vec<OutboxEntry>>,
}

/// An error whose message is only its top level; the cause is its source.
#[derive(Debug)]
struct ChainTop(std::io::Error);

impl std::fmt::Display for ChainTop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("sending failed")
    }
}

impl std::error::Error for ChainTop {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[async_trait]
impl Notifier for FlakyNotifier {
    async fn deliver(&self, _tenant: &Tenant, entry: &OutboxEntry) -> Result<(), BoxError> {
        let mut left = self.fail_first.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            return Err(Box::new(ChainTop(std::io::Error::other(
                "smtp unavailable",
            ))));
        }
        self.delivered.lock().unwrap().push(entry.clone());
        Ok(())
    }
}

#[tokio::test]
async fn outbox_retries_with_backoff_until_delivered() {
    let notifier = Arc::new(FlakyNotifier {
        fail_first: Mutex::new(2),
        ..FlakyNotifier::default()
    });
    let w = world_with({
        let n = notifier.clone();
        move |b| b.notifier(n)
    })
    .await;
    w.hd.open_ticket(&w.customer, NewTicket::new("Refund", "charged twice"))
        .await
        .unwrap();
    let r = w.hd.dispatch_outbox().await.unwrap();
    assert_eq!((r.delivered, r.failed), (0, 1));
    let entry = &w.store.list_outbox(w.tenant.id).await.unwrap()[0];
    assert_eq!(entry.attempts, 1);
    assert_eq!(
        entry.last_error.as_deref(),
        Some("sending failed: smtp unavailable"),
        "the whole source chain is recorded"
    );
    assert_eq!(
        entry.next_attempt_at.duration_since(w.hd.now()).as_secs(),
        30
    );
    assert_eq!(
        w.hd.dispatch_outbox().await.unwrap().delivered,
        0,
        "not due yet"
    );
    w.clock.advance(Duration::from_secs(30));
    assert_eq!(w.hd.dispatch_outbox().await.unwrap().failed, 1);
    let entry = &w.store.list_outbox(w.tenant.id).await.unwrap()[0];
    assert_eq!(
        entry.next_attempt_at.duration_since(w.hd.now()).as_secs(),
        60,
        "doubled"
    );
    w.clock.advance(Duration::from_secs(60));
    assert_eq!(w.hd.dispatch_outbox().await.unwrap().delivered, 1);
    assert_eq!(notifier.delivered.lock().unwrap().len(), 1);
    w.clock.advance(Duration::from_secs(3600));
    assert_eq!(
        w.hd.dispatch_outbox().await.unwrap().delivered,
        0,
        "delivered entries are done"
    );
}

#[tokio::test]
async fn password_login_sessions_and_logout() {
    let w = world().await;
    let user =
        w.hd.register_customer(
            "acme",
            NewUser::new("Dana@Example.com", "Dana", Role::Admin)
                .with_password("correct horse battery"),
        )
        .await
        .unwrap();
    assert_eq!(
        user.role,
        Role::Customer,
        "self-registration is always a customer"
    );
    assert_eq!(user.email, "dana@example.com");
    assert!(
        format!("{user:?}").find("argon2").is_none(),
        "hash not in Debug"
    );
    let login =
        w.hd.login("acme", "dana@example.com", "correct horse battery")
            .await
            .unwrap();
    assert_eq!(login.actor.user_id, user.id);
    assert!(!format!("{login:?}").contains(&login.token));
    assert_eq!(w.hd.authenticate(&login.token).await.unwrap(), login.actor);
    for (slug, email, pw) in [
        ("acme", "dana@example.com", "wrong password"),
        ("acme", "nobody@example.com", "correct horse battery"),
        ("nope", "dana@example.com", "correct horse battery"),
        ("acme", "not an email", "x"),
    ] {
        assert!(matches!(
            w.hd.login(slug, email, pw).await,
            Err(Error::Unauthenticated {
                reason: "wrong e-mail or password"
            })
        ));
    }
    w.hd.logout(&login.token).await.unwrap();
    assert!(matches!(
        w.hd.authenticate(&login.token).await,
        Err(Error::Unauthenticated { .. })
    ));
    let again =
        w.hd.login("acme", "dana@example.com", "correct horse battery")
            .await
            .unwrap();
    w.clock.advance(Duration::from_secs(13 * 3600));
    assert!(matches!(
        w.hd.authenticate(&again.token).await,
        Err(Error::Unauthenticated {
            reason: "session expired"
        })
    ));
    assert_eq!(
        field(
            w.hd.register_customer(
                "acme",
                NewUser::new("e@x.test", "E", Role::Customer).with_password("short")
            )
            .await
            .unwrap_err()
        ),
        "password"
    );
    assert!(matches!(
        w.hd.register_customer(
            "acme",
            NewUser::new("DANA@example.com", "D2", Role::Customer)
                .with_password("another long one")
        )
        .await,
        Err(Error::Duplicate {
            kind: DuplicateKind::Email,
            ..
        })
    ));
}

#[tokio::test]
async fn the_last_admin_stays_and_settings_are_validated() {
    let w = world().await;
    let err =
        w.hd.update_user(
            &w.admin,
            w.admin.user_id,
            UserPatch {
                role: Some(Role::Agent),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidState(_)));
    let mut s = w.tenant.settings.clone();
    s.default_category = "nope".into();
    assert_eq!(
        field(w.hd.update_settings(&w.admin, s).await.unwrap_err()),
        "settings.default_category"
    );
    let mut s = w.tenant.settings.clone();
    s.grounding_threshold = 1.5;
    assert_eq!(
        field(w.hd.update_settings(&w.admin, s).await.unwrap_err()),
        "settings.grounding_threshold"
    );
    let mut s = w.tenant.settings.clone();
    s.categories.push("Bad Name!".into());
    assert_eq!(
        field(w.hd.update_settings(&w.admin, s).await.unwrap_err()),
        "settings.categories[4]"
    );
    assert_eq!(
        field(
            w.hd.add_user(
                &w.admin,
                NewUser::new("z@x.test", "Z", Role::Agent).with_skills(&["juggling"])
            )
            .await
            .unwrap_err()
        ),
        "skills[0]"
    );
    let mut s = w.tenant.settings.clone();
    s.categories.push("hardware".into());
    let t = w.hd.update_settings(&w.admin, s).await.unwrap();
    assert!(t.settings.categories.contains(&"hardware".to_string()));
    assert!(matches!(
        w.hd.register_tenant(NewTenant {
            name: "Acme 2".into(),
            slug: "acme".into(),
            admin: NewUser::new("a@b.test", "A", Role::Admin),
            settings: None
        })
        .await,
        Err(Error::Duplicate {
            kind: DuplicateKind::TenantSlug,
            ..
        })
    ));
}

#[tokio::test]
async fn tenants_are_isolated_at_the_service() {
    let w = world().await;
    let (other, other_admin) =
        w.hd.register_tenant(NewTenant {
            name: "Beta".into(),
            slug: "beta".into(),
            admin: NewUser::new("admin@beta.test", "B", Role::Admin),
            settings: None,
        })
        .await
        .unwrap();
    let other_admin = helpdesk_core::domain::Actor::for_user(&other_admin);
    let t =
        w.hd.open_ticket(&w.customer, NewTicket::new("Acme secret", "x"))
            .await
            .unwrap()
            .ticket;
    assert!(matches!(
        w.hd.get_ticket(&other_admin, t.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        w.hd.assign(&other_admin, t.id, Some(other_admin.user_id))
            .await,
        Err(Error::NotFound { .. })
    ));
    assert!(
        matches!(
            w.hd.assign(&w.admin, t.id, Some(other_admin.user_id)).await,
            Err(Error::NotFound { .. })
        ),
        "cannot assign to another tenant's user"
    );
    assert!(
        w.hd.list_tickets(&other_admin, TicketQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        matches!(
            w.hd.assign(&w.admin, t.id, Some(w.customer2.user_id)).await,
            Err(Error::Validation { .. })
        ),
        "customers cannot be assignees"
    );
    let range = TimeRange::new(
        w.hd.now()
            .checked_sub(jiff::SignedDuration::from_hours(1))
            .unwrap(),
        w.hd.now()
            .checked_add(jiff::SignedDuration::from_hours(1))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        w.hd.analytics(&other_admin, range)
            .await
            .unwrap()
            .analytics
            .total,
        0
    );
    assert_eq!(
        w.hd.analytics(&w.admin, range)
            .await
            .unwrap()
            .analytics
            .total,
        1
    );
    assert_eq!(other.slug, "beta");
}

#[tokio::test]
async fn priority_edit_recomputes_sla_and_analytics_fill_days() {
    let w = world().await;
    let t =
        w.hd.open_ticket(&w.customer, NewTicket::new("Question", "how do I export"))
            .await
            .unwrap()
            .ticket;
    assert_eq!(t.priority, Priority::Low);
    let up =
        w.hd.update_ticket(
            &w.agent,
            t.id,
            TicketPatch {
                priority: Some(Priority::Urgent),
                category: Some("technical".into()),
                tags: Some(vec!["Export".into()]),
            },
        )
        .await
        .unwrap();
    assert_eq!(up.priority, Priority::Urgent);
    assert_eq!(
        up.sla.first_response_due.unwrap().to_string(),
        "2026-03-02T10:00:00Z"
    );
    assert_eq!(up.tags, vec!["export".to_string()]);
    assert_eq!(
        field(
            w.hd.update_ticket(
                &w.agent,
                t.id,
                TicketPatch {
                    category: Some("lottery".into()),
                    ..TicketPatch::default()
                }
            )
            .await
            .unwrap_err()
        ),
        "category"
    );
    let from = "2026-02-28T00:00:00Z".parse().unwrap();
    let to = "2026-03-04T00:00:00Z".parse().unwrap();
    let report =
        w.hd.analytics(&w.admin, TimeRange::new(from, to).unwrap())
            .await
            .unwrap();
    assert_eq!(report.daily_volume.len(), 4);
    assert_eq!(
        report
            .daily_volume
            .iter()
            .map(|(_, n)| *n)
            .collect::<Vec<_>>(),
        vec![0, 0, 1, 0]
    );
    assert_eq!(
        report.analytics.by_priority,
        vec![("urgent".to_string(), 1)]
    );
}

#[tokio::test]
async fn concurrent_service_writers_all_land() {
    let w = world().await;
    let t =
        w.hd.open_ticket(&w.customer, NewTicket::new("Busy", "x"))
            .await
            .unwrap()
            .ticket;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..16 {
        let hd = w.hd.clone();
        let agent = w.agent.clone();
        let id: TicketId = t.id;
        set.spawn(async move { hd.add_note(&agent, id, &format!("note {i}")).await.unwrap() });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    let notes = w
        .store
        .list_messages(w.tenant.id, t.id, MessageFilter::All)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == MessageKind::Note && m.author_kind == AuthorKind::Agent)
        .count();
    assert_eq!(notes, 16);
}
