//! The JSON API mounted in the web app at `/api/v1`: bearer tokens for integrations, the
//! session cookie for the pages' reads only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use support::{app, send, sign_in};

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap()
}

#[tokio::test]
async fn integrations_log_in_with_bearer_tokens_past_the_pages_csrf_layer() {
    let (app, creds) = app().await;
    let login = Request::post("/api/v1/auth/login")
        .header(CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"tenant": "nimbus", "email": creds.customer.email, "password": creds.customer.password}).to_string(),
        ))
        .unwrap();
    let reply = send(&app, login).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let token = json_of(&reply.body)["token"].as_str().unwrap().to_string();
    let open = Request::post("/api/v1/tickets")
        .header(CONTENT_TYPE, "application/json")
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(
            json!({"subject": "Via the API", "description": "Hello"}).to_string(),
        ))
        .unwrap();
    let reply = send(&app, open).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let doc = send(
        &app,
        Request::get("/api/v1/openapi.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(json_of(&doc.body)["openapi"], "3.1.0");
    let missing = send(
        &app,
        Request::get("/api/v1/nope").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        json_of(&missing.body)["type"],
        "urn:helpdesk:problem:not_found"
    );
    // The pages still have their own 404 page.
    let page = send(&app, Request::get("/nope").body(Body::empty()).unwrap()).await;
    assert!(page.body.contains("<html"), "{}", page.body);
}

#[tokio::test]
async fn the_session_cookie_reads_but_never_writes() {
    let (app, creds) = app().await;
    let browser = sign_in(&app, "nimbus", &creds.customer).await.1.unwrap();
    let me = send(
        &app,
        Request::get("/api/v1/me")
            .header(COOKIE, &browser.cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(
        json_of(&me.body)["user"]["email"],
        creds.customer.email.as_str()
    );
    // A write with only the cookie (what a cross-site form or fetch would carry) is refused.
    let forged = send(
        &app,
        Request::post("/api/v1/tickets")
            .header(COOKIE, &browser.cookie)
            .header(CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"subject": "Forged", "description": "x"}).to_string(),
            ))
            .unwrap(),
    )
    .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED, "{}", forged.body);
    let chats = send(
        &app,
        Request::post("/api/v1/chats")
            .header(COOKIE, &browser.cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(chats.status, StatusCode::UNAUTHORIZED, "{}", chats.body);
}
