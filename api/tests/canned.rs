//! Canned responses through the JSON API: written, listed by name, previewed for a ticket
//! and sent on it with their actions; scopes, refusals and problem documents.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::{Method, StatusCode};
use serde_json::json;

use common::api;

#[tokio::test]
async fn canned_responses_are_written_previewed_and_sent_with_their_actions() {
    let api = api().await;
    let (ticket, number) = api.open_ticket(&api.customer, "Charged twice").await;

    let created = api
        .call(
            Method::POST,
            "/canned-responses",
            Some(&api.agent),
            Some(json!({
                "name": "Refund issued",
                "body": "Refunded, ticket #{{ticket.number}}. {{agent.first_name}}",
                "actions": {
                    "status": "pending",
                    "priority": "high",
                    "add_tags": ["refund"],
                    "assign": {"to": "me"}
                }
            })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    assert_eq!(created.json["shared"], false);
    let id = created.json["id"].as_str().unwrap().to_string();

    let list = api
        .call(
            Method::GET,
            "/canned-responses?q=REFUND",
            Some(&api.agent),
            None,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json.as_array().unwrap().len(), 1);
    let none = api
        .call(
            Method::GET,
            "/canned-responses?q=nothing",
            Some(&api.agent),
            None,
        )
        .await;
    assert_eq!(none.json, json!([]));

    let path = format!("/tickets/{ticket}/canned-responses/{id}");
    let preview = api.call(Method::GET, &path, Some(&api.agent), None).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.json);
    let body = preview.json["body"].as_str().unwrap();
    assert!(
        body.starts_with(&format!("Refunded, ticket #{number}. ")),
        "{body}"
    );

    let sent = api
        .call(Method::POST, &path, Some(&api.agent), Some(json!({})))
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.json);
    assert_eq!(sent.json["ticket"]["status"], "pending");
    assert_eq!(sent.json["ticket"]["priority"], "high");
    assert_eq!(sent.json["message"]["body"], body);

    // Sent again on the same ticket: Pending -> Pending is no move; an edited text is sent
    // as written.
    let again = api
        .call(
            Method::POST,
            &path,
            Some(&api.agent),
            Some(json!({"body": "Done again."})),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.json);
    assert_eq!(again.json["message"]["body"], "Done again.");

    // An agent's own is theirs alone; customers have none.
    let theirs = api
        .call(
            Method::GET,
            &format!("/canned-responses/{id}"),
            Some(&api.admin),
            None,
        )
        .await;
    theirs.assert_problem(404, "not_found");
    let customer = api
        .call(Method::GET, "/canned-responses", Some(&api.customer), None)
        .await;
    customer.assert_problem(403, "forbidden");
}

