//! Saved views in the agent queue: the views an agent sees, each with how many tickets it
//! holds now, a view chosen by `?view=`, saving the queue's filter as a view (shared with
//! every agent when an admin says so) and deleting one after asking.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use helpdesk_core::domain::{Priority, SavedView, TicketStatus, ViewAssignee, ViewFilter};
use helpdesk_core::roles::{Action, allows};
use helpdesk_core::service::SavedViewInput;
use helpdesk_core::store::TicketSort;
use helpdesk_core::{DuplicateKind, Error as CoreError, SavedViewId};
use serde::Deserialize;

use super::agent::{Choice, QueueFilter, render_queue};
use super::app::AppState;
use super::error::{WebError, WebResult};
use super::form::FormError;
use super::session::{Ctx, StaffUser};
use super::views::{Page, html};

/// The saved-view routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/agent/views", post(save_view)).route(
        "/agent/views/{id}/delete",
        get(confirm_delete).post(delete_view),
    )
}

fn view_id(raw: &str) -> WebResult<SavedViewId> {
    raw.trim()
        .parse()
        .map_err(|_| WebError::bad_input("view", "not a saved view id"))
}

/// A view in the queue's list.
#[derive(Debug)]
pub(crate) struct ViewChip {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) count: u64,
    pub(crate) shared: bool,
    /// The team's name, for a view published to a team.
    pub(crate) team: Option<String>,
    pub(crate) active: bool,
}

/// The views block of the queue page.
#[derive(Debug, Default)]
pub(crate) struct ViewsPanel {
    pub(crate) chips: Vec<ViewChip>,
    /// The view shown, when one is (id).
    pub(crate) active: Option<String>,
    pub(crate) can_share: bool,
    /// Whom an admin shares a view with, when the tenant has teams (else a checkbox
    /// shares it with every agent).
    pub(crate) audiences: Vec<Choice>,
    /// A refused save (field `view_name`) and the name typed.
    pub(crate) error: FormError,
    pub(crate) name: String,
}

/// The view `filter.view` names, if any; its filter is put in `filter`'s other fields so
/// the queue's form shows what the view applies (as far as the form can say it).
pub(crate) async fn selected(
    state: &AppState,
    ctx: &Ctx,
    filter: &mut QueueFilter,
) -> WebResult<Option<SavedView>> {
    if filter.view.trim().is_empty() {
        return Ok(None);
    }
    let view = state
        .helpdesk()
        .get_saved_view(&ctx.actor, view_id(&filter.view)?)
        .await?;
    let f = &view.filter;
    filter.status = match f.statuses.as_slice() {
        [] => "all".into(),
        [one] => one.as_str().into(),
        many if many.iter().all(TicketStatus::is_open) => "active".into(),
        _ => "all".into(),
    };
    filter.priority = match f.priorities.as_slice() {
        [one] => one.as_str().into(),
        _ => String::new(),
    };
    filter.assignee = match f.assignee {
        None => String::new(),
        Some(ViewAssignee::Me) => "me".into(),
        Some(ViewAssignee::Unassigned) => "unassigned".into(),
        Some(ViewAssignee::User { id }) => id.to_string(),
    };
    filter.category = f.category.clone().unwrap_or_default();
    filter.team = f.team.clone().unwrap_or_default();
    filter.field = f.fields.first().cloned().unwrap_or_default();
    filter.q = f.text.clone().unwrap_or_default();
    filter.sort = if f.sort == TicketSort::Newest {
        "newest".into()
    } else {
        String::new()
    };
    Ok(Some(view))
}

/// The views block: every view the agent sees with its count now.
pub(crate) async fn panel(
    state: &AppState,
    ctx: &Ctx,
    active: Option<&SavedView>,
    error: FormError,
    name: String,
) -> WebResult<ViewsPanel> {
    let helpdesk = state.helpdesk();
    let views = helpdesk.saved_views_with_counts(&ctx.actor).await?;
    let can_share = allows(ctx.actor.role, Action::ManageSharedViews);
    let teams = if can_share || views.iter().any(|(v, _)| v.team.is_some()) {
        helpdesk.get_tenant(&ctx.actor).await?.settings.teams
    } else {
        Vec::new()
    };
    let team_name = |key: &str| {
        teams
            .iter()
            .find(|t| t.key == key)
            .map_or_else(|| key.to_string(), |t| t.name.clone())
    };
    let mut audiences = Vec::new();
    if can_share && !teams.is_empty() {
        audiences.push(Choice::new("", "Only me", ""));
        audiences.push(Choice::new("all", "Every agent", ""));
        audiences.extend(
            teams
                .iter()
                .map(|t| Choice::new(&t.key, &format!("Team {}", t.name), "")),
        );
    }
    Ok(ViewsPanel {
        chips: views
            .into_iter()
            .map(|(v, count)| ViewChip {
                id: v.id.to_string(),
                active: active.is_some_and(|a| a.id == v.id),
                team: v.team.as_deref().map(team_name),
                name: v.name,
                count,
                shared: v.owner.is_none(),
            })
            .collect(),
        active: active.map(|v| v.id.to_string()),
        can_share,
        audiences,
        error,
        name,
    })
}

