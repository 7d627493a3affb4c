//! Canned responses in the web helpdesk: an agent writes one with actions, picks it by
//! name on a ticket, edits the filled-in text and sends it (text and actions in one
//! change); refusals come back on the form with what was typed; deleting asks first;
//! sharing is for admins, who see how often each is used.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::Router;
use axum::http::StatusCode;
use support::*;

/// The id of the canned response called `name` in the agent's list page.
async fn canned_id(app: &Router, b: &Browser, name: &str) -> String {
    let list = get(app, "/agent/canned", &b.cookie).await.body;
    let at = list
        .find(&format!(">{name}</a>"))
        .unwrap_or_else(|| panic!("{name} in {list}"));
    let href = list[..at].rfind("/agent/canned/").unwrap();
    list[href + "/agent/canned/".len()..at - 1].to_string()
}

#[tokio::test]
async fn an_agent_writes_picks_edits_and_sends_a_canned_response_with_its_actions() {
    let (app, creds) = app().await;
    let customer = browser(&app, &creds, &creds.customer).await;
    let path = open_ticket(&app, &customer, "Refund please", "I was charged twice.").await;
    let ticket = path.rsplit('/').next().unwrap().to_string();
    let agent = browser(&app, &creds, &creds.billing_agent).await;

    // A typo in a placeholder is refused next to the text, with everything kept.
    let form = |body: &'static str| {
        vec![
            ("name", "Refund issued"),
            ("body", body),
            ("status", "pending"),
            ("priority", "high"),
            ("add_tags", "refund, billing"),
            ("remove_tags", ""),
            ("assign", "me"),
        ]
    };
    let mut bad = form("Hi {{customer.frist_name}}, refunded.");
    bad.push(("csrf", &agent.csrf));
    let refused = post(&app, "/agent/canned", &agent.cookie, &bad).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains("{{customer.frist_name}}"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains(r#"id="body-error""#));
    assert!(refused.body.contains(r#"value="refund, billing""#));
    // An agent cannot share.
    assert!(!refused.body.contains(r#"name="shared""#));

    let mut good = form("Hi {{customer.first_name}}, ticket #{{ticket.number}} is refunded.");
    good.push(("csrf", &agent.csrf));
    let saved = post(&app, "/agent/canned", &agent.cookie, &good).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(
        saved.location.as_deref(),
        Some("/agent/canned?done=canned-saved")
    );
    let list = get(&app, "/agent/canned?done=canned-saved", &agent.cookie)
        .await
        .body;
    assert!(list.contains("Canned response saved."));
    // Its tab is the one marked in the menu, not the queue's.
    assert!(list.contains(r#"<a href="/agent/canned" class="active">"#));
    assert!(list.contains(r#"<a href="/agent" class="">"#), "{list}");
    assert!(
        list.contains("status pending · priority high · tags +refund +billing · assign to me"),
        "{list}"
    );
    // The demo's shared ones are there too; an agent sees no usage column.
    assert!(list.contains("Ask for details"));
    assert!(!list.contains("Uses ("));

    // Picked by a part of its name on the ticket: filled in for this ticket.
    let page = get(
        &app,
        &format!("/agent/tickets/{ticket}?canned_q=refund"),
        &agent.cookie,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    let first = creds.customer.name.split(' ').next().unwrap();
    assert!(
        page.body.contains(&format!("Hi {first}, ticket #")),
        "{}",
        page.body
    );
    assert!(page.body.contains("Sending it also sets: status pending"));
    let id = canned_id(&app, &agent, "Refund issued").await;
    let action = format!("/agent/tickets/{ticket}/canned/{id}");
    assert!(page.body.contains(&action));

    // Sent as edited, with its actions, in one change.
    let sent = post(
        &app,
        &action,
        &agent.cookie,
        &[("csrf", &agent.csrf), ("body", "Refunded in full today.")],
    )
    .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let page = get(&app, &format!("/agent/tickets/{ticket}"), &agent.cookie)
        .await
        .body;
    assert!(page.contains("Refunded in full today."));
    assert!(page.contains("badge status-pending"), "status moved");
    assert!(page.contains(r#"badge prio-high"#));
    let theirs = get(&app, &path, &customer.cookie).await.body;
    assert!(theirs.contains("Refunded in full today."));

    // Once resolved, the shared "Ask for details" (which moves to Pending) is refused by
    // the lifecycle: nothing is sent, and the edited text is kept on the form.
    let resolve = post(
        &app,
        &format!("/agent/tickets/{ticket}/status"),
        &agent.cookie,
        &[("csrf", &agent.csrf), ("value", "resolved")],
    )
    .await;
    assert_eq!(resolve.status, StatusCode::SEE_OTHER);
    // Shared ones are the admins' to edit: their list links them.
    let admin = browser(&app, &creds, &creds.admin).await;
    let ask = canned_id(&app, &admin, "Ask for details").await;
    let refused = post(
        &app,
        &format!("/agent/tickets/{ticket}/canned/{ask}"),
        &agent.cookie,
        &[("csrf", &agent.csrf), ("body", "Which device do you use?")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains(r#"id="canned-error""#),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("Which device do you use?"));
    let page = get(&app, &format!("/agent/tickets/{ticket}"), &agent.cookie)
        .await
        .body;
    assert!(
        !page.contains("Which device do you use?"),
        "nothing was sent"
    );

    // Another agent does not see it; the admin sees the use.
    let other = browser(&app, &creds, &creds.technical_agent).await;
    let theirs = get(&app, "/agent/canned", &other.cookie).await.body;
    assert!(!theirs.contains("Refund issued"));
    let hidden = get(&app, &format!("/agent/canned/{id}"), &other.cookie).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let list = get(&app, "/agent/canned", &admin.cookie).await.body;
    assert!(list.contains("Uses (30 days)"));
    assert!(
        !list.contains("Refund issued"),
        "an agent's own stays theirs"
    );
}

#[tokio::test]
async fn sharing_is_for_admins_and_deleting_asks_first() {
    let (app, creds) = app().await;
    let agent = browser(&app, &creds, &creds.billing_agent).await;
    let shared = [
        ("csrf", agent.csrf.as_str()),
        ("name", "Team greeting"),
        ("body", "Hello from {{company.name}}"),
        ("shared", "on"),
    ];
    let refused = post(&app, "/agent/canned", &agent.cookie, &shared).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    let admin = browser(&app, &creds, &creds.admin).await;
    let form = get(&app, "/agent/canned/new", &admin.cookie).await.body;
    assert!(form.contains(r#"name="shared""#));
    let mut as_admin = shared;
    as_admin[0].1 = &admin.csrf;
    let saved = post(&app, "/agent/canned", &admin.cookie, &as_admin).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    // The agent can use it but not change it.
    let list = get(&app, "/agent/canned", &agent.cookie).await.body;
    assert!(list.contains("Team greeting"));
    let id = canned_id(&app, &admin, "Team greeting").await;
    let change = post(
        &app,
        &format!("/agent/canned/{id}"),
        &agent.cookie,
        &[("csrf", &agent.csrf), ("name", "Mine"), ("body", "x")],
    )
    .await;
    assert_eq!(change.status, StatusCode::FORBIDDEN);
    // A name taken in the scope is refused on the form.
    let again = post(&app, "/agent/canned", &admin.cookie, &as_admin).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(
        again
            .body
            .contains("another canned response here already has this name"),
        "{}",
        again.body
    );
    assert!(again.body.contains(r#"id="name-error""#));

    let question = get(&app, &format!("/agent/canned/{id}/delete"), &admin.cookie).await;
    assert!(
        question
            .body
            .contains("Delete the canned response <strong>Team greeting</strong>?")
    );
    let unconfirmed = post(
        &app,
        &format!("/agent/canned/{id}/delete"),
        &admin.cookie,
        &[("csrf", &admin.csrf)],
    )
    .await;
    assert_eq!(
        unconfirmed.location,
        Some(format!("/agent/canned/{id}/delete"))
    );
    assert!(
        get(&app, "/agent/canned", &admin.cookie)
            .await
            .body
            .contains("Team greeting")
    );
    let deleted = post(
        &app,
        &format!("/agent/canned/{id}/delete"),
        &admin.cookie,
        &[("csrf", &admin.csrf), ("confirm", "yes")],
    )
    .await;
    assert_eq!(
        deleted.location.as_deref(),
        Some("/agent/canned?done=canned-deleted")
    );
    assert!(
        !get(&app, "/agent/canned", &admin.cookie)
            .await
            .body
            .contains("Team greeting")
    );
}