#[tokio::test]
async fn refusals_are_problem_documents_that_write_nothing() {
    let api = api().await;
    let typo = api
        .call(
            Method::POST,
            "/canned-responses",
            Some(&api.agent),
            Some(json!({"name": "Typo", "body": "Hi {{customer.nmae}}"})),
        )
        .await;
    typo.assert_problem(422, "validation");
    assert!(typo.json.to_string().contains("body"), "{}", typo.json);
    let shared = api
        .call(
            Method::POST,
            "/canned-responses",
            Some(&api.agent),
            Some(json!({"name": "Shared", "body": "Hello", "shared": true})),
        )
        .await;
    shared.assert_problem(403, "forbidden");
    let unknown_field = api
        .call(
            Method::POST,
            "/canned-responses",
            Some(&api.agent),
            Some(json!({"name": "X", "body": "Hello", "owner": "someone"})),
        )
        .await;
    assert_eq!(unknown_field.status, StatusCode::UNPROCESSABLE_ENTITY);

    let made = api
        .call(
            Method::POST,
            "/canned-responses",
            Some(&api.admin),
            Some(json!({
                "name": "Close it",
                "body": "Closing this.",
                "shared": true,
                "actions": {"status": "closed"}
            })),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
    let taken = api
        .call(
            Method::POST,
            "/canned-responses",
            Some(&api.admin),
            Some(json!({"name": "close IT", "body": "x", "shared": true})),
        )
        .await;
    taken.assert_problem(409, "conflict");
    let id = made.json["id"].as_str().unwrap();

    // New -> Closed is not in the lifecycle: 409, and the ticket is unchanged.
    let (ticket, _) = api.open_ticket(&api.customer, "Printer").await;
    let before = api
        .call(
            Method::GET,
            &format!("/tickets/{ticket}"),
            Some(&api.agent),
            None,
        )
        .await;
    let refused = api
        .call(
            Method::POST,
            &format!("/tickets/{ticket}/canned-responses/{id}"),
            Some(&api.agent),
            Some(json!({})),
        )
        .await;
    refused.assert_problem(409, "conflict");
    assert_eq!(refused.json["code"], "illegal_transition");
    let after = api
        .call(
            Method::GET,
            &format!("/tickets/{ticket}"),
            Some(&api.agent),
            None,
        )
        .await;
    assert_eq!(after.json["version"], before.json["version"]);

    // An agent may not change or delete a shared one.
    let change = api
        .call(
            Method::PUT,
            &format!("/canned-responses/{id}"),
            Some(&api.agent),
            Some(json!({"name": "Mine", "body": "x"})),
        )
        .await;
    change.assert_problem(403, "forbidden");
    let delete = api
        .call(
            Method::DELETE,
            &format!("/canned-responses/{id}"),
            Some(&api.admin),
            None,
        )
        .await;
    assert_eq!(delete.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_bulk_change_reports_each_ticket() {
    let api = api().await;
    let (a, _) = api.open_ticket(&api.customer, "One").await;
    let (b, _) = api.open_ticket(&api.customer, "Two").await;
    let resolved = api
        .call(
            Method::POST,
            &format!("/tickets/{b}/transitions"),
            Some(&api.agent),
            Some(json!({"to": "resolved"})),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.json);
    let done = api
        .call(
            Method::POST,
            "/bulk-changes",
            Some(&api.agent),
            Some(json!({
                "tickets": [a, b],
                "actions": {"status": "pending", "add_tags": ["batch"]}
            })),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.json);
    let results = done.json.as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["ticket"]["status"], "pending");
    assert_eq!(results[0]["ticket"]["tags"], json!(["batch"]));
    assert_eq!(results[1]["ticket_id"], b.as_str());
    assert_eq!(results[1]["problem"]["code"], "illegal_transition");
    assert!(results[1].get("ticket").is_none());

    let empty = api
        .call(
            Method::POST,
            "/bulk-changes",
            Some(&api.agent),
            Some(json!({"tickets": [], "actions": {"status": "open"}})),
        )
        .await;
    empty.assert_problem(422, "validation");
    let customer = api
        .call(
            Method::POST,
            "/bulk-changes",
            Some(&api.customer),
            Some(json!({"tickets": [a], "actions": {"status": "open"}})),
        )
        .await;
    customer.assert_problem(403, "forbidden");
}

#[tokio::test]
async fn saved_views_are_listed_with_their_counts() {
    let api = api().await;
    api.open_ticket(&api.customer, "Unassigned one").await;
    let created = api
        .call(
            Method::POST,
            "/views",
            Some(&api.agent),
            Some(json!({
                "name": "Everything open",
                "filter": {"statuses": ["new", "open", "in_progress", "pending", "escalated"]}
            })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let id = created.json["id"].as_str().unwrap().to_string();
    let list = api
        .call(Method::GET, "/views", Some(&api.agent), None)
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.json);
    assert_eq!(list.json[0]["name"], "Everything open");
    assert_eq!(list.json[0]["count"], 1);

    let taken = api
        .call(
            Method::POST,
            "/views",
            Some(&api.agent),
            Some(json!({"name": "everything OPEN"})),
        )
        .await;
    taken.assert_problem(409, "conflict");
    let shared = api
        .call(
            Method::POST,
            "/views",
            Some(&api.agent),
            Some(json!({"name": "Team", "shared": true})),
        )
        .await;
    shared.assert_problem(403, "forbidden");
    let bad = api
        .call(
            Method::POST,
            "/views",
            Some(&api.agent),
            Some(json!({"name": "Cat", "filter": {"category": "nope"}})),
        )
        .await;
    bad.assert_problem(422, "validation");
    let theirs = api
        .call(Method::GET, &format!("/views/{id}"), Some(&api.admin), None)
        .await;
    theirs.assert_problem(404, "not_found");
    let deleted = api
        .call(
            Method::DELETE,
            &format!("/views/{id}"),
            Some(&api.agent),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
}
