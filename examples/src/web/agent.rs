//! The agent dashboard: the queue (the ticket page is `agent_ticket`).

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use helpdesk_core::domain::{Priority, TicketStatus};
use helpdesk_core::store::{AssigneeFilter, TicketQuery, TicketSort};
use serde::Deserialize;

use super::agent_forms;
pub(crate) use super::agent_ticket::{Refusal, TicketPageQuery, render_ticket};
use super::app::AppState;
use super::bulk;
use super::error::WebResult;
use super::form::{self, FormError};
use super::names::Names;
use super::portal::optional;
use super::saved_views::{self, ViewsPanel};
use super::session::{Ctx, StaffUser};
use super::views::{Page, TicketRow, html, status_label};

/// The agent routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/agent", get(queue))
        .route("/agent/tickets/{id}", get(super::agent_ticket::ticket_page))
        .merge(agent_forms::routes())
}

/// Queue filters (all optional, from the query string).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct QueueFilter {
    pub(crate) status: String,
    pub(crate) priority: String,
    pub(crate) assignee: String,
    pub(crate) category: String,
    /// A team's key.
    pub(crate) team: String,
    /// A custom field value (`key=value`).
    pub(crate) field: String,
    pub(crate) q: String,
    pub(crate) sort: String,
    pub(crate) cursor: String,
    /// A saved view (id): its filter replaces the others.
    pub(crate) view: String,
}

/// An option of a `<select>`.
#[derive(Debug, Clone)]
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

impl Choice {
    pub(crate) fn new(value: &str, label: &str, current: &str) -> Self {
        Self {
            value: value.into(),
            label: label.into(),
            selected: value == current,
        }
    }
}

#[derive(Template)]
#[template(path = "agent_queue.html")]
struct QueuePage {
    page: Page,
    tickets: Vec<TicketRow>,
    statuses: Vec<Choice>,
    priorities: Vec<Choice>,
    assignees: Vec<Choice>,
    categories: Vec<Choice>,
    /// The tenant's teams (the first: any).
    teams: Vec<Choice>,
    /// Values of the dropdown custom fields (the first: any).
    field_values: Vec<Choice>,
    sorts: Vec<Choice>,
    q: String,
    /// Query string of the next page, if any.
    next_page: Option<String>,
    /// A filter value that was not understood (fields `status`, `priority`, `assignee`).
    error: FormError,
    /// The bulk change form's choices.
    bulk_statuses: Vec<Choice>,
    bulk_assignees: Vec<Choice>,
    /// The saved views with their counts, and the form to save the filter as one.
    views: ViewsPanel,
}

async fn queue(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Query(filter): Query<QueueFilter>,
) -> WebResult<Response> {
    render_queue(&state, &ctx, filter, FormError::default(), String::new()).await
}

