//! The bot's answer streamed into the chat page as the model writes it (issue 16, item 7).
//!
//! `POST /chat/{id}/message/stream` takes the same form as `/chat/{id}/message` and answers
//! with newline-delimited JSON: `{"provisional": "answer so far"}` lines while the model
//! streams (the text has not passed the grounding check yet, and the page shows it as
//! provisional), then one `{"done": "answered" | "greeted" | "handed_off" | "waiting"}`
//! line once the turn is committed, or `{"error": "…"}`. The page then reloads its thread,
//! which shows what was committed: the checked answer, or the handoff notice when the
//! finished answer was not grounded. `static/chat.js` drives it; without JavaScript the
//! form posts to `/chat/{id}/message` as before.

use std::convert::Infallible;

use axum::Form;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use helpdesk_core::ai::ChatReply;
use serde_json::json;
use tokio::sync::mpsc;

use super::app::AppState;
use super::chat::{ChatForm, session_id};
use super::error::WebResult;
use super::form::FormError;
use super::session::CustomerUser;

/// One line of the stream.
fn line(value: &serde_json::Value) -> String {
    format!("{value}\n")
}

/// The word of the last line for a committed turn.
fn done_word(reply: &ChatReply) -> &'static str {
    match reply {
        ChatReply::Answered(_) => "answered",
        ChatReply::Greeted(_) => "greeted",
        ChatReply::HandedOff { .. } => "handed_off",
        ChatReply::WaitingForAgent => "waiting",
        _ => "other",
    }
}

/// `POST /chat/{id}/message/stream`.
pub(crate) async fn message_stream(
    State(state): State<AppState>,
    CustomerUser(ctx): CustomerUser,
    Path(id): Path<String>,
    Form(form): Form<ChatForm>,
) -> WebResult<Response> {
    let id = session_id(&id)?;
    let (tx, rx) = mpsc::unbounded_channel::<String>();
    let helpdesk = state.helpdesk().clone();
    // The turn runs on its own task: a browser that goes away mid-answer does not cut the
    // turn off half-way (it is committed all the same and shows on the next page view).
    tokio::spawn(async move {
        let shown = tx.clone();
        let show = move |text: &str| {
            // A closed channel is a browser that left: the turn goes on regardless.
            let _ = shown.send(line(&json!({ "provisional": text })));
        };
        let outcome = helpdesk
            .chat_message_streaming(&ctx.actor, id, &form.text, &show)
            .await;
        let last = match outcome {
            Ok(outcome) => json!({ "done": done_word(&outcome.reply) }),
            Err(e) => match FormError::from_core(&e, &[("text", "Your message")]) {
                Some(error) => json!({ "error": error.message() }),
                None => {
                    tracing::error!(error = ?e, "streamed chat turn failed");
                    json!({ "error": "Something went wrong on our side. Please try again." })
                }
            },
        };
        let _ = tx.send(line(&last));
    });
    let lines = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|line| (Ok::<_, Infallible>(line), rx))
    });
    Ok((
        [
            (CONTENT_TYPE, "application/x-ndjson; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(lines),
    )
        .into_response())
}
