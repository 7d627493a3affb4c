//! Self-registration checks the e-mail address and does not reveal accounts (issue 16,
//! item 14): `/register` answers a new and a taken address with the same page; the new
//! one gets a single-use, expiring link, the taken one a note to sign in instead; only the
//! link creates the account.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use helpdesk_examples::web::{Limit, SESSION_COOKIE, Tier};
use support::*;

/// Posts the sign-up form for `email` from a fresh signed-out browser.
async fn sign_up(app: &Router, email: &str) -> (Reply, Browser) {
    let b = signed_out(app, "/register").await;
    let reply = post(
        app,
        "/register",
        &b.cookie,
        &[
            ("csrf", &b.csrf),
            ("company", "nimbus"),
            ("name", "Pat Doe"),
            ("email", email),
        ],
    )
    .await;
    (reply, b)
}

/// The token of a sign-up link path.
fn token_of(link: &str) -> String {
    let query = link.split_once('?').unwrap().1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap()
        .into_iter()
        .find(|(k, _)| k == "token")
        .unwrap()
        .1
}

/// Chooses `password` on the page of `link` (the browser's CSRF token is that of every
/// page it gets).
async fn finish(app: &Router, b: &Browser, link: &str, password: &str) -> Reply {
    post(
        app,
        "/register/verify",
        &b.cookie,
        &[
            ("csrf", &b.csrf),
            ("token", &token_of(link)),
            ("password", password),
        ],
    )
    .await
}

fn lifted(o: &mut helpdesk_examples::web::WebOptions) {
    let many = Limit(vec![Tier::new(1000, Duration::from_millis(1))]);
    o.limits.register_per_address = many.clone();
    o.limits.login_per_account = many.clone();
    o.limits.login_per_address = many;
}

#[tokio::test]
async fn a_new_and_a_taken_address_get_the_same_answer_and_different_mail() {
    let (app, creds, outbox) = app_with_mail(lifted).await;
    let (new, new_b) = sign_up(&app, "pat@example.com").await;
    let (taken, taken_b) = sign_up(&app, &creds.customer.email).await;
    assert_eq!(new.status, StatusCode::OK);
    assert_eq!(taken.status, StatusCode::OK);
    assert!(new.body.contains("id=\"check-inbox\""), "{}", new.body);
    // Byte for byte the same page, apart from the CSRF token of each browser.
    let new_page = new.body.replace(&new_b.csrf, "CSRF");
    let taken_page = taken.body.replace(&taken_b.csrf, "CSRF");
    assert_eq!(new_page, taken_page);
    assert!(new.set_cookies.is_empty() && taken.set_cookies.is_empty());
    assert!(
        cookie_value(&new.set_cookies, SESSION_COOKIE).is_none(),
        "not signed in yet"
    );

    let (subject, body) = outbox.wait_for("pat@example.com", 1).await;
    assert!(subject.contains("Confirm your e-mail"), "{subject}");
    assert!(
        body.contains("http://127.0.0.1:8080/register/verify?token="),
        "{body}"
    );
    let (subject, body) = outbox.wait_for(&creds.customer.email, 1).await;
    assert!(subject.contains("tried to register"), "{subject}");
    assert!(body.contains("already have an account"), "{body}");
    assert!(body.contains("/login"), "{body}");
    assert!(
        !body.contains("/register/verify"),
        "no link for a taken address: {body}"
    );

    // No account until the link is followed: signing in with any password fails.
    let pending = login_of("pat@example.com", "a long password");
    let (refused, browser) = sign_in(&app, "nimbus", &pending).await;
    assert!(browser.is_none(), "{}", refused.body);
}

#[tokio::test]
async fn the_link_creates_the_account_once() {
    let (app, _creds, outbox) = app_with_mail(lifted).await;
    let (reply, b) = sign_up(&app, "once@example.com").await;
    assert_eq!(reply.status, StatusCode::OK);
    let (_, body) = outbox.wait_for("once@example.com", 1).await;
    let link = verify_link(&body);
    let page = get(&app, &link, &b.cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("once@example.com"), "{}", page.body);
    assert!(page.body.contains(r#"name="password""#));

    // A short password is refused in place; the link still works.
    let short = finish(&app, &b, &link, "short").await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(
        short.body.contains(r#"id="password-error""#),
        "{}",
        short.body
    );
    assert!(
        short.body.contains(&token_of(&link)),
        "the form keeps its link"
    );

    let done = finish(&app, &b, &link, "a long password").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/portal"));
    assert!(cookie_value(&done.set_cookies, SESSION_COOKIE).is_some());
    let login = login_of("once@example.com", "a long password");
    let (_, signed) = sign_in(&app, "nimbus", &login).await;
    assert!(signed.is_some(), "the account signs in");

    // Used: the link is dead, for the page and for the form.
    let again = get(&app, &link, &b.cookie).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("expired or was already used"));
    assert!(!again.body.contains(r#"name="password""#));
    let reuse = finish(&app, &b, &link, "another long password").await;
    assert_eq!(reuse.status, StatusCode::BAD_REQUEST);
    assert!(reuse.body.contains("expired or was already used"));
    assert!(
        reuse
            .set_cookies
            .iter()
            .all(|c| !c.starts_with(SESSION_COOKIE))
    );
    // A made-up token is as dead.
    let forged = get(&app, "/register/verify?token=abc", &b.cookie).await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_expired_link_creates_nothing() {
    let (app, _creds, outbox) = app_with_mail(|o| {
        lifted(o);
        o.verification_ttl = Duration::ZERO;
    })
    .await;
    let (_, b) = sign_up(&app, "late@example.com").await;
    let (_, body) = outbox.wait_for("late@example.com", 1).await;
    let link = verify_link(&body);
    let page = get(&app, &link, &b.cookie).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("expired or was already used"));
    let done = finish(&app, &b, &link, "a long password").await;
    assert_eq!(done.status, StatusCode::BAD_REQUEST);
    let login = login_of("late@example.com", "a long password");
    let (_, signed) = sign_in(&app, "nimbus", &login).await;
    assert!(signed.is_none(), "no account from an expired link");
}

#[tokio::test]
async fn one_inbox_gets_three_sign_up_mails_then_no_more() {
    let (app, creds, outbox) = app_with_mail(lifted).await;
    for address in ["flood@example.com", creds.customer.email.as_str()] {
        let mut answers = Vec::new();
        for _ in 0..5 {
            let (reply, b) = sign_up(&app, address).await;
            assert_eq!(reply.status, StatusCode::OK);
            answers.push(reply.body.replace(&b.csrf, "CSRF"));
        }
        // The same answer every time, whether sent or not.
        assert!(answers.windows(2).all(|w| w[0] == w[1]));
        outbox.wait_for(address, 3).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(outbox.to(address).len(), 3, "{address}");
    }
}
