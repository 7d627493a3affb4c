//! Tickets over HTTP: intake with idempotency, reading, listing, replies and notes,
//! lifecycle moves with `If-Match`, assignment, merges, ratings, and tenant isolation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::{Method, StatusCode};
use serde_json::json;

use common::api;

#[tokio::test]
async fn a_customer_opens_a_ticket_and_a_retry_with_the_same_key_returns_it() {
    let api = api().await;
    let body = json!({"subject": "Cannot export invoices", "description": "The export button does nothing."});
    let first = api
        .call_with(
            Method::POST,
            "/tickets",
            Some(&api.customer),
            Some(body.clone()),
            &[("idempotency-key", "k-1")],
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.json);
    let id = first.json["id"].as_str().unwrap();
    assert_eq!(
        first.header("location"),
        Some(format!("/tickets/{id}").as_str())
    );
    assert_eq!(
        first.header("etag"),
        Some(format!("\"{}\"", first.json["version"]).as_str())
    );
    assert!(
        first.json.get("internal").is_none(),
        "customers see no internal fields"
    );
    assert_eq!(first.header("cache-control"), Some("no-store"));
    assert!(first.header("x-request-id").is_some());

    let retry = api
        .call_with(
            Method::POST,
            "/tickets",
            Some(&api.customer),
            Some(body),
            &[("idempotency-key", "k-1")],
        )
        .await;
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.json["id"], first.json["id"]);
    let queue = api
        .call(Method::GET, "/tickets", Some(&api.agent), None)
        .await;
    assert_eq!(
        queue.json["items"].as_array().unwrap().len(),
        1,
        "one ticket, not two"
    );
    assert!(
        queue.json["items"][0]["internal"].is_object(),
        "staff see internal fields"
    );
}

#[tokio::test]
async fn listing_filters_pages_and_scopes_customers_to_their_own_tickets() {
    let api = api().await;
    for n in 0..3 {
        api.open_ticket(&api.customer, &format!("Mine {n}")).await;
    }
    api.open_ticket(&api.customer2, "Someone else's").await;
    let mine = api
        .call(Method::GET, "/tickets?limit=10", Some(&api.customer), None)
        .await;
    let subjects: Vec<_> = mine.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects.len(), 3, "{subjects:?}");
    assert!(subjects.iter().all(|s| s.starts_with("Mine")));

    let first = api
        .call(
            Method::GET,
            "/tickets?limit=2&sort=newest",
            Some(&api.agent),
            None,
        )
        .await;
    assert_eq!(first.json["items"].as_array().unwrap().len(), 2);
    let cursor = first.json["next_cursor"].as_str().unwrap();
    let second = api
        .call(
            Method::GET,
            &format!("/tickets?limit=2&sort=newest&cursor={cursor}"),
            Some(&api.agent),
            None,
        )
        .await;
    assert_eq!(second.json["items"].as_array().unwrap().len(), 2);
    assert!(second.json["next_cursor"].is_null());

    let searched = api
        .call(Method::GET, "/tickets?q=else", Some(&api.agent), None)
        .await;
    assert_eq!(searched.json["items"].as_array().unwrap().len(), 1);
    let none = api
        .call(
            Method::GET,
            "/tickets?status=closed,resolved",
            Some(&api.agent),
            None,
        )
        .await;
    assert!(none.json["items"].as_array().unwrap().is_empty());

    api.call(Method::GET, "/tickets?status=bogus", Some(&api.agent), None)
        .await
        .assert_problem(422, "validation");
    let too_many = api
        .call(Method::GET, "/tickets?limit=1000", Some(&api.agent), None)
        .await;
    too_many.assert_problem(422, "validation");
    assert_eq!(too_many.json["field"], "limit");
    api.call(Method::GET, "/tickets?limit=abc", Some(&api.agent), None)
        .await
        .assert_problem(422, "validation");
}

