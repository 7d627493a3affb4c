//! Files in the web helpdesk (issue 19), driven over HTTP like a browser: multipart forms
//! on the new ticket, the replies and the internal note (CSRF checked on them as on every
//! form), the thread's thumbnails and links, the downloads' headers, who may fetch what,
//! and refused files coming back on the form with what was typed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::Router;
use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, COOKIE};
use axum::http::{HeaderMap, Request, StatusCode};
use helpdesk_core::Helpdesk;
use helpdesk_core::domain::{Actor, Role};
use helpdesk_core::service::{NewTenant, NewUser};
use helpdesk_examples::web::seed::{DemoCredentials, seed_demo};
use helpdesk_examples::web::{AppState, Backends, WebOptions, router};
use http_body_util::BodyExt;
use tower::ServiceExt;

use support::*;

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0xc9, 0xfe, 0x92, 0xef, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];
const HTML: &[u8] = b"<html><body><script>document.title='pwned'</script></body></html>";
const SVG: &[u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
const BOUNDARY: &str = "----web-test-boundary";
const OTHER_PASSWORD: &str = "correct horse battery";

/// The demo app, its helpdesk, and a second company (`globex`) with an admin and a
/// customer, plus a second customer of the demo company (`zoe@nimbus.test`).
struct World {
    app: Router,
    hd: Helpdesk,
    creds: DemoCredentials,
}

async fn world() -> World {
    let backends = Backends::offline_demo();
    let hd = backends.build().unwrap();
    let creds = seed_demo(&hd, backends.knowledge_base.as_ref())
        .await
        .unwrap();
    let (_, other) = hd
        .register_tenant(NewTenant {
            name: "Globex".into(),
            slug: "globex".into(),
            admin: NewUser::new("admin@globex.test", "Gus", Role::Admin)
                .with_password(OTHER_PASSWORD),
            settings: None,
        })
        .await
        .unwrap();
    hd.add_user(
        &Actor::for_user(&other),
        NewUser::new("gina@globex.test", "Gina", Role::Customer).with_password(OTHER_PASSWORD),
    )
    .await
    .unwrap();
    let admin = admin_actor(&hd, &creds).await;
    hd.add_user(
        &admin,
        NewUser::new("zoe@nimbus.test", "Zoe", Role::Customer).with_password(OTHER_PASSWORD),
    )
    .await
    .unwrap();
    let options = WebOptions {
        mode_notice: backends.mode_notice(),
        ..WebOptions::default()
    };
    let state = AppState::new(hd.clone(), backends.knowledge_base.clone(), options).unwrap();
    World {
        app: router(state),
        hd,
        creds,
    }
}

async fn admin_actor(hd: &Helpdesk, creds: &DemoCredentials) -> Actor {
    let login = hd
        .login(
            &creds.tenant_slug,
            &creds.admin.email,
            &creds.admin.password,
        )
        .await
        .unwrap();
    hd.authenticate(&login.token).await.unwrap()
}

/// Files to attach: (name, bytes).
type Files<'a> = Vec<(&'a str, &'a [u8])>;

/// A part of a multipart form: (name, file name for a file, bytes).
type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file_name, bytes) in parts {
        let disposition = match file_name {
            Some(f) => format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            ),
            None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
        };
        body.extend_from_slice(format!("--{BOUNDARY}\r\n{disposition}").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn post_multipart(app: &Router, path: &str, cookie: &str, parts: &[Part<'_>]) -> Reply {
    let request = Request::post(path)
        .header(COOKIE, cookie)
        .header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(multipart(parts)))
        .unwrap();
    send(app, request).await
}

/// A download: status, headers, bytes.
async fn fetch(app: &Router, path: &str, cookie: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    let request = Request::get(path)
        .header(COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, bytes.to_vec())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_default()
}

/// The files a page links to, as (id, name), in page order.
fn files_on(page: &str) -> Vec<(String, String)> {
    let marker = r#"<a class="file-link" href="/attachments/"#;
    page.match_indices(marker)
        .map(|(at, _)| {
            let rest = &page[at + marker.len()..];
            let id = rest.split('"').next().unwrap().to_string();
            let name = rest.split('>').nth(1).unwrap().split('<').next().unwrap();
            (id, name.to_string())
        })
        .collect()
}

fn id_of(files: &[(String, String)], name: &str) -> String {
    files
        .iter()
        .find(|(_, n)| n == name)
        .unwrap_or_else(|| panic!("no {name} in {files:?}"))
        .0
        .clone()
}

/// The customer opens a ticket with `files`; returns the ticket id.
async fn open_with_files(w: &World, b: &Browser, files: &[(&str, &[u8])]) -> String {
    let mut parts: Vec<Part<'_>> = vec![
        ("csrf", None, b.csrf.as_bytes()),
        ("subject", None, b"Export fails"),
        (
            "description",
            None,
            b"The export stops.\r\nSee the screenshot.",
        ),
        ("priority", None, b""),
    ];
    parts.extend(
        files
            .iter()
            .map(|(n, bytes)| ("attachments", Some(*n), *bytes)),
    );
    let reply = post_multipart(&w.app, "/portal/tickets", &b.cookie, &parts).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let location = reply.location.unwrap();
    let path = location.split('?').next().unwrap();
    path.rsplit('/').next().unwrap().to_string()
}

