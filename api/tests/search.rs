//! Full-text search through the JSON API: what staff and customers find, the passage with
//! its matching words, filters and paging, and refusals as problem documents naming the
//! field.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use common::api;

fn numbers(reply: &Value) -> Vec<u64> {
    reply["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ticket"]["number"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn staff_and_customers_search_what_they_may_see() {
    let api = api().await;
    let (ticket, number) = api.open_ticket(&api.customer, "Printer on fire").await;
    let (_, other) = api.open_ticket(&api.customer2, "Printer jam").await;
    let note = api
        .call(
            Method::POST,
            &format!("/tickets/{ticket}/notes"),
            Some(&api.agent),
            Some(json!({"body": "Escalate to facilities, extinguisher needed"})),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.json);

    let staff = api
        .call(Method::GET, "/search?q=extinguish", Some(&api.agent), None)
        .await;
    assert_eq!(staff.status, StatusCode::OK, "{}", staff.json);
    assert_eq!(numbers(&staff.json), [number]);
    let hit = &staff.json["items"][0];
    assert_eq!(hit["matched_in"], "note");
    let marked: Vec<&str> = hit["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["hit"] == true)
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(marked, ["extinguisher"]);

    // Customers: never the note, never another customer's ticket.
    let mine = api
        .call(
            Method::GET,
            "/search?q=extinguisher",
            Some(&api.customer),
            None,
        )
        .await;
    assert_eq!(mine.json["items"], json!([]));
    let printers = api
        .call(Method::GET, "/search?q=printer", Some(&api.customer), None)
        .await;
    assert_eq!(numbers(&printers.json), [number]);
    let all = api
        .call(
            Method::GET,
            "/search?q=printer&limit=1",
            Some(&api.agent),
            None,
        )
        .await;
    assert_eq!(all.json["items"].as_array().unwrap().len(), 1);
    let cursor = all.json["next_cursor"].as_str().unwrap().to_string();
    let rest = api
        .call(
            Method::GET,
            &format!("/search?q=printer&limit=1&cursor={cursor}"),
            Some(&api.agent),
            None,
        )
        .await;
    let mut both = [numbers(&all.json), numbers(&rest.json)].concat();
    both.sort_unstable();
    let mut expected = vec![number, other];
    expected.sort_unstable();
    assert_eq!(both, expected);
    assert_eq!(rest.json["next_cursor"], Value::Null);

    // Another tenant finds nothing of this one.
    let theirs = api
        .call(
            Method::GET,
            "/search?q=printer",
            Some(&api.other_admin),
            None,
        )
        .await;
    assert_eq!(theirs.json["items"], json!([]));
    let filtered = api
        .call(
            Method::GET,
            "/search?q=printer&status=closed,resolved",
            Some(&api.agent),
            None,
        )
        .await;
    assert_eq!(filtered.json["items"], json!([]));
}

#[tokio::test]
async fn refusals_name_the_field() {
    let api = api().await;
    for (query, field) in [
        ("q=%20--%20", "q"),
        ("q=a+b+c+d+e+f+g+h+i", "q"),
        ("q=x&status=gone", "status"),
        ("q=x&assignee=bob", "assignee"),
        ("q=x&sla=late", "sla"),
        ("q=x&limit=0", "limit"),
        ("q=x&limit=101", "limit"),
        ("q=x&cursor=abc", "cursor"),
        ("q=x&category=nope", "category"),
        (
            "q=x&created_from=2026-12-02T00:00:00Z&created_to=2026-12-01T00:00:00Z",
            "created_to",
        ),
    ] {
        let reply = api
            .call(
                Method::GET,
                &format!("/search?{query}"),
                Some(&api.agent),
                None,
            )
            .await;
        reply.assert_problem(422, "validation");
        assert_eq!(reply.json["field"], field, "{query}: {}", reply.json);
    }
    let missing = api
        .call(Method::GET, "/search", Some(&api.agent), None)
        .await;
    assert_eq!(
        missing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        missing.json
    );
    let anonymous = api.call(Method::GET, "/search?q=x", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}
