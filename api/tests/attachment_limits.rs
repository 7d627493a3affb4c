//! Attachment limits over the API: the tenant's limits on size and count as problems
//! naming the part, the body limit lifted on upload routes only, malformed multipart
//! bodies, a helpdesk without a blob store, and the intake limit checked before a body is
//! read.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use helpdesk_api::{ApiConfig, RateLimits};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use common::uploads::*;
use common::{TestApi, api, api_with};

/// The demo tenant's limits made small: 1,000 bytes a file, two files a message.
async fn small_limits(api: &TestApi) {
    let tenant = api.hd.get_tenant(&api.admin_actor).await.unwrap();
    let mut settings = tenant.settings;
    settings.attachment_max_bytes = 1000;
    settings.attachments_per_message = 2;
    api.hd
        .update_settings(&api.admin_actor, settings)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_tenants_limits_are_problems_naming_the_part() {
    let api = api().await;
    small_limits(&api).await;
    let open = |files: Vec<(&'static str, Vec<u8>)>| {
        let api = &api;
        async move {
            let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
            let body = upload(
                &json!({"subject": "Limits", "description": "Files."}),
                &files,
            );
            post_multipart(api, "/tickets", &api.customer, body).await
        }
    };
    let too_large = open(vec![
        ("ok.txt", vec![b'a'; 1000]),
        ("big.txt", vec![b'a'; 1001]),
    ])
    .await;
    too_large.assert_problem(413, "too_large");
    assert_eq!(too_large.json["field"], "attachments[1]");
    let too_many = open(vec![
        ("a.txt", b"a".to_vec()),
        ("b.txt", b"b".to_vec()),
        ("c.txt", b"c".to_vec()),
    ])
    .await;
    too_many.assert_problem(422, "validation");
    assert_eq!(too_many.json["field"], "attachments");
    let empty = open(vec![("empty.txt", Vec::new())]).await;
    empty.assert_problem(422, "validation");
    assert_eq!(empty.json["field"], "attachments[0]");
    // Nothing was opened by the refused requests.
    let tickets = api
        .call(Method::GET, "/tickets", Some(&api.customer), None)
        .await;
    assert_eq!(tickets.json["items"].as_array().unwrap().len(), 0);
    // Within the limits it works.
    let fine = open(vec![("a.txt", vec![b'a'; 1000]), ("b.txt", b"b".to_vec())]).await;
    assert_eq!(fine.status, StatusCode::CREATED, "{}", fine.json);
}

#[tokio::test]
async fn only_upload_routes_take_bodies_past_the_api_limit() {
    let config = ApiConfig::default()
        .rate_limits(RateLimits::unlimited())
        .body_limit(4096);
    let api = api_with(config).await;
    // A 50 kB file passes the 4 kB API limit on an upload route (the tenant allows 10 MiB).
    let big = vec![b'x'; 50_000];
    let ticket = open_with(&api, &[("big.txt", &big)]).await;
    let files = list(&api, &ticket, &api.customer).await;
    assert_eq!(files[0]["size"], 50_000);
    // The JSON part and a JSON body keep the API limit, on upload routes too.
    let long = "x".repeat(5000);
    let json_part = post_multipart(
        &api,
        &format!("/tickets/{ticket}/replies"),
        &api.customer,
        upload(&json!({"body": long}), &[]),
    )
    .await;
    json_part.assert_problem(413, "too_large");
    assert_eq!(json_part.json["field"], "json");
    api.call(
        Method::POST,
        &format!("/tickets/{ticket}/replies"),
        Some(&api.customer),
        Some(json!({"body": long})),
    )
    .await
    .assert_problem(413, "too_large");
    // Other routes keep it.
    api.call(
        Method::PATCH,
        &format!("/tickets/{ticket}"),
        Some(&api.agent),
        Some(json!({"tags": ["x".repeat(50_000)]})),
    )
    .await
    .assert_problem(413, "too_large");
}

#[tokio::test]
async fn malformed_upload_bodies_are_problems() {
    let api = api().await;
    let ticket = open_with(&api, &[]).await;
    let path = format!("/tickets/{ticket}/notes");
    // No `json` part.
    let missing = post_multipart(
        &api,
        &path,
        &api.agent,
        multipart(&[("attachments", Some("a.txt"), b"a")]),
    )
    .await;
    missing.assert_problem(422, "validation");
    assert_eq!(missing.json["field"], "json");
    // A part the API does not know.
    let unknown = post_multipart(
        &api,
        &path,
        &api.agent,
        multipart(&[
            ("json", None, br#"{"body":"x"}"#),
            ("file", Some("a.txt"), b"a"),
        ]),
    )
    .await;
    unknown.assert_problem(422, "validation");
    assert_eq!(unknown.json["field"], "file");
    // Two `json` parts.
    let twice = post_multipart(
        &api,
        &path,
        &api.agent,
        multipart(&[
            ("json", None, br#"{"body":"x"}"#),
            ("json", None, br#"{"body":"y"}"#),
        ]),
    )
    .await;
    assert_eq!(twice.json["field"], "json", "{}", twice.json);
    // A `json` part that is not the request's shape names the field inside it.
    let shape = post_multipart(
        &api,
        &path,
        &api.agent,
        multipart(&[("json", None, br#"{"body":7}"#)]),
    )
    .await;
    shape.assert_problem(422, "validation");
    assert_eq!(shape.json["field"], "body");
    // Not JSON at all, and a broken multipart body.
    post_multipart(
        &api,
        &path,
        &api.agent,
        multipart(&[("json", None, b"{oops")]),
    )
    .await
    .assert_problem(400, "bad_request");
    post_multipart(&api, &path, &api.agent, b"--nope\r\n\r\n".to_vec())
        .await
        .assert_problem(400, "bad_request");
    // Another media type.
    let request = Request::post(&path)
        .header("authorization", format!("Bearer {}", api.agent))
        .header("content-type", "text/plain")
        .body(Body::from("a note"))
        .unwrap();
    api.send(request)
        .await
        .assert_problem(415, "unsupported_media_type");
    // A customer's multipart note is still refused by role, and nothing was stored.
    post_multipart(
        &api,
        &path,
        &api.customer,
        upload(&json!({"body": "sneaky"}), &[("a.txt", b"a")]),
    )
    .await
    .assert_problem(403, "forbidden");
    assert!(list(&api, &ticket, &api.agent).await.is_empty());
}

#[tokio::test]
async fn a_helpdesk_without_a_blob_store_refuses_files_and_takes_the_rest() {
    use std::sync::Arc;

    use helpdesk_core::domain::Role;
    use helpdesk_core::service::{NewTenant, NewUser};
    use helpdesk_core::{Helpdesk, Store};

    let store: Arc<dyn Store> = Arc::new(
        helpdesk_store_sqlite::SqliteStore::in_memory()
            .await
            .unwrap(),
    );
    let hd = Helpdesk::builder(store).build().unwrap();
    hd.register_tenant(NewTenant {
        name: "Acme".into(),
        slug: "acme".into(),
        admin: NewUser::new("admin@acme.test", "Ada", Role::Admin).with_password(common::PASSWORD),
        settings: None,
    })
    .await
    .unwrap();
    let token = hd
        .login("acme", "admin@acme.test", common::PASSWORD)
        .await
        .unwrap()
        .token;
    let router: axum::Router = helpdesk_api::router(
        hd,
        ApiConfig::default().rate_limits(RateLimits::unlimited()),
    );
    let send = |body: Vec<u8>| {
        let request = Request::post("/tickets")
            .header("authorization", format!("Bearer {token}"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(body))
            .unwrap();
        router.clone().oneshot(request)
    };
    let ticket = json!({"subject": "No files here", "description": "Text only."});
    let refused = send(upload(&ticket, &[("a.txt", b"a")])).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value =
        serde_json::from_slice(&refused.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(problem["field"], "attachments", "{problem}");
    // The same request without files is fine, multipart or not.
    let fine = send(upload(&ticket, &[])).await.unwrap();
    assert_eq!(fine.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn the_intake_limit_refuses_an_upload_before_reading_it() {
    use std::time::Duration;

    use helpdesk_api::{Limit, Tier};

    let limits = RateLimits {
        intake_per_caller: Limit(vec![Tier::new(1, Duration::from_secs(3600))]),
        ..RateLimits::unlimited()
    };
    let api = api_with(ApiConfig::default().rate_limits(limits)).await;
    open_with(&api, &[("a.txt", b"a")]).await;
    // The second one is refused whatever its body: a malformed one would be a 400 if it
    // were read at all.
    let refused = post_multipart(&api, "/tickets", &api.customer, b"--nope".to_vec()).await;
    refused.assert_problem(429, "rate_limited");
    assert!(refused.header("retry-after").is_some());
    let files = upload(
        &json!({"subject": "Again", "description": "x"}),
        &[("b.txt", b"b")],
    );
    post_multipart(&api, "/tickets", &api.customer, files)
        .await
        .assert_problem(429, "rate_limited");
}
