//! SLA judgements count every paused minute (resolving from Pending, a first reply while
//! Pending, a priority change after a pause), and Closed is final for staff replies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use helpdesk_core::Error;
use helpdesk_core::domain::{EventKind, NotificationKind, Priority, SlaKind, TicketStatus};
use helpdesk_core::service::{NewReply, NewTicket, TicketPatch};
use helpdesk_core::store::MessageFilter;
use helpdesk_core::{TenantId, TicketId};

use common::{World, world};

const HOUR: u64 = 3600;

async fn breaches(w: &World, tenant: TenantId, id: TicketId) -> Vec<SlaKind> {
    w.store
        .list_events(tenant, id)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::SlaBreached { kind } => Some(kind),
            _ => None,
        })
        .collect()
}

async fn urgent(w: &World) -> helpdesk_core::domain::Ticket {
    let t =
        w.hd.open_ticket(&w.customer, NewTicket::new("Site down, urgent", "outage"))
            .await
            .unwrap()
            .ticket;
    assert_eq!(t.priority, Priority::Urgent);
    t
}

#[tokio::test]
async fn resolving_straight_from_pending_counts_the_pause() {
    let w = world().await;
    let t = urgent(&w).await;
    // Monday 09:00 on a 9-to-5 calendar: first response at 10:00, resolution at 13:00.
    assert_eq!(
        t.sla.resolution_due.unwrap().to_string(),
        "2026-03-02T13:00:00Z"
    );
    w.clock.advance(Duration::from_secs(HOUR / 2));
    let reply = NewReply {
        status_after: Some(TicketStatus::Pending),
        ..NewReply::new("Could you send a screenshot?")
    };
    w.hd.reply(&w.agent, t.id, reply).await.unwrap();
    // Paused from 09:30 to 16:00: six and a half business hours, so resolution is due on
    // Tuesday at 11:30 and resolving on Monday at 16:00 is on time.
    w.clock.advance(Duration::from_secs(13 * HOUR / 2));
    let resolved =
        w.hd.transition(&w.agent, t.id, TicketStatus::Resolved)
            .await
            .unwrap();
    assert_eq!(resolved.status, TicketStatus::Resolved);
    assert!(!resolved.sla.resolution_breached);
    assert_eq!(
        resolved.sla.resolution_due.unwrap().to_string(),
        "2026-03-03T11:30:00Z"
    );
    assert!(breaches(&w, w.tenant.id, t.id).await.is_empty());
}

#[tokio::test]
async fn resolving_from_pending_after_the_moved_due_time_is_late() {
    let w = world().await;
    let t = urgent(&w).await;
    let reply = NewReply {
        status_after: Some(TicketStatus::Pending),
        ..NewReply::new("Waiting for you")
    };
    w.hd.reply(&w.agent, t.id, reply).await.unwrap();
    // Paused Monday 09:00 -> Tuesday 10:00 (9 business hours); back to Open; resolution is
    // then due Tuesday 14:00 (four business hours after the reopen, none used yet)...
    w.clock.advance(Duration::from_secs(25 * HOUR));
    w.hd.transition(&w.agent, t.id, TicketStatus::Open)
        .await
        .unwrap();
    // ... then Pending again at 15:00 (an hour late) and resolved from Pending: late.
    w.clock.advance(Duration::from_secs(5 * HOUR));
    w.hd.transition(&w.agent, t.id, TicketStatus::Pending)
        .await
        .unwrap();
    w.clock.advance(Duration::from_secs(HOUR));
    let resolved =
        w.hd.transition(&w.agent, t.id, TicketStatus::Resolved)
            .await
            .unwrap();
    // The sweep never flagged it (a paused ticket is not swept), the resolution does.
    assert!(resolved.sla.resolution_breached);
    assert_eq!(
        breaches(&w, w.tenant.id, t.id).await,
        vec![SlaKind::Resolution]
    );
}

#[tokio::test]
async fn a_first_reply_while_pending_counts_the_pause() {
    let w = world().await;
    let t = urgent(&w).await;
    w.clock.advance(Duration::from_secs(HOUR / 6));
    w.hd.transition(&w.agent, t.id, TicketStatus::Pending)
        .await
        .unwrap();
    // Paused since 09:10: at 11:00 the first-response due time stands at 11:50.
    w.clock.advance(Duration::from_secs(HOUR + 5 * HOUR / 6));
    let r =
        w.hd.reply(&w.agent, t.id, NewReply::new("Here is what we found"))
            .await
            .unwrap();
    assert!(!r.ticket.sla.first_response_breached);
    assert!(r.ticket.first_response_at.is_some());
    assert!(breaches(&w, w.tenant.id, t.id).await.is_empty());
    // Without any pause, the same lateness is a breach.
    let u = urgent(&w).await;
    w.clock.advance(Duration::from_secs(2 * HOUR));
    let r =
        w.hd.reply(&w.agent, u.id, NewReply::new("Sorry for the wait"))
            .await
            .unwrap();
    assert!(r.ticket.sla.first_response_breached);
}

