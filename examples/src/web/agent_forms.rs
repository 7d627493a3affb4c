//! The forms of the agent's ticket page: reply, internal note, status, assignee,
//! priority, merge, suggested reply and the decision on a draft. A refused form comes back
//! as the ticket page with the reason next to that form and what was typed kept (see
//! [`super::form`]).

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use helpdesk_core::ai::DraftDecision;
use helpdesk_core::domain::TicketStatus;
use helpdesk_core::service::{NewMessage, NewReply};
use helpdesk_core::{Error as CoreError, MessageId, TicketId};
use serde::Deserialize;

use super::agent::{Refusal, TicketPageQuery, render_ticket};
use super::app::AppState;
use super::error::{WebError, WebResult};
use super::form::{FormError, refused};
use super::portal::{ReplyForm, files_refused, optional, ticket_id};
use super::session::{Ctx, StaffUser};
use super::upload::{FILE_FIELD, UploadForm};

/// The routes of the ticket page's forms.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        // Forms with files: their reader applies the tenant's limits instead of axum's.
        .route(
            "/agent/tickets/{id}/reply",
            post(reply).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/agent/tickets/{id}/note",
            post(note).layer(DefaultBodyLimit::disable()),
        )
        .route("/agent/tickets/{id}/status", post(set_status))
        .route("/agent/tickets/{id}/assign", post(assign))
        .route("/agent/tickets/{id}/team", post(set_team))
        .route("/agent/tickets/{id}/priority", post(set_priority))
        .route("/agent/tickets/{id}/merge", post(merge))
        .route("/agent/tickets/{id}/suggest", post(suggest))
        .route("/agent/tickets/{id}/drafts/{draft}", post(decide_draft))
}

fn back(id: TicketId) -> Response {
    Redirect::to(&format!("/agent/tickets/{id}")).into_response()
}

/// The ticket page again with `refusal` (400).
pub(crate) async fn again(
    state: &AppState,
    ctx: &Ctx,
    id: TicketId,
    refusal: Refusal,
) -> WebResult<Response> {
    refused(render_ticket(state, ctx, id, &TicketPageQuery::default(), refusal).await)
}

/// The refusal of a core error at the form `field` (`label` names the core's field of
/// that form in the message), or the error itself when it is not the user's to fix.
pub(crate) fn refusal_at(
    e: CoreError,
    field: &str,
    labels: &[(&str, &str)],
    text: String,
) -> WebResult<Refusal> {
    match FormError::from_core(&e, labels) {
        // The page has many forms: even a refusal of the whole action is shown at the
        // form that was sent.
        Some(error) => Ok(Refusal::new(FormError::new(field, error.message()), text)),
        None => Err(e.into()),
    }
}

/// The agent reply form (fields default to empty: a missing one is refused on the form).
#[derive(Default, Deserialize)]
#[serde(default)]
struct AgentReplyForm {
    body: String,
    status_after: String,
}

async fn reply(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Path(id): Path<String>,
    upload: UploadForm<AgentReplyForm>,
) -> WebResult<Response> {
    let id = ticket_id(&id)?;
    let UploadForm {
        form,
        files,
        refusal,
    } = upload;
    if let Some(refusal) = refusal {
        let error = FormError::new("body", files_refused(&refusal));
        return again(&state, &ctx, id, Refusal::new(error, form.body)).await;
    }
    let mut reply = NewReply::new(&form.body).with_attachments(files);
    reply.status_after = match optional::<TicketStatus>(&form.status_after) {
        Ok(status) => status,
        Err(_) => {
            let error = FormError::new("body", "Choose the status after the reply from the list.");
            return again(&state, &ctx, id, Refusal::new(error, form.body)).await;
        }
    };
    match state.helpdesk().reply(&ctx.actor, id, reply).await {
        Ok(outcome) => Ok(back(outcome.ticket.id)),
        Err(e) => {
            let labels = [("body", "Reply"), (FILE_FIELD, "Files")];
            let refusal = refusal_at(e, "body", &labels, form.body)?;
            again(&state, &ctx, id, refusal).await
        }
    }
}

async fn note(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Path(id): Path<String>,
    upload: UploadForm<ReplyForm>,
) -> WebResult<Response> {
    let id = ticket_id(&id)?;
    let UploadForm {
        form,
        files,
        refusal,
    } = upload;
    if let Some(refusal) = refusal {
        let error = FormError::new("note", files_refused(&refusal));
        return again(&state, &ctx, id, Refusal::new(error, form.body)).await;
    }
    let note = NewMessage::new(form.body.as_str()).with_attachments(files);
    match state.helpdesk().add_note(&ctx.actor, id, note).await {
        Ok(_) => Ok(back(id)),
        Err(e) => {
            let labels = [("body", "Internal note"), (FILE_FIELD, "Files")];
            let refusal = refusal_at(e, "note", &labels, form.body)?;
            again(&state, &ctx, id, refusal).await
        }
    }
}

/// A single-value form.
#[derive(Default, Deserialize)]
#[serde(default)]
struct ValueForm {
    value: String,
}

async fn set_status(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Path(id): Path<String>,
    Form(form): Form<ValueForm>,
) -> WebResult<Response> {
    let id = ticket_id(&id)?;
    let Ok(to) = form.value.trim().parse::<TicketStatus>() else {
        let error = FormError::new("status", "Choose a status from the list.");
        return again(&state, &ctx, id, Refusal::new(error, "")).await;
    };
    match state.helpdesk().transition(&ctx.actor, id, to).await {
        Ok(_) => Ok(back(id)),
        Err(e) => {
            let refusal = refusal_at(e, "status", &[], String::new())?;
            again(&state, &ctx, id, refusal).await
        }
    }
}

