//! The tenant's custom field definitions and automation rules (kept with its settings),
//! and the events and notifications a rule leaves, on MongoDB.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use bson::{Document, doc};
use futures_util::TryStreamExt;
use helpdesk_core::UserId;
use helpdesk_core::domain::{
    AutomationAction, AutomationCondition, AutomationRule, AutomationTrigger, CustomFieldDef,
    EventKind, FieldKind, FieldValue, NotificationKind, Priority, Role, Ticket, TicketStatus,
    field_token,
};
use helpdesk_core::store::{OutboxStore, TenantStore, TicketStore, UserStore};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, outbox_entry, tenant, user};

use common::fresh_mongo;
use common::tickets::values;

/// The tenant's field definitions and automation rules are kept with its settings; the
/// events a rule leaves (`AutomationApplied`, `CustomFieldsChanged`) and its
/// notification (`Automation`) round-trip.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn settings_automations_and_their_events_round_trip() {
    let store = fresh_mongo().await;
    let mut t = tenant("acme");
    let agent_id = UserId::new();
    t.settings.custom_fields = vec![
        CustomFieldDef {
            key: "plan".into(),
            label: "Plan".into(),
            kind: FieldKind::Dropdown {
                options: vec!["Free".into(), "Pro".into()],
            },
            required_to_resolve: true,
            customer_visible: true,
            customer_editable: false,
        },
        CustomFieldDef {
            key: "seats".into(),
            label: "Seats".into(),
            kind: FieldKind::Number,
            required_to_resolve: false,
            customer_visible: false,
            customer_editable: false,
        },
    ];
    t.settings.automations = vec![AutomationRule {
        key: "vip_to_urgent".into(),
        name: "VIP to urgent".into(),
        enabled: false,
        trigger: AutomationTrigger::Idle {
            status: TicketStatus::Pending,
            hours: 48,
        },
        conditions: vec![
            AutomationCondition::Field {
                token: field_token("plan", "Pro"),
            },
            AutomationCondition::BusinessHours { inside: false },
        ],
        actions: vec![
            AutomationAction::SetField {
                key: "seats".into(),
                value: Some(FieldValue::Number(-0.0)),
            },
            AutomationAction::Assign { to: Some(agent_id) },
            AutomationAction::Notify { users: Vec::new() },
        ],
    }];
    store.create_tenant(&t).await.unwrap();
    assert_eq!(store.get_tenant(t.id).await.unwrap(), Some(t.clone()));
    let settings = store
        .database()
        .collection::<Document>(&store.collection_name("tenants"))
        .find_one(doc! {})
        .await
        .unwrap()
        .unwrap();
    let defs = settings
        .get_document("settings")
        .unwrap()
        .get_array("custom_fields")
        .unwrap();
    assert_eq!(defs.len(), 2, "stored with the settings, in order");

    let customer = user(&t, Role::Customer, "c@acme.test");
    store.create_user(&customer).await.unwrap();
    let w = new_ticket(t.id, customer.id, 0, "Rules", Priority::Low, at(0));
    let created = store.create_ticket(w).await.unwrap().ticket;
    let fields = values(&[("seats", FieldValue::Number(-0.0))]);
    let mut update = change(
        &created,
        vec![
            EventKind::AutomationApplied {
                rule: "vip_to_urgent".into(),
                name: "VIP to urgent".into(),
                skipped: vec!["set_status: closed is not allowed from new".into()],
                webhooks: vec![helpdesk_core::WebhookId::new()],
            },
            EventKind::CustomFieldsChanged {
                fields: fields.clone(),
            },
        ],
        at(1),
        None,
    );
    update.outbox.push(outbox_entry(
        &update.ticket,
        vec![customer.id],
        NotificationKind::Automation,
        at(1),
    ));
    store.update_ticket(created.version, &update).await.unwrap();
    let events = store.list_events(t.id, created.id).await.unwrap();
    assert_eq!(&events[1..], &update.events[..]);
    let Some(EventKind::CustomFieldsChanged { fields: stored }) = events.last().map(|e| &e.kind)
    else {
        panic!("{events:?}");
    };
    let bits = |f: &std::collections::BTreeMap<String, FieldValue>| match f.get("seats") {
        Some(FieldValue::Number(n)) => n.to_bits(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        bits(stored),
        (-0.0_f64).to_bits(),
        "negative zero in the payload"
    );
    assert_eq!(bits(stored), bits(&fields));
    let kinds: Vec<String> = store
        .database()
        .collection::<Document>(&store.collection_name("events"))
        .find(doc! {})
        .await
        .unwrap()
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .iter()
        .map(|d| d.get_str("type").unwrap().to_owned())
        .collect();
    assert!(
        kinds.contains(&"automation_applied".to_owned()),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&"custom_fields_changed".to_owned()),
        "{kinds:?}"
    );
    let outbox = store.list_outbox(t.id).await.unwrap();
    assert!(
        outbox
            .iter()
            .any(|o| o.notification.kind == NotificationKind::Automation),
        "{outbox:?}"
    );
    assert_eq!(
        Ticket::replay(&events),
        store.get_ticket(t.id, created.id).await.unwrap()
    );
}
