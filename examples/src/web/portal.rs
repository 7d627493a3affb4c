//! The customer portal: my tickets, raise a ticket, the thread with replies, CSAT.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use helpdesk_core::TicketId;
use helpdesk_core::domain::{Priority, TicketStatus};
use helpdesk_core::service::{NewReply, NewTicket};
use helpdesk_core::store::{TicketQuery, TicketSort};
use serde::Deserialize;

use super::app::AppState;
use super::error::{WebError, WebResult};
use super::names::Names;
use super::session::CustomerUser;
use super::views::{MessageView, Page, TicketRow, fmt_time, html, status_class, status_label};

/// The portal routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal", get(my_tickets))
        .route("/portal/new", get(new_ticket_page))
        .route("/portal/tickets", post(open_ticket))
        .route("/portal/tickets/{id}", get(ticket_page))
        .route("/portal/tickets/{id}/reply", post(reply))
        .route("/portal/tickets/{id}/csat", post(rate))
}

/// Parses a ticket id from the path.
pub(crate) fn ticket_id(raw: &str) -> WebResult<TicketId> {
    raw.parse()
        .map_err(|_| WebError::bad_input("ticket id", "not a ticket id"))
}

#[derive(Template)]
#[template(path = "portal_list.html")]
struct MyTicketsPage {
    page: Page,
    tickets: Vec<TicketRow>,
}

async fn my_tickets(
    State(state): State<AppState>,
    CustomerUser(ctx): CustomerUser,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let query = TicketQuery {
        sort: TicketSort::Newest,
        limit: TicketQuery::MAX_LIMIT,
        ..TicketQuery::default()
    };
    let page = helpdesk.list_tickets(&ctx.actor, query).await?;
    let now = helpdesk.now();
    let tickets = page
        .items
        .iter()
        .map(|t| TicketRow::new(t, String::new(), now))
        .collect();
    html(&MyTicketsPage {
        page: ctx.page(&state, "My tickets"),
        tickets,
    })
}

#[derive(Template)]
#[template(path = "portal_new.html")]
struct NewTicketPage {
    page: Page,
    priorities: Vec<&'static str>,
}

async fn new_ticket_page(
    State(state): State<AppState>,
    CustomerUser(ctx): CustomerUser,
) -> WebResult<Response> {
    html(&NewTicketPage {
        page: ctx.page(&state, "Raise a ticket"),
        priorities: Priority::ALL.iter().map(|p| p.as_str()).collect(),
    })
}

/// The new-ticket form.
#[derive(Deserialize)]
struct NewTicketForm {
    subject: String,
    description: String,
    #[serde(default)]
    priority: String,
}

/// Parses an optional enum value from a form (empty means none).
pub(crate) fn optional<T: std::str::FromStr<Err = helpdesk_core::Error>>(
    raw: &str,
) -> WebResult<Option<T>> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    Ok(Some(raw.parse()?))
}

async fn open_ticket(
    State(state): State<AppState>,
    CustomerUser(ctx): CustomerUser,
    Form(form): Form<NewTicketForm>,
) -> WebResult<Redirect> {
    let mut new = NewTicket::new(&form.subject, &form.description);
    new.priority = optional::<Priority>(&form.priority)?;
    let outcome = state.helpdesk().open_ticket(&ctx.actor, new).await?;
    Ok(Redirect::to(&format!(
        "/portal/tickets/{}",
        outcome.ticket.id
    )))
}

#[derive(Template)]
#[template(path = "portal_ticket.html")]
struct TicketPage {
    page: Page,
    id: String,
    subject: String,
    description: String,
    status: String,
    status_class: &'static str,
    priority: &'static str,
    created: String,
    messages: Vec<MessageView>,
    can_reply: bool,
    can_rate: bool,
    rating: Option<u8>,
    /// The rating as five stars (`★★★★☆`), empty when not rated.
    stars: String,
}

async fn ticket_page(
    State(state): State<AppState>,
    CustomerUser(ctx): CustomerUser,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let view = helpdesk.get_ticket(&ctx.actor, ticket_id(&id)?).await?;
    let names = Names::load(helpdesk, ctx.actor.tenant_id).await?;
    let t = &view.ticket;
    let messages = view
        .messages
        .iter()
        .map(|m| MessageView::new(m, names.author(m)))
        .collect();
    let done = matches!(t.status, TicketStatus::Resolved | TicketStatus::Closed);
    html(&TicketPage {
        page: ctx.page(&state, &format!("Ticket #{}", t.number)),
        id: t.id.to_string(),
        subject: t.subject.clone(),
        description: t.description.clone(),
        status: status_label(t.status),
        status_class: status_class(t.status),
        priority: t.priority.as_str(),
        created: fmt_time(t.created_at),
        messages,
        can_reply: t.merged_into.is_none(),
        can_rate: done && t.csat.is_none() && t.merged_into.is_none(),
        rating: t.csat.as_ref().map(|c| c.score),
        stars: t.csat.as_ref().map_or_else(String::new, |c| {
            let full = usize::from(c.score.min(5));
            format!("{}{}", "★".repeat(full), "☆".repeat(5 - full))
        }),
    })
}

/// A reply form.
#[derive(Deserialize)]
pub(crate) struct ReplyForm {
    pub(crate) body: String,
}

async fn reply(
    State(state): State<AppState>,
    CustomerUser(ctx): CustomerUser,
    Path(id): Path<String>,
    Form(form): Form<ReplyForm>,
) -> WebResult<Redirect> {
    let outcome = state
        .helpdesk()
        .reply(&ctx.actor, ticket_id(&id)?, NewReply::new(&form.body))
        .await?;
    // A reply on a closed ticket opens a follow-up: show the ticket that got the message.
    Ok(Redirect::to(&format!(
        "/portal/tickets/{}",
        outcome.ticket.id
    )))
}

/// The CSAT form.
#[derive(Deserialize)]
struct CsatForm {
    score: String,
    #[serde(default)]
    comment: String,
}

async fn rate(
    State(state): State<AppState>,
    CustomerUser(ctx): CustomerUser,
    Path(id): Path<String>,
    Form(form): Form<CsatForm>,
) -> WebResult<Redirect> {
    let id = ticket_id(&id)?;
    let score: u8 = form
        .score
        .trim()
        .parse()
        .map_err(|_| WebError::bad_input("score", "choose 1 to 5"))?;
    let comment = Some(form.comment).filter(|c| !c.trim().is_empty());
    state
        .helpdesk()
        .record_csat(&ctx.actor, id, score, comment)
        .await?;
    Ok(Redirect::to(&format!("/portal/tickets/{id}")))
}
