//! The automation action that sends a canned response, and custom field placeholders:
//! the filled-in text reaches the customer as a system reply in the triggering commit and
//! counts as a use, from a change and from the idle sweep; a rule naming a personal or
//! unknown canned response is refused, one whose response was deleted is skipped and
//! recorded; a `{{field.<key>}}` naming no field is refused when the response is saved.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use helpdesk_core::domain::{
    AuthorKind, AutomationAction, AutomationRule, AutomationTrigger, CannedResponse,
    CustomFieldDef, EventKind, FieldKind, FieldValue, MessageKind, NotificationKind, TicketStatus,
};
use helpdesk_core::service::{CannedResponseInput, NewTicket};
use helpdesk_core::{Error, TicketId};

use common::{World, world};

fn rule(trigger: AutomationTrigger, canned: &CannedResponse) -> AutomationRule {
    AutomationRule {
        key: "acknowledge".into(),
        name: "Acknowledge".into(),
        enabled: true,
        trigger,
        conditions: Vec::new(),
        actions: vec![AutomationAction::SendCannedResponse {
            canned_response: canned.id,
        }],
    }
}

fn field_error(e: Error) -> (String, String) {
    match e {
        Error::Validation { field, message } => (field.into_owned(), message),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// A tenant with an `order_number` field (customers fill it) and a shared canned response
/// that names it.
async fn set_up() -> (World, CannedResponse) {
    let w = world().await;
    let mut settings = w.hd.get_tenant(&w.admin).await.unwrap().settings;
    settings.custom_fields = vec![CustomFieldDef {
        key: "order_number".into(),
        label: "Order number".into(),
        kind: FieldKind::Text,
        required_to_resolve: false,
        customer_visible: true,
        customer_editable: true,
    }];
    w.hd.update_settings(&w.admin, settings).await.unwrap();
    let canned =
        w.hd.create_canned_response(
            &w.admin,
            CannedResponseInput {
                name: "Received".into(),
                body: "Hi {{customer.first_name}}, we have request #{{ticket.number}} about \
                       order {{field.order_number}}. {{agent.name}}"
                    .into(),
                shared: true,
                ..CannedResponseInput::default()
            },
        )
        .await
        .unwrap();
    (w, canned)
}

async fn with_rules(w: &World, rules: Vec<AutomationRule>) -> Result<(), Error> {
    let mut settings = w.hd.get_tenant(&w.admin).await.unwrap().settings;
    settings.automations = rules;
    w.hd.update_settings(&w.admin, settings).await.map(|_| ())
}

async fn open(w: &World, order: &str) -> TicketId {
    let new = NewTicket {
        fields: BTreeMap::from([("order_number".to_string(), FieldValue::Text(order.into()))]),
        ..NewTicket::new("Where is my parcel", "It has not arrived.")
    };
    w.hd.open_ticket(&w.customer, new).await.unwrap().ticket.id
}

#[tokio::test]
async fn a_created_rule_sends_the_filled_in_canned_response_in_the_same_commit() {
    let (w, canned) = set_up().await;
    with_rules(&w, vec![rule(AutomationTrigger::Created, &canned)])
        .await
        .unwrap();
    let id = open(&w, "A-17").await;
    let view = w.hd.get_ticket(&w.customer, id).await.unwrap();
    let reply = view
        .messages
        .iter()
        .find(|m| m.kind == MessageKind::Reply)
        .expect("the customer sees the automatic reply");
    assert_eq!(reply.author_kind, AuthorKind::System);
    // Routing assigned the new ticket in the same commit: its agent signs.
    let assignee = view.ticket.assignee.expect("routed");
    let signer = if assignee == w.agent.user_id {
        "Bob Billing"
    } else {
        "Tess Tech"
    };
    assert_eq!(
        reply.body,
        format!(
            "Hi Carl, we have request #{} about order A-17. {signer}",
            view.ticket.number
        ),
    );
    assert!(view.ticket.number > 0);
    // An automatic reply is not a first response.
    assert_eq!(view.ticket.first_response_at, None);
    let staff_view = w.hd.get_ticket(&w.admin, id).await.unwrap();
    assert!(
        staff_view.events.iter().all(|e| e.version == 1),
        "one commit"
    );
    assert!(staff_view.events.iter().any(|e| matches!(
        &e.kind,
        EventKind::CannedResponseApplied { canned_response, .. } if *canned_response == canned.id
    )));
    let outbox = w.store.list_outbox(w.tenant.id).await.unwrap();
    assert!(
        outbox
            .iter()
            .any(|o| o.notification.recipients.contains(&w.customer.user_id)
                && o.notification.kind
                    == NotificationKind::Replied {
                        message_id: Some(reply.id)
                    })
    );
    let usage =
        w.hd.canned_response_usage(&w.admin, canned.created_at)
            .await
            .unwrap();
    assert_eq!(usage[0].usage.uses, 1, "an automatic send is a use");
}

#[tokio::test]
async fn an_idle_rule_sends_it_from_the_sweep_signed_by_the_assignee() {
    let (w, canned) = set_up().await;
    let idle = AutomationTrigger::Idle {
        status: TicketStatus::Pending,
        hours: 48,
    };
    with_rules(&w, vec![rule(idle, &canned)]).await.unwrap();
    let id = open(&w, "B-2").await;
    w.hd.assign(&w.agent, id, Some(w.agent.user_id))
        .await
        .unwrap();
    w.hd.transition(&w.agent, id, TicketStatus::Pending)
        .await
        .unwrap();
    w.clock.advance(std::time::Duration::from_secs(49 * 3600));
    assert_eq!(w.hd.automation_sweep().await.unwrap().applied, 1);
    let view = w.hd.get_ticket(&w.customer, id).await.unwrap();
    let reply = view
        .messages
        .iter()
        .find(|m| m.kind == MessageKind::Reply)
        .unwrap();
    assert!(
        reply.body.ends_with("order B-2. Bob Billing"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn rules_naming_a_personal_or_unknown_response_are_refused_and_a_deleted_one_is_skipped() {
    let (w, canned) = set_up().await;
    let personal =
        w.hd.create_canned_response(
            &w.agent,
            CannedResponseInput {
                name: "Mine".into(),
                body: "Hello.".into(),
                ..CannedResponseInput::default()
            },
        )
        .await
        .unwrap();
    let err = with_rules(&w, vec![rule(AutomationTrigger::Created, &personal)])
        .await
        .unwrap_err();
    let (field, message) = field_error(err);
    assert_eq!(field, "settings.automations[0].actions[0].canned_response");
    assert!(
        message.contains("not a shared canned response"),
        "{message}"
    );
    assert!(
        w.hd.get_tenant(&w.admin)
            .await
            .unwrap()
            .settings
            .automations
            .is_empty()
    );

    with_rules(&w, vec![rule(AutomationTrigger::Created, &canned)])
        .await
        .unwrap();
    w.hd.delete_canned_response(&w.admin, canned.id)
        .await
        .unwrap();
    let id = open(&w, "C-3").await;
    let view = w.hd.get_ticket(&w.admin, id).await.unwrap();
    assert!(view.messages.iter().all(|m| m.kind != MessageKind::Reply));
    let skipped = view
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::AutomationApplied { skipped, .. } => Some(skipped.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(skipped.len(), 1);
    assert!(
        skipped[0].starts_with("send_canned_response"),
        "{skipped:?}"
    );
}

#[tokio::test]
async fn a_test_run_shows_the_reply_without_sending_it() {
    let (w, canned) = set_up().await;
    let id = open(&w, "D-4").await;
    let preview =
        w.hd.test_automation(&w.admin, rule(AutomationTrigger::Updated, &canned), id)
            .await
            .unwrap();
    assert!(preview.matches);
    assert!(preview.skipped.is_empty(), "{:?}", preview.skipped);
    assert!(
        preview
            .would_add
            .iter()
            .any(|e| e == "canned_response_applied"),
        "{:?}",
        preview.would_add
    );
    let view = w.hd.get_ticket(&w.admin, id).await.unwrap();
    assert!(view.messages.iter().all(|m| m.kind != MessageKind::Reply));
}

#[tokio::test]
async fn a_field_placeholder_must_name_a_field_and_fills_from_the_ticket() {
    let (w, _) = set_up().await;
    let bad =
        w.hd.create_canned_response(
            &w.admin,
            CannedResponseInput {
                name: "Typo".into(),
                body: "Order {{field.order_numbr}}".into(),
                shared: true,
                ..CannedResponseInput::default()
            },
        )
        .await
        .unwrap_err();
    let (field, message) = field_error(bad);
    assert_eq!(field, "body");
    assert!(message.contains("field.order_numbr"), "{message}");

    let id = open(&w, "E-5").await;
    let agent_canned =
        w.hd.create_canned_response(
            &w.agent,
            CannedResponseInput {
                name: "Order".into(),
                body: "About {{ field.order_number }}.".into(),
                ..CannedResponseInput::default()
            },
        )
        .await
        .unwrap();
    let preview =
        w.hd.preview_canned_response(&w.agent, id, agent_canned.id)
            .await
            .unwrap();
    assert_eq!(preview.body, "About E-5.");
}