/// The queue for `filter` (or its saved view); `view_error` and `view_name` bring back a
/// refused "save as a view" form with the name that was typed.
pub(crate) async fn render_queue(
    state: &AppState,
    ctx: &Ctx,
    filter: QueueFilter,
    view_error: FormError,
    view_name: String,
) -> WebResult<Response> {
    let mut filter = filter;
    let view = saved_views::selected(state, ctx, &mut filter).await?;
    let helpdesk = state.helpdesk();
    // A filter value that is not one of the form's choices (an edited or old link) is
    // reset, and the queue says so next to that filter instead of a bare error page.
    let mut error = FormError::default();
    let statuses = match filter.status.as_str() {
        "" | "active" => open_statuses(),
        "all" => Vec::new(),
        s => match s.parse::<TicketStatus>() {
            Ok(status) => vec![status],
            Err(_) => {
                error = FormError::new("status", "Unknown status: showing all active tickets.");
                filter.status.clear();
                open_statuses()
            }
        },
    };
    let assignee = match filter.assignee.as_str() {
        "" | "all" => None,
        "me" => Some(AssigneeFilter::User(ctx.actor.user_id)),
        "unassigned" => Some(AssigneeFilter::Unassigned),
        other => match other.parse() {
            Ok(user) => Some(AssigneeFilter::User(user)),
            Err(_) => {
                error = FormError::new("assignee", "Unknown assignee: showing anyone's.");
                filter.assignee.clear();
                None
            }
        },
    };
    let priority = optional::<Priority>(&filter.priority).unwrap_or_else(|_| {
        error = FormError::new("priority", "Unknown priority: showing any.");
        filter.priority.clear();
        None
    });
    let mut query = TicketQuery {
        statuses,
        priorities: priority.into_iter().collect(),
        assignee,
        category: Some(filter.category.trim().to_string()).filter(|c| !c.is_empty()),
        team: Some(filter.team.trim().to_string()).filter(|t| !t.is_empty()),
        fields: Some(filter.field.trim().to_string())
            .filter(|f| !f.is_empty())
            .into_iter()
            .collect(),
        text: Some(filter.q.trim().to_string()).filter(|q| !q.is_empty()),
        sort: if filter.sort == "newest" {
            TicketSort::Newest
        } else {
            // Escalated first: a chat waiting for a human is the most urgent row.
            TicketSort::EscalatedFirst
        },
        // The active queue leaves out chats the bot is still answering: they are not the
        // agents' work until they are handed off.
        exclude_bot_chats: matches!(filter.status.as_str(), "" | "active"),
        limit: TicketQuery::DEFAULT_LIMIT,
        cursor: Some(filter.cursor.clone()).filter(|c| !c.is_empty()),
        ..TicketQuery::default()
    };
    if let Some(view) = &view {
        // The view's own query (its "me" is the viewer), paged like the queue.
        query = TicketQuery {
            limit: query.limit,
            cursor: query.cursor.clone(),
            ..view.filter.query_for(ctx.actor.user_id)
        };
    }
    let page = helpdesk.list_tickets(&ctx.actor, query).await?;
    let next_page = page.next_cursor.as_ref().and_then(|cursor| {
        serde_urlencoded::to_string([
            ("status", filter.status.as_str()),
            ("priority", &filter.priority),
            ("assignee", &filter.assignee),
            ("category", &filter.category),
            ("team", &filter.team),
            ("field", &filter.field),
            ("q", &filter.q),
            ("sort", &filter.sort),
            ("view", &filter.view),
            ("cursor", cursor),
        ])
        .ok()
    });
    let names = Names::load(helpdesk, ctx.actor.tenant_id).await?;
    let now = helpdesk.now();
    let tickets = page
        .items
        .iter()
        .map(|t| TicketRow::new(t, names.of(t.assignee, "unassigned"), now))
        .collect();
    let tenant = helpdesk.get_tenant(&ctx.actor).await?;
    let mut statuses = vec![
        Choice::new("active", "All active", &filter.status),
        Choice::new("all", "Any status", &filter.status),
    ];
    statuses.extend(
        TicketStatus::ALL
            .iter()
            .map(|s| Choice::new(s.as_str(), &status_label(*s), &filter.status)),
    );
    let mut priorities = vec![Choice::new("", "Any priority", &filter.priority)];
    priorities.extend(
        Priority::ALL
            .iter()
            .map(|p| Choice::new(p.as_str(), p.as_str(), &filter.priority)),
    );
    let mut assignees = vec![
        Choice::new("all", "Anyone", &filter.assignee),
        Choice::new("me", "Me", &filter.assignee),
        Choice::new("unassigned", "Unassigned", &filter.assignee),
    ];
    for u in helpdesk
        .store()
        .list_users(ctx.actor.tenant_id, None)
        .await?
    {
        if u.is_staff() && u.id != ctx.actor.user_id {
            assignees.push(Choice::new(&u.id.to_string(), &u.name, &filter.assignee));
        }
    }
    let mut categories = vec![Choice::new("", "Any category", &filter.category)];
    categories.extend(
        tenant
            .settings
            .categories
            .iter()
            .map(|c| Choice::new(c, c, &filter.category)),
    );
    let mut teams = vec![Choice::new("", "Any team", &filter.team)];
    teams.extend(
        tenant
            .settings
            .teams
            .iter()
            .map(|t| Choice::new(&t.key, &t.name, &filter.team)),
    );
    let mut field_values = vec![Choice::new("", "Any value", &filter.field)];
    field_values.extend(super::fields::dropdown_choices(
        &tenant.settings,
        &filter.field,
        true,
    ));
    let sorts = vec![
        Choice::new("", "Priority, then oldest", &filter.sort),
        Choice::new("newest", "Newest first", &filter.sort),
    ];
    let (bulk_statuses, bulk_assignees) = bulk::choices(helpdesk, ctx).await?;
    let views = saved_views::panel(state, ctx, view.as_ref(), view_error, view_name).await?;
    let refused = error.is_set();
    let page = html(&QueuePage {
        page: ctx.page(
            state,
            &view
                .as_ref()
                .map_or("Ticket queue".to_string(), |v| format!("View: {}", v.name)),
        ),
        tickets,
        statuses,
        priorities,
        assignees,
        categories,
        teams,
        field_values,
        sorts,
        q: filter.q,
        next_page,
        error,
        bulk_statuses,
        bulk_assignees,
        views,
    });
    if refused { form::refused(page) } else { page }
}

/// Every status of an open ticket (the "All active" filter).
fn open_statuses() -> Vec<TicketStatus> {
    TicketStatus::ALL
        .iter()
        .copied()
        .filter(TicketStatus::is_open)
        .collect()
}
