//! Teams through the JSON API: defined in the settings, a ticket given to one with
//! `PUT /tickets/{id}/team` (staff only, unknown teams refused naming the field), shown to
//! staff and never to customers, filtered on, and counted per team.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::{Method, StatusCode};
use serde_json::json;

use common::api;

#[tokio::test]
async fn tickets_are_given_to_teams_filtered_and_counted() {
    let api = api().await;
    let tenant = api
        .call(Method::GET, "/tenant", Some(&api.admin), None)
        .await;
    let mut s = tenant.json["settings"].clone();
    s["teams"] = json!([
        {"key": "billing", "name": "Billing", "members": [api.agent_actor.user_id]},
        {"key": "technical", "name": "Technical", "members": [api.admin_actor.user_id]}
    ]);
    let saved = api
        .call(Method::PUT, "/tenant/settings", Some(&api.admin), Some(s))
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.json);

    let (id, _) = api.open_ticket(&api.customer, "Invoice").await;
    let moved = api
        .call(
            Method::PUT,
            &format!("/tickets/{id}/team"),
            Some(&api.agent),
            Some(json!({"team": "billing"})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.json);
    assert_eq!(moved.json["internal"]["team"], "billing");
    let theirs = api
        .call(
            Method::GET,
            &format!("/tickets/{id}"),
            Some(&api.customer),
            None,
        )
        .await;
    assert!(
        theirs.json["ticket"].get("internal").is_none(),
        "{}",
        theirs.json
    );
    assert!(
        !theirs.json.to_string().contains("\"team\""),
        "{}",
        theirs.json
    );

    let refused = api
        .call(
            Method::PUT,
            &format!("/tickets/{id}/team"),
            Some(&api.agent),
            Some(json!({"team": "sales"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json["field"], "team", "{}", refused.json);
    let forbidden = api
        .call(
            Method::PUT,
            &format!("/tickets/{id}/team"),
            Some(&api.customer),
            Some(json!({"team": null})),
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);

    api.open_ticket(&api.customer, "Other").await;
    let listed = api
        .call(Method::GET, "/tickets?team=billing", Some(&api.agent), None)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.json);
    let items = listed.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id.as_str());
    let found = api
        .call(
            Method::GET,
            "/search?q=invoice&team=billing",
            Some(&api.agent),
            None,
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.json);
    assert_eq!(found.json["items"].as_array().unwrap().len(), 1);

    let loads = api
        .call(Method::GET, "/analytics/teams", Some(&api.admin), None)
        .await;
    assert_eq!(loads.status, StatusCode::OK, "{}", loads.json);
    assert_eq!(loads.json[0]["name"], "Billing");
    assert_eq!(loads.json[0]["total"], 1);
    assert_eq!(loads.json[2]["key"], serde_json::Value::Null);
    assert_eq!(loads.json[2]["total"], 1, "the other ticket has no team");
    let agents = api
        .call(Method::GET, "/analytics/teams", Some(&api.agent), None)
        .await;
    assert_eq!(agents.status, StatusCode::FORBIDDEN);
}
