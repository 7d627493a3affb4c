//! Triage by language model fills dropdown custom fields: the schema offers only each
//! field's options (and "none"), a value outside them refuses the whole answer, and a
//! value the requester chose is kept.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ai_common;
mod common;

use std::collections::BTreeMap;

use ai_common::{Wiring, ai_world, triage_json};
use helpdesk_core::domain::{CustomFieldDef, FieldKind, FieldValue, TriageSource};
use helpdesk_core::service::NewTicket;
use helpdesk_core::testkit::MockTurn;
use serde_json::{Value, json};

fn wiring() -> Wiring {
    Wiring {
        model: true,
        llm_triage: true,
        embedder: false,
        kb: false,
    }
}

fn answer(plan: &str) -> Value {
    let mut v = triage_json("billing", "medium", &["billing"], 0.9);
    v["fields"] = json!({ "plan": plan, "region": "none" });
    v
}

async fn with_dropdowns(turns: Vec<MockTurn>) -> ai_common::AiWorld {
    let ai = ai_world(wiring(), turns).await;
    let w = &ai.w;
    let mut settings = w.hd.get_tenant(&w.admin).await.unwrap().settings;
    let dropdown = |key: &str, options: &[&str], editable: bool| CustomFieldDef {
        key: key.into(),
        label: key.into(),
        kind: FieldKind::Dropdown {
            options: options.iter().map(|o| (*o).to_string()).collect(),
        },
        required_to_resolve: false,
        customer_visible: editable,
        customer_editable: editable,
    };
    settings.custom_fields = vec![
        dropdown("plan", &["Free", "Pro"], false),
        dropdown("region", &["EU", "US"], true),
        CustomFieldDef {
            key: "order".into(),
            label: "Order".into(),
            kind: FieldKind::Text,
            required_to_resolve: false,
            customer_visible: false,
            customer_editable: false,
        },
    ];
    w.hd.update_settings(&w.admin, settings).await.unwrap();
    ai
}

#[tokio::test]
async fn the_model_fills_dropdowns_within_their_options() {
    let ai = with_dropdowns(vec![MockTurn::Json(answer("pro"))]).await;
    let w = &ai.w;
    let mut new = NewTicket::new("Upgrade question", "We are on the Pro plan in the EU.");
    new.fields = BTreeMap::from([("region".to_string(), FieldValue::Text("EU".into()))]);
    let opened = w.hd.open_ticket(&w.customer, new).await.unwrap().ticket;
    // The customer's answer leaves out the internal field the model filled.
    assert!(!opened.custom_fields.contains_key("plan"));
    let t = w.hd.get_ticket(&w.agent, opened.id).await.unwrap().ticket;
    assert_eq!(t.triage.unwrap().source, TriageSource::Llm);
    assert_eq!(
        t.custom_fields.get("plan"),
        Some(&FieldValue::Text("Pro".into()))
    );
    assert_eq!(
        t.custom_fields.get("region"),
        Some(&FieldValue::Text("EU".into()))
    );
    assert!(!t.custom_fields.contains_key("order"));

    let schema = ai.model.requests()[0].json_schema.clone().unwrap();
    let fields = &schema["properties"]["fields"];
    assert_eq!(
        fields["properties"]["plan"]["enum"],
        json!(["Free", "Pro", "none"])
    );
    assert_eq!(
        fields["properties"]["region"]["enum"],
        json!(["EU", "US", "none"])
    );
    assert!(
        fields["properties"].get("order").is_none(),
        "only dropdowns"
    );
    assert_eq!(fields["additionalProperties"], json!(false));
    assert!(
        schema["required"]
            .as_array()
            .unwrap()
            .contains(&json!("fields"))
    );
}

#[tokio::test]
async fn a_value_outside_the_options_refuses_the_answer() {
    let mut unknown_key = triage_json("billing", "medium", &["billing"], 0.9);
    unknown_key["fields"] = json!({ "order": "A-1" });
    let ai = with_dropdowns(vec![
        MockTurn::Json(answer("Gold")),
        MockTurn::Json(unknown_key),
    ])
    .await;
    let w = &ai.w;
    for subject in ["Gold plan please", "Order"] {
        let opened =
            w.hd.open_ticket(&w.customer, NewTicket::new(subject, "I was charged twice."))
                .await
                .unwrap()
                .ticket;
        let t = w.hd.get_ticket(&w.agent, opened.id).await.unwrap().ticket;
        let triage = t.triage.unwrap();
        assert_ne!(triage.source, TriageSource::Llm, "{subject}");
        let reason = &triage.fallbacks[0].reason;
        assert!(reason.contains("field"), "{subject}: {reason}");
        assert!(t.custom_fields.is_empty(), "{subject}");
    }
}
