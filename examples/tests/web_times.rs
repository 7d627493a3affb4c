//! Times in the viewer's zone (issue 16, item 11): every timestamp on a page is a
//! `<time datetime="…Z">` element with UTC text, and the page loads the same-origin script
//! that rewrites them in the browser's zone (the browser test checks the rewrite).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use support::*;

/// The `datetime` values of the page's `<time>` elements, checked to be RFC 3339 UTC.
fn datetimes(body: &str) -> Vec<String> {
    body.split("<time datetime=\"")
        .skip(1)
        .map(|rest| {
            let value = rest.split('"').next().unwrap().to_string();
            assert!(value.ends_with('Z'), "{value}");
            assert!(value.parse::<jiff::Timestamp>().is_ok(), "{value}");
            let text = rest.split('>').nth(1).unwrap();
            assert!(text.ends_with(" UTC</time"), "{text}");
            value
        })
        .collect()
}

#[tokio::test]
async fn every_time_is_a_time_element_and_the_script_is_same_origin() {
    let (app, creds) = app().await;
    let customer = browser(&app, &creds, &creds.customer).await;
    let path = open_ticket(&app, &customer, "Sync stopped", "Nothing syncs since noon.").await;
    let page = get(&app, &path, &customer.cookie).await.body;
    assert!(!datetimes(&page).is_empty(), "{page}");
    assert!(page.contains(r#"<script src="/static/time.js" defer></script>"#));
    assert!(!datetimes(&get(&app, "/portal", &customer.cookie).await.body).is_empty());

    let agent = browser(&app, &creds, &creds.technical_agent).await;
    for page in ["/agent", &path.replace("/portal/", "/agent/")] {
        let body = get(&app, page, &agent.cookie).await.body;
        assert!(!datetimes(&body).is_empty(), "{page}: {body}");
        // No bare UTC text outside a time element.
        let outside: String = body
            .split("<time ")
            .map(|part| part.split("</time>").last().unwrap())
            .collect();
        assert!(!outside.contains(" UTC"), "{page}: a time outside <time>");
    }
    let admin = browser(&app, &creds, &creds.admin).await;
    assert!(!datetimes(&get(&app, "/admin/kb", &admin.cookie).await.body).is_empty());

    let script = get(&app, "/static/time.js", "").await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.body.contains("Intl.DateTimeFormat"));
    assert!(script.body.contains("Intl.RelativeTimeFormat"));
    // The page's policy allows it: scripts from the app itself only.
    let csp = script.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
}
