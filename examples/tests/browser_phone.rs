//! The helpdesk on a phone, in a real browser (issue 16): headless Chromium at 390 x 844
//! CSS pixels, the real `helpdesk-web` binary.
//!
//! The admin's and an agent's pages scroll only downwards, never sideways, and keep the
//! "Sign out" control on screen; a new-ticket form with a blank subject comes back with
//! the error next to that field and the typed description kept; a proper ticket is
//! confirmed with a banner. Every step saves a full-page screenshot to
//! `$CARGO_TARGET_TMPDIR/browser-phone-screenshots/`.
//!
//! Needs the Debian packages `chromium` and `chromium-driver`: run
//! `scripts/setup-chromium.sh` once. Without them the test fails and says so.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser_support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use browser_support::{
    Browser, Logins, require_chromium, scratch_dir, start_chromedriver, start_server,
};
use serde_json::{Value, json};

/// The whole phone scenario.
const WHOLE: Duration = Duration::from_secs(100);
/// A common phone's viewport in CSS pixels.
const PHONE_WIDTH: u32 = 390;
const PHONE_HEIGHT: u32 = 844;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_helpdesk_fits_a_phone_and_explains_its_forms() {
    require_chromium();
    let scratch = scratch_dir("phone");
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-phone-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let started = Instant::now();
    let (_server, app_port, logins) = start_server(&scratch.join("data"));
    let (_driver, driver_port) = start_chromedriver(&scratch.join("chromedriver.log"));
    let mut browser = Browser::open(
        driver_port,
        app_port,
        &scratch.join("profile"),
        shots.clone(),
    )
    .await;
    let outcome = tokio::time::timeout(WHOLE, scenario(&mut browser, &logins)).await;
    // Quit Chromium before the guards kill chromedriver.
    let _ = tokio::time::timeout(Duration::from_secs(10), browser.client.clone().close()).await;
    outcome.unwrap_or_else(|_| panic!("the phone scenario took longer than {WHOLE:?}"));
    println!(
        "phone browser test: {} screenshots in {} ({:.1} s)",
        browser.step,
        shots.display(),
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&scratch);
}

/// The page's layout numbers: viewport and document widths and the "Sign out" button's
/// bounding rectangle (null when the page has none).
const LAYOUT: &str = "\
    const out = document.querySelector(\"form[action='/logout'] button\");\
    const r = out ? out.getBoundingClientRect() : null;\
    return {\
      inner: window.innerWidth, innerHeight: window.innerHeight,\
      scroll: document.documentElement.scrollWidth,\
      out: r && { left: r.left, right: r.right, top: r.top, bottom: r.bottom,\
                  width: r.width, height: r.height, text: out.textContent.trim() },\
      wide: Array.from(document.querySelectorAll('body *'))\
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1\
          && !(e.closest('table') && getComputedStyle(e).position !== 'absolute'))\
        .slice(0, 4)\
        .map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').trim().slice(0, 40))\
    };";

/// Asserts the current page (`what`) does not scroll sideways and shows "Sign out" inside
/// the viewport, then saves a screenshot named `what`.
async fn assert_fits(b: &mut Browser, what: &str) {
    // Scrolled to the top-left: the rectangle is relative to the viewport.
    b.client
        .execute("window.scrollTo(0, 0);", vec![])
        .await
        .unwrap();
    let layout = b.client.execute(LAYOUT, vec![]).await.unwrap();
    let num = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let inner = num(&layout["inner"]);
    let inner_height = num(&layout["innerHeight"]);
    assert_eq!(
        inner,
        f64::from(PHONE_WIDTH),
        "{what}: the viewport is a phone's: {layout}"
    );
    assert!(
        num(&layout["scroll"]) <= inner,
        "{what}: the page scrolls sideways: {layout}"
    );
    let out = &layout["out"];
    assert!(out.is_object(), "{what}: no Sign out control: {layout}");
    assert_eq!(out["text"], json!("Sign out"), "{what}: {layout}");
    assert!(
        num(&out["width"]) > 0.0 && num(&out["height"]) > 0.0,
        "{what}: Sign out is not shown: {layout}"
    );
    assert!(
        num(&out["left"]) >= 0.0
            && num(&out["top"]) >= 0.0
            && num(&out["right"]) <= inner
            && num(&out["bottom"]) <= inner_height,
        "{what}: Sign out lies outside the viewport: {layout}"
    );
    b.shot(what).await;
}

