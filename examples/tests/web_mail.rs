//! The admin's mail page: the e-mail settings form and the quarantine (list, download of
//! the raw message, take in, discard), with its role checks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::Router;
use axum::http::StatusCode;
use helpdesk_core::Helpdesk;
use helpdesk_examples::web::seed::{DEMO_TENANT, DemoCredentials, seed_demo};
use helpdesk_examples::web::{AppState, Backends, WebOptions, router};
use helpdesk_mail::{IngestOutcome, MailIngest};
use support::*;

async fn app_and_desk() -> (Router, DemoCredentials, Helpdesk) {
    let backends = Backends::offline_demo();
    let helpdesk = backends.build().unwrap();
    let creds = seed_demo(&helpdesk, backends.knowledge_base.as_ref())
        .await
        .unwrap();
    let state = AppState::new(
        helpdesk.clone(),
        backends.knowledge_base.clone(),
        WebOptions::default(),
    )
    .unwrap();
    (router(state), creds, helpdesk)
}

/// Puts `raw` through the mail door of the demo tenant.
async fn deliver(helpdesk: &Helpdesk, raw: &[u8]) -> IngestOutcome {
    let tenant = helpdesk
        .store()
        .get_tenant_by_slug(DEMO_TENANT)
        .await
        .unwrap()
        .unwrap();
    MailIngest::new(helpdesk.clone())
        .ingest(tenant.id, raw.to_vec(), "pipe")
        .await
        .unwrap()
}

const AUTO_REPLY: &[u8] = b"From: Dana <dana@example.org>\r\nTo: support@nimbusnotes.example\r\n\
    Subject: Out of office\r\nMessage-ID: <ooo@example.org>\r\nAuto-Submitted: auto-replied\r\n\r\n\
    I am away until Monday. <script>alert(1)</script>\r\n";

#[tokio::test]
async fn an_admin_sees_held_mail_downloads_it_safely_and_takes_it_in() {
    let (app, creds, helpdesk) = app_and_desk().await;
    let IngestOutcome::Quarantined { id, .. } = deliver(&helpdesk, AUTO_REPLY).await else {
        panic!("an auto-reply is held");
    };
    let admin = browser(&app, &creds, &creds.admin).await;
    let page = get(&app, "/admin/mail", &admin.cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Out of office") && page.body.contains("ignored"),
        "{}",
        page.body
    );
    assert!(
        page.body.to_lowercase().contains("auto-submitted"),
        "the reason's detail is shown"
    );

    let raw = get(&app, &format!("/admin/mail/{id}/raw"), &admin.cookie).await;
    assert_eq!(raw.status, StatusCode::OK);
    assert_eq!(
        raw.body.as_bytes(),
        AUTO_REPLY,
        "byte for byte as it arrived"
    );
    let header = |name: &str| raw.headers.get(name).unwrap().to_str().unwrap().to_string();
    assert!(header("content-disposition").starts_with("attachment;"));
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("content-type"), "message/rfc822");

    let taken = post(
        &app,
        &format!("/admin/mail/{id}/reingest"),
        &admin.cookie,
        &[("csrf", &admin.csrf)],
    )
    .await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.body);
    let ticket = taken.location.unwrap();
    assert!(ticket.starts_with("/agent/tickets/"), "{ticket}");
    let thread = get(&app, &ticket, &admin.cookie).await.body;
    assert!(thread.contains("I am away until Monday."), "{thread}");
    assert!(
        !thread.contains("<script>alert(1)"),
        "the mail's markup stays text"
    );
    let page = get(&app, "/admin/mail", &admin.cookie).await.body;
    assert!(page.contains("taken in"), "{page}");
}

#[tokio::test]
async fn agents_and_customers_never_see_the_quarantine() {
    let (app, creds, helpdesk) = app_and_desk().await;
    let IngestOutcome::Quarantined { id, .. } = deliver(&helpdesk, AUTO_REPLY).await else {
        panic!("an auto-reply is held");
    };
    for login in [&creds.billing_agent, &creds.customer] {
        let someone = browser(&app, &creds, login).await;
        for path in ["/admin/mail".to_string(), format!("/admin/mail/{id}/raw")] {
            let reply = get(&app, &path, &someone.cookie).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
        }
        let discard = post(
            &app,
            &format!("/admin/mail/{id}/discard"),
            &someone.cookie,
            &[("csrf", &someone.csrf)],
        )
        .await;
        assert_eq!(discard.status, StatusCode::FORBIDDEN);
    }
    let admin = browser(&app, &creds, &creds.admin).await;
    let discarded = post(
        &app,
        &format!("/admin/mail/{id}/discard"),
        &admin.cookie,
        &[("csrf", &admin.csrf)],
    )
    .await;
    assert_eq!(
        discarded.location.as_deref(),
        Some("/admin/mail?done=mail-discarded")
    );
    let page = get(&app, "/admin/mail?done=mail-discarded", &admin.cookie)
        .await
        .body;
    assert!(page.contains("The e-mail was discarded.") && page.contains("discarded"));
}

#[tokio::test]
async fn the_mail_settings_save_and_a_bad_address_is_refused_at_its_field() {
    let (app, creds, helpdesk) = app_and_desk().await;
    let admin = browser(&app, &creds, &creds.admin).await;
    let form = |address: &'static str, per_hour: &'static str| {
        vec![
            ("address", address),
            ("display_name", "Nimbus Help"),
            ("signature", "The Nimbus team"),
            ("per_hour", per_hour),
            ("max_mb", "10"),
        ]
    };
    let mut fields = form("help@nimbusnotes.example", "5");
    fields.push(("csrf", &admin.csrf));
    let saved = post(&app, "/admin/mail", &admin.cookie, &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let tenant = helpdesk
        .store()
        .get_tenant_by_slug(DEMO_TENANT)
        .await
        .unwrap()
        .unwrap();
    let email = &tenant.settings.email;
    assert_eq!(email.address.as_deref(), Some("help@nimbusnotes.example"));
    assert_eq!(email.max_new_tickets_per_sender_per_hour, 5);
    assert_eq!(email.max_message_bytes, 10 * 1024 * 1024);
    assert!(
        !email.acknowledge_new_tickets,
        "the unticked box turns it off"
    );

    for (address, per_hour) in [
        ("not an address", "5"),
        ("help@nimbusnotes.example", "many"),
    ] {
        let mut fields = form(address, per_hour);
        fields.push(("csrf", &admin.csrf));
        let refused = post(&app, "/admin/mail", &admin.cookie, &fields).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{address} {per_hour}"
        );
        assert!(
            refused.body.contains(r#"aria-invalid="true""#),
            "{}",
            refused.body
        );
        assert!(
            refused.body.contains(&format!(r#"value="{address}""#)),
            "typed text kept"
        );
    }
    let agent = browser(&app, &creds, &creds.billing_agent).await;
    let mut fields = form("x@example.com", "5");
    fields.push(("csrf", &agent.csrf));
    let forbidden = post(&app, "/admin/mail", &agent.cookie, &fields).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
}
