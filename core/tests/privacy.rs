//! Exporting a customer's data: an admin gets every ticket the customer raised with its
//! whole thread, files and rating, and their chatbot conversations, in one document that
//! names nobody else's tickets; the export is on the audit record; agents, staff members
//! and unknown users are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use helpdesk_core::domain::{AuditKind, MessageKind, TicketStatus};
use helpdesk_core::service::{NewReply, NewTicket};
use helpdesk_core::store::AuditQuery;
use helpdesk_core::{Error, UserId};

use common::world;

#[tokio::test]
async fn an_admin_exports_everything_about_one_customer_and_nothing_else() {
    let w = world().await;
    let mine =
        w.hd.open_ticket(
            &w.customer,
            NewTicket::new("Charged twice", "Please refund."),
        )
        .await
        .unwrap()
        .ticket;
    w.hd.reply(&w.agent, mine.id, NewReply::new("Refunded."))
        .await
        .unwrap();
    w.hd.add_note(&w.agent, mine.id, "Carl called about it too.")
        .await
        .unwrap();
    w.hd.transition(&w.agent, mine.id, TicketStatus::Resolved)
        .await
        .unwrap();
    w.hd.record_csat(&w.customer, mine.id, 5, Some("Quick!".into()))
        .await
        .unwrap();
    let second =
        w.hd.open_ticket(&w.customer, NewTicket::new("Login", "Locked out."))
            .await
            .unwrap()
            .ticket;
    let theirs =
        w.hd.open_ticket(&w.customer2, NewTicket::new("Cora's own", "Not Carl's."))
            .await
            .unwrap()
            .ticket;

    let export =
        w.hd.export_customer(&w.admin, w.customer.user_id)
            .await
            .unwrap();
    assert_eq!(export.customer.id, w.customer.user_id);
    assert_eq!(export.company, "Acme");
    let ids: Vec<_> = export.tickets.iter().map(|t| t.ticket.id).collect();
    assert_eq!(ids, [second.id, mine.id], "newest first, only Carl's");
    let first = &export.tickets[1];
    assert_eq!(first.ticket.csat.as_ref().map(|c| c.score), Some(5));
    let kinds: Vec<_> = first.messages.iter().map(|m| m.kind).collect();
    assert!(kinds.contains(&MessageKind::Reply));
    assert!(
        kinds.contains(&MessageKind::Note),
        "notes about them are theirs too"
    );
    assert!(export.chat_sessions.is_empty());
    let json = serde_json::to_string(&export).unwrap();
    assert!(json.contains("carl@customer.test"));
    assert!(json.contains("Carl called about it too."));
    assert!(!json.contains("Cora's own") && !json.contains(&theirs.id.to_string()));

    // On the record.
    let audit =
        w.hd.list_audit_events(&w.admin, AuditQuery::newest(50))
            .await
            .unwrap();
    assert!(audit.iter().any(|e| matches!(
        e.kind,
        AuditKind::CustomerDataExported { user, tickets: 2 } if user == w.customer.user_id
    )));

    // Refusals.
    let e = w.hd.export_customer(&w.agent, w.customer.user_id).await;
    assert!(matches!(e, Err(Error::Forbidden { .. })), "{e:?}");
    let e = w.hd.export_customer(&w.admin, w.agent.user_id).await;
    assert!(
        matches!(&e, Err(Error::Validation { field, .. }) if field == "user"),
        "{e:?}"
    );
    let e = w.hd.export_customer(&w.admin, UserId::new()).await;
    assert!(matches!(e, Err(Error::NotFound { .. })), "{e:?}");
}
