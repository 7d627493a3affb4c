//! The bot's answer streams into the chat page as the model writes it (issue 16, item 7):
//! provisional text first, then the committed turn; an answer that fails the grounding
//! check when finished is not kept, the chat is handed off instead.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::http::StatusCode;
use helpdesk_core::{
    DeltaStream, FinishReason, LanguageModel, LlmRequest, LlmResponse, ModelError, StreamDelta,
    TokenUsage,
};
use helpdesk_examples::web::seed::{DemoCredentials, seed_demo};
use helpdesk_examples::web::{AppState, Backends, WebOptions, router};
use support::*;

const ANSWER: &str = "Open Settings, choose \"Forgot password\" and follow the e-mailed link.";

/// A model that answers the chat's JSON in small pieces, citing the first passage it was
/// given (`grounded`) or a passage it was not given.
#[derive(Debug)]
struct PieceByPiece {
    grounded: bool,
}

impl PieceByPiece {
    fn answer(&self, request: &LlmRequest) -> String {
        let prompt = format!("{request:?}");
        let chunk = prompt
            .split("chunk_id: ")
            .nth(1)
            .map(|rest| rest.split('\\').next().unwrap().to_string())
            .unwrap_or_default();
        let cited = if self.grounded {
            chunk
        } else {
            "made-up:0".into()
        };
        serde_json::json!({
            "answer": ANSWER,
            "cited_chunk_ids": [cited],
            "handoff": false,
            "handoff_reason": "",
            "resolved": false,
        })
        .to_string()
    }
}

#[async_trait]
impl LanguageModel for PieceByPiece {
    fn model_id(&self) -> &str {
        "piece-by-piece"
    }

    async fn generate(&self, request: &LlmRequest) -> Result<LlmResponse, ModelError> {
        Ok(LlmResponse {
            text: self.answer(request),
            finish_reason: FinishReason::Stop,
            usage: TokenUsage {
                prompt_tokens: 100,
                output_tokens: 30,
                total_tokens: 130,
            },
            model: "piece-by-piece".into(),
        })
    }

    async fn stream(&self, request: &LlmRequest) -> Result<DeltaStream, ModelError> {
        let text: Vec<char> = self.answer(request).chars().collect();
        let last = text.len().div_ceil(12) - 1;
        // As providers do, the usage comes with the last piece.
        let pieces: Vec<Result<StreamDelta, ModelError>> = text
            .chunks(12)
            .enumerate()
            .map(|(i, piece)| {
                Ok(StreamDelta {
                    text: piece.iter().collect(),
                    finish_reason: (i == last).then_some(FinishReason::Stop),
                    usage: (i == last).then_some(TokenUsage {
                        prompt_tokens: 1234,
                        output_tokens: 56,
                        total_tokens: 1290,
                    }),
                })
            })
            .collect();
        Ok(Box::pin(futures_util::stream::iter(pieces)))
    }
}

async fn app_with_model(grounded: bool) -> (Router, DemoCredentials) {
    let mut backends = Backends::offline_demo();
    backends.model = Some(Arc::new(PieceByPiece { grounded }));
    let helpdesk = backends.build().unwrap();
    let creds = seed_demo(&helpdesk, backends.knowledge_base.as_ref())
        .await
        .unwrap();
    let state = AppState::new(
        helpdesk,
        backends.knowledge_base.clone(),
        WebOptions::default(),
    )
    .unwrap();
    (router(state), creds)
}

/// Starts a chat and sends the question to the streaming endpoint: the lines it answered
/// and the chat page's path.
async fn ask(app: &Router, creds: &DemoCredentials) -> (Vec<serde_json::Value>, String, Browser) {
    let customer = browser(app, creds, &creds.customer).await;
    let started = post(
        app,
        "/chat/start",
        &customer.cookie,
        &[("csrf", &customer.csrf)],
    )
    .await;
    let chat = started.location.unwrap();
    let reply = post(
        app,
        &format!("{chat}/message/stream"),
        &customer.cookie,
        &[
            ("csrf", &customer.csrf),
            ("text", "How do I reset a forgotten password?"),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        reply.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/x-ndjson")
    );
    let lines = reply
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (lines, chat, customer)
}

fn provisional(lines: &[serde_json::Value]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| l["provisional"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn the_answer_streams_then_is_committed() {
    let (app, creds) = app_with_model(true).await;
    let (lines, chat, customer) = ask(&app, &creds).await;
    let shown = provisional(&lines);
    assert!(shown.len() >= 3, "streamed in pieces: {lines:?}");
    // The text grows piece by piece to the whole answer, each a start of the next.
    for pair in shown.windows(2) {
        assert!(pair[1].starts_with(&pair[0]) && pair[1].len() > pair[0].len());
    }
    assert_eq!(shown.last().unwrap(), ANSWER);
    assert_eq!(lines.last().unwrap()["done"], "answered", "{lines:?}");
    let page = get(&app, &chat, &customer.cookie).await.body;
    assert!(
        page.contains("Open Settings, choose &#34;Forgot password&#34;"),
        "{page}"
    );
    assert!(page.contains("Sources:"));

    // What the streamed answer cost shows on the admin's analytics page.
    let admin = browser(&app, &creds, &creds.admin).await;
    let analytics = get(&app, "/admin/analytics", &admin.cookie).await.body;
    assert!(analytics.contains("id=\"ai-usage\""), "{analytics}");
    assert!(
        analytics
            .contains("<td>chat</td><td>piece-by-piece</td><td>1</td><td>1234</td><td>56</td>"),
        "{analytics}"
    );
}

#[tokio::test]
async fn an_ungrounded_answer_is_shown_provisionally_but_not_kept() {
    let (app, creds) = app_with_model(false).await;
    let (lines, chat, customer) = ask(&app, &creds).await;
    assert_eq!(provisional(&lines).last().unwrap(), ANSWER, "it streamed");
    assert_eq!(lines.last().unwrap()["done"], "handed_off", "{lines:?}");
    let page = get(&app, &chat, &customer.cookie).await.body;
    assert!(
        !page.contains("Open Settings, choose"),
        "not committed: {page}"
    );
    assert!(page.contains("passing this conversation to a member of our support team"));
}

#[tokio::test]
async fn a_refused_message_ends_the_stream_with_the_reason() {
    let (app, creds) = app_with_model(true).await;
    let customer = browser(&app, &creds, &creds.customer).await;
    let started = post(
        &app,
        "/chat/start",
        &customer.cookie,
        &[("csrf", &customer.csrf)],
    )
    .await;
    let chat = started.location.unwrap();
    let reply = post(
        &app,
        &format!("{chat}/message/stream"),
        &customer.cookie,
        &[("csrf", &customer.csrf), ("text", "  ")],
    )
    .await;
    let last: serde_json::Value = serde_json::from_str(reply.body.lines().last().unwrap()).unwrap();
    assert!(
        last["error"].as_str().unwrap().contains("Your message"),
        "{last}"
    );
    // The chat page's script streams the form.
    let script = get(&app, "/static/chat.js", "").await.body;
    assert!(script.contains("/stream") && script.contains("provisional"));
}