#[tokio::test]
async fn a_priority_change_keeps_earlier_pauses() {
    let w = world().await;
    let t =
        w.hd.open_ticket(&w.customer, NewTicket::new("Question", "how do I export"))
            .await
            .unwrap()
            .ticket;
    assert_eq!(t.priority, Priority::Low);
    w.hd.transition(&w.agent, t.id, TicketStatus::Pending)
        .await
        .unwrap();
    // Paused three business hours (09:00 -> 12:00), then the customer answers.
    w.clock.advance(Duration::from_secs(3 * HOUR));
    w.hd.reply(&w.customer, t.id, NewReply::new("Here are the details"))
        .await
        .unwrap();
    let up =
        w.hd.update_ticket(
            &w.agent,
            t.id,
            TicketPatch {
                priority: Some(Priority::Urgent),
                ..TicketPatch::default()
            },
        )
        .await
        .unwrap();
    // Urgent from 09:00 plus the three paused hours: first response 13:00, resolution 16:00.
    assert_eq!(
        up.sla.first_response_due.unwrap().to_string(),
        "2026-03-02T13:00:00Z"
    );
    assert_eq!(
        up.sla.resolution_due.unwrap().to_string(),
        "2026-03-02T16:00:00Z"
    );
    assert_eq!(
        w.hd.sla_sweep().await.unwrap().breaches,
        0,
        "not an instant breach"
    );
    // A pause in progress stays in progress and counts when it ends.
    w.hd.transition(&w.agent, t.id, TicketStatus::Pending)
        .await
        .unwrap();
    w.clock.advance(Duration::from_secs(2 * HOUR));
    let high =
        w.hd.update_ticket(
            &w.agent,
            t.id,
            TicketPatch {
                priority: Some(Priority::High),
                ..TicketPatch::default()
            },
        )
        .await
        .unwrap();
    assert!(high.sla.paused_since.is_some());
    // High: 4 h first response from 09:00 plus 3 h paused before = 16:00 (the running pause
    // is added when it ends).
    assert_eq!(
        high.sla.first_response_due.unwrap().to_string(),
        "2026-03-02T16:00:00Z"
    );
    let open =
        w.hd.transition(&w.agent, t.id, TicketStatus::Open)
            .await
            .unwrap();
    // Resumed at 14:00 after two more paused hours: Tuesday 10:00.
    assert_eq!(
        open.sla.first_response_due.unwrap().to_string(),
        "2026-03-03T10:00:00Z"
    );
}

#[tokio::test]
async fn staff_cannot_reply_on_a_closed_ticket() {
    let w = world().await;
    let t =
        w.hd.open_ticket(&w.customer, NewTicket::new("Question", "how do I export"))
            .await
            .unwrap()
            .ticket;
    w.hd.transition(&w.agent, t.id, TicketStatus::Resolved)
        .await
        .unwrap();
    w.hd.transition(&w.agent, t.id, TicketStatus::Closed)
        .await
        .unwrap();
    let outbox_before = w.store.list_outbox(w.tenant.id).await.unwrap().len();
    let before = w
        .store
        .get_ticket(w.tenant.id, t.id)
        .await
        .unwrap()
        .unwrap();
    let err =
        w.hd.reply(&w.agent, t.id, NewReply::new("One more thing"))
            .await
            .unwrap_err();
    assert!(
        matches!(err, Error::TicketClosed { number } if number == t.number),
        "{err:?}"
    );
    assert!(err.to_string().contains("follow-up"), "{err}");
    // Nothing written: no message, no first response, no notification.
    let after = w
        .store
        .get_ticket(w.tenant.id, t.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after, before);
    assert!(after.first_response_at.is_none());
    let messages = w
        .store
        .list_messages(w.tenant.id, t.id, MessageFilter::All)
        .await
        .unwrap();
    assert!(messages.iter().all(|m| m.body != "One more thing"));
    let outbox = w.store.list_outbox(w.tenant.id).await.unwrap();
    assert_eq!(outbox.len(), outbox_before);
    assert!(
        !outbox
            .iter()
            .any(|o| matches!(o.notification.kind, NotificationKind::Replied { .. }))
    );
    // The customer's message still opens a follow-up, as documented.
    let r =
        w.hd.reply(&w.customer, t.id, NewReply::new("It broke again"))
            .await
            .unwrap();
    assert_eq!(r.follow_up_of, Some(t.id));
}
