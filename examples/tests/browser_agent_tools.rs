//! The agent's tools in a real browser (issue 20): an admin adds an automation rule that
//! puts a note on every new ticket, and it fires when the customer raises one; an agent writes a canned response with
//! a placeholder and actions, picks it by name in a ticket's reply box, edits the filled-in
//! text and sends it; the reply lands and the ticket's status and tags change with it.
//! Then the agent filters the queue, saves the filter as a view and sees its count, sets a
//! custom field on the ticket, and finds the ticket by searching the reply's words with a
//! filter on that field.
//! Runs the real `helpdesk-web` binary in headless Chromium; screenshots go to
//! `$CARGO_TARGET_TMPDIR/browser-tools-screenshots/`.
//!
//! Needs the Debian packages `chromium` and `chromium-driver`: run
//! `scripts/setup-chromium.sh` once. Without them the test fails and says so.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser_support;

use std::path::PathBuf;
use std::time::Duration;

use browser_support::{Browser, require_chromium, scratch_dir, start_chromedriver, start_server};

const WHOLE: Duration = Duration::from_secs(150);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_sends_a_canned_response_with_its_actions() {
    require_chromium();
    let scratch = scratch_dir("tools");
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-tools-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let (_server, app_port, logins) = start_server(&scratch.join("data"));
    let (_driver, driver_port) = start_chromedriver(&scratch.join("chromedriver.log"));
    let mut b = Browser::open(driver_port, app_port, &scratch.join("profile"), shots).await;
    let scenario = async {
        // The admin adds an automation rule: every new ticket gets a note.
        b.sign_in(&logins.admin, "/agent").await;
        b.goto("/admin/automations").await;
        b.wait("form[action='/admin/automations']").await;
        b.fill("input[name=name]", "Promise a first answer").await;
        b.fill("input[name=key]", "first_answer").await;
        b.find("select[name=trigger]")
            .await
            .select_by_value("created")
            .await
            .unwrap();
        b.fill(
            "textarea[name=do_note]",
            "Automation: first answer due within 4 hours.",
        )
        .await;
        b.shot("automation-form").await;
        b.click("#rule-form button.primary").await;
        let notice = b.wait_text("p.notice").await;
        assert_eq!(notice, "Rule saved.");
        assert!(b.main_text().await.contains("Promise a first answer"));
        b.sign_out().await;

        b.sign_in(&logins.customer, "/portal").await;
        let ticket = b
            .raise_ticket(
                "Refund for a double charge",
                "I see two charges for the Plus plan.",
                None,
            )
            .await;
        b.sign_out().await;

        // The agent writes a canned response of their own.
        b.sign_in(&logins.billing_agent, "/agent").await;
        b.click("nav a[href='/agent/canned']").await;
        b.wait_path("the canned responses", |p| p == "/agent/canned")
            .await;
        b.click("a[href='/agent/canned/new']").await;
        b.wait("form[action='/agent/canned']").await;
        b.fill("input[name=name]", "Refund on its way").await;
        b.fill(
            "textarea[name=body]",
            "Hi {{customer.first_name}}, the duplicate charge is refunded.",
        )
        .await;
        b.find("select[name=status]")
            .await
            .select_by_value("pending")
            .await
            .unwrap();
        b.fill("input[name=add_tags]", "refund").await;
        b.shot("canned-form").await;
        b.click("form[action='/agent/canned'] button.primary").await;
        let notice = b.wait_text("p.notice").await;
        assert_eq!(notice, "Canned response saved.");
        assert!(
            b.main_text()
                .await
                .contains("status pending · tags +refund")
        );
        b.shot("canned-list").await;

        // On the ticket: the rule's note, then the canned response searched by name,
        // filled in for this customer, edited, sent.
        let id = ticket.rsplit('/').next().unwrap();
        b.goto(&format!("/agent/tickets/{id}")).await;
        let note = b.wait_text(".thread .msg-note").await;
        assert!(note.contains("first answer due within 4 hours"), "{note}");
        b.fill("input[name=canned_q]", "refund on").await;
        b.click("#canned form[role=search] button").await;
        let text = b.wait("#canned textarea[name=body]").await;
        let filled = text.prop("value").await.unwrap().unwrap_or_default();
        assert_eq!(
            filled, "Hi Carlos, the duplicate charge is refunded.",
            "filled in for the ticket's customer"
        );
        assert!(
            b.text("#canned")
                .await
                .contains("Sending it also sets: status pending")
        );
        text.send_keys(" It shows within 5 days.").await.unwrap();
        b.shot("canned-picked").await;
        b.click("#canned button.primary").await;
        b.wait(".badge.status-pending").await;
        let thread = b.wait_text(".thread .msg-agent").await;
        assert!(
            thread.contains("the duplicate charge is refunded. It shows within 5 days."),
            "{thread}"
        );
        let tags = b.text("#fact-tags").await;
        assert_eq!(tags, "refund");
        b.shot("canned-sent").await;

        // A view: the queue filtered to Pending, saved, listed with its count.
        b.goto("/agent").await;
        b.find("form.filters select[name=status]")
            .await
            .select_by_value("pending")
            .await
            .unwrap();
        b.click("form.filters button.primary").await;
        b.wait_path("the filtered queue", |p| p.starts_with("/agent"))
            .await;
        // Opening the details element loads no page: a plain element click.
        b.wait("#views summary").await.click().await.unwrap();
        b.fill(
            "form[action='/agent/views'] input[name=name]",
            "Waiting on the customer",
        )
        .await;
        b.click("form[action='/agent/views'] button").await;
        let title = b.wait_text("main h1").await;
        assert_eq!(title, "View: Waiting on the customer");
        let count = b.text("#views .chip.active [data-count]").await;
        let rows = b
            .client
            .find_all(fantoccini::Locator::Css("#queue-results tbody tr"))
            .await
            .unwrap()
            .len();
        assert_eq!(count, rows.to_string(), "the count is what the view lists");
        assert!(rows >= 1, "the ticket just set to Pending is in it");
        b.shot("view-saved").await;

        // A custom field: the plan set on the ticket page.
        b.goto(&format!("/agent/tickets/{id}")).await;
        b.find("#fields select[name='f.plan']")
            .await
            .select_by_value("Pro")
            .await
            .unwrap();
        b.click("#fields button").await;
        let notice = b.wait_text("p.notice").await;
        assert_eq!(notice, "Fields saved.");
        let chosen = b.find("#fields select[name='f.plan']").await;
        assert_eq!(chosen.prop("value").await.unwrap().as_deref(), Some("Pro"));
        b.shot("field-set").await;

        // Search: the words of the sent reply, filtered on the plan, the match marked.
        b.click("nav a[href='/search']").await;
        b.wait_path("the search page", |p| p == "/search").await;
        b.fill("input[name=q]", "duplicate refunded").await;
        b.find("select[name=field]")
            .await
            .select_by_value("plan=Pro")
            .await
            .unwrap();
        b.click("form.search-form button.primary").await;
        let result = b.wait_text(".search-result").await;
        assert!(result.contains("Refund for a double charge"), "{result}");
        assert!(result.contains("In the message:"), "{result}");
        let marked = b.text(".search-result mark").await;
        assert_eq!(marked.to_lowercase(), "duplicate");
        b.shot("search").await;
    };
    let outcome = tokio::time::timeout(WHOLE, scenario).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), b.client.clone().close()).await;
    outcome.unwrap_or_else(|_| panic!("the browser scenario took longer than {WHOLE:?}"));
    let _ = std::fs::remove_dir_all(&scratch);
}
