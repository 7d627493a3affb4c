//! Bulk changes from the agent queue: tick tickets, choose a status, an assignee or tags,
//! and each ticket is changed through the same checks as by hand; the answer lists what
//! happened to each.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::{Form, Router};
use helpdesk_core::domain::{CannedActions, CannedAssign, TicketStatus};
use helpdesk_core::{Helpdesk, TicketId};

use super::admin::skill_list;
use super::agent::Choice;
use super::app::AppState;
use super::error::WebResult;
use super::form::{FormError, refused};
use super::session::{Ctx, StaffUser};
use super::views::{Page, html, status_label};

/// The bulk route.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/agent/bulk", post(bulk_change))
}

/// The choices of the queue's bulk form: statuses, then assignees.
pub(crate) async fn choices(
    helpdesk: &Helpdesk,
    ctx: &Ctx,
) -> WebResult<(Vec<Choice>, Vec<Choice>)> {
    let mut statuses = vec![Choice::new("", "keep", "")];
    statuses.extend(
        TicketStatus::ALL
            .iter()
            .filter(|s| **s != TicketStatus::New)
            .map(|s| Choice::new(s.as_str(), &status_label(*s), "")),
    );
    let mut assignees = vec![
        Choice::new("", "keep", ""),
        Choice::new("me", "Me", ""),
        Choice::new("nobody", "Nobody", ""),
    ];
    for u in helpdesk
        .store()
        .list_users(ctx.actor.tenant_id, None)
        .await?
    {
        if u.is_staff() && u.active && u.id != ctx.actor.user_id {
            assignees.push(Choice::new(&u.id.to_string(), &u.name, ""));
        }
    }
    Ok((statuses, assignees))
}

/// One ticket's line of the answer.
struct Line {
    id: String,
    label: String,
    /// Empty when the change landed.
    refusal: String,
}

#[derive(Template)]
#[template(path = "agent_bulk.html")]
struct BulkPage {
    page: Page,
    lines: Vec<Line>,
    changed: usize,
    error: FormError,
}

/// The bulk form: repeated `ids`, and the change (a field left at "keep" changes nothing).
fn parse(fields: &[(String, String)]) -> Result<(Vec<TicketId>, CannedActions), FormError> {
    let value = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    };
    let mut ids = Vec::new();
    for (_, v) in fields.iter().filter(|(k, _)| k == "ids") {
        let id = v
            .parse()
            .map_err(|_| FormError::general("A selected ticket is not a ticket id."))?;
        ids.push(id);
    }
    let status = match value("status") {
        "" => None,
        s => Some(
            s.parse::<TicketStatus>()
                .map_err(|_| FormError::general("Choose the status from the list."))?,
        ),
    };
    let assign = match value("assign") {
        "" => None,
        "me" => Some(CannedAssign::Me),
        "nobody" => Some(CannedAssign::Nobody),
        id => Some(CannedAssign::User {
            id: id
                .parse()
                .map_err(|_| FormError::general("Choose whom to assign from the list."))?,
        }),
    };
    let actions = CannedActions {
        status,
        assign,
        add_tags: skill_list(value("add_tags")),
        remove_tags: skill_list(value("remove_tags")),
        ..CannedActions::default()
    };
    Ok((ids, actions))
}

/// `POST /agent/bulk`.
async fn bulk_change(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Form(fields): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let page = |lines, changed, error| BulkPage {
        page: ctx.page(&state, "Bulk change"),
        lines,
        changed,
        error,
    };
    let (ids, actions) = match parse(&fields) {
        Ok(parsed) => parsed,
        Err(error) => return refused(html(&page(Vec::new(), 0, error))),
    };
    let outcomes = match helpdesk.bulk_change(&ctx.actor, &ids, actions).await {
        Ok(outcomes) => outcomes,
        Err(e) => {
            let labels = [
                ("tickets", "Selection"),
                ("actions", "Change"),
                ("actions.add_tags", "Tags to add"),
                ("actions.remove_tags", "Tags to remove"),
                ("actions.assign", "Assign"),
                ("actions.status", "Status"),
            ];
            let Some(error) = FormError::from_core(&e, &labels) else {
                return Err(e.into());
            };
            let error = FormError::general(error.message());
            return refused(html(&page(Vec::new(), 0, error)));
        }
    };
    let mut lines = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        let line = match &outcome.result {
            Ok(t) => Line {
                id: t.id.to_string(),
                label: format!("#{} {}", t.number, t.subject),
                refusal: String::new(),
            },
            Err(e) => {
                let label = match helpdesk.get_ticket(&ctx.actor, outcome.ticket).await {
                    Ok(view) => format!("#{} {}", view.ticket.number, view.ticket.subject),
                    Err(_) => "A ticket that no longer exists".to_string(),
                };
                Line {
                    id: outcome.ticket.to_string(),
                    label,
                    refusal: e.to_string(),
                }
            }
        };
        lines.push(line);
    }
    let changed = lines.iter().filter(|l| l.refusal.is_empty()).count();
    html(&page(lines, changed, FormError::default()))
}