/// The queue's filter as a view's: the same choices the queue form offers.
fn view_filter(filter: &QueueFilter) -> Result<ViewFilter, FormError> {
    let bad = |what: &str| {
        FormError::new(
            "view_name",
            format!("The {what} filter is not one of the list's; choose it again."),
        )
    };
    let statuses = match filter.status.trim() {
        "" | "active" => TicketStatus::ALL
            .iter()
            .copied()
            .filter(TicketStatus::is_open)
            .collect(),
        "all" => Vec::new(),
        s => vec![s.parse::<TicketStatus>().map_err(|_| bad("status"))?],
    };
    let priorities = match filter.priority.trim() {
        "" => Vec::new(),
        p => vec![p.parse::<Priority>().map_err(|_| bad("priority"))?],
    };
    let assignee = match filter.assignee.trim() {
        "" | "all" => None,
        "me" => Some(ViewAssignee::Me),
        "unassigned" => Some(ViewAssignee::Unassigned),
        id => Some(ViewAssignee::User {
            id: id.parse().map_err(|_| bad("assignee"))?,
        }),
    };
    Ok(ViewFilter {
        statuses,
        priorities,
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
            TicketSort::EscalatedFirst
        },
    })
}

/// The "save as a view" form: the queue's filter fields, a name and, for admins, sharing.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SaveViewForm {
    name: String,
    shared: String,
    /// Who sees a view an admin saves: empty (only them), `all` or a team's key.
    audience: String,
    status: String,
    priority: String,
    assignee: String,
    category: String,
    team: String,
    field: String,
    q: String,
    sort: String,
}

/// `POST /agent/views`: saves the queue's filter and shows the new view; a refusal comes
/// back on the queue next to the name, with the name kept.
async fn save_view(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Form(form): Form<SaveViewForm>,
) -> WebResult<Response> {
    let queue_filter = QueueFilter {
        status: form.status.clone(),
        priority: form.priority.clone(),
        assignee: form.assignee.clone(),
        category: form.category.clone(),
        team: form.team.clone(),
        field: form.field.clone(),
        q: form.q.clone(),
        sort: form.sort.clone(),
        ..QueueFilter::default()
    };
    let filter = match view_filter(&queue_filter) {
        Ok(filter) => filter,
        Err(error) => {
            return super::form::refused(
                render_queue(&state, &ctx, queue_filter, error, form.name).await,
            );
        }
    };
    // "Shared with": nobody else (empty), every agent (`all`), or one team (its key).
    let (shared, team) = match form.audience.as_str() {
        "" => (form.shared == "on", None),
        "all" => (true, None),
        key => (true, Some(key.to_string())),
    };
    let input = SavedViewInput {
        name: form.name.clone(),
        filter,
        shared,
        team,
    };
    match state.helpdesk().create_saved_view(&ctx.actor, input).await {
        Ok(view) => Ok(Redirect::to(&format!("/agent?view={}", view.id)).into_response()),
        Err(e) => {
            let error = match &e {
                CoreError::Duplicate {
                    kind: DuplicateKind::Name,
                    ..
                } => FormError::new("view_name", "You already have a view with this name."),
                CoreError::Validation { message, .. } => {
                    FormError::new("view_name", format!("View: {message}"))
                }
                _ => return Err(e.into()),
            };
            super::form::refused(render_queue(&state, &ctx, queue_filter, error, form.name).await)
        }
    }
}

#[derive(Template)]
#[template(path = "agent_view_delete.html")]
struct ConfirmDeletePage {
    page: Page,
    id: String,
    name: String,
}

/// `GET /agent/views/{id}/delete`: asks first.
async fn confirm_delete(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let view = state
        .helpdesk()
        .get_saved_view(&ctx.actor, view_id(&id)?)
        .await?;
    html(&ConfirmDeletePage {
        page: ctx.page(&state, "Delete view"),
        id: view.id.to_string(),
        name: view.name,
    })
}

/// The delete confirmation.
#[derive(Default, Deserialize)]
#[serde(default)]
struct ConfirmForm {
    confirm: String,
}

/// `POST /agent/views/{id}/delete`: deletes only with `confirm=yes`.
async fn delete_view(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Path(id): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> WebResult<Response> {
    let view = view_id(&id)?;
    if form.confirm != "yes" {
        return Ok(Redirect::to(&format!("/agent/views/{view}/delete")).into_response());
    }
    state.helpdesk().delete_saved_view(&ctx.actor, view).await?;
    Ok(Redirect::to("/agent?done=view-deleted").into_response())
}
