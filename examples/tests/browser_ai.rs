//! The AI as a person sees it, in headless Chromium against the real `helpdesk-web` with a
//! fake Gemini server (issue 16, items 6 and 7): the bot's answer streams into the chat
//! page as a provisional bubble and is then replaced by the checked, committed answer with
//! its sources; when the model starts failing (429 rate limited), the customer still gets
//! answers (offline) and staff see the "AI degraded" banner.
//!
//! Needs `scripts/setup-chromium.sh` (as `browser.rs`). Screenshots go to
//! `$CARGO_TARGET_TMPDIR/browser-ai-screenshots/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser_support;

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use browser_support::{
    Browser, require_chromium, scratch_dir, start_chromedriver, start_server_with,
};
use fantoccini::Locator;
use serde_json::json;

/// The whole scenario.
const WHOLE: Duration = Duration::from_secs(150);

const ANSWER: &str = "To reset a forgotten password, open the sign-in page, choose \
                      Forgot password and follow the link we e-mail you.";

/// The fake Gemini: streams a grounded chat answer slowly (citing the first passage of the
/// prompt), refuses other calls with 400 (not a temporary failure: LLM triage falls back
/// to rules), and answers everything with 429 once `failing`.
#[derive(Clone, Default)]
struct Fake {
    failing: Arc<AtomicBool>,
}

fn error(status: StatusCode, rpc: &str) -> Response {
    let body = json!({"error": {"code": status.as_u16(), "message": "fake", "status": rpc}});
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn gemini(State(fake): State<Fake>, uri: Uri, body: Bytes) -> Response {
    if fake.failing.load(Ordering::SeqCst) {
        return error(StatusCode::TOO_MANY_REQUESTS, "RESOURCE_EXHAUSTED");
    }
    if !uri.path().ends_with(":streamGenerateContent") {
        return error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    }
    let request = String::from_utf8_lossy(&body);
    let chunk = request
        .split("chunk_id: ")
        .nth(1)
        .map(|rest| rest.split('\\').next().unwrap().to_string())
        .unwrap_or_default();
    let answer = json!({
        "answer": ANSWER,
        "cited_chunk_ids": [chunk],
        "handoff": false,
        "handoff_reason": "",
        "resolved": false,
    })
    .to_string();
    let chars: Vec<char> = answer.chars().collect();
    let pieces: Vec<String> = chars.chunks(24).map(|c| c.iter().collect()).collect();
    let count = pieces.len();
    let events = futures_util::stream::unfold(0usize, move |i| {
        let pieces = pieces.clone();
        async move {
            if i >= count {
                return None;
            }
            // Slow enough for a person (and the test) to see the answer grow, well within
            // the chat turn's budget.
            tokio::time::sleep(Duration::from_millis(120)).await;
            let mut candidate = json!({
                "index": 0,
                "content": {"parts": [{"text": pieces[i]}], "role": "model"},
            });
            if i + 1 == count {
                candidate["finishReason"] = json!("STOP");
            }
            let event = json!({
                "candidates": [candidate],
                "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": i + 1,
                                  "totalTokenCount": 11 + i},
                "modelVersion": "fake",
            });
            Some((Ok::<_, Infallible>(format!("data: {event}\r\n\r\n")), i + 1))
        }
    });
    (
        [("content-type", "text/event-stream")],
        Body::from_stream(events),
    )
        .into_response()
}

async fn start_fake() -> (Fake, String) {
    let fake = Fake::default();
    let app = Router::new().fallback(gemini).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (fake, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_streams_and_staff_see_a_degraded_model() {
    require_chromium();
    let (fake, gemini_url) = start_fake().await;
    let scratch = scratch_dir("ai");
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-ai-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let data = scratch.join("data");
    let (server, app_port, logins) = tokio::task::spawn_blocking(move || {
        start_server_with(
            &data,
            &[
                ("GEMINI_API_KEY", "fake-key"),
                ("GEMINI_BASE_URL", &gemini_url),
            ],
        )
    })
    .await
    .unwrap();
    let (_driver, driver_port) = start_chromedriver(&scratch.join("chromedriver.log"));
    let mut b = Browser::open(driver_port, app_port, &scratch.join("profile"), shots).await;
    let outcome = tokio::time::timeout(WHOLE, async {
        // 1. The customer asks; the answer grows in a provisional bubble, then is committed.
        b.sign_in(&logins.customer, "/portal").await;
        start_chat(&b).await;
        b.fill(
            "textarea[name=text]",
            "How do I reset a forgotten password?",
        )
        .await;
        b.wait("form[action$='/message'] button.primary")
            .await
            .click()
            .await
            .unwrap();
        let partial = provisional_text(&b).await;
        assert!(
            ANSWER.starts_with(&partial) && partial.len() < ANSWER.len(),
            "a part of the answer shows while it is written: {partial:?}"
        );
        b.shot("chat-answer-streaming").await;
        let committed = b.wait_text(".thread .msg-bot .citations").await;
        assert!(!committed.trim().is_empty());
        let thread = b.text(".thread").await;
        assert!(thread.contains(ANSWER), "the committed answer: {thread}");
        assert!(
            b.client
                .find_all(Locator::Css(".msg.provisional"))
                .await
                .unwrap()
                .is_empty(),
            "the provisional bubble is gone"
        );
        b.shot("chat-answer-committed").await;

        // 2. The model fails (rate limited): chats are answered without it, and after a
        //    few failures the circuit breaker opens.
        fake.failing.store(true, Ordering::SeqCst);
        for question in ["How do I export my notes?", "Can I use Nimbus offline?"] {
            start_chat(&b).await;
            b.fill("textarea[name=text]", question).await;
            b.wait("form[action$='/message'] button.primary")
                .await
                .click()
                .await
                .unwrap();
            b.wait(".thread .msg-bot:not(.provisional)").await;
        }
        b.sign_out().await;

        // 3. Staff see why the AI answers less well, and since when.
        b.sign_in(&logins.billing_agent, "/agent").await;
        let banner = b
            .wait(".mode-banner[role=alert]")
            .await
            .text()
            .await
            .unwrap();
        assert!(banner.contains("AI degraded"), "{banner}");
        assert!(banner.contains("rate limited"), "{banner}");
        // Its times are the viewer's (Chromium runs in Tokyo), not UTC.
        assert!(!banner.contains("UTC"), "{banner}");
        let since = b.wait(".mode-banner time[data-local]").await;
        let title = since.attr("title").await.unwrap().unwrap_or_default();
        assert!(title.contains("GMT+9"), "{title}");
        b.shot("agent-sees-ai-degraded").await;
    })
    .await;
    let _ = tokio::time::timeout(Duration::from_secs(10), b.client.clone().close()).await;
    drop(server);
    outcome.unwrap_or_else(|_| panic!("the AI browser scenario took longer than {WHOLE:?}"));
    let _ = std::fs::remove_dir_all(&scratch);
}

async fn start_chat(b: &Browser) {
    b.click("nav a[href='/chat']").await;
    b.click("form[action='/chat/start'] button").await;
    b.wait_path("a chat session", |p| {
        p.starts_with("/chat/") && p.len() > 10
    })
    .await;
}

/// The text of the provisional bubble once it shows some (polled quickly: it lasts about a
/// second).
async fn provisional_text(b: &Browser) -> String {
    let started = Instant::now();
    loop {
        if let Ok(body) = b.client.find(Locator::Css(".msg.provisional .body")).await
            && let Ok(text) = body.text().await
            && !text.trim().is_empty()
        {
            return text;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no provisional answer: {}",
            b.main_text().await
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}
