//! Attachments over the API: multipart uploads on tickets, replies, notes and chat
//! messages; the list and download with the visibility rules; the download's safety
//! headers; the tenant's limits with the route-only body limit; malformed bodies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use helpdesk_api::{ApiConfig, RateLimits};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use common::{TestApi, api, api_with};

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0xc9, 0xfe, 0x92, 0xef, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];
const HTML: &[u8] =
    b"<!doctype html><html><body><script>document.title='pwned'</script></body></html>";
const SVG: &[u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
const BOUNDARY: &str = "----helpdesk-test-boundary";

/// One part of a multipart body: (name, file name, bytes).
type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file_name, bytes) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file_name {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"\r\n\
                     Content-Type: application/json\r\n\r\n"
                )
                .as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// A JSON part and file parts.
fn upload(json: &Value, files: &[(&str, &[u8])]) -> Vec<u8> {
    let json = json.to_string();
    let mut parts: Vec<Part<'_>> = vec![("json", None, json.as_bytes())];
    parts.extend(files.iter().map(|(n, b)| ("attachments", Some(*n), *b)));
    multipart(&parts)
}

async fn post_multipart(api: &TestApi, path: &str, token: &str, body: Vec<u8>) -> common::Reply {
    let request = Request::post(path)
        .header("authorization", format!("Bearer {token}"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body))
        .unwrap();
    api.send(request).await
}

struct Download {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    bytes: Vec<u8>,
}

impl Download {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_default()
    }
}

async fn download(api: &TestApi, id: &str, token: &str) -> Download {
    let request = Request::get(format!("/attachments/{id}"))
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = api.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Download {
        status,
        headers,
        bytes: bytes.to_vec(),
    }
}

async fn list(api: &TestApi, ticket: &str, token: &str) -> Vec<Value> {
    let reply = api
        .call(
            Method::GET,
            &format!("/tickets/{ticket}/attachments"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    reply.json.as_array().unwrap().clone()
}

fn names(files: &[Value]) -> Vec<&str> {
    files
        .iter()
        .map(|f| f["file_name"].as_str().unwrap())
        .collect()
}

fn id_of<'a>(files: &'a [Value], name: &str) -> &'a str {
    files
        .iter()
        .find(|f| f["file_name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {files:?}"))["id"]
        .as_str()
        .unwrap()
}

