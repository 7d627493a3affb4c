//! Chat sessions: a customer talks to the knowledge-base bot, asks for a human, and an
//! agent answers or hands the session back. The transcript lives on the session's ticket
//! (`ticket_id`), readable with `GET tickets/{id}`.

use axum::extract::State;
use axum::http::StatusCode;
use helpdesk_core::ChatSessionId;
use helpdesk_core::ai::ChatReply;
use helpdesk_core::service::NewMessage;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ApiState;
use crate::auth::Caller;
use crate::extract::Path;
use crate::problem::ApiResult;
use crate::resources::{ChatSessionResource, MessageResource};
use crate::upload::WithFiles;

use super::attachments::ChatMessageUpload;

/// The caller's sessions (customers) or the tenant's (staff).
#[utoipa::path(get, path = "/chats", tag = "chat",
    responses(
        (status = 200, body = Vec<ChatSessionResource>),
    ))]
pub(crate) async fn list_sessions(
    State(state): State<ApiState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Vec<ChatSessionResource>>> {
    let sessions = state.helpdesk().list_chat_sessions(&actor).await?;
    Ok(axum::Json(sessions.into_iter().map(Into::into).collect()))
}

/// Start a chat session (customers).
#[utoipa::path(post, path = "/chats", tag = "chat",
    responses(
        (status = 201, body = ChatSessionResource),
        (status = 403, description = "Not allowed for the caller's role"),
    ))]
pub(crate) async fn start_session(
    State(state): State<ApiState>,
    Caller(actor): Caller,
) -> ApiResult<(StatusCode, axum::Json<ChatSessionResource>)> {
    let session = state.helpdesk().start_chat(&actor).await?;
    Ok((StatusCode::CREATED, axum::Json(session.into())))
}

/// A chat session.
#[utoipa::path(get, path = "/chats/{id}", tag = "chat",
    params(("id" = ChatSessionId, Path, description = "Session id")),
    responses(
        (status = 200, body = ChatSessionResource),
        (status = 404, description = "Not found (another tenant's ids too)"),
    ))]
pub(crate) async fn get_session(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<ChatSessionId>,
) -> ApiResult<axum::Json<ChatSessionResource>> {
    let session = state.helpdesk().get_chat_session(&actor, id).await?;
    Ok(axum::Json(session.into()))
}

/// A chat message.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChatMessageRequest {
    /// Text.
    text: String,
}

/// How the bot (or nobody yet) answered.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ChatReplyKind {
    /// The bot answered from the knowledge base.
    Answered,
    /// The bot greeted.
    Greeted,
    /// The bot could not answer and handed the session to a human.
    HandedOff,
    /// A human has the session; the message waits for them.
    WaitingForAgent,
}

/// One turn of a chat.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ChatTurnResponse {
    /// The session afterwards.
    session: ChatSessionResource,
    /// The customer's message as stored.
    customer_message: MessageResource,
    /// How it was answered.
    reply: ChatReplyKind,
    /// The bot's answer, greeting or handoff notice.
    reply_message: Option<MessageResource>,
    /// Why the bot handed off.
    handoff_reason: Option<String>,
}

/// Send a message in a chat session (its customer). The bot answers in the response
/// when it can; otherwise the session goes to a human.
#[utoipa::path(post, path = "/chats/{id}/messages", tag = "chat",
    params(("id" = ChatSessionId, Path, description = "Session id")),
    request_body(description = "JSON, or multipart with a `json` part and `attachments` file parts",
        content(
            (ChatMessageRequest = "application/json"),
            (ChatMessageUpload = "multipart/form-data"),
        )),
    responses(
        (status = 200, body = ChatTurnResponse),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 409, description = "Conflicts with the current state"),
        (status = 400, description = "Malformed multipart body"),
        (status = 413, description = "A file or the body is larger than the limits (the problem names the part)"),
        (status = 415, description = "Neither JSON nor multipart"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn send_message(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<ChatSessionId>,
    WithFiles { request, files }: WithFiles<ChatMessageRequest>,
) -> ApiResult<axum::Json<ChatTurnResponse>> {
    let message = NewMessage::new(request.text).with_attachments(files);
    let turn = state.helpdesk().chat_message(&actor, id, message).await?;
    let (reply, reply_message, handoff_reason) = match turn.reply {
        ChatReply::Answered(m) => (ChatReplyKind::Answered, Some(m.into()), None),
        ChatReply::Greeted(m) => (ChatReplyKind::Greeted, Some(m.into()), None),
        ChatReply::HandedOff { reason, notice } => {
            (ChatReplyKind::HandedOff, Some(notice.into()), Some(reason))
        }
        _ => (ChatReplyKind::WaitingForAgent, None, None),
    };
    Ok(axum::Json(ChatTurnResponse {
        session: turn.session.into(),
        customer_message: turn.customer_message.into(),
        reply,
        reply_message,
        handoff_reason,
    }))
}

/// Ask for a human (its customer).
#[utoipa::path(post, path = "/chats/{id}/handoff", tag = "chat",
    params(("id" = ChatSessionId, Path, description = "Session id")),
    responses(
        (status = 200, body = ChatSessionResource),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 409, description = "Conflicts with the current state"),
    ))]
pub(crate) async fn request_human(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<ChatSessionId>,
) -> ApiResult<axum::Json<ChatSessionResource>> {
    let session = state.helpdesk().request_human(&actor, id).await?;
    Ok(axum::Json(session.into()))
}

/// Answer in a chat session as an agent.
#[utoipa::path(post, path = "/chats/{id}/agent-messages", tag = "chat",
    params(("id" = ChatSessionId, Path, description = "Session id")),
    request_body(description = "JSON, or multipart with a `json` part and `attachments` file parts",
        content(
            (ChatMessageRequest = "application/json"),
            (ChatMessageUpload = "multipart/form-data"),
        )),
    responses(
        (status = 201, body = MessageResource),
        (status = 400, description = "Malformed multipart body"),
        (status = 413, description = "A file or the body is larger than the limits (the problem names the part)"),
        (status = 415, description = "Neither JSON nor multipart"),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 409, description = "Conflicts with the current state"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn agent_message(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<ChatSessionId>,
    WithFiles { request, files }: WithFiles<ChatMessageRequest>,
) -> ApiResult<(StatusCode, axum::Json<MessageResource>)> {
    let message = NewMessage::new(request.text).with_attachments(files);
    let message = state
        .helpdesk()
        .agent_chat_reply(&actor, id, message)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(message.into())))
}

/// Hand a session a human handles back to the bot (staff).
#[utoipa::path(post, path = "/chats/{id}/hand-back", tag = "chat",
    params(("id" = ChatSessionId, Path, description = "Session id")),
    responses(
        (status = 200, body = ChatSessionResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 409, description = "Conflicts with the current state"),
    ))]
pub(crate) async fn hand_back(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<ChatSessionId>,
) -> ApiResult<axum::Json<ChatSessionResource>> {
    let session = state.helpdesk().hand_back_to_bot(&actor, id).await?;
    Ok(axum::Json(session.into()))
}
