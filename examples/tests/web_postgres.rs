//! The web app on PostgreSQL: the store `DATABASE_URL=postgres://...` selects (here a
//! database of the test's own on the `HELPDESK_POSTGRES_URL` server), the demo company
//! seeded into it, a ticket opened through the customer portal and one through the JSON
//! API, both read back from the database's own tables. Without `HELPDESK_POSTGRES_URL` the
//! test is reported as not run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{Request, StatusCode};
use helpdesk_examples::web::seed::seed_demo;
use helpdesk_examples::web::{AppState, Backends, StoreChoice, WebOptions, router};
use serde_json::{Value, json};
use sqlx::Connection;

use support::{browser, get, open_ticket, send};

/// `server` (a `postgres://` URL of any database on the server) with its database replaced
/// by `name`, query parameters kept.
fn url_of_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (server, String::new()),
    };
    let (scheme, rest) = base.split_once("://").unwrap();
    let authority = rest.split('/').next().unwrap();
    format!("{scheme}://{authority}/{name}{query}")
}

#[test]
fn the_database_of_a_url_is_replaced() {
    for (server, expected) in [
        ("postgres://u@h:1/postgres", "postgres://u@h:1/hd"),
        ("postgres://u@h:1", "postgres://u@h:1/hd"),
        (
            "postgresql://u@h/db?sslmode=disable",
            "postgresql://u@h/hd?sslmode=disable",
        ),
    ] {
        assert_eq!(url_of_database(server, "hd"), expected);
    }
}

#[cfg_attr(
    not(postgres_url_set),
    ignore = "NOT RUN: the PostgreSQL variant needs HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_app_opens_tickets_on_postgres() {
    let Ok(server) = std::env::var("HELPDESK_POSTGRES_URL") else {
        panic!("HELPDESK_POSTGRES_URL was set at build time but is not set now");
    };
    let name = format!("hdweb_{}", unique_suffix());
    let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .unwrap();
    let url = url_of_database(&server, &name);

    // What `helpdesk-web` does with DATABASE_URL set (and MONGODB_URI unset).
    let choice = StoreChoice::from_values(None, Some(url.clone())).unwrap();
    assert_eq!(choice, StoreChoice::Postgres { url: url.clone() });
    let mut backends = Backends::offline_demo();
    backends.store = choice.open(&std::env::temp_dir()).await.unwrap();
    backends.demo_store = false;
    assert_eq!(backends.store.backend_name(), "postgres");
    let helpdesk = backends.build().unwrap();
    let creds = seed_demo(&helpdesk, backends.knowledge_base.as_ref())
        .await
        .unwrap();
    let options = WebOptions {
        mode_notice: backends.mode_notice(),
        ..WebOptions::default()
    };
    let app = router(AppState::new(helpdesk, backends.knowledge_base.clone(), options).unwrap());

    // Through the portal.
    let b = browser(&app, &creds, &creds.customer).await;
    let path = open_ticket(&app, &b, "Printer on fire", "Smoke since noon.").await;
    let page = get(&app, &path, &b.cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Smoke since noon."), "{}", page.body);
    assert!(
        get(&app, "/portal", &b.cookie)
            .await
            .body
            .contains("Printer on fire")
    );

    // Through the JSON API.
    let login = Request::post("/api/v1/auth/login")
        .header(CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"tenant": creds.tenant_slug, "email": creds.customer.email, "password": creds.customer.password}).to_string(),
        ))
        .unwrap();
    let reply = send(&app, login).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let token: Value = serde_json::from_str(&reply.body).unwrap();
    let open = Request::post("/api/v1/tickets")
        .header(CONTENT_TYPE, "application/json")
        .header(
            AUTHORIZATION,
            format!("Bearer {}", token["token"].as_str().unwrap()),
        )
        .body(Body::from(
            json!({"subject": "Via the API", "description": "Hello"}).to_string(),
        ))
        .unwrap();
    let reply = send(&app, open).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);

    // Both are rows of the database's helpdesk schema, not of some other store.
    let mut db = sqlx::PgConnection::connect(&url).await.unwrap();
    let subjects: Vec<String> = sqlx::query_scalar(
        "SELECT subject FROM helpdesk.tickets WHERE subject IN ('Printer on fire', 'Via the API') \
         ORDER BY subject",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert_eq!(subjects, ["Printer on fire", "Via the API"]);
    db.close().await.unwrap();

    drop(app);
    sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
}

/// A database name suffix no other run uses (time and process).
fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{nanos}_{}", std::process::id())
}
