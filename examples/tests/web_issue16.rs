//! The web helpdesk as a person meets it (issue 16): a suggested reply sends what the agent
//! edited, sign-in and sign-up are throttled and do not reveal accounts, sessions expire when
//! idle, pages with personal data are not cached, form errors show in place.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
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
