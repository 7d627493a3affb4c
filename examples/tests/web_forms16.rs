//! Forms as a person meets them (issue 16, item 11): the rating form preselects nothing,
//! SLA targets are entered in hours and minutes, the sign-in form pre-fills no company, and
//! sign-in returns to the page that was asked for, but never to another site.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use helpdesk_examples::web::seed::DemoLogin;
use helpdesk_examples::web::{Limit, PRESESSION_COOKIE, Tier};
use support::*;

/// A customer's resolved ticket: its portal path and the customer's browser.
async fn resolved_ticket(
    app: &Router,
    creds: &helpdesk_examples::web::seed::DemoCredentials,
) -> (String, Browser) {
    let customer = browser(app, creds, &creds.customer).await;
    let path = open_ticket(
        app,
        &customer,
        "Export fails",
        "The CSV export stops at 50%.",
    )
    .await;
    let id = path.rsplit('/').next().unwrap().to_string();
    let agent = browser(app, creds, &creds.technical_agent).await;
    let resolved = post(
        app,
        &format!("/agent/tickets/{id}/status"),
        &agent.cookie,
        &[("csrf", &agent.csrf), ("value", "resolved")],
    )
    .await;
    assert_eq!(resolved.status, StatusCode::SEE_OTHER, "{}", resolved.body);
    (path, customer)
}

