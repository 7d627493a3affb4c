//! Automations through the JSON API: a rule saved in the settings runs when a ticket is
//! opened, a rule is tested against a ticket without being applied, and bad rules are
//! refused naming the part.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::{Method, StatusCode};
use serde_json::json;

use common::api;

#[tokio::test]
async fn a_saved_rule_runs_and_a_rule_is_tested_without_applying_it() {
    let api = api().await;
    let tenant = api
        .call(Method::GET, "/tenant", Some(&api.admin), None)
        .await;
    let mut settings = tenant.json["settings"].clone();
    settings["automations"] = json!([{
        "key": "outage_urgent",
        "name": "Outages are urgent",
        "trigger": {"type": "created"},
        "conditions": [{"type": "channel", "any_of": ["api"]}],
        "actions": [
            {"type": "set_priority", "priority": "urgent"},
            {"type": "add_tags", "tags": ["outage"]}
        ]
    }]);
    let saved = api
        .call(
            Method::PUT,
            "/tenant/settings",
            Some(&api.admin),
            Some(settings.clone()),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.json);

    let opened = api
        .call(
            Method::POST,
            "/tickets",
            Some(&api.agent),
            Some(
                json!({"subject": "Site down", "description": "500 everywhere.", "channel": "api"}),
            ),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.json);
    assert_eq!(opened.json["priority"], "urgent");
    assert_eq!(opened.json["tags"], json!(["outage"]));
    let id = opened.json["id"].as_str().unwrap().to_string();
    let detail = api
        .call(
            Method::GET,
            &format!("/tickets/{id}"),
            Some(&api.agent),
            None,
        )
        .await;
    let events = detail.json["events"].as_array().unwrap();
    assert!(
        events.iter().any(|e| e["type"] == "automation_applied"),
        "{}",
        detail.json
    );

    let rule = json!({
        "key": "try_me",
        "name": "Try me",
        "enabled": false,
        "trigger": {"type": "updated"},
        "conditions": [{"type": "has_tag", "tag": "outage"}],
        "actions": [{"type": "set_status", "status": "pending"}]
    });
    let tried = api
        .call(
            Method::POST,
            "/automations/test",
            Some(&api.admin),
            Some(json!({"rule": rule, "ticket": id})),
        )
        .await;
    assert_eq!(tried.status, StatusCode::OK, "{}", tried.json);
    assert_eq!(tried.json["matches"], true);
    assert_eq!(tried.json["would_add"][0], "status_changed");
    let after = api
        .call(
            Method::GET,
            &format!("/tickets/{id}"),
            Some(&api.agent),
            None,
        )
        .await;
    assert_ne!(
        after.json["ticket"]["status"], "pending",
        "testing writes nothing"
    );
    let agent = api
        .call(
            Method::POST,
            "/automations/test",
            Some(&api.agent),
            Some(json!({"rule": rule, "ticket": id})),
        )
        .await;
    agent.assert_problem(403, "forbidden");

    settings["automations"][0]["actions"] = json!([]);
    let bad = api
        .call(
            Method::PUT,
            "/tenant/settings",
            Some(&api.admin),
            Some(settings),
        )
        .await;
    bad.assert_problem(422, "validation");
    assert_eq!(bad.json["field"], "settings.automations[0].actions");
}
