//! Saved views in the agent queue: the queue's filter saved as a view, listed with its
//! count, shown by `?view=`, shared by admins only, a taken name refused next to the name,
//! deleted after asking.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use support::*;

/// The count shown beside the view called `name` on the queue page.
fn count_of(page: &str, name: &str) -> u64 {
    let at = page
        .find(&format!(">{name} <span class=\"badge\" data-count>"))
        .unwrap_or_else(|| panic!("{name} in {page}"));
    let rest = &page[at + name.len() + 1..];
    let start = rest.find("data-count>").unwrap() + "data-count>".len();
    rest[start..].split('<').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn an_agent_saves_a_filter_as_a_view_and_sees_its_count() {
    let (app, creds) = app().await;
    let agent = browser(&app, &creds, &creds.billing_agent).await;
    let queue = get(&app, "/agent", &agent.cookie).await.body;
    assert!(queue.contains("Save these filters as a view"));
    // An agent cannot share.
    assert!(!queue.contains(r#"name="shared""#));

    let saved = post(
        &app,
        "/agent/views",
        &agent.cookie,
        &[
            ("csrf", &agent.csrf),
            ("name", "Unassigned open"),
            ("status", "active"),
            ("assignee", "unassigned"),
            ("q", ""),
        ],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let shown = saved.location.unwrap();
    assert!(shown.starts_with("/agent?view="), "{shown}");
    let page = get(&app, &shown, &agent.cookie).await.body;
    assert!(page.contains("View: Unassigned open"));
    assert!(page.contains(r#"aria-current="page""#));
    let before = count_of(&page, "Unassigned open");

    // A new ticket nobody has is counted.
    let customer = browser(&app, &creds, &creds.customer).await;
    open_ticket(&app, &customer, "Where is my invoice", "I cannot find it.").await;
    let page = get(&app, &shown, &agent.cookie).await.body;
    let rows = page.matches(r#"name="ids""#).count() as u64;
    let after = count_of(&page, "Unassigned open");
    // Routing may give it to an agent at once; the count and the list agree either way.
    assert_eq!(after, rows, "{page}");
    assert!(after >= before);

    // The same name again is refused next to the name, with the name kept.
    let again = post(
        &app,
        "/agent/views",
        &agent.cookie,
        &[
            ("csrf", &agent.csrf),
            ("name", "unassigned OPEN"),
            ("status", "all"),
        ],
    )
    .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(
        again
            .body
            .contains("You already have a view with this name.")
    );
    assert!(again.body.contains(r#"value="unassigned OPEN""#));

    // Another agent does not see it; sharing is for admins.
    let other = browser(&app, &creds, &creds.technical_agent).await;
    let theirs = get(&app, "/agent", &other.cookie).await.body;
    assert!(!theirs.contains("Unassigned open"));
    let hidden = get(&app, &shown, &other.cookie).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let shared = post(
        &app,
        "/agent/views",
        &other.cookie,
        &[("csrf", &other.csrf), ("name", "Team"), ("shared", "on")],
    )
    .await;
    assert_eq!(shared.status, StatusCode::FORBIDDEN);
    let admin = browser(&app, &creds, &creds.admin).await;
    let shared = post(
        &app,
        "/agent/views",
        &admin.cookie,
        &[
            ("csrf", &admin.csrf),
            ("name", "Urgent for everyone"),
            ("priority", "urgent"),
            ("shared", "on"),
        ],
    )
    .await;
    assert_eq!(shared.status, StatusCode::SEE_OTHER, "{}", shared.body);
    let theirs = get(&app, "/agent", &other.cookie).await.body;
    assert!(theirs.contains("Urgent for everyone"));

    // Deleting asks first.
    let id = shown.trim_start_matches("/agent?view=");
    let question = get(&app, &format!("/agent/views/{id}/delete"), &agent.cookie).await;
    assert!(
        question
            .body
            .contains("Delete the view <strong>Unassigned open</strong>?")
    );
    let deleted = post(
        &app,
        &format!("/agent/views/{id}/delete"),
        &agent.cookie,
        &[("csrf", &agent.csrf), ("confirm", "yes")],
    )
    .await;
    assert_eq!(
        deleted.location.as_deref(),
        Some("/agent?done=view-deleted")
    );
    let queue = get(&app, "/agent?done=view-deleted", &agent.cookie)
        .await
        .body;
    assert!(queue.contains("View deleted."));
    assert!(!queue.contains("Unassigned open"));
}
