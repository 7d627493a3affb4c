//! A live update in a real browser (issue 17): an agent's queue page shows a ticket a
//! customer opens through the JSON API while the page is open, without a reload. The page
//! follows `/api/v1/events` (Server-Sent Events, authenticated by the session cookie) and
//! swaps in the fresh queue. Runs the real `helpdesk-web` binary in headless Chromium.
//!
//! Needs the Debian packages `chromium` and `chromium-driver`: run
//! `scripts/setup-chromium.sh` once. Without them the test fails and says so.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser_support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use browser_support::{Browser, require_chromium, scratch_dir, start_chromedriver, start_server};
use fantoccini::Locator;
use serde_json::{Value, json};

const WHOLE: Duration = Duration::from_secs(90);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_queue_shows_a_new_ticket_without_a_reload() {
    require_chromium();
    let scratch = scratch_dir("live");
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-live-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let (_server, app_port, logins) = start_server(&scratch.join("data"));
    let (_driver, driver_port) = start_chromedriver(&scratch.join("chromedriver.log"));
    let mut browser = Browser::open(driver_port, app_port, &scratch.join("profile"), shots).await;
    let scenario = async {
        browser.sign_in(&logins.billing_agent, "/agent").await;
        // The stream is open once the page says so.
        let started = Instant::now();
        while browser
            .client
            .find(Locator::Css("[data-live-status][data-state='open']"))
            .await
            .is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the live stream never opened"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let marker: String = browser
            .client
            .execute(
                "document.body.setAttribute('data-marker', 'same-page'); return 'ok';",
                vec![],
            )
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(marker, "ok");

        // The customer opens a ticket through the JSON API, in another client.
        let base = format!("http://127.0.0.1:{app_port}/api/v1");
        let http = reqwest::Client::new();
        let (email, password) = &logins.customer;
        let login: Value = http
            .post(format!("{base}/auth/login"))
            .json(&json!({"tenant": "nimbus", "email": email, "password": password}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["token"].as_str().unwrap();
        let subject = "Live: the sync icon spins forever";
        let created = http
            .post(format!("{base}/tickets"))
            .bearer_auth(token)
            .json(&json!({"subject": subject, "description": "Since the update the sync never finishes."}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());

        let started = Instant::now();
        loop {
            // Read in one script: the element may be swapped between a find and a read.
            let queue = browser
                .client
                .execute(
                    "return document.getElementById('queue-results').innerText;",
                    vec![],
                )
                .await
                .unwrap()
                .as_str()
                .unwrap_or_default()
                .to_string();
            if queue.contains(subject) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the queue never showed the new ticket: {queue}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let same: Value = browser
            .client
            .execute("return document.body.getAttribute('data-marker');", vec![])
            .await
            .unwrap();
        assert_eq!(
            same,
            json!("same-page"),
            "the page updated in place, not by a reload"
        );
        browser.shot("queue-updated-live").await;
    };
    let outcome = tokio::time::timeout(WHOLE, scenario).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), browser.client.clone().close()).await;
    outcome.unwrap_or_else(|_| panic!("the live scenario took longer than {WHOLE:?}"));
    let _ = std::fs::remove_dir_all(&scratch);
}