async fn scenario(b: &mut Browser, logins: &Logins) {
    b.resize(PHONE_WIDTH, PHONE_HEIGHT).await;

    // 1. The admin's pages fit the phone.
    b.sign_in(&logins.admin, "/agent").await;
    b.wait("nav a[href='/agent']").await;
    assert_fits(b, "admin-queue").await;
    for (link, ready, name) in [
        ("/admin/users", "form[action='/admin/users']", "admin-users"),
        ("/admin/kb", "table tbody tr", "admin-knowledge-base"),
        (
            "/admin/settings",
            "form[action='/admin/settings']",
            "admin-settings",
        ),
        ("/admin/analytics", "svg.chart", "admin-analytics"),
        ("/agent/canned", "table tbody tr", "canned-responses"),
    ] {
        b.click(&format!("nav a[href='{link}']")).await;
        b.wait_path(name, |p| p == link).await;
        b.wait(ready).await;
        assert_fits(b, name).await;
    }
    b.click("a[href='/agent/canned/new']").await;
    b.wait("form[action='/agent/canned']").await;
    assert_fits(b, "canned-response-form").await;
    b.goto("/admin/fields").await;
    b.wait("form[action='/admin/fields']").await;
    assert_fits(b, "admin-custom-fields").await;
    b.click("nav a[href='/search']").await;
    b.wait_path("search", |p| p == "/search").await;
    b.fill("input[name=q]", "sync").await;
    b.click("form.search-form button.primary").await;
    b.wait_path("search results", |p| p.starts_with("/search"))
        .await;
    b.wait("main .card").await;
    assert_fits(b, "search-results").await;
    b.sign_out().await;

    // 2. So do an agent's queue and a ticket from it.
    b.sign_in(&logins.billing_agent, "/agent").await;
    let first = b.wait("a[href^='/agent/tickets/']").await;
    assert_fits(b, "agent-queue").await;
    first.click().await.unwrap();
    b.wait_path("an agent's ticket page", |p| {
        p.starts_with("/agent/tickets/")
    })
    .await;
    b.wait("form[action$='/status']").await;
    assert_fits(b, "agent-ticket").await;
    b.sign_out().await;

    // 3. A blank subject comes back on the form, next to the field, with the description.
    const DESCRIPTION: &str = "My notes vanished after the update to 4.2.";
    b.sign_in(&logins.customer, "/portal").await;
    assert_fits(b, "customer-portal").await;
    b.click("nav a[href='/portal/new']").await;
    b.wait("form[action='/portal/tickets']").await;
    assert_fits(b, "customer-new-ticket").await;
    // Only spaces: the field's `required` lets them through, so the server must say no.
    b.fill("input[name=subject]", "   ").await;
    b.fill("textarea[name=description]", DESCRIPTION).await;
    b.click("form[action='/portal/tickets'] button.primary")
        .await;
    let error = b.wait("form[action='/portal/tickets'] .field-error").await;
    let placed = b
        .client
        .execute(
            "const e = document.querySelector(\"form[action='/portal/tickets'] .field-error\");\
             const s = document.querySelector(\"input[name=subject]\");\
             const label = e.previousElementSibling;\
             return {\
               nextToSubject: !!label && label.contains(s),\
               invalid: s.getAttribute('aria-invalid'),\
               role: e.getAttribute('role'),\
               focused: document.activeElement === s,\
               description: document.querySelector('textarea[name=description]').value\
             };",
            vec![],
        )
        .await
        .unwrap();
    let text = error.text().await.unwrap();
    assert!(
        text.starts_with("Subject"),
        "the error names the field: {text:?}"
    );
    assert_eq!(
        placed["nextToSubject"],
        json!(true),
        "the error follows the subject field: {placed}"
    );
    assert_eq!(placed["invalid"], json!("true"), "{placed}");
    assert_eq!(placed["role"], json!("alert"), "{placed}");
    assert_eq!(
        placed["description"],
        json!(DESCRIPTION),
        "the typed description is kept: {placed}"
    );
    // No second copy of the error above the form.
    let errors = b
        .client
        .execute("return document.querySelectorAll('.alert').length;", vec![])
        .await
        .unwrap();
    assert_eq!(errors, json!(1), "one error, at the field");
    assert_fits(b, "customer-ticket-error").await;

    // 4. Fixed, the ticket is created and the page says so.
    b.fill("input[name=subject]", "Notes vanished after updating")
        .await;
    b.click("form[action='/portal/tickets'] button.primary")
        .await;
    b.wait_path("the new ticket's page", |p| {
        p.starts_with("/portal/tickets/")
    })
    .await;
    let notice = b.wait("p.notice[role=status]").await;
    let said = notice.text().await.unwrap();
    assert!(said.contains("Your ticket was created"), "{said:?}");
    assert!(
        notice.is_displayed().await.unwrap(),
        "the confirmation is shown"
    );
    assert_eq!(
        b.text(".ticket-head h2").await,
        "Notes vanished after updating"
    );
    assert!(
        b.text(".ticket-head .description")
            .await
            .contains(DESCRIPTION)
    );
    assert_fits(b, "customer-ticket-created").await;
}