/// Opens a ticket with `files` as the customer; returns its id.
async fn open_with(api: &TestApi, files: &[(&str, &[u8])]) -> String {
    let body = upload(
        &json!({"subject": "Export fails", "description": "See the screenshot."}),
        files,
    );
    let reply = post_multipart(api, "/tickets", &api.customer, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    reply.json["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn files_come_with_tickets_replies_and_notes_and_customers_never_see_a_notes() {
    let api = api().await;
    let ticket = open_with(
        &api,
        &[("screen.png", PNG), ("../../etc/passwd", b"root:x:0:0")],
    )
    .await;
    let reply = post_multipart(
        &api,
        &format!("/tickets/{ticket}/replies"),
        &api.agent,
        upload(
            &json!({"body": "Here is the fixed export.", "status_after": "pending"}),
            &[("export.csv", b"id,amount\n1,4.99\n")],
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    assert_eq!(reply.json["ticket"]["status"], "pending");
    let reply_id = reply.json["message"]["id"].as_str().unwrap().to_string();
    let note = post_multipart(
        &api,
        &format!("/tickets/{ticket}/notes"),
        &api.agent,
        upload(
            &json!({"body": "Stack trace attached."}),
            &[("trace.txt", b"panic at 42")],
        ),
    )
    .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.json);
    assert_eq!(note.json["kind"], "note");

    // Staff see all four, oldest first, with the sniffed type and the sanitised name.
    let all = list(&api, &ticket, &api.agent).await;
    assert_eq!(
        names(&all),
        ["screen.png", "passwd", "export.csv", "trace.txt"]
    );
    assert_eq!(all[0]["content_type"], "image/png");
    assert_eq!(all[0]["image"], true);
    assert_eq!(all[0]["size"], PNG.len());
    assert_eq!(all[0]["message_id"], Value::Null);
    assert_eq!(all[1]["content_type"], "text/plain");
    assert_eq!(all[1]["image"], false);
    assert_eq!(all[2]["message_id"], reply_id.as_str());
    assert_eq!(all[3]["message_id"], note.json["id"]);
    assert_eq!(all[0]["sha256"].as_str().unwrap().len(), 64);

    // The customer sees the ticket's and the reply's files, not the note's.
    let theirs = list(&api, &ticket, &api.customer).await;
    assert_eq!(names(&theirs), ["screen.png", "passwd", "export.csv"]);
    let csv = download(&api, id_of(&theirs, "export.csv"), &api.customer).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.bytes, b"id,amount\n1,4.99\n");

    // The note's file is a 404 for the customer, exactly like an id that does not exist.
    let note_file = id_of(&all, "trace.txt");
    let hidden = api
        .call(
            Method::GET,
            &format!("/attachments/{note_file}"),
            Some(&api.customer),
            None,
        )
        .await;
    let missing = api
        .call(
            Method::GET,
            &format!("/attachments/{}", helpdesk_core::AttachmentId::new()),
            Some(&api.customer),
            None,
        )
        .await;
    hidden.assert_problem(404, "not_found");
    assert_eq!(hidden.json, missing.json);
    assert_eq!(
        download(&api, note_file, &api.agent).await.bytes,
        b"panic at 42"
    );

    // Another customer of the same tenant sees neither the list nor the files.
    let other = api
        .call(
            Method::GET,
            &format!("/tickets/{ticket}/attachments"),
            Some(&api.customer2),
            None,
        )
        .await;
    other.assert_problem(404, "not_found");
    let png = id_of(&all, "screen.png");
    let theirs = api
        .call(
            Method::GET,
            &format!("/attachments/{png}"),
            Some(&api.customer2),
            None,
        )
        .await;
    theirs.assert_problem(404, "not_found");
    assert_eq!(theirs.json, missing.json);
}

#[tokio::test]
async fn another_tenants_attachments_are_404_exactly_like_missing_ones() {
    let api = api().await;
    let ticket = open_with(&api, &[("screen.png", PNG)]).await;
    let files = list(&api, &ticket, &api.admin).await;
    let id = id_of(&files, "screen.png");
    for token in [&api.other_admin, &api.other_customer] {
        let file = api
            .call(
                Method::GET,
                &format!("/attachments/{id}"),
                Some(token),
                None,
            )
            .await;
        file.assert_problem(404, "not_found");
        let missing = api
            .call(
                Method::GET,
                &format!("/attachments/{}", helpdesk_core::AttachmentId::new()),
                Some(token),
                None,
            )
            .await;
        assert_eq!(file.json, missing.json);
        api.call(
            Method::GET,
            &format!("/tickets/{ticket}/attachments"),
            Some(token),
            None,
        )
        .await
        .assert_problem(404, "not_found");
    }
    // Not an id at all: 404 too; no credentials: 401.
    api.call(
        Method::GET,
        "/attachments/not-an-id",
        Some(&api.admin),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    api.call(Method::GET, &format!("/attachments/{id}"), None, None)
        .await
        .assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn downloads_are_attachments_and_only_raster_images_keep_their_type() {
    let api = api().await;
    let ticket = open_with(
        &api,
        &[
            ("screen.png", PNG),
            ("page.html", HTML),
            ("logo.svg", SVG),
            ("Übersicht – März.txt", b"plain words"),
        ],
    )
    .await;
    let files = list(&api, &ticket, &api.agent).await;
    let png = download(&api, id_of(&files, "screen.png"), &api.agent).await;
    assert_eq!(png.status, StatusCode::OK);
    assert_eq!(png.bytes, PNG);
    assert_eq!(png.header("content-type"), "image/png");
    for name in ["page.html", "logo.svg"] {
        let file = download(&api, id_of(&files, name), &api.customer).await;
        assert_eq!(file.status, StatusCode::OK);
        assert_eq!(
            file.header("content-type"),
            "application/octet-stream",
            "{name}"
        );
        assert_eq!(
            file.header("content-disposition"),
            format!("attachment; filename=\"{name}\"; filename*=UTF-8''{name}")
        );
    }
    let text = download(&api, id_of(&files, "Übersicht – März.txt"), &api.agent).await;
    assert_eq!(
        text.header("content-disposition"),
        "attachment; filename=\"_bersicht _ M_rz.txt\"; \
         filename*=UTF-8''%C3%9Cbersicht%20%E2%80%93%20M%C3%A4rz.txt"
    );
    for file in [&png, &text] {
        assert!(
            file.header("content-disposition")
                .starts_with("attachment;")
        );
        assert_eq!(file.header("x-content-type-options"), "nosniff");
        assert_eq!(
            file.header("content-security-policy"),
            "default-src 'none'; sandbox"
        );
        assert_eq!(file.header("cache-control"), "private, no-store");
    }
}

#[tokio::test]
async fn chat_messages_carry_files_from_the_customer_and_the_agent() {
    let api = api().await;
    let session = api
        .call(Method::POST, "/chats", Some(&api.customer), None)
        .await;
    assert_eq!(session.status, StatusCode::CREATED, "{}", session.json);
    let id = session.json["id"].as_str().unwrap().to_string();
    let turn = post_multipart(
        &api,
        &format!("/chats/{id}/messages"),
        &api.customer,
        upload(
            &json!({"text": "My export shows this error"}),
            &[("error.png", PNG)],
        ),
    )
    .await;
    assert_eq!(turn.status, StatusCode::OK, "{}", turn.json);
    let ticket = turn.json["session"]["ticket_id"]
        .as_str()
        .unwrap()
        .to_string();
    let handoff = api
        .call(
            Method::POST,
            &format!("/chats/{id}/handoff"),
            Some(&api.customer),
            None,
        )
        .await;
    assert!(handoff.status.is_success(), "{}", handoff.json);
    let answer = post_multipart(
        &api,
        &format!("/chats/{id}/agent-messages"),
        &api.agent,
        upload(&json!({"text": "Try this file"}), &[("fix.txt", b"steps")]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.json);
    let files = list(&api, &ticket, &api.customer).await;
    assert_eq!(names(&files), ["error.png", "fix.txt"]);
    assert_eq!(files[0]["message_id"], turn.json["customer_message"]["id"]);
    assert_eq!(files[1]["message_id"], answer.json["id"]);
}

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
async fn the_document_describes_the_multipart_bodies_and_the_download() {
    let doc = serde_json::to_value(helpdesk_api::openapi()).unwrap();
    for (path, method) in [
        ("/tickets", "post"),
        ("/tickets/{id}/replies", "post"),
        ("/tickets/{id}/notes", "post"),
        ("/chats/{id}/messages", "post"),
        ("/chats/{id}/agent-messages", "post"),
    ] {
        let content = &doc["paths"][path][method]["requestBody"]["content"];
        assert!(content["application/json"].is_object(), "{path}");
        let form = &content["multipart/form-data"]["schema"];
        assert!(form.is_object(), "{path}: {content}");
        assert!(
            doc["paths"][path][method]["responses"]["413"].is_object(),
            "{path}"
        );
    }
    let upload = &doc["components"]["schemas"]["ReplyUpload"]["properties"];
    assert_eq!(upload["json"]["$ref"], "#/components/schemas/ReplyRequest");
    assert_eq!(
        upload["attachments"]["items"]["$ref"],
        "#/components/schemas/FilePart"
    );
    let required = &doc["components"]["schemas"]["ReplyUpload"]["required"];
    assert_eq!(required, &json!(["json"]), "files are optional");
    let file = &doc["components"]["schemas"]["FilePart"];
    assert_eq!(file["format"], "binary");
    assert_eq!(file["contentMediaType"], "application/octet-stream");
    let download = &doc["paths"]["/attachments/{id}"]["get"]["responses"]["200"];
    for media in ["application/octet-stream", "image/png", "image/webp"] {
        assert!(download["content"][media].is_object(), "{download}");
    }
    assert!(download["headers"]["Content-Disposition"].is_object());
    assert!(doc["paths"]["/tickets/{id}/attachments"]["get"]["responses"]["200"].is_object());
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
