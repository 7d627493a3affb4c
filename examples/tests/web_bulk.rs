//! Bulk changes from the agent queue: ticked tickets change together, each through the
//! same checks as by hand, and the answer says what happened to each; a bad form is
//! refused on the page with nothing changed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use support::*;

#[tokio::test]
async fn ticked_tickets_change_together_with_a_result_each() {
    let (app, creds) = app().await;
    let customer = browser(&app, &creds, &creds.customer).await;
    let first = open_ticket(&app, &customer, "Sync broken", "Nothing syncs.").await;
    let second = open_ticket(&app, &customer, "Sync still broken", "Still nothing.").await;
    let id = |path: &str| path.rsplit('/').next().unwrap().to_string();
    let (a, b) = (id(&first), id(&second));
    let agent = browser(&app, &creds, &creds.technical_agent).await;

    // The queue offers a box per row and the bulk form.
    let queue = get(&app, "/agent", &agent.cookie).await.body;
    assert!(
        queue.contains(&format!(r#"name="ids" value="{a}" form="bulk""#)),
        "{queue}"
    );
    assert!(queue.contains(r#"action="/agent/bulk""#));

    // Resolve the second by hand first: Resolved -> Pending is refused for it alone.
    let resolved = post(
        &app,
        &format!("/agent/tickets/{b}/status"),
        &agent.cookie,
        &[("csrf", &agent.csrf), ("value", "resolved")],
    )
    .await;
    assert_eq!(resolved.status, StatusCode::SEE_OTHER);
    let answer = post(
        &app,
        "/agent/bulk",
        &agent.cookie,
        &[
            ("csrf", &agent.csrf),
            ("ids", &a),
            ("ids", &b),
            ("status", "pending"),
            ("assign", "me"),
            ("add_tags", "sync, outage"),
            ("remove_tags", ""),
        ],
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(
        answer.body.contains("Changed 1 of 2 tickets."),
        "{}",
        answer.body
    );
    assert!(answer.body.contains("not changed: "), "{}", answer.body);
    let page = get(&app, &format!("/agent/tickets/{a}"), &agent.cookie)
        .await
        .body;
    assert!(page.contains("badge status-pending"));
    assert!(
        page.contains(r#"<dd id="fact-tags">sync, outage</dd>"#),
        "{page}"
    );
    let page = get(&app, &format!("/agent/tickets/{b}"), &agent.cookie)
        .await
        .body;
    assert!(page.contains("badge status-resolved"));
    assert!(
        !page.contains("fact-tags"),
        "the refused ticket got no tag either"
    );

    // Nothing ticked, no change chosen, a forged id: refused on the page.
    for form in [
        vec![("status", "pending")],
        vec![("ids", a.as_str())],
        vec![("ids", "not-an-id"), ("status", "pending")],
    ] {
        let mut form = form;
        form.push(("csrf", &agent.csrf));
        let refused = post(&app, "/agent/bulk", &agent.cookie, &form).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{form:?}");
        assert!(refused.body.contains(r#"role="alert""#), "{}", refused.body);
    }
    // Customers have no bulk changes.
    let theirs = post(
        &app,
        "/agent/bulk",
        &customer.cookie,
        &[("csrf", &customer.csrf), ("ids", &a), ("status", "open")],
    )
    .await;
    assert_ne!(theirs.status, StatusCode::OK);
    let page = get(&app, &format!("/agent/tickets/{a}"), &agent.cookie)
        .await
        .body;
    assert!(page.contains("badge status-pending"));
}
