//! The HTTP layer's live event stream across two app instances on one PostgreSQL database:
//! a ticket opened through one instance's API reaches a stream open on the other at once,
//! carried by `LISTEN`/`NOTIFY` (the streams' poll interval is an hour, so polling cannot
//! be what delivers it). Needs HELPDESK_POSTGRES_URL, like the other PostgreSQL variants.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod pg;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use futures_util::StreamExt;
use helpdesk_api::{ApiConfig, RateLimits};
use helpdesk_core::domain::Role;
use helpdesk_core::service::{NewTenant, NewUser};
use helpdesk_core::{Helpdesk, Store};
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery staple";

fn instance(store: helpdesk_store_postgres::PostgresStore) -> (Helpdesk, axum::Router) {
    let store: Arc<dyn Store> = Arc::new(store);
    let hd = Helpdesk::builder(store).build().unwrap();
    let config = ApiConfig::default()
        .rate_limits(RateLimits::unlimited())
        .event_poll_interval(Duration::from_secs(3600));
    let router = helpdesk_api::router(hd.clone(), config);
    (hd, router)
}

async fn call(
    router: &axum::Router,
    method: Method,
    uri: &str,
    token: &str,
    body: &str,
) -> (StatusCode, String) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg_attr(
    not(postgres_url_set),
    ignore = "NOT RUN: the PostgreSQL variant needs HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_opened_on_one_instance_streams_live_from_the_other() {
    let db = pg::Database::create().await;
    let (store_a, store_b) = (db.store().await, db.store().await);
    let keep = store_a.clone();
    let (hd_a, router_a) = instance(store_a);
    let (hd_b, router_b) = instance(store_b);
    let (_, admin) = hd_a
        .register_tenant(NewTenant {
            name: "Acme".into(),
            slug: "acme".into(),
            admin: NewUser::new("admin@acme.test", "Ada", Role::Admin).with_password(PASSWORD),
            settings: None,
        })
        .await
        .unwrap();
    hd_a.add_user(
        &helpdesk_core::domain::Actor::for_user(&admin),
        NewUser::new("carl@customer.test", "Carl", Role::Customer).with_password(PASSWORD),
    )
    .await
    .unwrap();
    // The agent's session is made on B, the customer's on A: one store, either instance.
    let agent = hd_b
        .login("acme", "admin@acme.test", PASSWORD)
        .await
        .unwrap()
        .token;
    let customer = hd_a
        .login("acme", "carl@customer.test", PASSWORD)
        .await
        .unwrap()
        .token;

    let request = Request::builder()
        .uri("/events")
        .header("authorization", format!("Bearer {agent}"))
        .body(Body::empty())
        .unwrap();
    let response = router_b.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body().into_data_stream();
    // The opening comment: the stream is listening.
    let opening = body.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&opening).contains("connected"));

    let (status, created) = call(
        &router_a,
        Method::POST,
        "/tickets",
        &customer,
        r#"{"subject": "Printer on fire", "description": "It is smoking."}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");

    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !seen.contains("event: created") {
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .unwrap_or_else(|_| panic!("no event on B within 10 s; got {seen:?}"))
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("Printer on fire"), "{seen}");
    assert_eq!(hd_b.relays_commits(), Some(true));
    drop(body);
    db.drop_with(keep).await;
}
