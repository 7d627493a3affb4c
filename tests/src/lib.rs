//! End-to-end scenarios over the whole `Helpdesk` service, written once and run on every
//! store backend (memory here; SQLite and MongoDB in their own test files).
//!
//! A scenario panics with a message naming the step that failed; it is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod defects;

pub use defects::round_two_defects;

use std::sync::Arc;
use std::time::Duration;

use helpdesk_core::domain::{Actor, NotificationKind, Priority, Role, TicketStatus};
use helpdesk_core::service::{NewReply, NewTenant, NewTicket, NewUser};
use helpdesk_core::store::{AssigneeFilter, TicketQuery, TimeRange};
use helpdesk_core::testkit::ManualClock;
use helpdesk_core::{Error, Helpdesk, Store};

/// What a scenario run observed, for callers that want to print or compare it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioSummary {
    /// Tickets created.
    pub tickets: u64,
    /// SLA breaches recorded.
    pub breaches: u64,
    /// Notifications delivered.
    pub notifications: u64,
    /// Average CSAT.
    pub csat_average: Option<f64>,
}

/// The people of the company [`register_nimbus`] registers.
#[derive(Debug, Clone)]
pub struct NimbusPeople {
    /// Ada, the admin.
    pub admin: Actor,
    /// Bob, an agent with the skills `account` and `billing`.
    pub agent: Actor,
    /// Carl, a customer.
    pub customer: Actor,
}

/// Registers the test company "Nimbus" (slug `nimbus`) on `hd` with its admin, one agent and
/// one customer: the cast of the AI end-to-end tests.
pub async fn register_nimbus(hd: &Helpdesk) -> NimbusPeople {
    let (_, admin) = hd
        .register_tenant(NewTenant {
            name: "Nimbus".into(),
            slug: "nimbus".into(),
            admin: NewUser::new("ada@nimbus.test", "Ada", Role::Admin),
            settings: None,
        })
        .await
        .unwrap();
    let admin = Actor::for_user(&admin);
    let agent = hd
        .add_user(
            &admin,
            NewUser::new("bob@nimbus.test", "Bob", Role::Agent)
                .with_skills(&["account", "billing"]),
        )
        .await
        .unwrap();
    let customer = hd
        .add_user(
            &admin,
            NewUser::new("carl@example.com", "Carl", Role::Customer),
        )
        .await
        .unwrap();
    NimbusPeople {
        agent: Actor::for_user(&agent),
        customer: Actor::for_user(&customer),
        admin,
    }
}

