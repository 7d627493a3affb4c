//! The bot's streamed answer (`Helpdesk::chat_message_streaming`): the callback sees the
//! answer text while it is written; only a grounded finished answer is committed; a model
//! failure falls back as without streaming; without a model nothing is streamed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ai_common;
mod common;

use std::sync::Mutex;

use ai_common::{AiWorld, Wiring, ai_world, chat_json};
use helpdesk_core::ModelError;
use helpdesk_core::ai::{ChatReply, ChatTurnOutcome};
use helpdesk_core::domain::ChatState;
use helpdesk_core::testkit::MockTurn;

const QUESTION: &str = "How do I reset my password?";
const ANSWER: &str = "Open the login page and click \"Forgot password\".";

/// One streamed turn: the outcome and every provisional text the callback got.
async fn streamed(ai: &AiWorld) -> (ChatTurnOutcome, Vec<String>) {
    let w = &ai.w;
    let session = w.hd.start_chat(&w.customer).await.unwrap();
    let seen = Mutex::new(Vec::new());
    let show = |text: &str| seen.lock().unwrap().push(text.to_string());
    let outcome =
        w.hd.chat_message_streaming(&w.customer, session.id, QUESTION, &show)
            .await
            .unwrap();
    (outcome, seen.into_inner().unwrap())
}

async fn world(turns: Vec<MockTurn>) -> (AiWorld, String) {
    let ai = ai_world(Wiring::FULL, turns).await;
    let (password, _) = ai.standard_articles().await;
    (ai, format!("{}:0", password.id))
}

#[tokio::test]
async fn a_grounded_streamed_answer_is_shown_then_committed() {
    let (ai, chunk) = world(vec![]).await;
    ai.model
        .push(MockTurn::Json(chat_json(ANSWER, &[&chunk], false, false)));
    let (outcome, seen) = streamed(&ai).await;
    assert_eq!(
        seen.last().map(String::as_str),
        Some(ANSWER),
        "decoded: {seen:?}"
    );
    let ChatReply::Answered(message) = &outcome.reply else {
        panic!("expected an answer, got {:?}", outcome.reply);
    };
    assert_eq!(message.body, ANSWER);
    assert_eq!(message.citations[0].chunk_id, chunk);
}

#[tokio::test]
async fn an_ungrounded_streamed_answer_is_shown_but_handed_off() {
    let (ai, _) = world(vec![]).await;
    ai.model.push(MockTurn::Json(chat_json(
        ANSWER,
        &["not-retrieved:0"],
        false,
        false,
    )));
    let (outcome, seen) = streamed(&ai).await;
    assert_eq!(
        seen.last().map(String::as_str),
        Some(ANSWER),
        "it was streamed"
    );
    let ChatReply::HandedOff { reason, .. } = &outcome.reply else {
        panic!("expected a handoff, got {:?}", outcome.reply);
    };
    assert!(reason.starts_with("ungrounded answer"), "{reason}");
    assert_eq!(outcome.session.state, ChatState::Human);
    // The provisional text never became a message.
    let view =
        ai.w.hd
            .get_ticket(&ai.w.customer, outcome.session.ticket_id.unwrap())
            .await
            .unwrap();
    assert!(view.messages.iter().all(|m| m.body != ANSWER));
}

#[tokio::test]
async fn a_failing_stream_answers_offline_and_shows_nothing() {
    let (ai, _) = world(vec![]).await;
    ai.model.push(MockTurn::Error(ModelError::RateLimited {
        retry_after: None,
        message: "quota".into(),
    }));
    let (outcome, seen) = streamed(&ai).await;
    assert!(seen.is_empty(), "{seen:?}");
    // The offline path: a knowledge-base passage or a handoff naming the failure.
    match &outcome.reply {
        ChatReply::Answered(m) => assert!(m.body.starts_with("From our help center")),
        ChatReply::HandedOff { reason, .. } => assert!(reason.contains("model failed")),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn without_a_model_nothing_is_streamed() {
    let ai = ai_world(Wiring::NO_MODEL, vec![]).await;
    ai.standard_articles().await;
    let (outcome, seen) = streamed(&ai).await;
    assert!(seen.is_empty());
    assert!(matches!(
        outcome.reply,
        ChatReply::Answered(_) | ChatReply::HandedOff { .. }
    ));
}
