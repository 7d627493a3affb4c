//! Two instances of the web app on one store, as behind a load balancer: what one hands a
//! browser (a form's CSRF token, the idle stamp of a session, a sign-up link) is checked
//! by the other exactly as by itself, because both sign with the same secret and neither
//! remembers anything of its own. With another secret, the other instance refuses it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use helpdesk_examples::web::seed::{DemoCredentials, seed_demo};
use helpdesk_examples::web::{
    AppState, Backends, Limit, SESSION_COOKIE, Tier, WebOptions, WebSecret, router,
};
use support::*;

/// Instances over one helpdesk (one store): one per secret byte in `secrets`.
async fn instances(
    secrets: &[u8],
    adjust: impl Fn(&mut WebOptions),
) -> (Vec<Router>, DemoCredentials, Arc<Outbox>) {
    let backends = Backends::offline_demo();
    let helpdesk = backends.build().unwrap();
    let creds = seed_demo(&helpdesk, backends.knowledge_base.as_ref())
        .await
        .unwrap();
    let outbox = Arc::new(Outbox::default());
    let apps = secrets
        .iter()
        .map(|byte| {
            let mut options = WebOptions {
                mode_notice: backends.mode_notice(),
                secret: Some(WebSecret::new(&[*byte; 32]).unwrap()),
                mailer: Some(outbox.clone()),
                ..WebOptions::default()
            };
            let many = Limit(vec![Tier::new(1000, Duration::from_millis(1))]);
            options.limits.register_per_address = many.clone();
            options.limits.login_per_account = many.clone();
            options.limits.login_per_address = many;
            adjust(&mut options);
            router(
                AppState::new(helpdesk.clone(), backends.knowledge_base.clone(), options).unwrap(),
            )
        })
        .collect();
    (apps, creds, outbox)
}

async fn ticket_form(app: &Router, b: &Browser, subject: &str) -> Reply {
    post(
        app,
        "/portal/tickets",
        &b.cookie,
        &[
            ("csrf", &b.csrf),
            ("subject", subject),
            ("description", "The sync stopped after the update."),
        ],
    )
    .await
}

#[tokio::test]
async fn a_form_one_instance_served_is_accepted_by_another_with_the_same_secret() {
    let (apps, creds, _) = instances(&[1, 1, 2], |_| {}).await;
    let (a, b, stranger) = (&apps[0], &apps[1], &apps[2]);
    // The sign-in form comes from A and is posted to B.
    let page = get(a, "/login", "").await;
    let pre = cookie_value(&page.set_cookies, helpdesk_examples::web::PRESESSION_COOKIE).unwrap();
    let pre_cookie = format!("{}={pre}", helpdesk_examples::web::PRESESSION_COOKIE);
    let signed = post(
        b,
        "/login",
        &pre_cookie,
        &[
            ("csrf", &csrf_of(&page.body)),
            ("company", &creds.tenant_slug),
            ("email", &creds.customer.email),
            ("password", &creds.customer.password),
        ],
    )
    .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let token = cookie_value(&signed.set_cookies, SESSION_COOKIE).unwrap();
    let cookie = signed_in_cookie(&signed, &token);
    // The session signed in on B serves pages on A, and A's forms post to B.
    let home = get(a, "/portal", &cookie).await;
    assert_eq!(home.status, StatusCode::OK);
    let browser = Browser {
        csrf: csrf_of(&home.body),
        cookie,
    };
    let opened = ticket_form(b, &browser, "Served by A, posted to B").await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    // An instance with another secret refuses the form: the secret must be shared.
    let refused = ticket_form(stranger, &browser, "Posted to a stranger").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_idle_clock_of_a_session_is_the_same_on_every_instance() {
    let (apps, creds, _) = instances(&[1, 1], |o| o.idle_timeout = Duration::from_secs(2)).await;
    let (a, b) = (&apps[0], &apps[1]);
    let mut browser = browser(a, &creds, &creds.customer).await;
    // Used on A and B in turn, each use within the timeout, for longer in all than the
    // timeout on either instance alone: the session stays.
    for app in [a, b, a, b, a] {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let page = get(app, "/portal", &browser.cookie).await;
        assert_eq!(page.status, StatusCode::OK);
        browser.keep_stamp(&page);
    }
    // Last used on A; idle past the timeout, B ends it.
    tokio::time::sleep(Duration::from_millis(3600)).await;
    let after = get(b, "/portal", &browser.cookie).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.location.as_deref(), Some("/login?next=%2Fportal"));
    // Ended in the store, so on A too.
    assert_eq!(
        get(a, "/portal", &browser.cookie).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_sign_up_link_one_instance_mailed_works_once_on_another() {
    let (apps, _creds, outbox) = instances(&[1, 1, 2], |_| {}).await;
    let (a, b, stranger) = (&apps[0], &apps[1], &apps[2]);
    let form = signed_out(a, "/register").await;
    let sent = post(
        a,
        "/register",
        &form.cookie,
        &[
            ("csrf", &form.csrf),
            ("company", "nimbus"),
            ("name", "Pat Doe"),
            ("email", "pat@example.com"),
        ],
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK);
    let (_, body) = outbox.wait_for("pat@example.com", 1).await;
    let link = verify_link(&body);
    // Another secret does not know the link.
    let other = signed_out(stranger, "/login").await;
    assert_eq!(
        get(stranger, &link, &other.cookie).await.status,
        StatusCode::BAD_REQUEST
    );
    // B does, though A sent it.
    let visitor = signed_out(b, "/login").await;
    let page = get(b, &link, &visitor.cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("pat@example.com"));
    let token = link.split_once("token=").unwrap().1.to_string();
    let finish = |app: &Router| {
        let app = app.clone();
        let cookie = visitor.cookie.clone();
        let csrf = visitor.csrf.clone();
        let token = token.clone();
        async move {
            post(
                &app,
                "/register/verify",
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("token", &token),
                    ("password", "a long password"),
                ],
            )
            .await
        }
    };
    let done = finish(b).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(cookie_value(&done.set_cookies, SESSION_COOKIE).is_some());
    // Spent everywhere: the account it made is the record that it was used.
    let again = finish(a).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("expired or was already used"));
    let login = login_of("pat@example.com", "a long password");
    let (_, signed) = sign_in(a, "nimbus", &login).await;
    assert!(signed.is_some(), "the account signs in on A");
}
