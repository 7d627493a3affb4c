//! The API mounted under a prefix in a host app, over real TCP: every link stays under the
//! prefix, the host's own routes keep working, and the docs are served from the crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use helpdesk_api::{ApiConfig, RateLimits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use common::PASSWORD;

struct Raw {
    status: u16,
    head: String,
    body: String,
}

impl Raw {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_string())
        })
    }
}

async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Raw {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n");
    if let Some(token) = token {
        request.push_str(&format!("authorization: Bearer {token}\r\n"));
    }
    if let Some(body) = body {
        request.push_str(&format!(
            "content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        ));
    } else {
        request.push_str("\r\n");
    }
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Raw {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

#[tokio::test]
async fn mounted_under_a_prefix_every_link_stays_under_it() {
    let api = common::api().await;
    let app = Router::new()
        .route("/", get(|| async { "the host's own page" }))
        .nest(
            "/support",
            helpdesk_api::router(
                api.hd.clone(),
                ApiConfig::default().rate_limits(RateLimits::unlimited()),
            ),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });

    let host = http(addr, "GET", "/", None, None).await;
    assert_eq!(host.status, 200);
    assert!(host.body.contains("the host's own page"));

    let login = http(
        addr,
        "POST",
        "/support/auth/login",
        None,
        Some(&format!(
            r#"{{"tenant":"acme","email":"customer@acme.test","password":"{PASSWORD}"}}"#
        )),
    )
    .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let token: serde_json::Value = serde_json::from_str(login.body.trim()).unwrap();
    let token = token["token"].as_str().unwrap().to_string();
    let created = http(
        addr,
        "POST",
        "/support/tickets",
        Some(&token),
        Some(r#"{"subject":"Mounted","description":"Under a prefix"}"#),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let location = created.header("location").unwrap();
    assert!(location.starts_with("/support/tickets/"), "{location}");
    let fetched = http(addr, "GET", &location, Some(&token), None).await;
    assert_eq!(fetched.status, 200, "{}", fetched.body);

    let doc = http(addr, "GET", "/support/openapi.json", None, None).await;
    assert_eq!(doc.status, 200);
    let doc: serde_json::Value = serde_json::from_str(doc.body.trim()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");

    let redirect = http(addr, "GET", "/support/docs", None, None).await;
    assert_eq!(redirect.status, 301);
    assert_eq!(
        redirect.header("location").as_deref(),
        Some("docs/"),
        "relative, so the prefix is kept"
    );
    let page = http(addr, "GET", "/support/docs/", None, None).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("swagger-ui"),
        "the page is served from the crate"
    );
    assert!(!page.body.contains("cdn."), "no CDN");
    let init = http(
        addr,
        "GET",
        "/support/docs/swagger-initializer.js",
        None,
        None,
    )
    .await;
    assert_eq!(init.status, 200);
    assert!(init.body.contains("../openapi.json"), "{}", init.body);
    let missing = http(addr, "GET", "/support/docs/nope.js", None, None).await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn the_document_describes_every_route_with_problem_errors() {
    let doc = serde_json::to_value(helpdesk_api::openapi()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for expected in [
        "/auth/login",
        "/tickets",
        "/tickets/{id}",
        "/tickets/{id}/transitions",
        "/tickets/{id}/drafts/{draft_id}/decision",
        "/chats/{id}/messages",
        "/articles/search",
        "/users/{id}/password",
        "/audit",
        "/analytics",
    ] {
        assert!(paths.contains_key(expected), "missing {expected}");
    }
    assert!(paths.len() >= 28, "{}", paths.len());
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path}");
            let anonymous = operation["security"] == serde_json::json!([{}]);
            if !anonymous {
                assert!(
                    responses.contains_key("401"),
                    "{method} {path} documents 401"
                );
            }
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]
                            .get("application/problem+json")
                            .is_some(),
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}
