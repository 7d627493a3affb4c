//! The service-level defects of the core renovation (issue 15), replayed end to end on a
//! given store, so every backend shows the fixed behaviour with its own persistence: SLA
//! due times through Pending and priority changes (their columns or fields round-trip),
//! Closed final for staff replies, the merge notice, Unicode-aware triage, line-break and
//! invisible-text normalisation, and admins as the routing fallback.

use std::sync::Arc;
use std::time::Duration;

use helpdesk_core::domain::{Actor, EventKind, MessageKind, Priority, Role, SlaKind, TicketStatus};
use helpdesk_core::service::{NewReply, NewTenant, NewTicket, NewUser, TicketPatch};
use helpdesk_core::testkit::ManualClock;
use helpdesk_core::{Error, Helpdesk, Store};

const HOUR: u64 = 3600;

/// Runs every replayed defect on `store` (a fresh, empty store).
pub async fn round_two_defects(store: Arc<dyn Store>) {
    // Monday 09:00 UTC on the default 9-to-5 weekday calendar.
    let clock = Arc::new(ManualClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let hd = Helpdesk::builder(store.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    let (tenant, admin) = hd
        .register_tenant(NewTenant {
            name: "Orbit".into(),
            slug: "orbit".into(),
            admin: NewUser::new("ada@orbit.test", "Ada", Role::Admin),
            settings: None,
        })
        .await
        .unwrap();
    let admin = Actor::for_user(&admin);
    let agent = Actor::for_user(
        &hd.add_user(&admin, NewUser::new("bob@orbit.test", "Bob", Role::Agent))
            .await
            .unwrap(),
    );
    let carl = Actor::for_user(
        &hd.add_user(
            &admin,
            NewUser::new("carl@example.com", "Carl", Role::Customer),
        )
        .await
        .unwrap(),
    );
    let cora = Actor::for_user(
        &hd.add_user(
            &admin,
            NewUser::new("cora@example.com", "Cora", Role::Customer),
        )
        .await
        .unwrap(),
    );

    // Defect 9: typographic punctuation next to a keyword; defect 12: the idle admin (created
    // first) does not take it while the agent is free.
    let outage = hd
        .open_ticket(
            &carl,
            NewTicket::new("Total outage—nothing loads", "Since noon."),
        )
        .await
        .unwrap()
        .ticket;
    assert_eq!(outage.priority, Priority::Urgent, "defect 9");
    assert_eq!(outage.assignee, Some(agent.user_id), "defect 12");

    // Defect 4: resolving straight from Pending counts the pause (resolution due 13:00,
    // paused 09:30 -> 16:00, so due Tuesday 11:30 and on time on Monday at 16:00).
    clock.advance(Duration::from_secs(HOUR / 2));
    let pending = NewReply {
        status_after: Some(TicketStatus::Pending),
        ..NewReply::new("Could you send a screenshot?")
    };
    hd.reply(&agent, outage.id, pending).await.unwrap();
    clock.advance(Duration::from_secs(13 * HOUR / 2));
    let resolved = hd
        .transition(&agent, outage.id, TicketStatus::Resolved)
        .await
        .unwrap();
    assert!(!resolved.sla.resolution_breached, "defect 4");
    let stored = store
        .get_ticket(tenant.id, outage.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.sla.resolution_due.unwrap().to_string(),
        "2026-03-03T11:30:00Z",
        "defect 4: the moved due time is stored"
    );
    let breaches = store.list_events(tenant.id, outage.id).await.unwrap();
    assert!(
        !breaches
            .iter()
            .any(|e| matches!(e.kind, EventKind::SlaBreached { .. })),
        "defect 4"
    );

    // Defect 6: Closed is final for staff; nothing is written.
    hd.transition(&agent, outage.id, TicketStatus::Closed)
        .await
        .unwrap();
    let before = store.get_ticket(tenant.id, outage.id).await.unwrap();
    let refused = hd
        .reply(&agent, outage.id, NewReply::new("One more thing"))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, Error::TicketClosed { .. }),
        "defect 6: {refused:?}"
    );
    assert_eq!(
        store.get_ticket(tenant.id, outage.id).await.unwrap(),
        before
    );

    // Defect 5: a priority change keeps earlier pauses (Tuesday 09:00 now).
    clock.advance(Duration::from_secs(17 * HOUR));
    let question = hd
        .open_ticket(&carl, NewTicket::new("Question", "how do I export"))
        .await
        .unwrap()
        .ticket;
    assert_eq!(question.priority, Priority::Low);
    hd.transition(&agent, question.id, TicketStatus::Pending)
        .await
        .unwrap();
    clock.advance(Duration::from_secs(3 * HOUR));
    hd.reply(&carl, question.id, NewReply::new("Here are the details"))
        .await
        .unwrap();
    let urgent = hd
        .update_ticket(
            &agent,
            question.id,
            TicketPatch {
                priority: Some(Priority::Urgent),
                ..TicketPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        urgent.sla.first_response_due.unwrap().to_string(),
        "2026-03-03T13:00:00Z",
        "defect 5"
    );
    assert_eq!(hd.sla_sweep().await.unwrap().breaches, 0, "defect 5");
    let stored = store
        .get_ticket(tenant.id, question.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.sla, urgent.sla, "defect 5: stored as planned");
    assert!(
        !store
            .list_events(tenant.id, question.id)
            .await
            .unwrap()
            .iter()
            .any(|e| e.kind
                == EventKind::SlaBreached {
                    kind: SlaKind::FirstResponse
                }),
        "defect 5"
    );

    // Defect 10: Windows line breaks are stored as newlines; defect 11: invisible-only
    // subjects are empty.
    let crlf = hd
        .open_ticket(
            &cora,
            NewTicket::new("Login", "line one\r\nline two\rthree"),
        )
        .await
        .unwrap()
        .ticket;
    let stored = store.get_ticket(tenant.id, crlf.id).await.unwrap().unwrap();
    assert_eq!(stored.description, "line one\nline two\nthree", "defect 10");
    hd.reply(&cora, crlf.id, NewReply::new("more\r\ndetails"))
        .await
        .unwrap();
    let thread = store
        .list_messages(tenant.id, crlf.id, Default::default())
        .await
        .unwrap();
    assert!(
        thread.iter().any(|m| m.body == "more\ndetails"),
        "defect 10: {thread:?}"
    );
    let invisible = hd
        .open_ticket(&cora, NewTicket::new("\u{200B}\u{FEFF}\u{202E}", "body"))
        .await
        .unwrap_err();
    assert!(
        matches!(&invisible, Error::Validation { field, .. } if field == "subject"),
        "defect 11: {invisible:?}"
    );

    // Defect 3: merging Cora's report into Carl's ticket does not show Cora Carl's subject.
    let carls = hd
        .open_ticket(
            &carl,
            NewTicket::new("Carl's private invoice 4711", "Details."),
        )
        .await
        .unwrap()
        .ticket;
    hd.merge(&agent, crlf.id, carls.id).await.unwrap();
    let view = hd.get_ticket(&cora, crlf.id).await.unwrap();
    let notice = view
        .messages
        .iter()
        .find(|m| m.kind == MessageKind::Reply && m.body.contains("merged into"))
        .expect("the merge notice");
    assert!(
        !notice.body.contains("invoice"),
        "defect 3: {}",
        notice.body
    );
}
