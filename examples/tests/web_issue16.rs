//! The web helpdesk as a person meets it (issue 16): a suggested reply sends what the agent
//! edited, sign-in and sign-up are throttled and do not reveal accounts, sessions expire when
//! idle, pages with personal data are not cached, form errors show in place.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use helpdesk_examples::web::{Limit, Tier, WebOptions};
use support::*;

/// The id of the first proposed draft on an agent's ticket page.
fn draft_id(page: &str, ticket_id: &str) -> String {
    let marker = format!("/agent/tickets/{ticket_id}/drafts/");
    let start = page.find(&marker).expect("a proposed draft") + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn sending_a_suggested_reply_sends_the_text_as_the_agent_edited_it() {
    let (app, creds) = app().await;
    let customer = browser(&app, &creds, &creds.customer).await;
    let path = open_ticket(
        &app,
        &customer,
        "Charged twice for Plus",
        "I see two charges this month, please refund one.",
    )
    .await;
    let id = path.rsplit('/').next().unwrap().to_string();
    let agent = browser(&app, &creds, &creds.billing_agent).await;
    let ticket = format!("/agent/tickets/{id}");
    post(
        &app,
        &format!("{ticket}/suggest"),
        &agent.cookie,
        &[("csrf", &agent.csrf)],
    )
    .await;
    let page = get(&app, &ticket, &agent.cookie).await;
    let draft = draft_id(&page.body, &id);
    // The one send button of the form, with the agent's text in the box.
    let edited = "We are looking into both charges and will write again by Friday.";
    let sent = post(
        &app,
        &format!("{ticket}/drafts/{draft}"),
        &agent.cookie,
        &[
            ("csrf", &agent.csrf),
            ("decision", "send"),
            ("body", edited),
        ],
    )
    .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let view = get(&app, &path, &customer.cookie).await;
    assert!(view.body.contains(edited), "the edit reached the customer");
    let agent_view = get(&app, &ticket, &agent.cookie).await;
    assert!(
        !agent_view.body.contains("AI suggested reply"),
        "the draft is decided"
    );
    assert!(agent_view.body.contains(edited));
}

#[tokio::test]
async fn a_draft_form_without_a_decision_it_knows_is_refused_in_place() {
    let (app, creds) = app().await;
    let customer = browser(&app, &creds, &creds.customer).await;
    let path = open_ticket(&app, &customer, "Sync broken", "Sync fails on my laptop.").await;
    let id = path.rsplit('/').next().unwrap().to_string();
    let agent = browser(&app, &creds, &creds.billing_agent).await;
    let ticket = format!("/agent/tickets/{id}");
    post(
        &app,
        &format!("{ticket}/suggest"),
        &agent.cookie,
        &[("csrf", &agent.csrf)],
    )
    .await;
    let page = get(&app, &ticket, &agent.cookie).await;
    let draft = draft_id(&page.body, &id);
    let reply = post(
        &app,
        &format!("{ticket}/drafts/{draft}"),
        &agent.cookie,
        &[("csrf", &agent.csrf), ("decision", "maybe"), ("body", "x")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let page = get(&app, &ticket, &agent.cookie).await;
    assert!(page.body.contains("AI suggested reply"), "still proposed");
}

/// One sign-in try from `address`; the reply.
async fn try_login(
    app: &Router,
    address: [u8; 4],
    company: &str,
    email: &str,
    password: &str,
) -> Reply {
    let b = signed_out(app, "/login").await;
    post_from(
        app,
        address,
        "/login",
        &b.cookie,
        &[
            ("csrf", &b.csrf),
            ("company", company),
            ("email", email),
            ("password", password),
        ],
    )
    .await
}

/// The alert of a page (what the user is told).
fn alert(body: &str) -> &str {
    let start = body.find(r#"class="alert"#).expect("an alert");
    let text = &body[start..];
    let from = text.find('>').unwrap() + 1;
    let to = text.find("</p>").unwrap();
    &text[from..to]
}

fn retry_after(reply: &Reply) -> u64 {
    reply.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn sign_in_allows_five_tries_per_account_then_waits_whether_or_not_it_exists() {
    let (app, creds) = app().await;
    let company = creds.tenant_slug.as_str();
    let real = creds.customer.email.as_str();
    let ghost = "nobody@example.com";
    // Each try from its own address: only the per-account limit is at work.
    let mut n = 0u8;
    let mut next_address = || {
        n += 1;
        [10, 0, 1, n]
    };
    let mut answers = Vec::new();
    for email in [real, ghost] {
        for _ in 0..5 {
            let reply = try_login(&app, next_address(), company, email, "wrong password").await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
            answers.push(alert(&reply.body).to_string());
        }
    }
    // The same words for a real and an unknown account.
    answers.dedup();
    assert_eq!(answers, ["Wrong company, e-mail or password."]);
    // The sixth try waits, even with the right password, and for the unknown one alike.
    let real_sixth = try_login(
        &app,
        next_address(),
        company,
        real,
        &creds.customer.password,
    )
    .await;
    let ghost_sixth = try_login(&app, next_address(), company, ghost, "whatever").await;
    for reply in [&real_sixth, &ghost_sixth] {
        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
        let wait = retry_after(reply);
        assert!((1..=30).contains(&wait), "one try per 30 s: {wait}");
        assert!(alert(&reply.body).contains("Too many sign-in attempts"));
        assert!(
            reply.body.contains(r#"value="nimbus""#),
            "typed company kept"
        );
    }
    assert!(
        real_sixth
            .set_cookies
            .iter()
            .all(|c| !c.starts_with("hd_session"))
    );
    // Case and spaces do not make a new account key.
    let upper = try_login(
        &app,
        next_address(),
        company,
        &format!(" {} ", real.to_uppercase()),
        "x",
    )
    .await;
    assert_eq!(upper.status, StatusCode::TOO_MANY_REQUESTS);
    // Other accounts are not affected.
    let admin = try_login(
        &app,
        next_address(),
        company,
        &creds.admin.email,
        &creds.admin.password,
    )
    .await;
    assert_eq!(admin.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sign_in_allows_twenty_tries_per_address_across_accounts() {
    let (app, creds) = app().await;
    let company = creds.tenant_slug.as_str();
    let here = [192, 0, 2, 7];
    for i in 0..20 {
        let reply = try_login(&app, here, company, &format!("guess{i}@example.com"), "pw").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "try {i}");
    }
    let blocked = try_login(
        &app,
        here,
        company,
        &creds.admin.email,
        &creds.admin.password,
    )
    .await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&blocked);
    assert!((1..=6).contains(&wait), "one try per 6 s: {wait}");
    // Another address signs in.
    let elsewhere = try_login(
        &app,
        [192, 0, 2, 8],
        company,
        &creds.admin.email,
        &creds.admin.password,
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_waits_grow_with_the_second_tier() {
    // Limits made small so that the long tier shows within a test: 2 tries, then one
    // per 3 s; past 3, one per hour. The short period is long against a sign-in (an
    // argon2 check, slow in a debug build on a loaded machine), so the third try always
    // meets it; the test waits it out to reach the long tier.
    let (app, creds) = app_with(|o| {
        o.limits.login_per_account = Limit(vec![
            Tier::new(2, Duration::from_secs(3)),
            Tier::new(3, Duration::from_secs(3600)),
        ]);
    })
    .await;
    let company = creds.tenant_slug.as_str();
    let email = creds.customer.email.as_str();
    let at = |n| [198, 51, 100, n];
    assert_eq!(
        try_login(&app, at(1), company, email, "no").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        try_login(&app, at(2), company, email, "no").await.status,
        StatusCode::UNAUTHORIZED
    );
    let short = try_login(&app, at(3), company, email, "no").await;
    assert_eq!(short.status, StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&short);
    assert!(
        (1..=3).contains(&wait),
        "the short tier: at most 3 s, not {wait}"
    );
    tokio::time::sleep(Duration::from_millis(3200)).await;
    assert_eq!(
        try_login(&app, at(4), company, email, "no").await.status,
        StatusCode::UNAUTHORIZED
    );
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let long = try_login(&app, at(5), company, email, "no").await;
    assert_eq!(long.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&long) > 3000, "the long tier: most of an hour");
}

fn registration<'a>(b: &'a Browser, email: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", b.csrf.as_str()),
        ("company", "nimbus"),
        ("name", "Reg Ister"),
        ("email", email),
        ("password", "a long password"),
    ]
}

#[tokio::test]
async fn sign_ups_allow_five_per_address_and_do_not_confirm_taken_e_mails() {
    let (app, creds) = app().await;
    let here = [203, 0, 113, 5];
    // A taken e-mail gets the same answer as a new one (see web_signup.rs for the e-mails).
    let b = signed_out(&app, "/register").await;
    let taken = post_from(
        &app,
        here,
        "/register",
        &b.cookie,
        &registration(&b, &creds.customer.email),
    )
    .await;
    assert_eq!(taken.status, StatusCode::OK);
    assert!(taken.body.contains("id=\"check-inbox\""), "{}", taken.body);
    for i in 0..4 {
        let b = signed_out(&app, "/register").await;
        let email = format!("new{i}@example.com");
        let reply = post_from(
            &app,
            here,
            "/register",
            &b.cookie,
            &registration(&b, &email),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "sign-up {i}: {}", reply.body);
        assert!(reply.body.contains("id=\"check-inbox\""));
    }
    let b = signed_out(&app, "/register").await;
    let sixth = post_from(
        &app,
        here,
        "/register",
        &b.cookie,
        &registration(&b, "six@example.com"),
    )
    .await;
    assert_eq!(sixth.status, StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&sixth);
    assert!((1..=120).contains(&wait), "one per 2 min: {wait}");
    assert!(sixth.body.contains("six@example.com"), "typed e-mail kept");
}

#[tokio::test]
async fn company_sign_ups_allow_two_per_address() {
    let (app, _) = app().await;
    let here = [203, 0, 113, 9];
    for i in 0..3 {
        let b = signed_out(&app, "/register-company").await;
        let slug = format!("co{i}");
        let reply = post_from(
            &app,
            here,
            "/register-company",
            &b.cookie,
            &[
                ("csrf", &b.csrf),
                ("company_name", &format!("Company {i}")),
                ("slug", &slug),
                ("name", "Owner"),
                ("email", "owner@example.com"),
                ("password", "a long password"),
            ],
        )
        .await;
        if i < 2 {
            assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        } else {
            assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
            assert!(retry_after(&reply) > 3000, "one per hour");
        }
    }
}

#[tokio::test]
async fn a_customer_opens_five_tickets_then_waits_and_keeps_what_was_typed() {
    let (app, creds, outbox) = app_with_mail(|_| {}).await;
    let customer = browser(&app, &creds, &creds.customer).await;
    for i in 0..5 {
        open_ticket(&app, &customer, &format!("Problem {i}"), "Details of it.").await;
    }
    let sixth = post(
        &app,
        "/portal/tickets",
        &customer.cookie,
        &[
            ("csrf", &customer.csrf),
            ("subject", "Sixth problem"),
            ("description", "Typed with care."),
            ("priority", "high"),
        ],
    )
    .await;
    assert_eq!(sixth.status, StatusCode::TOO_MANY_REQUESTS);
    assert!((1..=60).contains(&retry_after(&sixth)));
    assert!(sixth.body.contains(r#"value="Sixth problem""#));
    assert!(sixth.body.contains("Typed with care."));
    assert!(sixth.body.contains(r#"value="high" selected"#));
    // Another customer is not affected.
    let other = register_customer(&app, &outbox, "other@example.com").await;
    open_ticket(&app, &other, "Mine", "Mine too.").await;
}

#[tokio::test]
async fn a_ticket_form_error_shows_on_the_form_with_what_was_typed() {
    let (app, creds) = app().await;
    let customer = browser(&app, &creds, &creds.customer).await;
    let reply = post(
        &app,
        "/portal/tickets",
        &customer.cookie,
        &[
            ("csrf", &customer.csrf),
            ("subject", "   "),
            ("description", "My notes vanished after the update."),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.body.contains("<nav") || reply.body.contains("Sign out"),
        "the page, not a bare card"
    );
    assert!(reply.body.contains(r#"name="subject""#));
    assert!(reply.body.contains("My notes vanished after the update."));
    assert!(reply.body.contains(r#"aria-invalid="true""#));
    assert!(
        alert(&reply.body).starts_with("Subject"),
        "{}",
        alert(&reply.body)
    );
    // A missing field is the same kind of error, not the framework's 422.
    let missing = post(
        &app,
        "/portal/tickets",
        &customer.cookie,
        &[("csrf", &customer.csrf)],
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.body.contains(r#"name="description""#));
}

#[tokio::test]
async fn creating_a_ticket_and_saving_settings_are_confirmed() {
    let (app, creds) = app().await;
    let customer = browser(&app, &creds, &creds.customer).await;
    let created = post(
        &app,
        "/portal/tickets",
        &customer.cookie,
        &[
            ("csrf", &customer.csrf),
            ("subject", "Export fails"),
            ("description", "Export to PDF fails."),
        ],
    )
    .await;
    let path = created.location.unwrap();
    assert!(path.ends_with("?done=ticket-created"), "{path}");
    let page = get(&app, &path, &customer.cookie).await;
    assert!(page.body.contains(r#"class="notice""#));
    assert!(page.body.contains("Your ticket was created"));
    // Only known confirmations are shown; the query's own words never are.
    let forged = get(&app, "/portal?done=%3Cb%3Ehi", &customer.cookie).await;
    assert!(!forged.body.contains(r#"class="notice""#));
}

/// The admin settings form as the page would post it, with registration `open` or closed.
fn settings_form(csrf: &str, open: bool) -> Vec<(&str, &str)> {
    let mut form = vec![
        ("csrf", csrf),
        ("categories", "account, billing, technical, other"),
        ("default_category", "other"),
        ("skills", "billing, technical, account"),
        ("ai_autonomy", "suggest"),
        ("fr_urgent_h", "0"),
        ("fr_urgent_m", "30"),
        ("res_urgent_h", "4"),
        ("res_urgent_m", "0"),
        ("fr_high_h", "4"),
        ("fr_high_m", "0"),
        ("res_high_h", "16"),
        ("res_high_m", "0"),
        ("fr_medium_h", "8"),
        ("fr_medium_m", "0"),
        ("res_medium_h", "40"),
        ("res_medium_m", "0"),
        ("fr_low_h", "16"),
        ("fr_low_m", "0"),
        ("res_low_h", "80"),
        ("res_low_m", "0"),
        ("timezone", "UTC"),
        ("open", "09:00"),
        ("close", "17:00"),
        ("mon", "1"),
        ("holidays", ""),
        ("chat_inactivity_minutes", "30"),
        ("reopen_window_hours", "72"),
    ];
    if open {
        form.push(("self_registration", "on"));
    }
    form
}

#[tokio::test]
async fn an_admin_closes_self_registration() {
    let (app, creds) = app().await;
    let admin = browser(&app, &creds, &creds.admin).await;
    let page = get(&app, "/admin/settings", &admin.cookie).await;
    assert!(
        page.body
            .contains(r#"name="self_registration" value="on" checked"#),
        "open by default"
    );
    let saved = post(
        &app,
        "/admin/settings",
        &admin.cookie,
        &settings_form(&admin.csrf, false),
    )
    .await;
    assert_eq!(
        saved.location.as_deref(),
        Some("/admin/settings?done=settings-saved")
    );
    let page = get(&app, "/admin/settings?done=settings-saved", &admin.cookie).await;
    assert!(page.body.contains("Settings saved."));
    assert!(!page.body.contains(r#"value="on" checked"#));
    let b = signed_out(&app, "/register").await;
    let refused = post(
        &app,
        "/register",
        &b.cookie,
        &registration(&b, "late@example.com"),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(alert(&refused.body).contains("does not take sign-ups"));
    // Reopened, the same sign-up works.
    post(
        &app,
        "/admin/settings",
        &admin.cookie,
        &settings_form(&admin.csrf, true),
    )
    .await;
    let b = signed_out(&app, "/register").await;
    let ok = post(
        &app,
        "/register",
        &b.cookie,
        &registration(&b, "late@example.com"),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert!(ok.body.contains("id=\"check-inbox\""), "{}", ok.body);
}

#[tokio::test]
async fn cookies_are_secure_when_asked_and_pages_are_not_cached() {
    assert!(WebOptions::secure_cookies_for("https://help.example.com"));
    assert!(WebOptions::secure_cookies_for("HTTPS://help.example.com"));
    assert!(!WebOptions::secure_cookies_for("http://127.0.0.1:8080"));
    let (secure, creds) = app_with(|o| o.secure_cookies = true).await;
    let (reply, b) = sign_in(&secure, &creds.tenant_slug, &creds.customer).await;
    let session = reply
        .set_cookies
        .iter()
        .find(|c| c.starts_with("hd_session="))
        .unwrap();
    assert!(session.contains("; Secure"), "{session}");
    let b = b.unwrap();
    for path in ["/portal", "/login"] {
        let page = get(&secure, path, &b.cookie).await;
        assert_eq!(page.headers["cache-control"], "no-store", "{path}");
    }
    let css = get(&secure, "/static/app.css", "").await;
    assert_eq!(css.headers["cache-control"], "max-age=3600");
    let (plain, creds) = app().await;
    let (reply, _) = sign_in(&plain, &creds.tenant_slug, &creds.customer).await;
    assert!(reply.set_cookies.iter().all(|c| !c.contains("Secure")));
}

#[tokio::test]
async fn an_idle_session_ends() {
    // A timeout long against a page view on a loaded machine, so that only the pauses
    // below decide.
    let (app, creds) = app_with(|o| o.idle_timeout = Duration::from_secs(2)).await;
    let mut b = browser(&app, &creds, &creds.customer).await;
    // Used within the timeout, again and again (longer in all than the timeout): it stays.
    // Stamps count whole seconds, so each pause stays well under a second of slack.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let page = get(&app, "/portal", &b.cookie).await;
        assert_eq!(page.status, StatusCode::OK);
        b.keep_stamp(&page);
    }
    tokio::time::sleep(Duration::from_millis(3600)).await;
    let after = get(&app, "/portal", &b.cookie).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.location.as_deref(), Some("/login?next=%2Fportal"));
    // Ended for good, not just forgotten by this process.
    assert_eq!(
        get(&app, "/portal", &b.cookie).await.status,
        StatusCode::SEE_OTHER
    );
}
