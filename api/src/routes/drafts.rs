//! The agent's AI copilot: suggested replies (drafts the agent sends, edits or discards),
//! summaries and related articles.

use axum::extract::State;
use axum::http::StatusCode;
use helpdesk_core::ai::DraftDecision;
use helpdesk_core::{MessageId, TicketId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ApiState;
use crate::auth::Caller;
use crate::extract::{Json, Path, Query};
use crate::problem::{ApiResult, Problem};
use crate::resources::{MessageResource, TicketResource};

/// Suggest a reply: an AI draft on the ticket, visible to staff only until sent.
#[utoipa::path(post, path = "/tickets/{id}/drafts", tag = "ai",
    params(("id" = TicketId, Path, description = "Ticket id")),
    responses(
        (status = 201, body = MessageResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 409, description = "Conflicts with the current state"),
    ))]
pub(crate) async fn suggest_reply(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<TicketId>,
) -> ApiResult<(StatusCode, axum::Json<MessageResource>)> {
    let draft = state.helpdesk().suggest_reply(&actor, id).await?;
    Ok((StatusCode::CREATED, axum::Json(draft.into())))
}

/// What to do with a draft.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub(crate) enum DraftAction {
    /// Send it as it is.
    Send,
    /// Send this edited text instead.
    SendEdited,
    /// Throw it away.
    Discard,
}

/// A decision on a draft.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DraftDecisionRequest {
    /// What to do.
    action: DraftAction,
    /// The edited text (for `send_edited`).
    body: Option<String>,
}

/// The draft after the decision, and the reply it became.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DraftDecisionResponse {
    /// The draft with its decision.
    draft: MessageResource,
    /// The public reply, when it was sent.
    reply: Option<MessageResource>,
    /// The ticket afterwards.
    ticket: TicketResource,
}

/// Send, edit and send, or discard a draft (staff).
#[utoipa::path(post, path = "/tickets/{id}/drafts/{draft_id}/decision", tag = "ai",
    params(("id" = TicketId, Path, description = "Ticket id"),
           ("draft_id" = MessageId, Path, description = "The draft message's id")),
    request_body = DraftDecisionRequest,
    responses(
        (status = 200, body = DraftDecisionResponse),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 409, description = "Conflicts with the current state"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn decide_draft(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path((id, draft_id)): Path<(TicketId, MessageId)>,
    Json(request): Json<DraftDecisionRequest>,
) -> ApiResult<axum::Json<DraftDecisionResponse>> {
    let decision = match (request.action, request.body) {
        (DraftAction::Send, None) => DraftDecision::Send,
        (DraftAction::Discard, None) => DraftDecision::Discard,
        (DraftAction::SendEdited, Some(body)) => DraftDecision::SendEdited(body),
        (DraftAction::SendEdited, None) => {
            return Err(Problem::validation(
                "body",
                "send_edited needs the edited body",
            ));
        }
        (_, Some(_)) => {
            return Err(Problem::validation(
                "body",
                "only send_edited takes a body; the draft's own text is sent with send",
            ));
        }
    };
    let outcome = state
        .helpdesk()
        .decide_draft(&actor, id, draft_id, decision)
        .await?;
    Ok(axum::Json(DraftDecisionResponse {
        draft: outcome.draft.into(),
        reply: outcome.reply.map(MessageResource::from),
        ticket: TicketResource::new(outcome.ticket, true),
    }))
}

/// A ticket summary.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SummaryResponse {
    /// The summary.
    summary: String,
    /// Questions still open.
    open_questions: Vec<String>,
    /// Which path produced it: `llm` or `extractive` (offline).
    source: String,
}

/// Summarise a ticket's thread (staff).
#[utoipa::path(post, path = "/tickets/{id}/summary", tag = "ai",
    params(("id" = TicketId, Path, description = "Ticket id")),
    responses(
        (status = 200, body = SummaryResponse),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
    ))]
pub(crate) async fn summarize(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<TicketId>,
) -> ApiResult<axum::Json<SummaryResponse>> {
    let summary = state.helpdesk().summarize(&actor, id).await?;
    let source = serde_json::to_value(summary.source)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    Ok(axum::Json(SummaryResponse {
        summary: summary.summary,
        open_questions: summary.open_questions,
        source,
    }))
}

/// How many related articles.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct RelatedParams {
    /// 1 to 20 (default 5).
    k: Option<usize>,
}

/// A passage of a knowledge-base article and how well it matches.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScoredPassage {
    /// The article.
    pub(crate) article_id: helpdesk_core::ArticleId,
    /// Its title.
    pub(crate) title: String,
    /// The passage.
    pub(crate) text: String,
    /// Similarity, higher is closer.
    pub(crate) score: f32,
}

impl From<helpdesk_core::ScoredChunk> for ScoredPassage {
    fn from(c: helpdesk_core::ScoredChunk) -> Self {
        Self {
            article_id: c.article_id,
            title: c.title,
            text: c.text,
            score: c.score,
        }
    }
}

/// Knowledge-base passages related to a ticket (staff).
#[utoipa::path(get, path = "/tickets/{id}/related-articles", tag = "ai",
    params(("id" = TicketId, Path, description = "Ticket id"), RelatedParams),
    responses(
        (status = 200, body = Vec<ScoredPassage>),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn related_articles(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<TicketId>,
    Query(params): Query<RelatedParams>,
) -> ApiResult<axum::Json<Vec<ScoredPassage>>> {
    let k = params.k.unwrap_or(5);
    if !(1..=20).contains(&k) {
        return Err(Problem::validation("k", "must be 1 to 20"));
    }
    let chunks = state.helpdesk().related_articles(&actor, id, k).await?;
    Ok(axum::Json(
        chunks.into_iter().map(ScoredPassage::from).collect(),
    ))
}
