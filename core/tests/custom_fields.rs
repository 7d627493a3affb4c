//! Custom fields through the service: an admin defines them, customers fill the editable
//! ones and never see the internal ones, staff set any, a required field holds up
//! resolving, and every refusal names the field.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use helpdesk_core::Error;
use helpdesk_core::domain::field_token;
use helpdesk_core::domain::{CustomFieldDef, EventKind, FieldKind, FieldValue, TicketStatus};
use helpdesk_core::service::{FieldChanges, NewTicket, SearchRequest};
use helpdesk_core::store::TicketQuery;

use common::{World, world};

fn field_of(e: Error) -> String {
    match e {
        Error::Validation { field, .. } => field.into_owned(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn def(key: &str, kind: FieldKind) -> CustomFieldDef {
    CustomFieldDef {
        key: key.into(),
        label: key.replace('_', " "),
        kind,
        required_to_resolve: false,
        customer_visible: false,
        customer_editable: false,
    }
}

/// Order number (customers fill it, required to resolve), plan (internal dropdown).
async fn with_fields() -> World {
    let w = world().await;
    let mut settings = w.hd.get_tenant(&w.admin).await.unwrap().settings;
    let mut order = def("order_number", FieldKind::Text);
    order.customer_editable = true;
    order.required_to_resolve = true;
    let plan = def(
        "plan",
        FieldKind::Dropdown {
            options: vec!["Free".into(), "Pro".into()],
        },
    );
    settings.custom_fields = vec![order, plan];
    w.hd.update_settings(&w.admin, settings).await.unwrap();
    w
}

fn set(pairs: &[(&str, Option<FieldValue>)]) -> FieldChanges {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}

#[tokio::test]
async fn customers_fill_editable_fields_and_never_see_internal_ones() {
    let w = with_fields().await;
    let mut new = NewTicket::new("Where is my parcel", "It has not arrived.");
    new.fields = BTreeMap::from([(
        "order_number".to_string(),
        FieldValue::Text(" A-1001 ".into()),
    )]);
    let t = w.hd.open_ticket(&w.customer, new).await.unwrap().ticket;
    assert_eq!(
        t.custom_fields.get("order_number"),
        Some(&FieldValue::Text("A-1001".into()))
    );
    // A customer cannot set an internal field, at intake or later.
    let mut sneaky = NewTicket::new("Upgrade", "Please.");
    sneaky.fields = BTreeMap::from([("plan".to_string(), FieldValue::Text("Pro".into()))]);
    assert_eq!(
        field_of(w.hd.open_ticket(&w.customer, sneaky).await.unwrap_err()),
        "fields.plan"
    );
    let e =
        w.hd.set_custom_fields(
            &w.customer,
            t.id,
            set(&[("plan", Some(FieldValue::Text("Pro".into())))]),
        )
        .await
        .unwrap_err();
    assert_eq!(field_of(e), "fields.plan");

    // Staff set it; the customer's reads leave it out, the staff's show it.
    let staff_view =
        w.hd.set_custom_fields(
            &w.agent,
            t.id,
            set(&[("plan", Some(FieldValue::Text("pro".into())))]),
        )
        .await
        .unwrap();
    assert_eq!(
        staff_view.custom_fields.get("plan"),
        Some(&FieldValue::Text("Pro".into()))
    );
    let theirs = w.hd.get_ticket(&w.customer, t.id).await.unwrap().ticket;
    assert!(!theirs.custom_fields.contains_key("plan"));
    assert!(theirs.custom_fields.contains_key("order_number"));
    let listed =
        w.hd.list_tickets(&w.customer, TicketQuery::default())
            .await
            .unwrap();
    assert!(
        listed
            .items
            .iter()
            .all(|t| !t.custom_fields.contains_key("plan"))
    );
    let found =
        w.hd.search_tickets(
            &w.customer,
            SearchRequest {
                q: "parcel".into(),
                ..SearchRequest::default()
            },
        )
        .await
        .unwrap();
    assert!(
        found
            .items
            .iter()
            .all(|r| !r.ticket.custom_fields.contains_key("plan"))
    );
    // Filtering on a field they cannot see is refused rather than answered.
    let probe = SearchRequest {
        q: "parcel".into(),
        fields: vec![field_token("plan", "Pro")],
        ..SearchRequest::default()
    };
    assert_eq!(
        field_of(w.hd.search_tickets(&w.customer, probe).await.unwrap_err()),
        "fields[0]"
    );
    let feed = w.hd.event_feed(&w.customer, None, 100).await.unwrap();
    assert!(feed.items.iter().all(|i| match &i.event.kind {
        EventKind::Created { ticket } => ticket.custom_fields.is_empty(),
        EventKind::CustomFieldsChanged { .. } => false,
        _ => true,
    }));

    // Staff filter and search on it.
    let pro = TicketQuery {
        fields: vec![field_token("plan", "Pro")],
        ..TicketQuery::default()
    };
    let listed = w.hd.list_tickets(&w.agent, pro).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    let by_order =
        w.hd.search_tickets(
            &w.agent,
            SearchRequest {
                q: "a 1001".into(),
                ..SearchRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_order.items.len(), 1);
    let unknown = TicketQuery {
        fields: vec!["colour=red".into()],
        ..TicketQuery::default()
    };
    assert_eq!(
        field_of(w.hd.list_tickets(&w.agent, unknown).await.unwrap_err()),
        "fields[0]"
    );
}

#[tokio::test]
async fn a_required_field_holds_up_staff_resolving_but_not_the_customer() {
    let w = with_fields().await;
    let t =
        w.hd.open_ticket(&w.customer, NewTicket::new("Refund", "Please refund."))
            .await
            .unwrap()
            .ticket;
    let e =
        w.hd.transition(&w.agent, t.id, TicketStatus::Resolved)
            .await
            .unwrap_err();
    assert_eq!(field_of(e), "fields.order_number");
    assert_eq!(
        w.hd.get_ticket(&w.agent, t.id).await.unwrap().ticket.status,
        t.status,
        "nothing was written"
    );
    w.hd.set_custom_fields(
        &w.agent,
        t.id,
        set(&[("order_number", Some(FieldValue::Text("B-7".into())))]),
    )
    .await
    .unwrap();
    let resolved =
        w.hd.transition(&w.agent, t.id, TicketStatus::Resolved)
            .await
            .unwrap();
    assert_eq!(resolved.status, TicketStatus::Resolved);

    // A customer may resolve their own ticket with the field empty.
    let u =
        w.hd.open_ticket(&w.customer, NewTicket::new("Solved myself", "Never mind."))
            .await
            .unwrap()
            .ticket;
    let done =
        w.hd.transition(&w.customer, u.id, TicketStatus::Resolved)
            .await
            .unwrap();
    assert_eq!(done.status, TicketStatus::Resolved);
}

#[tokio::test]
async fn values_are_checked_and_changes_are_events() {
    let w = with_fields().await;
    let t =
        w.hd.open_ticket(&w.customer, NewTicket::new("Billing", "Question."))
            .await
            .unwrap()
            .ticket;
    for (changes, field) in [
        (
            set(&[("plan", Some(FieldValue::Text("Gold".into())))]),
            "fields.plan",
        ),
        (
            set(&[("plan", Some(FieldValue::Number(1.0)))]),
            "fields.plan",
        ),
        (set(&[("nope", None)]), "fields.nope"),
        (
            set(&[("order_number", Some(FieldValue::Text("x".repeat(501))))]),
            "fields.order_number",
        ),
    ] {
        let e =
            w.hd.set_custom_fields(&w.agent, t.id, changes)
                .await
                .unwrap_err();
        assert_eq!(field_of(e), field);
    }
    w.hd.set_custom_fields(
        &w.agent,
        t.id,
        set(&[("plan", Some(FieldValue::Text("Free".into())))]),
    )
    .await
    .unwrap();
    let cleared =
        w.hd.set_custom_fields(&w.agent, t.id, set(&[("plan", None)]))
            .await
            .unwrap();
    assert!(cleared.custom_fields.is_empty());
    let view = w.hd.get_ticket(&w.agent, t.id).await.unwrap();
    let changes = view
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::CustomFieldsChanged { .. }))
        .count();
    assert_eq!(changes, 2);
    // Bad definitions are refused at their index.
    let mut settings = w.hd.get_tenant(&w.admin).await.unwrap().settings;
    settings.custom_fields.push(def("plan", FieldKind::Text));
    let e = w.hd.update_settings(&w.admin, settings).await.unwrap_err();
    assert_eq!(field_of(e), "settings.custom_fields[2].key");
}

#[tokio::test]
async fn admins_see_tickets_per_dropdown_option() {
    let w = with_fields().await;
    let mut ids = Vec::new();
    for subject in ["One", "Two", "Three", "Four"] {
        ids.push(
            w.hd.open_ticket(&w.customer, NewTicket::new(subject, "Text."))
                .await
                .unwrap()
                .ticket
                .id,
        );
    }
    for (id, plan) in ids.iter().zip(["Pro", "Pro", "Free"]) {
        w.hd.set_custom_fields(
            &w.agent,
            *id,
            set(&[("plan", Some(FieldValue::Text(plan.into())))]),
        )
        .await
        .unwrap();
    }
    w.hd.set_custom_fields(
        &w.agent,
        ids[1],
        set(&[("order_number", Some(FieldValue::Text("C-1".into())))]),
    )
    .await
    .unwrap();
    w.hd.transition(&w.agent, ids[1], TicketStatus::Resolved)
        .await
        .unwrap();
    let report = w.hd.custom_field_breakdown(&w.admin).await.unwrap();
    assert_eq!(report.len(), 1, "only dropdowns");
    assert_eq!(report[0].key, "plan");
    assert_eq!(
        report[0].options,
        [("Free".to_string(), 1, 1), ("Pro".to_string(), 1, 2)]
    );
    assert_eq!(report[0].unset, (1, 1));
    assert!(matches!(
        w.hd.custom_field_breakdown(&w.agent).await,
        Err(Error::Forbidden { .. })
    ));
}
