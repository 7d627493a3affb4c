//! Custom fields through the JSON API: defined in the settings, given when a ticket is
//! opened, changed with `PUT /tickets/{id}/fields`, hidden from customers when internal,
//! filtered on, counted per option, and refused naming the field.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::{Method, StatusCode};
use serde_json::json;

use common::api;

#[tokio::test]
async fn fields_are_set_filtered_and_hidden_from_customers() {
    let api = api().await;
    let settings = api
        .call(Method::GET, "/tenant", Some(&api.admin), None)
        .await;
    let mut s = settings.json["settings"].clone();
    s["custom_fields"] = json!([
        {"key": "plan", "label": "Plan", "kind": {"type": "dropdown", "options": ["Free", "Pro"]}},
        {"key": "order", "label": "Order", "kind": {"type": "text"},
         "customer_visible": true, "customer_editable": true}
    ]);
    let saved = api
        .call(Method::PUT, "/tenant/settings", Some(&api.admin), Some(s))
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.json);

    let opened = api
        .call(
            Method::POST,
            "/tickets",
            Some(&api.customer),
            Some(json!({"subject": "Parcel", "description": "Late.", "fields": {"order": "A-9"}})),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.json);
    assert_eq!(opened.json["custom_fields"], json!({"order": "A-9"}));
    let id = opened.json["id"].as_str().unwrap().to_string();

    let set = api
        .call(
            Method::PUT,
            &format!("/tickets/{id}/fields"),
            Some(&api.agent),
            Some(json!({"plan": "pro"})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.json);
    assert_eq!(
        set.json["custom_fields"],
        json!({"order": "A-9", "plan": "Pro"})
    );
    let theirs = api
        .call(
            Method::GET,
            &format!("/tickets/{id}"),
            Some(&api.customer),
            None,
        )
        .await;
    assert_eq!(
        theirs.json["ticket"]["custom_fields"],
        json!({"order": "A-9"})
    );

    let bad = api
        .call(
            Method::PUT,
            &format!("/tickets/{id}/fields"),
            Some(&api.agent),
            Some(json!({"plan": "Gold"})),
        )
        .await;
    bad.assert_problem(422, "validation");
    assert_eq!(bad.json["field"], "fields.plan");
    let sneaky = api
        .call(
            Method::PUT,
            &format!("/tickets/{id}/fields"),
            Some(&api.customer),
            Some(json!({"plan": "Free"})),
        )
        .await;
    sneaky.assert_problem(422, "validation");
    assert_eq!(sneaky.json["field"], "fields.plan");
    let cleared = api
        .call(
            Method::PUT,
            &format!("/tickets/{id}/fields"),
            Some(&api.customer),
            Some(json!({"order": null})),
        )
        .await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.json);
    assert_eq!(cleared.json["custom_fields"], json!({}));

    let pro = api
        .call(
            Method::GET,
            "/tickets?field=plan%3DPro",
            Some(&api.agent),
            None,
        )
        .await;
    assert_eq!(
        pro.json["items"].as_array().unwrap().len(),
        1,
        "{}",
        pro.json
    );
    let free = api
        .call(
            Method::GET,
            "/tickets?field=plan%3DFree",
            Some(&api.agent),
            None,
        )
        .await;
    assert_eq!(free.json["items"], json!([]));
    let unknown = api
        .call(
            Method::GET,
            "/tickets?field=colour%3Dred",
            Some(&api.agent),
            None,
        )
        .await;
    unknown.assert_problem(422, "validation");

    let report = api
        .call(Method::GET, "/analytics/fields", Some(&api.admin), None)
        .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.json);
    assert_eq!(report.json[0]["key"], "plan");
    assert_eq!(
        report.json[0]["options"][1],
        json!({"option": "Pro", "open": 1, "total": 1})
    );
    let forbidden = api
        .call(Method::GET, "/analytics/fields", Some(&api.agent), None)
        .await;
    forbidden.assert_problem(403, "forbidden");
}