/// A support day at a small software company, end to end: a company registers, its admin
/// adds two agents with different skills and two customers; customers raise tickets that
/// are triaged, routed by skill and given SLA due times; agents reply, ask for details
/// (Pending pauses the clock), resolve; one customer reopens by replying; a duplicate is
/// merged; an urgent ticket breaches its SLA; notifications are dispatched; customers rate;
/// the admin reads analytics. Every step asserts what a user would see.
pub async fn support_day(store: Arc<dyn Store>) -> ScenarioSummary {
    let clock = Arc::new(ManualClock::new("2026-03-02T08:30:00Z".parse().unwrap()));
    let hd = Helpdesk::builder(store.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    let step = |name: &str| println!("scenario: {name}");

    step("a company registers and staffs its helpdesk");
    let (tenant, first_admin) = hd
        .register_tenant(NewTenant {
            name: "Nimbus Notes".into(),
            slug: "nimbus".into(),
            admin: NewUser::new("ada@nimbus.test", "Ada", Role::Admin)
                .with_password("admin password 1"),
            settings: None,
        })
        .await
        .unwrap();
    let admin = hd
        .login("nimbus", "ada@nimbus.test", "admin password 1")
        .await
        .unwrap()
        .actor;
    assert_eq!((admin.user_id, admin.role), (first_admin.id, Role::Admin));
    let billing = Actor::for_user(
        &hd.add_user(
            &admin,
            NewUser::new("bob@nimbus.test", "Bob", Role::Agent)
                .with_skills(&["billing", "account"])
                .with_capacity(10),
        )
        .await
        .unwrap(),
    );
    let tech = Actor::for_user(
        &hd.add_user(
            &admin,
            NewUser::new("tess@nimbus.test", "Tess", Role::Agent)
                .with_skills(&["technical"])
                .with_capacity(10),
        )
        .await
        .unwrap(),
    );
    let carl = Actor::for_user(
        &hd.register_customer(
            "nimbus",
            NewUser::new("carl@example.com", "Carl", Role::Customer)
                .with_password("carl password 1"),
        )
        .await
        .unwrap(),
    );
    let cora = Actor::for_user(
        &hd.register_customer(
            "nimbus",
            NewUser::new("cora@example.com", "Cora", Role::Customer)
                .with_password("cora password 1"),
        )
        .await
        .unwrap(),
    );
    assert_eq!(tenant.slug, "nimbus");

    step("customers raise tickets; triage and skills routing assign them");
    clock.advance(Duration::from_secs(30 * 60)); // 09:00, business hours
    let refund = hd
        .open_ticket(
            &carl,
            NewTicket::new(
                "Refund for a double charge",
                "I was charged twice for my subscription this month.",
            ),
        )
        .await
        .unwrap()
        .ticket;
    assert_eq!(refund.category.as_deref(), Some("billing"));
    assert_eq!(
        refund.assignee,
        Some(billing.user_id),
        "billing ticket goes to the billing agent"
    );
    let crash = hd
        .open_ticket(
            &cora,
            NewTicket::new(
                "App crashes on startup",
                "Since the update the desktop app crashes with an error.",
            ),
        )
        .await
        .unwrap()
        .ticket;
    assert_eq!(crash.category.as_deref(), Some("technical"));
    assert_eq!(crash.priority, Priority::High);
    assert_eq!(crash.assignee, Some(tech.user_id));
    let dup = hd
        .open_ticket(
            &cora,
            NewTicket::new("Crash when opening the app", "It crashes again."),
        )
        .await
        .unwrap()
        .ticket;
    let outage = hd
        .open_ticket(
            &carl,
            NewTicket::new(
                "URGENT: sync is down for everyone",
                "Outage: nothing syncs.",
            ),
        )
        .await
        .unwrap()
        .ticket;
    assert_eq!(outage.priority, Priority::Urgent);
    let question = hd
        .open_ticket(
            &carl,
            NewTicket {
                priority: Some(Priority::Low),
                ..NewTicket::new("How do I export notes?", "Question about export to PDF.")
            },
        )
        .await
        .unwrap()
        .ticket;
    assert_eq!(question.number, 5);

    step("the agent queue sorts by priority then age; customers see only their own");
    let queue = hd
        .list_tickets(&tech, TicketQuery::default())
        .await
        .unwrap()
        .items;
    let numbers: Vec<u64> = queue.iter().map(|t| t.number).collect();
    assert_eq!(
        numbers.first(),
        Some(&outage.number),
        "urgent first: {numbers:?}"
    );
    assert_eq!(numbers.len(), 5);
    let mine = hd
        .list_tickets(
            &tech,
            TicketQuery {
                assignee: Some(AssigneeFilter::User(tech.user_id)),
                ..TicketQuery::default()
            },
        )
        .await
        .unwrap()
        .items;
    assert!(mine.iter().all(|t| t.assignee == Some(tech.user_id)));
    let cora_sees = hd
        .list_tickets(&cora, TicketQuery::default())
        .await
        .unwrap()
        .items;
    assert_eq!(cora_sees.len(), 2);
    assert!(matches!(
        hd.get_ticket(&cora, refund.id).await,
        Err(Error::NotFound { .. })
    ));

    step("agents work the tickets: replies, a note, pending, a merge");
    hd.transition(&tech, crash.id, TicketStatus::InProgress)
        .await
        .unwrap();
    hd.add_note(&tech, crash.id, "Looks like the 4.2 update; checking logs.")
        .await
        .unwrap();
    let r = hd
        .reply(
            &tech,
            crash.id,
            NewReply {
                body: "Which operating system are you on?".into(),
                status_after: Some(TicketStatus::Pending),
                attachments: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(r.ticket.status, TicketStatus::Pending);
    clock.advance(Duration::from_secs(20 * 60));
    let r = hd
        .reply(&cora, crash.id, NewReply::new("Windows 11."))
        .await
        .unwrap();
    assert_eq!(
        r.ticket.status,
        TicketStatus::Open,
        "a customer reply ends Pending"
    );
    let view = hd.get_ticket(&cora, crash.id).await.unwrap();
    assert!(
        view.messages
            .iter()
            .all(|m| !m.body.contains("checking logs")),
        "notes stay internal"
    );
    hd.merge(&tech, dup.id, crash.id).await.unwrap();
    hd.reply(
        &billing,
        refund.id,
        NewReply::new("Refunded; you will see it in 3 days."),
    )
    .await
    .unwrap();
    hd.transition(&billing, refund.id, TicketStatus::Resolved)
        .await
        .unwrap();
    hd.reply(
        &tech,
        crash.id,
        NewReply::new("Fixed in 4.2.1, please update."),
    )
    .await
    .unwrap();
    hd.transition(&tech, crash.id, TicketStatus::Resolved)
        .await
        .unwrap();

    step("a customer reopens by replying; then it is resolved again and rated");
    let r = hd
        .reply(&carl, refund.id, NewReply::new("I still see two charges."))
        .await
        .unwrap();
    assert!(r.reopened);
    hd.reply(
        &billing,
        refund.id,
        NewReply::new("The second charge was reversed today."),
    )
    .await
    .unwrap();
    hd.transition(&billing, refund.id, TicketStatus::Resolved)
        .await
        .unwrap();
    hd.record_csat(&carl, refund.id, 4, Some("Took two tries".into()))
        .await
        .unwrap();
    hd.record_csat(&cora, crash.id, 5, None).await.unwrap();

    step("the urgent outage breaches its SLA; the sweep records it once and notifies");
    clock.advance(Duration::from_secs(2 * 3600));
    let sweep = hd.sla_sweep().await.unwrap();
    assert!(sweep.breaches >= 1);
    assert_eq!(hd.sla_sweep().await.unwrap().breaches, 0);
    let stored = store
        .get_ticket(admin.tenant_id, outage.id)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.sla.first_response_breached);

    step("notifications go out through the outbox");
    let sent = hd.dispatch_outbox().await.unwrap();
    assert!(sent.delivered >= 5, "{sent:?}");
    let outbox = store.list_outbox(admin.tenant_id).await.unwrap();
    assert!(outbox.iter().all(|o| o.delivered_at.is_some()));
    assert!(
        outbox
            .iter()
            .any(|o| matches!(o.notification.kind, NotificationKind::SlaBreached { .. }))
    );

    step("the admin reads the day's analytics");
    let day = TimeRange::new(
        "2026-03-02T00:00:00Z".parse().unwrap(),
        "2026-03-03T00:00:00Z".parse().unwrap(),
    )
    .unwrap();
    let report = hd.analytics(&admin, day).await.unwrap();
    let a = &report.analytics;
    assert_eq!(a.total, 4, "the merged duplicate is not counted");
    assert_eq!(report.daily_volume.len(), 1);
    assert_eq!(a.csat.count, 2);
    assert_eq!(a.csat.average, Some(4.5));
    assert!(a.first_response.count >= 2);
    assert!(a.resolution.count >= 2);
    assert_eq!(a.backlog, 2, "the outage and the question are still open");
    assert!(a.sla_met_pct.is_some_and(|p| p < 100.0));
    assert!(matches!(
        hd.analytics(&billing, day).await,
        Err(Error::Forbidden { .. })
    ));
    step("done");

    ScenarioSummary {
        tickets: 5,
        breaches: sweep.breaches,
        notifications: sent.delivered,
        csat_average: a.csat.average,
    }
}
