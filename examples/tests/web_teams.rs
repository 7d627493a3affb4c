//! Teams in the web helpdesk: the admin adds a team on the teams page (a taken key refused
//! on the form, what was typed kept), a new ticket of its category goes to the team and
//! its member, the ticket page shows the team and offers only members, someone outside
//! the team is refused next to the assignee, the queue filters by team, the ticket moves
//! to no team, and analytics counts open tickets per team.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use support::*;

/// The value of the checkbox labelled `name` on the teams form.
fn member_id(page: &str, name: &str) -> String {
    let before = page
        .split(&format!("> {name}</label>"))
        .next()
        .expect("the member is offered");
    before
        .rsplit("value=\"")
        .next()
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn an_admin_adds_a_team_that_takes_its_categorys_tickets() {
    let (app, creds) = app().await;
    let admin = browser(&app, &creds, &creds.admin).await;
    let page = get(&app, "/admin/teams", &admin.cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("No teams yet."));
    let maya = member_id(&page.body, &creds.billing_agent.name);
    let leo = member_id(&page.body, &creds.technical_agent.name);

    let team = |key: &'static str, name: &'static str| {
        vec![
            ("key", key.to_string()),
            ("name", name.to_string()),
            ("member", maya.clone()),
            ("category", "billing".to_string()),
        ]
    };
    let form = |fields: &[(&'static str, String)]| {
        let mut f: Vec<(&str, String)> = vec![("csrf", admin.csrf.clone())];
        f.extend(fields.iter().cloned());
        f
    };
    let pairs = form(&team("billing", "Billing"));
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let added = post(&app, "/admin/teams", &admin.cookie, &borrowed).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let pairs = form(&team("billing", "Billing again"));
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let taken = post(&app, "/admin/teams", &admin.cookie, &borrowed).await;
    assert_eq!(taken.status, StatusCode::BAD_REQUEST);
    assert!(taken.body.contains("A team with this key exists already."));
    assert!(taken.body.contains(r#"value="Billing again""#), "kept");
    let list = get(&app, "/admin/teams", &admin.cookie).await.body;
    assert!(list.contains("Billing"));
    assert!(list.contains(&creds.billing_agent.name));

    // A billing ticket goes to the team and to Maya.
    let customer = browser(&app, &creds, &creds.customer).await;
    let path = open_ticket(
        &app,
        &customer,
        "Charged twice",
        "I was charged twice, please refund.",
    )
    .await;
    let id = path.rsplit('/').next().unwrap().to_string();
    let agent = browser(&app, &creds, &creds.billing_agent).await;
    let ticket = get(&app, &format!("/agent/tickets/{id}"), &agent.cookie)
        .await
        .body;
    assert!(ticket.contains(r#"id="fact-team""#), "{ticket}");
    assert!(ticket.contains("/team\" class=\"side-form\""));
    assert!(
        !ticket.contains(&format!(r#"<option value="{leo}""#)),
        "only members are offered"
    );
    let theirs = get(&app, &path, &customer.cookie).await.body;
    assert!(!theirs.contains("fact-team"));

    // Leo is not in the team: refused next to the assignee.
    let refused = post(
        &app,
        &format!("/agent/tickets/{id}/assign"),
        &agent.cookie,
        &[("csrf", &agent.csrf), ("value", &leo)],
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("not a member of the ticket"),
        "{}",
        refused.body
    );

    // The queue filters by team.
    let queue = get(&app, "/agent?status=all&team=billing", &agent.cookie)
        .await
        .body;
    assert!(queue.contains("Charged twice"));
    let none = get(&app, "/agent?status=all&team=nobody", &agent.cookie)
        .await
        .body;
    assert!(!none.contains("Charged twice"));

    // Analytics counts it.
    let analytics = get(&app, "/admin/analytics", &admin.cookie).await.body;
    assert!(analytics.contains("Open tickets by team"));

    // To no team: Leo may take it now.
    let moved = post(
        &app,
        &format!("/agent/tickets/{id}/team"),
        &agent.cookie,
        &[("csrf", &agent.csrf), ("value", "")],
    )
    .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    let assigned = post(
        &app,
        &format!("/agent/tickets/{id}/assign"),
        &agent.cookie,
        &[("csrf", &agent.csrf), ("value", &leo)],
    )
    .await;
    assert_eq!(assigned.status, StatusCode::SEE_OTHER, "{}", assigned.body);
}

#[tokio::test]
async fn an_admin_publishes_a_view_to_a_team() {
    let (app, creds) = app().await;
    let admin = browser(&app, &creds, &creds.admin).await;
    let page = get(&app, "/admin/teams", &admin.cookie).await.body;
    let maya = member_id(&page, &creds.billing_agent.name);
    let added = post(
        &app,
        "/admin/teams",
        &admin.cookie,
        &[
            ("csrf", &admin.csrf),
            ("key", "billing"),
            ("name", "Billing"),
            ("member", &maya),
        ],
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let queue = get(&app, "/agent", &admin.cookie).await.body;
    assert!(
        queue.contains(r#"<select name="audience">"#),
        "the admin picks whom"
    );
    let saved = post(
        &app,
        "/agent/views",
        &admin.cookie,
        &[
            ("csrf", &admin.csrf),
            ("name", "Billing open"),
            ("status", "active"),
            ("team", "billing"),
            ("audience", "billing"),
        ],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let maya = browser(&app, &creds, &creds.billing_agent).await;
    let hers = get(&app, "/agent", &maya.cookie).await.body;
    assert!(hers.contains("Billing open"), "a member sees it");
    assert!(hers.contains("(team Billing)"));
    let leo = browser(&app, &creds, &creds.technical_agent).await;
    let his = get(&app, "/agent", &leo.cookie).await.body;
    assert!(!his.contains("Billing open"), "not in the team");
}
