//! Chat sessions and the agent's AI copilot over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::{Method, StatusCode};
use serde_json::json;

use common::api;

#[tokio::test]
async fn a_chat_goes_from_the_bot_to_a_human_and_back() {
    let api = api().await;
    let started = api
        .call(Method::POST, "/chats", Some(&api.customer), None)
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.json);
    assert_eq!(started.json["state"], "bot");
    let id = started.json["id"].as_str().unwrap();

    let turn = api
        .call(
            Method::POST,
            &format!("/chats/{id}/messages"),
            Some(&api.customer),
            Some(json!({"text": "My invoice shows the wrong VAT number"})),
        )
        .await;
    assert_eq!(turn.status, StatusCode::OK, "{}", turn.json);
    assert_eq!(
        turn.json["customer_message"]["body"],
        "My invoice shows the wrong VAT number"
    );
    let ticket_id = turn.json["session"]["ticket_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        ["answered", "handed_off", "greeted"].contains(&turn.json["reply"].as_str().unwrap()),
        "{}",
        turn.json
    );

    if turn.json["session"]["state"] == "bot" {
        let human = api
            .call(
                Method::POST,
                &format!("/chats/{id}/handoff"),
                Some(&api.customer),
                None,
            )
            .await;
        assert_eq!(human.status, StatusCode::OK, "{}", human.json);
    }
    let with_agent = api
        .call(Method::GET, &format!("/chats/{id}"), Some(&api.agent), None)
        .await;
    assert_eq!(with_agent.json["state"], "human");
    let answer = api
        .call(
            Method::POST,
            &format!("/chats/{id}/agent-messages"),
            Some(&api.agent),
            Some(json!({"text": "Fixed it."})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.json);
    let thread = api
        .call(
            Method::GET,
            &format!("/tickets/{ticket_id}"),
            Some(&api.customer),
            None,
        )
        .await;
    assert!(thread.json["messages"].to_string().contains("Fixed it."));

    let back = api
        .call(
            Method::POST,
            &format!("/chats/{id}/hand-back"),
            Some(&api.agent),
            None,
        )
        .await;
    assert_eq!(back.json["state"], "bot", "{}", back.json);
    api.call(
        Method::POST,
        &format!("/chats/{id}/hand-back"),
        Some(&api.agent),
        None,
    )
    .await
    .assert_problem(409, "conflict");

    let listed = api
        .call(Method::GET, "/chats", Some(&api.customer), None)
        .await;
    assert_eq!(listed.json.as_array().unwrap().len(), 1);
    // Another customer and another tenant see nothing of it.
    api.call(
        Method::GET,
        &format!("/chats/{id}"),
        Some(&api.customer2),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    api.call(
        Method::POST,
        &format!("/chats/{id}/messages"),
        Some(&api.other_customer),
        Some(json!({"text": "hi"})),
    )
    .await
    .assert_problem(404, "not_found");
    let empty = api
        .call(
            Method::POST,
            &format!("/chats/{id}/messages"),
            Some(&api.customer),
            Some(json!({"text": ""})),
        )
        .await;
    empty.assert_problem(422, "validation");
}

#[tokio::test]
async fn drafts_are_suggested_edited_and_sent_and_decided_once() {
    let api = api().await;
    let article = api
        .call(Method::POST, "/articles", Some(&api.admin),
            Some(json!({"title": "Changing the VAT number", "body": "Open Billing, then Company details, and edit the VAT number. Invoices after the change show it."})))
        .await;
    assert_eq!(article.status, StatusCode::CREATED, "{}", article.json);
    api.hd.index_settled().await;
    let (id, _) = api
        .open_ticket(&api.customer, "How do I change the VAT number on invoices?")
        .await;
    let draft = api
        .call(
            Method::POST,
            &format!("/tickets/{id}/drafts"),
            Some(&api.agent),
            None,
        )
        .await;
    assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.json);
    assert_eq!(draft.json["kind"], "draft");
    assert_eq!(draft.json["draft"]["state"], "proposed");
    let draft_id = draft.json["id"].as_str().unwrap();
    // The customer never sees a pending draft.
    let seen = api
        .call(
            Method::GET,
            &format!("/tickets/{id}"),
            Some(&api.customer),
            None,
        )
        .await;
    assert!(!seen.json["messages"].to_string().contains(draft_id));
    api.call(
        Method::POST,
        &format!("/tickets/{id}/drafts"),
        Some(&api.customer),
        None,
    )
    .await
    .assert_problem(403, "forbidden");

    let path = format!("/tickets/{id}/drafts/{draft_id}/decision");
    api.call(
        Method::POST,
        &path,
        Some(&api.agent),
        Some(json!({"action": "send_edited"})),
    )
    .await
    .assert_problem(422, "validation");
    let sent = api
        .call(
            Method::POST,
            &path,
            Some(&api.agent),
            Some(
                json!({"action": "send_edited", "body": "Billing > Company details > VAT number."}),
            ),
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.json);
    assert_eq!(
        sent.json["reply"]["body"],
        "Billing > Company details > VAT number."
    );
    assert_eq!(sent.json["draft"]["draft"]["state"], "edited");
    let twice = api
        .call(
            Method::POST,
            &path,
            Some(&api.agent),
            Some(json!({"action": "discard"})),
        )
        .await;
    twice.assert_problem(409, "conflict");
    assert_eq!(twice.json["code"], "draft_decided");

    let summary = api
        .call(
            Method::POST,
            &format!("/tickets/{id}/summary"),
            Some(&api.agent),
            None,
        )
        .await;
    assert_eq!(summary.status, StatusCode::OK, "{}", summary.json);
    assert_eq!(summary.json["source"], "extractive");
    let related = api
        .call(
            Method::GET,
            &format!("/tickets/{id}/related-articles?k=3"),
            Some(&api.agent),
            None,
        )
        .await;
    assert_eq!(
        related.json[0]["title"], "Changing the VAT number",
        "{}",
        related.json
    );
    api.call(
        Method::GET,
        &format!("/tickets/{id}/related-articles?k=99"),
        Some(&api.agent),
        None,
    )
    .await
    .assert_problem(422, "validation");
}
