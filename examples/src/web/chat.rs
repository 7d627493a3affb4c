//! The customer chat with the bot (answers cite their articles; "talk to a human" is
//! always offered while the bot answers) and the agent's side of a handed-off chat.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use helpdesk_core::ChatSessionId;
use helpdesk_core::domain::{ChatState, MessageKind};

use super::agent_forms::{again, refusal_at};
use super::app::AppState;
use super::error::{WebError, WebResult};
use super::form::{FormError, refused};
use super::names::Names;
use super::portal::ReplyForm;
use super::session::{Ctx, CustomerUser, StaffUser};
use super::views::{MessageView, Page, Time, enum_text, fmt_time, html};

/// The chat routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/chat", get(sessions))
        .route("/chat/start", post(start))
        .route("/chat/{id}", get(session_page))
        .route("/chat/{id}/message", post(message))
        .route(
            "/chat/{id}/message/stream",
            post(super::chat_stream::message_stream),
        )
        .route("/chat/{id}/human", post(human))
        .route("/agent/chats/{id}/reply", post(agent_reply))
}

pub(crate) fn session_id(raw: &str) -> WebResult<ChatSessionId> {
    raw.parse()
        .map_err(|_| WebError::bad_input("chat id", "not a chat id"))
}

/// A row of the session list.
#[derive(Debug, Clone)]
struct SessionRow {
    id: String,
    state: String,
    started: Time,
}

#[derive(Template)]
#[template(path = "chat_list.html")]
struct SessionsPage {
    page: Page,
    sessions: Vec<SessionRow>,
}

async fn sessions(
    State(state): State<AppState>,
    CustomerUser(ctx): CustomerUser,
) -> WebResult<Response> {
    let sessions = state
        .helpdesk()
        .list_chat_sessions(&ctx.actor)
        .await?
        .into_iter()
        .map(|s| SessionRow {
            id: s.id.to_string(),
            state: enum_text(&s.state),
            started: fmt_time(s.created_at),
        })
        .collect();
    html(&SessionsPage {
        page: ctx.page(&state, "Chat with Nimbus assistant"),
        sessions,
    })
}

async fn start(
    State(state): State<AppState>,
    CustomerUser(ctx): CustomerUser,
) -> WebResult<Redirect> {
    let session = state.helpdesk().start_chat(&ctx.actor).await?;
    Ok(Redirect::to(&format!("/chat/{}", session.id)))
}

#[derive(Template)]
#[template(path = "chat_session.html")]
struct SessionPage {
    page: Page,
    id: String,
    state: String,
    bot_answers: bool,
    open: bool,
    messages: Vec<MessageView>,
    ticket: Option<String>,
    /// Why the last message was refused (field `text`) and what was typed.
    error: FormError,
    text: String,
}

async fn session_page(
    State(state): State<AppState>,
    CustomerUser(ctx): CustomerUser,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let id = session_id(&id)?;
    render_session(&state, &ctx, id, FormError::default(), String::new()).await
}

/// The chat page; after a refused message, the error at the message box and its text.
async fn render_session(
    state: &AppState,
    ctx: &Ctx,
    id: ChatSessionId,
    error: FormError,
    text: String,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let session = helpdesk.get_chat_session(&ctx.actor, id).await?;
    let messages = match session.ticket_id {
        Some(ticket) => {
            let view = helpdesk.get_ticket(&ctx.actor, ticket).await?;
            let names = Names::load(helpdesk, ctx.actor.tenant_id).await?;
            view.messages
                .iter()
                .filter(|m| m.kind == MessageKind::Chat)
                .map(|m| MessageView::new(m, names.author(m)))
                .collect()
        }
        None => Vec::new(),
    };
    html(&SessionPage {
        page: ctx.page(state, "Chat with Nimbus assistant"),
        id: session.id.to_string(),
        state: match session.state {
            ChatState::Bot => "The assistant is answering.".into(),
            ChatState::Human => "A member of our support team will answer here.".into(),
            _ => "This chat is closed.".into(),
        },
        bot_answers: session.state == ChatState::Bot,
        open: session.state != ChatState::Closed,
        messages,
        ticket: session.ticket_id.map(|t| t.to_string()),
        error,
        text,
    })
}

/// A chat message form (a missing text is refused on the form like an empty one).
#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct ChatForm {
    pub(crate) text: String,
}

async fn message(
    State(state): State<AppState>,
    CustomerUser(ctx): CustomerUser,
    Path(id): Path<String>,
    Form(form): Form<ChatForm>,
) -> WebResult<Response> {
    let id = session_id(&id)?;
    match state
        .helpdesk()
        .chat_message(&ctx.actor, id, &form.text)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/chat/{id}")).into_response()),
        Err(e) => match FormError::from_core(&e, &[("text", "Your message")]) {
            Some(error) => {
                let error = FormError::new("text", error.message());
                refused(render_session(&state, &ctx, id, error, form.text).await)
            }
            None => Err(e.into()),
        },
    }
}

async fn human(
    State(state): State<AppState>,
    CustomerUser(ctx): CustomerUser,
    Path(id): Path<String>,
) -> WebResult<Redirect> {
    let id = session_id(&id)?;
    state.helpdesk().request_human(&ctx.actor, id).await?;
    Ok(Redirect::to(&format!("/chat/{id}")))
}

async fn agent_reply(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Path(id): Path<String>,
    Form(form): Form<ReplyForm>,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let id = session_id(&id)?;
    let sent = helpdesk.agent_chat_reply(&ctx.actor, id, &form.body).await;
    let session = helpdesk.get_chat_session(&ctx.actor, id).await?;
    match (sent, session.ticket_id) {
        (Ok(_), Some(t)) => Ok(Redirect::to(&format!("/agent/tickets/{t}")).into_response()),
        (Ok(_), None) => Ok(Redirect::to("/agent").into_response()),
        // Refused: the ticket page again, the reason and the text at the chat box.
        (Err(e), Some(t)) => {
            let refusal = refusal_at(e, "chat", &[("text", "Chat message")], form.body)?;
            again(&state, &ctx, t, refusal).await
        }
        (Err(e), None) => Err(e.into()),
    }
}
