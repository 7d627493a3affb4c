//! Automations in the web helpdesk: the admin adds a rule on the automations page (a bad
//! one refused on the form, what was typed kept), it fires when a customer opens a ticket,
//! the ticket shows what it did, and testing a rule against a ticket changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use support::*;

#[tokio::test]
async fn an_admin_adds_a_rule_that_fires_and_tests_one() {
    let (app, creds) = app().await;
    let admin = browser(&app, &creds, &creds.admin).await;
    let page = get(&app, "/admin/automations", &admin.cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("No rules yet."));

    // Nothing to do: refused on the form with the name kept.
    let empty = post(
        &app,
        "/admin/automations",
        &admin.cookie,
        &[
            ("csrf", &admin.csrf),
            ("name", "Does nothing"),
            ("key", "nothing"),
            ("enabled", "on"),
            ("trigger", "created"),
        ],
    )
    .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(
        empty
            .body
            .contains("Choose at least one thing for the rule to do.")
    );
    assert!(empty.body.contains(r#"value="Does nothing""#));

    let added = post(
        &app,
        "/admin/automations",
        &admin.cookie,
        &[
            ("csrf", &admin.csrf),
            ("name", "Web tickets first"),
            ("key", "web_first"),
            ("enabled", "on"),
            ("trigger", "created"),
            ("if_channel", "form"),
            ("do_priority", "urgent"),
            ("do_add_tags", "from-web, triaged"),
            (
                "do_note",
                "Raised on the web form: check the account first.",
            ),
        ],
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let list = get(&app, "/admin/automations", &admin.cookie).await.body;
    assert!(list.contains("Web tickets first"));
    assert!(list.contains("channel is form"));
    assert!(list.contains("priority urgent"));

    // It fires when the customer raises a ticket.
    let customer = browser(&app, &creds, &creds.customer).await;
    let path = open_ticket(&app, &customer, "Export is broken", "PDF export fails.").await;
    let id = path.rsplit('/').next().unwrap().to_string();
    let agent = browser(&app, &creds, &creds.billing_agent).await;
    let ticket = get(&app, &format!("/agent/tickets/{id}"), &agent.cookie)
        .await
        .body;
    assert!(
        ticket.contains("Raised on the web form: check the account first."),
        "{ticket}"
    );
    assert!(ticket.contains("from-web, triaged"), "the tags: {ticket}");
    assert!(ticket.contains("prio-urgent"));
    let theirs = get(&app, &path, &customer.cookie).await.body;
    assert!(
        !theirs.contains("check the account first"),
        "notes stay internal"
    );

    // Testing: the number of the ticket, the rule, and nothing changes.
    let number = ticket
        .split("<dd id=\"fact-number\">#")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_string();
    let tested = get(
        &app,
        &format!("/admin/automations/test?rule=web_first&number={number}"),
        &admin.cookie,
    )
    .await
    .body;
    assert!(
        tested.contains(&format!("Matches ticket #{number}.")),
        "{tested}"
    );
    let again = get(&app, &format!("/agent/tickets/{id}"), &agent.cookie)
        .await
        .body;
    assert_eq!(
        again.matches("check the account first").count(),
        ticket.matches("check the account first").count(),
        "testing added nothing"
    );
    let unknown = get(
        &app,
        "/admin/automations/test?rule=web_first&number=99999",
        &admin.cookie,
    )
    .await
    .body;
    assert!(unknown.contains("There is no ticket #99999."));

    // Agents cannot reach the page; deleting asks first.
    let forbidden = get(&app, "/admin/automations", &agent.cookie).await;
    assert_ne!(forbidden.status, StatusCode::OK);
    let ask = get(&app, "/admin/automations/web_first/delete", &admin.cookie)
        .await
        .body;
    assert!(ask.contains("Delete the rule"));
    let gone = post(
        &app,
        "/admin/automations/web_first/delete",
        &admin.cookie,
        &[("csrf", &admin.csrf)],
    )
    .await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert!(
        get(&app, "/admin/automations", &admin.cookie)
            .await
            .body
            .contains("No rules yet.")
    );
}

#[tokio::test]
async fn a_rule_sends_a_shared_canned_response_to_the_customer() {
    let (app, creds) = app().await;
    let admin = browser(&app, &creds, &creds.admin).await;
    let page = get(&app, "/admin/automations", &admin.cookie).await.body;
    // The demo's shared "Ask for details", offered by id in the form.
    let before = page
        .split(">Ask for details</option>")
        .next()
        .expect("the canned response is offered");
    let id = before
        .rsplit("value=\"")
        .next()
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let added = post(
        &app,
        "/admin/automations",
        &admin.cookie,
        &[
            ("csrf", &admin.csrf),
            ("name", "Ask web tickets for details"),
            ("key", "ask_details"),
            ("enabled", "on"),
            ("trigger", "created"),
            ("if_channel", "form"),
            ("do_canned", &id),
        ],
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let list = get(&app, "/admin/automations", &admin.cookie).await.body;
    assert!(list.contains("send “Ask for details”"), "{list}");

    let customer = browser(&app, &creds, &creds.customer).await;
    let path = open_ticket(&app, &customer, "Sync stopped", "Nothing syncs.").await;
    let theirs = get(&app, &path, &customer.cookie).await.body;
    assert!(theirs.contains("Thanks for writing in."), "{theirs}");
    assert!(!theirs.contains("{{customer.first_name}}"), "filled in");
    // Saving it again with a canned response that is not there is refused on the form.
    let refused = post(
        &app,
        "/admin/automations/ask_details",
        &admin.cookie,
        &[
            ("csrf", &admin.csrf),
            ("name", "Ask web tickets for details"),
            ("enabled", "on"),
            ("trigger", "created"),
            ("do_canned", "00000000-0000-7000-8000-000000000000"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains("not a shared canned response"),
        "{}",
        refused.body
    );
}

#[tokio::test]
async fn an_sla_due_soon_rule_is_added_with_its_minutes() {
    let (app, creds) = app().await;
    let admin = browser(&app, &creds, &creds.admin).await;
    let form = |minutes: &'static str| {
        [
            ("name", "Warn before the SLA"),
            ("key", "due_soon"),
            ("enabled", "on"),
            ("trigger", "sla_due_soon"),
            ("due_minutes", minutes),
            ("do_add_tags", "due-soon"),
        ]
    };
    let mut bad = vec![("csrf", admin.csrf.as_str())];
    bad.extend(form("soon"));
    let refused = post(&app, "/admin/automations", &admin.cookie, &bad).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("Give whole minutes"),
        "{}",
        refused.body
    );
    let mut good = vec![("csrf", admin.csrf.as_str())];
    good.extend(form("30"));
    let added = post(&app, "/admin/automations", &admin.cookie, &good).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let list = get(&app, "/admin/automations", &admin.cookie).await.body;
    assert!(list.contains("due within 30 min"), "{list}");
    let edit = get(&app, "/admin/automations/due_soon", &admin.cookie)
        .await
        .body;
    assert!(edit.contains(r#"name="due_minutes" type="number" min="1" max="10080" value="30""#));
}