#[tokio::test]
async fn files_on_a_new_ticket_and_replies_show_in_the_thread() {
    let w = world().await;
    let customer = browser(&w.app, &w.creds, &w.creds.customer).await;
    let agent = browser(&w.app, &w.creds, &w.creds.technical_agent).await;
    let id = open_with_files(
        &w,
        &customer,
        &[("screen.png", PNG), ("notes.txt", b"step 1")],
    )
    .await;
    let path = format!("/portal/tickets/{id}");
    let page = get(&w.app, &path, &customer.cookie).await.body;
    // Line breaks typed in the form arrive as `\n`.
    assert!(
        page.contains("The export stops.\nSee the screenshot."),
        "{page}"
    );
    let files = files_on(&page);
    assert_eq!(files.len(), 2, "{page}");
    let png = id_of(&files, "screen.png");
    // The image is a thumbnail served from the inline route; the text file a link with
    // its size.
    assert!(
        page.contains(&format!(
            r#"<img src="/attachments/{png}/view" alt="screen.png""#
        )),
        "{page}"
    );
    assert!(page.contains("69 bytes"), "{page}");
    assert!(page.contains("6 bytes"), "{page}");
    let notes = id_of(&files, "notes.txt");
    assert!(
        !page.contains(&format!("/attachments/{notes}/view")),
        "{page}"
    );

    // A customer reply with a file, then an agent reply with one.
    let reply = post_multipart(
        &w.app,
        &format!("{path}/reply"),
        &customer.cookie,
        &[
            ("csrf", None, customer.csrf.as_bytes()),
            ("body", None, b"Here is the log."),
            ("attachments", Some("export.log"), b"HTTP 500"),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let answer = post_multipart(
        &w.app,
        &format!("/agent/tickets/{id}/reply"),
        &agent.cookie,
        &[
            ("csrf", None, agent.csrf.as_bytes()),
            ("body", None, b"Fixed, see the attached steps."),
            ("status_after", None, b""),
            ("attachments", Some("steps.txt"), b"1. retry"),
        ],
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let page = get(&w.app, &path, &customer.cookie).await.body;
    let names: Vec<String> = files_on(&page).into_iter().map(|(_, n)| n).collect();
    assert_eq!(
        names,
        ["screen.png", "notes.txt", "export.log", "steps.txt"]
    );
    // The reply's file sits in the reply's message.
    let log_at = page.find("export.log").unwrap();
    let reply_at = page.find("Here is the log.").unwrap();
    let answer_at = page.find("Fixed, see the attached steps.").unwrap();
    assert!(reply_at < log_at && log_at < answer_at, "{page}");
    // The agent's page shows them all too.
    let agent_page = get(&w.app, &format!("/agent/tickets/{id}"), &agent.cookie).await;
    assert_eq!(files_on(&agent_page.body).len(), 4, "{}", agent_page.body);
    // A form without files still works as a urlencoded one.
    let plain = post(
        &w.app,
        &format!("{path}/reply"),
        &customer.cookie,
        &[("csrf", &customer.csrf), ("body", "No file this time.")],
    )
    .await;
    assert_eq!(plain.status, StatusCode::SEE_OTHER, "{}", plain.body);
    // The forms take files.
    assert!(page.contains(r#"enctype="multipart/form-data""#));
    assert!(page.contains(r#"<input type="file" name="attachments" multiple"#));
    assert!(page.contains("Up to 10 files, 10 MB each."), "{page}");
}

#[tokio::test]
async fn a_notes_files_are_for_staff_only() {
    let w = world().await;
    let customer = browser(&w.app, &w.creds, &w.creds.customer).await;
    let agent = browser(&w.app, &w.creds, &w.creds.technical_agent).await;
    let id = open_with_files(&w, &customer, &[]).await;
    let note = post_multipart(
        &w.app,
        &format!("/agent/tickets/{id}/note"),
        &agent.cookie,
        &[
            ("csrf", None, agent.csrf.as_bytes()),
            ("body", None, b"Internal: the customer's account dump."),
            ("attachments", Some("account-dump.txt"), b"secret internals"),
        ],
    )
    .await;
    assert_eq!(note.status, StatusCode::SEE_OTHER, "{}", note.body);
    let agent_page = get(&w.app, &format!("/agent/tickets/{id}"), &agent.cookie)
        .await
        .body;
    let file = id_of(&files_on(&agent_page), "account-dump.txt");
    let (status, _, bytes) = fetch(&w.app, &format!("/attachments/{file}"), &agent.cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, b"secret internals");

    let page = get(&w.app, &format!("/portal/tickets/{id}"), &customer.cookie)
        .await
        .body;
    assert!(!page.contains("account-dump.txt"), "{page}");
    assert!(!page.contains(&file), "{page}");
    // The customer asking for it by id gets the page of an id that does not exist.
    let unknown = helpdesk_core::AttachmentId::new();
    for route in ["", "/view"] {
        let hidden = fetch(
            &w.app,
            &format!("/attachments/{file}{route}"),
            &customer.cookie,
        )
        .await;
        let missing = fetch(
            &w.app,
            &format!("/attachments/{unknown}{route}"),
            &customer.cookie,
        )
        .await;
        assert_eq!(hidden.0, StatusCode::NOT_FOUND);
        assert_eq!((hidden.0, &hidden.2), (missing.0, &missing.2));
    }
    let (status, _, _) = fetch(&w.app, "/attachments/not-an-id", &customer.cookie).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Signed out: to the sign-in page.
    let (status, headers, _) = fetch(&w.app, &format!("/attachments/{file}"), "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(header(&headers, "location").starts_with("/login"));
}

#[tokio::test]
async fn other_customers_and_other_companies_get_404() {
    let w = world().await;
    let customer = browser(&w.app, &w.creds, &w.creds.customer).await;
    let id = open_with_files(&w, &customer, &[("screen.png", PNG)]).await;
    let page = get(&w.app, &format!("/portal/tickets/{id}"), &customer.cookie)
        .await
        .body;
    let file = id_of(&files_on(&page), "screen.png");
    let (status, _, bytes) = fetch(&w.app, &format!("/attachments/{file}"), &customer.cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, PNG);
    let zoe = browser(
        &w.app,
        &w.creds,
        &login_of("zoe@nimbus.test", OTHER_PASSWORD),
    )
    .await;
    let (_, gina) = sign_in(
        &w.app,
        "globex",
        &login_of("gina@globex.test", OTHER_PASSWORD),
    )
    .await;
    let (_, gus) = sign_in(
        &w.app,
        "globex",
        &login_of("admin@globex.test", OTHER_PASSWORD),
    )
    .await;
    let unknown = helpdesk_core::AttachmentId::new();
    for b in [zoe, gina.unwrap(), gus.unwrap()] {
        for route in ["", "/view"] {
            let theirs = fetch(&w.app, &format!("/attachments/{file}{route}"), &b.cookie).await;
            let missing = fetch(&w.app, &format!("/attachments/{unknown}{route}"), &b.cookie).await;
            assert_eq!(theirs.0, StatusCode::NOT_FOUND);
            assert_eq!(theirs.2, missing.2);
        }
    }
    // The files are not even counted: the other company's helpdesk has none.
    assert!(
        w.hd.store()
            .get_attachment(
                w.hd.store()
                    .get_tenant_by_slug("globex")
                    .await
                    .unwrap()
                    .unwrap()
                    .id,
                file.parse().unwrap()
            )
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn downloads_never_render_and_only_raster_images_show_inline() {
    let w = world().await;
    let customer = browser(&w.app, &w.creds, &w.creds.customer).await;
    let id = open_with_files(
        &w,
        &customer,
        &[("screen.png", PNG), ("page.html", HTML), ("logo.svg", SVG)],
    )
    .await;
    let page = get(&w.app, &format!("/portal/tickets/{id}"), &customer.cookie)
        .await
        .body;
    let files = files_on(&page);
    // Only the PNG is a thumbnail.
    assert_eq!(
        page.matches("<img src=\"/attachments/").count(),
        1,
        "{page}"
    );
    let safety = |headers: &HeaderMap| {
        assert_eq!(header(headers, "x-content-type-options"), "nosniff");
        assert_eq!(
            header(headers, "content-security-policy"),
            "default-src 'none'; sandbox"
        );
        assert_eq!(header(headers, "cache-control"), "private, no-store");
    };
    for name in ["page.html", "logo.svg"] {
        let file = id_of(&files, name);
        for route in ["", "/view"] {
            let (status, headers, bytes) = fetch(
                &w.app,
                &format!("/attachments/{file}{route}"),
                &customer.cookie,
            )
            .await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(header(&headers, "content-type"), "application/octet-stream");
            assert_eq!(
                header(&headers, "content-disposition"),
                format!("attachment; filename=\"{name}\"; filename*=UTF-8''{name}")
            );
            safety(&headers);
            assert!(!bytes.is_empty());
        }
    }
    let png = id_of(&files, "screen.png");
    let (_, headers, _) = fetch(&w.app, &format!("/attachments/{png}"), &customer.cookie).await;
    assert_eq!(header(&headers, "content-type"), "image/png");
    assert!(header(&headers, "content-disposition").starts_with("attachment;"));
    safety(&headers);
    let (_, headers, bytes) = fetch(
        &w.app,
        &format!("/attachments/{png}/view"),
        &customer.cookie,
    )
    .await;
    assert_eq!(header(&headers, "content-type"), "image/png");
    assert!(header(&headers, "content-disposition").starts_with("inline;"));
    safety(&headers);
    assert_eq!(bytes, PNG);
}

#[tokio::test]
async fn multipart_forms_need_the_csrf_token_first() {
    let w = world().await;
    let customer = browser(&w.app, &w.creds, &w.creds.customer).await;
    let file: Part<'_> = ("attachments", Some("a.txt"), b"a");
    let forged: Vec<Vec<Part<'_>>> = vec![
        // No token.
        vec![
            ("subject", None, b"Forged"),
            ("description", None, b"x"),
            file,
        ],
        // A wrong token.
        vec![
            ("csrf", None, b"0000"),
            ("subject", None, b"Forged"),
            ("description", None, b"x"),
            file,
        ],
        // The right token, but not first.
        vec![
            ("subject", None, b"Forged"),
            ("csrf", None, customer.csrf.as_bytes()),
            ("description", None, b"x"),
            file,
        ],
    ];
    for parts in forged {
        let reply = post_multipart(&w.app, "/portal/tickets", &customer.cookie, &parts).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    }
    // A body that is no multipart at all, and one without a boundary.
    for content_type in ["multipart/form-data", "multipart/form-data; boundary=x"] {
        let request = Request::post("/portal/tickets")
            .header(COOKIE, &customer.cookie)
            .header(CONTENT_TYPE, content_type)
            .body(Body::from("csrf=whatever"))
            .unwrap();
        assert_eq!(send(&w.app, request).await.status, StatusCode::FORBIDDEN);
    }
    // Nothing was opened.
    let list = get(&w.app, "/portal", &customer.cookie).await.body;
    assert!(!list.contains("Forged"), "{list}");
}

#[tokio::test]
async fn refused_files_come_back_on_the_form_with_the_text_kept() {
    let w = world().await;
    let admin = admin_actor(&w.hd, &w.creds).await;
    let mut settings = w.hd.get_tenant(&admin).await.unwrap().settings;
    settings.attachment_max_bytes = 1000;
    settings.attachments_per_message = 2;
    w.hd.update_settings(&admin, settings).await.unwrap();
    let customer = browser(&w.app, &w.creds, &w.creds.customer).await;
    let big = vec![b'x'; 1001];
    let cases: Vec<(Files<'_>, &str)> = vec![
        (
            vec![("big.bin", &big)],
            "“big.bin” is larger than the limit of 1000 bytes.",
        ),
        (
            vec![("a.txt", b"a"), ("b.txt", b"b"), ("c.txt", b"c")],
            "at most 2 files per message.",
        ),
        (vec![("empty.txt", b"")], "“empty.txt” is empty."),
    ];
    for (files, reason) in cases {
        let mut parts: Vec<Part<'_>> = vec![
            ("csrf", None, customer.csrf.as_bytes()),
            ("subject", None, b"Kept subject"),
            ("description", None, b"Kept description"),
            ("priority", None, b"high"),
        ];
        parts.extend(files.iter().map(|(n, b)| ("attachments", Some(*n), *b)));
        let page = post_multipart(&w.app, "/portal/tickets", &customer.cookie, &parts).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
        let body = page.body.replace("&#8220;", "“").replace("&#8221;", "”");
        assert!(body.contains(reason), "{reason}: {body}");
        assert!(body.contains("choose the files again"), "{body}");
        assert!(body.contains(r#"id="attachments-error""#), "{body}");
        assert!(body.contains(r#"value="Kept subject""#), "{body}");
        assert!(body.contains(">Kept description</textarea>"), "{body}");
        assert!(body.contains(r#"value="high" selected"#), "{body}");
    }
    let list = get(&w.app, "/portal", &customer.cookie).await.body;
    assert!(!list.contains("Kept subject"), "nothing was opened: {list}");

    // The reply forms keep their text the same way.
    let id = open_with_files(&w, &customer, &[("ok.txt", b"fine")]).await;
    let reply = post_multipart(
        &w.app,
        &format!("/portal/tickets/{id}/reply"),
        &customer.cookie,
        &[
            ("csrf", None, customer.csrf.as_bytes()),
            ("body", None, b"My kept reply"),
            ("attachments", Some("big.bin"), &big),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(
        reply.body.contains(">My kept reply</textarea>"),
        "{}",
        reply.body
    );
    assert!(
        reply.body.contains(r#"id="attachments-error""#),
        "{}",
        reply.body
    );
    let agent = browser(&w.app, &w.creds, &w.creds.technical_agent).await;
    let note = post_multipart(
        &w.app,
        &format!("/agent/tickets/{id}/note"),
        &agent.cookie,
        &[
            ("csrf", None, agent.csrf.as_bytes()),
            ("body", None, b"My kept note"),
            ("attachments", Some("a.txt"), b"a"),
            ("attachments", Some("b.txt"), b"b"),
            ("attachments", Some("c.txt"), b"c"),
        ],
    )
    .await;
    assert_eq!(note.status, StatusCode::BAD_REQUEST, "{}", note.body);
    assert!(
        note.body.contains(">My kept note</textarea>"),
        "{}",
        note.body
    );
    assert!(
        note.body.contains("at most 2 files per message."),
        "{}",
        note.body
    );
    assert!(note.body.contains(r#"id="note-error""#), "{}", note.body);
    // Nothing of the refused posts was stored.
    let agent_page = get(&w.app, &format!("/agent/tickets/{id}"), &agent.cookie)
        .await
        .body;
    assert_eq!(files_on(&agent_page).len(), 1, "{agent_page}");
    assert!(!agent_page.contains("My kept reply</div>"));
}