#[tokio::test]
async fn replies_notes_and_what_a_customer_sees() {
    let api = api().await;
    let (id, number) = api.open_ticket(&api.customer, "Refund please").await;
    let reply = api
        .call(
            Method::POST,
            &format!("/tickets/{id}/replies"),
            Some(&api.agent),
            Some(json!({"body": "Refund on its way.", "status_after": "pending"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    assert_eq!(reply.json["ticket"]["status"], "pending");
    let note = api
        .call(
            Method::POST,
            &format!("/tickets/{id}/notes"),
            Some(&api.agent),
            Some(json!({"body": "VIP customer"})),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED);
    assert_eq!(note.json["kind"], "note");

    let seen = api
        .call(
            Method::GET,
            &format!("/tickets/by-number/{number}"),
            Some(&api.customer),
            None,
        )
        .await;
    assert_eq!(seen.status, StatusCode::OK);
    let bodies: Vec<_> = seen.json["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert!(bodies.contains(&"Refund on its way."));
    assert!(
        !bodies.contains(&"VIP customer"),
        "customers never see notes: {bodies:?}"
    );
    assert!(seen.json["events"].as_array().unwrap().is_empty());

    let staff = api
        .call(
            Method::GET,
            &format!("/tickets/{id}"),
            Some(&api.agent),
            None,
        )
        .await;
    assert!(staff.json["messages"].to_string().contains("VIP customer"));
    let events = api
        .call(
            Method::GET,
            &format!("/tickets/{id}/events"),
            Some(&api.agent),
            None,
        )
        .await;
    let kinds: Vec<_> = events
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"created") && kinds.contains(&"message_added"),
        "{kinds:?}"
    );
    api.call(
        Method::GET,
        &format!("/tickets/{id}/events"),
        Some(&api.customer),
        None,
    )
    .await
    .assert_problem(403, "forbidden");
    api.call(
        Method::POST,
        &format!("/tickets/{id}/notes"),
        Some(&api.customer),
        Some(json!({"body": "x"})),
    )
    .await
    .assert_problem(403, "forbidden");
}

#[tokio::test]
async fn if_match_guards_changes_and_illegal_moves_are_conflicts() {
    let api = api().await;
    let (id, _) = api.open_ticket(&api.customer, "Printer on fire").await;
    let current = api
        .call(
            Method::GET,
            &format!("/tickets/{id}"),
            Some(&api.agent),
            None,
        )
        .await;
    let etag = current.header("etag").unwrap().to_string();

    // Someone else changes the ticket: the old ETag no longer holds.
    let patch = api
        .call_with(
            Method::PATCH,
            &format!("/tickets/{id}"),
            Some(&api.agent),
            Some(json!({"tags": ["fire"]})),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(patch.status, StatusCode::OK, "{}", patch.json);
    assert_eq!(patch.json["tags"], json!(["fire"]));
    let stale = api
        .call_with(
            Method::POST,
            &format!("/tickets/{id}/transitions"),
            Some(&api.agent),
            Some(json!({"to": "open"})),
            &[("if-match", &etag)],
        )
        .await;
    stale.assert_problem(412, "precondition_failed");
    let unchanged = api
        .call(
            Method::GET,
            &format!("/tickets/{id}"),
            Some(&api.agent),
            None,
        )
        .await;
    assert_eq!(
        unchanged.json["ticket"]["status"], current.json["ticket"]["status"],
        "nothing written"
    );

    let fresh = patch.header("etag").unwrap().to_string();
    let moved = api
        .call_with(
            Method::POST,
            &format!("/tickets/{id}/transitions"),
            Some(&api.agent),
            Some(json!({"to": "resolved"})),
            &[("if-match", &fresh)],
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.json);
    assert_eq!(moved.json["status"], "resolved");

    // A customer may not put a resolved ticket in progress.
    let illegal = api
        .call(
            Method::POST,
            &format!("/tickets/{id}/transitions"),
            Some(&api.customer),
            Some(json!({"to": "in_progress"})),
        )
        .await;
    illegal.assert_problem(409, "conflict");
    assert_eq!(illegal.json["code"], "illegal_transition");

    api.call_with(
        Method::POST,
        &format!("/tickets/{id}/transitions"),
        Some(&api.agent),
        Some(json!({"to": "open"})),
        &[("if-match", "W/\"1\"")],
    )
    .await
    .assert_problem(412, "precondition_failed");
    api.call_with(
        Method::POST,
        &format!("/tickets/{id}/transitions"),
        Some(&api.agent),
        Some(json!({"to": "open"})),
        &[("if-match", "garbage")],
    )
    .await
    .assert_problem(400, "bad_request");

    // Rated once, by its requester.
    let rated = api
        .call(
            Method::POST,
            &format!("/tickets/{id}/csat"),
            Some(&api.customer),
            Some(json!({"score": 5})),
        )
        .await;
    assert_eq!(rated.status, StatusCode::OK, "{}", rated.json);
    assert_eq!(rated.json["csat"]["score"], 5);
    let again = api
        .call(
            Method::POST,
            &format!("/tickets/{id}/csat"),
            Some(&api.customer),
            Some(json!({"score": 4})),
        )
        .await;
    again.assert_problem(409, "conflict");
    assert_eq!(again.json["code"], "already_rated");
}

#[tokio::test]
async fn assignment_and_merges() {
    let api = api().await;
    let (a, _) = api.open_ticket(&api.customer, "Login broken").await;
    let (b, _) = api.open_ticket(&api.customer, "Login still broken").await;
    let agent = api.agent_actor.user_id.to_string();
    let assigned = api
        .call(
            Method::PUT,
            &format!("/tickets/{a}/assignee"),
            Some(&api.agent),
            Some(json!({"assignee": agent})),
        )
        .await;
    assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.json);
    assert_eq!(assigned.json["assignee"], agent);
    let unassigned = api
        .call(
            Method::PUT,
            &format!("/tickets/{b}/assignee"),
            Some(&api.agent),
            Some(json!({"assignee": null})),
        )
        .await;
    assert!(unassigned.json["assignee"].is_null(), "{}", unassigned.json);
    let mine = api
        .call(Method::GET, "/tickets?assignee=me", Some(&api.agent), None)
        .await;
    let ids: Vec<_> = mine.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![a.as_str()]);
    let nobody = api
        .call(
            Method::GET,
            "/tickets?assignee=none",
            Some(&api.agent),
            None,
        )
        .await;
    assert_eq!(nobody.json["items"][0]["id"], b.as_str());
    let customer = api.customer_actor.user_id.to_string();
    api.call(
        Method::PUT,
        &format!("/tickets/{a}/assignee"),
        Some(&api.agent),
        Some(json!({"assignee": customer})),
    )
    .await
    .assert_problem(422, "validation");

    let merged = api
        .call(
            Method::POST,
            &format!("/tickets/{b}/merge"),
            Some(&api.agent),
            Some(json!({"into": a})),
        )
        .await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.json);
    assert_eq!(merged.json["duplicate"]["merged_into"], a);
    assert_eq!(merged.json["duplicate"]["status"], "closed");
    let reply = api
        .call(
            Method::POST,
            &format!("/tickets/{b}/merge"),
            Some(&api.agent),
            Some(json!({"into": a})),
        )
        .await;
    reply.assert_problem(409, "conflict");
    assert_eq!(reply.json["code"], "already_merged");
}

#[tokio::test]
async fn other_tenants_ids_are_404_exactly_like_missing_ones() {
    let api = api().await;
    let (id, number) = api.open_ticket(&api.customer, "Acme only").await;
    let other_tenant = api
        .call(
            Method::GET,
            &format!("/tickets/{id}"),
            Some(&api.other_admin),
            None,
        )
        .await;
    let missing = api
        .call(
            Method::GET,
            "/tickets/0190a000-0000-7000-8000-000000000000",
            Some(&api.other_admin),
            None,
        )
        .await;
    other_tenant.assert_problem(404, "not_found");
    assert_eq!(other_tenant.json, missing.json);
    // Another customer of the same tenant: also 404.
    let neighbour = api
        .call(
            Method::GET,
            &format!("/tickets/{id}"),
            Some(&api.customer2),
            None,
        )
        .await;
    assert_eq!(neighbour.json, missing.json);
    api.call(
        Method::GET,
        &format!("/tickets/by-number/{number}"),
        Some(&api.other_customer),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    for (method, path, body) in [
        (
            Method::POST,
            format!("/tickets/{id}/replies"),
            json!({"body": "hi"}),
        ),
        (
            Method::PATCH,
            format!("/tickets/{id}"),
            json!({"tags": ["x"]}),
        ),
        (
            Method::POST,
            format!("/tickets/{id}/transitions"),
            json!({"to": "open"}),
        ),
    ] {
        api.call(method, &path, Some(&api.other_admin), Some(body))
            .await
            .assert_problem(404, "not_found");
    }
    api.call(Method::GET, "/tickets/not-a-uuid", Some(&api.agent), None)
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn malformed_bodies_are_problems_naming_the_field() {
    let api = api().await;
    let missing = api
        .call(
            Method::POST,
            "/tickets",
            Some(&api.customer),
            Some(json!({"subject": "No description"})),
        )
        .await;
    missing.assert_problem(422, "validation");
    assert_eq!(missing.json["field"], "description");
    let wrong_type = api
        .call(
            Method::POST,
            "/tickets",
            Some(&api.customer),
            Some(json!({"subject": 5, "description": "x"})),
        )
        .await;
    wrong_type.assert_problem(422, "validation");
    assert_eq!(wrong_type.json["field"], "subject");
    let unknown = api
        .call(
            Method::POST,
            "/tickets",
            Some(&api.customer),
            Some(json!({"subject": "a", "description": "b", "status": "closed"})),
        )
        .await;
    unknown.assert_problem(422, "validation");
    let empty_subject = api
        .call(
            Method::POST,
            "/tickets",
            Some(&api.customer),
            Some(json!({"subject": "  ", "description": "b"})),
        )
        .await;
    empty_subject.assert_problem(422, "validation");
    assert_eq!(empty_subject.json["field"], "subject");

    let raw = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/tickets")
        .header("authorization", format!("Bearer {}", api.customer))
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{not json"))
        .unwrap();
    api.send(raw).await.assert_problem(400, "bad_request");
    let form = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/tickets")
        .header("authorization", format!("Bearer {}", api.customer))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from("subject=a&description=b"))
        .unwrap();
    api.send(form)
        .await
        .assert_problem(415, "unsupported_media_type");
}