#[tokio::test]
async fn the_rating_form_preselects_nothing_and_asks_for_a_choice() {
    let (app, creds) = app().await;
    let (path, customer) = resolved_ticket(&app, &creds).await;
    let page = get(&app, &path, &customer.cookie).await.body;
    assert!(
        page.contains(r#"<option value="" selected disabled>"#),
        "{page}"
    );
    assert!(!page.contains(r#"value="5" selected"#));
    assert!(page.contains(r#"<select name="score" required"#));

    let csat = format!("{path}/csat");
    for form in [
        vec![
            ("csrf", customer.csrf.as_str()),
            ("score", ""),
            ("comment", "meh"),
        ],
        vec![("csrf", customer.csrf.as_str()), ("comment", "")],
        vec![("csrf", customer.csrf.as_str()), ("score", "6")],
    ] {
        let refused = post(&app, &csat, &customer.cookie, &form).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{form:?}");
        // On the ticket page, at the rating form, not a bare error card.
        assert!(refused.body.contains("Choose a rating from 1 to 5."));
        assert!(refused.body.contains("How did we do?"));
        assert!(refused.body.contains(r#"aria-invalid="true""#));
    }
    let page = get(&app, &path, &customer.cookie).await.body;
    assert!(!page.contains("You rated this ticket"), "nothing recorded");

    let rated = post(
        &app,
        &csat,
        &customer.cookie,
        &[("csrf", &customer.csrf), ("score", "2"), ("comment", "")],
    )
    .await;
    assert_eq!(rated.status, StatusCode::SEE_OTHER, "{}", rated.body);
    let page = get(&app, &path, &customer.cookie).await.body;
    assert!(page.contains("You rated this ticket 2/5"));
}

/// The settings form with the urgent first-response target as `hours` and `minutes`.
fn settings<'a>(csrf: &'a str, hours: &'a str, minutes: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("categories", "account, billing, technical, other"),
        ("default_category", "other"),
        ("skills", "billing, technical, account"),
        ("ai_autonomy", "suggest"),
        ("fr_urgent_h", hours),
        ("fr_urgent_m", minutes),
        ("res_urgent_h", "4"),
        ("res_urgent_m", ""),
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
    ]
}

#[tokio::test]
async fn sla_targets_are_entered_in_hours_and_minutes() {
    let (app, creds) = app().await;
    let admin = browser(&app, &creds, &creds.admin).await;
    let page = get(&app, "/admin/settings", &admin.cookie).await.body;
    assert!(page.contains(r#"name="fr_urgent_h""#), "{page}");
    assert!(page.contains(r#"name="fr_urgent_m""#));
    assert!(!page.contains(r#"name="fr_urgent""#));

    let saved = post(
        &app,
        "/admin/settings",
        &admin.cookie,
        &settings(&admin.csrf, "1", "30"),
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    // 90 business minutes stored, shown again as 1 h 30 min; 4 h and an empty minutes
    // field as 4 h 0 min.
    let page = get(&app, "/admin/settings", &admin.cookie).await.body;
    assert!(page.contains(r#"name="fr_urgent_h" value="1""#), "{page}");
    assert!(page.contains(r#"name="fr_urgent_m" value="30""#));
    assert!(page.contains(r#"name="res_urgent_h" value="4""#));
    assert!(page.contains(r#"name="res_urgent_m" value="0""#));

    for (hours, minutes, why) in [
        ("1", "60", "enter whole hours and minutes"),
        ("one", "0", "enter whole hours and minutes"),
        ("-1", "0", "enter whole hours and minutes"),
        ("0", "0", "must be at least one minute"),
        ("99999999", "0", "enter whole hours and minutes"),
    ] {
        let refused = post(
            &app,
            "/admin/settings",
            &admin.cookie,
            &settings(&admin.csrf, hours, minutes),
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{hours} h {minutes} min"
        );
        // The settings form again with the reason at the SLA table, not a bare error card.
        assert!(
            refused.body.contains("urgent first response"),
            "{}",
            refused.body
        );
        assert!(refused.body.contains(why), "{}", refused.body);
        assert!(refused.body.contains(r#"action="/admin/settings""#));
        assert!(
            refused
                .body
                .contains(r#"class="alert field-error" role="alert" id="sla-error""#)
        );
    }
    let page = get(&app, "/admin/settings", &admin.cookie).await.body;
    assert!(
        page.contains(r#"name="fr_urgent_h" value="1""#),
        "a refused form saves nothing"
    );
}

#[tokio::test]
async fn the_sign_in_and_sign_up_forms_prefill_no_company() {
    let (app, _creds) = app().await;
    for page in ["/login", "/register"] {
        let body = get(&app, page, "").await.body;
        assert!(
            body.contains(r#"name="company" value="""#),
            "{page}: {body}"
        );
        assert!(!body.contains("nimbus\""), "{page}");
    }
}

/// Signs in from the sign-in page at `login_path`, posting `next` as the form would.
async fn sign_in_with_next(
    app: &Router,
    company: &str,
    login: &DemoLogin,
    login_path: &str,
    next: &str,
) -> Reply {
    let page = get(app, login_path, "").await;
    assert_eq!(page.status, StatusCode::OK);
    let pre = cookie_value(&page.set_cookies, PRESESSION_COOKIE).unwrap();
    post(
        app,
        "/login",
        &format!("{PRESESSION_COOKIE}={pre}"),
        &[
            ("csrf", &csrf_of(&page.body)),
            ("next", next),
            ("company", company),
            ("email", &login.email),
            ("password", &login.password),
        ],
    )
    .await
}

#[tokio::test]
async fn sign_in_returns_to_the_page_that_was_asked_for() {
    let (app, creds) = app().await;
    let wanted = "/agent?status=open&q=export";
    let sent = get(&app, wanted, "").await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let login_path = sent.location.unwrap();
    assert_eq!(
        login_path,
        "/login?next=%2Fagent%3Fstatus%3Dopen%26q%3Dexport"
    );
    let page = get(&app, &login_path, "").await.body;
    assert!(
        page.contains(
            r#"<input type="hidden" name="next" value="/agent?status=open&#38;q=export">"#
        ),
        "{page}"
    );
    let reply = sign_in_with_next(
        &app,
        &creds.tenant_slug,
        &creds.technical_agent,
        &login_path,
        "/agent?status=open&q=export",
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location.as_deref(), Some(wanted));

    // A wrong password keeps the page to return to on the form.
    let mut wrong = creds.technical_agent.clone();
    wrong.password.push('x');
    let reply = sign_in_with_next(
        &app,
        &creds.tenant_slug,
        &wrong,
        &login_path,
        "/agent/tickets",
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.body.contains(r#"name="next" value="/agent/tickets""#));

    // Without `next`, home as before; posts and `/` are not remembered.
    let reply = sign_in_with_next(&app, &creds.tenant_slug, &creds.customer, "/login", "").await;
    assert_eq!(reply.location.as_deref(), Some("/portal"));
    assert_eq!(get(&app, "/", "").await.location.as_deref(), Some("/login"));
    let posted = post(&app, "/portal/tickets", "", &[("subject", "x")]).await;
    assert_ne!(
        posted.location.as_deref().unwrap_or(""),
        "/login?next=%2Fportal%2Ftickets"
    );
}

#[tokio::test]
async fn sign_in_never_redirects_to_another_site() {
    // Many sign-ins of one account in a row: lift the sign-in limit.
    let (app, creds) = app_with(|o| {
        let many = Limit(vec![Tier::new(1000, Duration::from_millis(1))]);
        o.limits.login_per_account = many.clone();
        o.limits.login_per_address = many;
    })
    .await;
    for evil in [
        "//evil.example",
        "//evil.example/agent",
        "https://evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/agent\\..\\evil",
        "javascript:alert(1)",
        "evil.example",
        "/\t/evil.example",
        "/ /evil.example",
        "/agent\r\nSet-Cookie: x=1",
    ] {
        let query = serde_urlencoded::to_string([("next", evil)]).unwrap();
        let login_path = format!("/login?{query}");
        let page = get(&app, &login_path, "").await;
        assert_eq!(page.status, StatusCode::OK, "{evil:?}");
        assert!(
            !page.body.contains(r#"name="next""#),
            "{evil:?} kept on the form"
        );
        let reply = sign_in_with_next(
            &app,
            &creds.tenant_slug,
            &creds.technical_agent,
            &login_path,
            evil,
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "{evil:?}: {}",
            reply.body
        );
        assert_eq!(reply.location.as_deref(), Some("/agent"), "{evil:?}");
    }
}

#[tokio::test]
async fn the_stylesheet_fits_pages_to_a_phone() {
    let (app, _creds) = app().await;
    let css = get(&app, "/static/app.css", "").await.body;
    let start = css
        .find("@media (max-width: 640px)")
        .expect("narrow-screen rules");
    let phone = &css[start..];
    // The top bar wraps (sign-out stays on screen), tables scroll in their own box, filters stack.
    for rule in [
        ".topbar { flex-wrap: wrap; height: auto;",
        ".topbar nav { order: 3; flex: 1 0 100%;",
        "table { display: block; max-width: 100%; overflow-x: auto; }",
        ".filters, .row { flex-direction: column; align-items: stretch; }",
    ] {
        assert!(phone.contains(rule), "missing {rule:?}");
    }
}

#[tokio::test]
async fn retention_is_set_in_months_and_refused_out_of_range() {
    let (app, creds) = app().await;
    let admin = browser(&app, &creds, &creds.admin).await;
    let page = get(&app, "/admin/settings", &admin.cookie).await.body;
    assert!(
        page.contains(r#"name="retention_months" value="""#),
        "kept by default"
    );
    let mut form = settings(&admin.csrf, "1", "0");
    form.push(("retention_months", "6"));
    let saved = post(&app, "/admin/settings", &admin.cookie, &form).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = get(&app, "/admin/settings", &admin.cookie).await.body;
    assert!(
        page.contains(r#"name="retention_months" value="6""#),
        "{page}"
    );

    for months in ["0", "121", "six"] {
        let mut form = settings(&admin.csrf, "1", "0");
        form.push(("retention_months", months));
        let refused = post(&app, "/admin/settings", &admin.cookie, &form).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{months}");
        assert!(
            refused.body.contains("Erase tickets older than"),
            "{}",
            refused.body
        );
        assert!(
            refused
                .body
                .contains(&format!(r#"name="retention_months" value="{months}""#))
        );
    }
    let mut form = settings(&admin.csrf, "1", "0");
    form.push(("retention_months", ""));
    post(&app, "/admin/settings", &admin.cookie, &form).await;
    let page = get(&app, "/admin/settings", &admin.cookie).await.body;
    assert!(page.contains(r#"name="retention_months" value="""#));
}