async fn assign(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Path(id): Path<String>,
    Form(form): Form<ValueForm>,
) -> WebResult<Response> {
    let id = ticket_id(&id)?;
    let assignee = if form.value.trim().is_empty() {
        None
    } else if let Ok(user) = form.value.trim().parse() {
        Some(user)
    } else {
        let error = FormError::new("assignee", "Choose an assignee from the list.");
        return again(&state, &ctx, id, Refusal::new(error, "")).await;
    };
    match state.helpdesk().assign(&ctx.actor, id, assignee).await {
        Ok(_) => Ok(back(id)),
        Err(e) => {
            let refusal = refusal_at(e, "assignee", &[], String::new())?;
            again(&state, &ctx, id, refusal).await
        }
    }
}

/// `POST /agent/tickets/{id}/team`: gives the ticket to a team (empty: to none); an
/// assignee outside the new team is unassigned with it.
async fn set_team(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Path(id): Path<String>,
    Form(form): Form<ValueForm>,
) -> WebResult<Response> {
    let id = ticket_id(&id)?;
    let team = Some(form.value.trim().to_string()).filter(|t| !t.is_empty());
    match state.helpdesk().set_team(&ctx.actor, id, team).await {
        Ok(_) => Ok(back(id)),
        Err(e) => {
            let refusal = refusal_at(e, "team", &[], String::new())?;
            again(&state, &ctx, id, refusal).await
        }
    }
}

async fn set_priority(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Path(id): Path<String>,
    Form(form): Form<ValueForm>,
) -> WebResult<Response> {
    let id = ticket_id(&id)?;
    let Ok(priority) = form.value.trim().parse() else {
        let error = FormError::new("priority", "Choose a priority from the list.");
        return again(&state, &ctx, id, Refusal::new(error, "")).await;
    };
    let patch = helpdesk_core::service::TicketPatch {
        priority: Some(priority),
        ..Default::default()
    };
    match state.helpdesk().update_ticket(&ctx.actor, id, patch).await {
        Ok(_) => Ok(back(id)),
        Err(e) => {
            let refusal = refusal_at(e, "priority", &[], String::new())?;
            again(&state, &ctx, id, refusal).await
        }
    }
}

async fn merge(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Path(id): Path<String>,
    Form(form): Form<ValueForm>,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let id = ticket_id(&id)?;
    let refuse = |message: String| Refusal::new(FormError::new("merge", message), &form.value);
    let Ok(number) = form.value.trim().trim_start_matches('#').parse::<u64>() else {
        let refusal = refuse("Enter a ticket number such as 12.".into());
        return again(&state, &ctx, id, refusal).await;
    };
    let Some(into) = helpdesk
        .store()
        .get_ticket_by_number(ctx.actor.tenant_id, number)
        .await?
    else {
        return again(
            &state,
            &ctx,
            id,
            refuse(format!("There is no ticket #{number}.")),
        )
        .await;
    };
    match helpdesk.merge(&ctx.actor, id, into.id).await {
        Ok((_, survivor)) => Ok(back(survivor.id)),
        Err(e) => {
            let refusal = refusal_at(e, "merge", &[], form.value.clone())?;
            again(&state, &ctx, id, refusal).await
        }
    }
}

async fn suggest(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Path(id): Path<String>,
) -> WebResult<Redirect> {
    let id = ticket_id(&id)?;
    state.helpdesk().suggest_reply(&ctx.actor, id).await?;
    Ok(Redirect::to(&format!("/agent/tickets/{id}")))
}

/// What to do with a draft.
#[derive(Default, Deserialize)]
#[serde(default)]
struct DraftForm {
    decision: String,
    body: String,
}

async fn decide_draft(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Path((id, draft)): Path<(String, String)>,
    Form(form): Form<DraftForm>,
) -> WebResult<Response> {
    let id = ticket_id(&id)?;
    let draft_id: MessageId = draft
        .parse()
        .map_err(|_| WebError::bad_input("draft", "not a draft id"))?;
    let refuse = |error: FormError, body: String| Refusal {
        error: FormError::new("draft", error.message()),
        text: body,
        draft: draft.clone(),
        canned: String::new(),
        typed: Vec::new(),
    };
    // The form's text box holds the draft as the agent left it, so sending always sends
    // that text: core records it as accepted when unchanged and as edited otherwise. Only
    // a form without a body (a bare "send") sends the stored draft.
    let decision = match (form.decision.as_str(), form.body.trim().is_empty()) {
        ("send", true) => DraftDecision::Send,
        ("send" | "edit", _) => DraftDecision::SendEdited(form.body.clone()),
        ("discard", _) => DraftDecision::Discard,
        _ => {
            let error = FormError::general("Send the reply or discard it.");
            return again(&state, &ctx, id, refuse(error, form.body)).await;
        }
    };
    match state
        .helpdesk()
        .decide_draft(&ctx.actor, id, draft_id, decision)
        .await
    {
        Ok(_) => Ok(back(id)),
        Err(e) => match FormError::from_core(&e, &[("body", "Reply")]) {
            Some(error) => again(&state, &ctx, id, refuse(error, form.body)).await,
            None => Err(e.into()),
        },
    }
}
