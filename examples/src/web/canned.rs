//! Canned responses in the web helpdesk: an agent's list (with uses for admins), the form
//! to write one (admins may share it with every agent), the question before deleting, the
//! picker on the ticket page and sending one with its actions. Every write is a
//! `Helpdesk` use case (role and scope checks, validation, audit event).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use helpdesk_core::domain::{
    CannedActions, CannedAssign, CannedResponse, Placeholder, Priority, Role, TicketStatus,
};
use helpdesk_core::roles::{Action, allows};
use helpdesk_core::service::CannedResponseInput;
use helpdesk_core::{CannedResponseId, DuplicateKind, Error as CoreError, Helpdesk, TicketId};
use serde::Deserialize;

use super::admin::skill_list;
use super::agent::{Choice, Refusal};
use super::agent_forms::{again, refusal_at};
use super::app::AppState;
use super::error::{WebError, WebResult};
use super::form::{FormError, refused};
use super::names::Names;
use super::portal::ticket_id;
use super::session::{Ctx, StaffUser};
use super::views::{Page, html, status_label};

/// The canned-response routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/agent/canned", get(list_page).post(create))
        .route("/agent/canned/new", get(new_page))
        .route("/agent/canned/{id}", get(edit_page).post(save))
        .route(
            "/agent/canned/{id}/delete",
            get(confirm_delete).post(delete),
        )
        .route("/agent/tickets/{id}/canned/{canned}", post(apply))
}

/// How many days of use the list counts (admins).
const USAGE_DAYS: i64 = 30;

fn canned_id(raw: &str) -> WebResult<CannedResponseId> {
    raw.parse()
        .map_err(|_| WebError::bad_input("canned response id", "not a canned response id"))
}

/// The actions in words: "status Pending · priority high · tags +refund −new · assign to me".
pub(crate) fn describe_actions(actions: &CannedActions, names: &Names) -> String {
    let mut parts = Vec::new();
    if let Some(s) = actions.status {
        parts.push(format!("status {}", status_label(s)));
    }
    if let Some(p) = actions.priority {
        parts.push(format!("priority {}", p.as_str()));
    }
    let tags: Vec<String> = (actions.add_tags.iter().map(|t| format!("+{t}")))
        .chain(actions.remove_tags.iter().map(|t| format!("−{t}")))
        .collect();
    if !tags.is_empty() {
        parts.push(format!("tags {}", tags.join(" ")));
    }
    match actions.assign {
        Some(CannedAssign::Me) => parts.push("assign to me".into()),
        Some(CannedAssign::Nobody) => parts.push("unassign".into()),
        Some(CannedAssign::User { id }) => {
            parts.push(format!(
                "assign to {}",
                names.of(Some(id), "a former agent")
            ));
        }
        None => {}
    }
    parts.join(" · ")
}

/// A row of the list.
struct Row {
    id: String,
    name: String,
    shared: bool,
    internal: bool,
    actions: String,
    /// Uses in the last [`USAGE_DAYS`] days (admins only).
    uses: Option<u64>,
    /// Whether the viewer may change it.
    editable: bool,
}

#[derive(Template)]
#[template(path = "agent_canned.html")]
struct ListPage {
    page: Page,
    rows: Vec<Row>,
    is_admin: bool,
    usage_days: i64,
    placeholders: Vec<&'static str>,
}

async fn list_page(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let list = helpdesk.list_canned_responses(&ctx.actor, "").await?;
    let names = Names::load(helpdesk, ctx.actor.tenant_id).await?;
    let is_admin = ctx.actor.role == Role::Admin;
    let usage = if is_admin {
        let since = helpdesk
            .now()
            .checked_sub(jiff::SignedDuration::from_hours(24 * USAGE_DAYS))
            .map_err(|_| WebError::bad_input("since", "out of range"))?;
        helpdesk.canned_response_usage(&ctx.actor, since).await?
    } else {
        Vec::new()
    };
    let rows = list
        .iter()
        .map(|c| Row {
            id: c.id.to_string(),
            name: c.name.clone(),
            shared: c.owner.is_none(),
            internal: c.internal,
            actions: describe_actions(&c.actions, &names),
            uses: is_admin.then(|| {
                usage
                    .iter()
                    .find(|u| u.usage.canned_response == c.id)
                    .map_or(0, |u| u.usage.uses)
            }),
            editable: c.owner.is_some() || is_admin,
        })
        .collect();
    html(&ListPage {
        page: ctx.page(&state, "Canned responses"),
        rows,
        is_admin,
        usage_days: USAGE_DAYS,
        placeholders: Placeholder::ALL.iter().map(|(n, _)| *n).collect(),
    })
}

/// The form, as typed (every field defaults to empty: a missing one is refused on the
/// form like an empty one).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct CannedForm {
    name: String,
    body: String,
    internal: String,
    shared: String,
    status: String,
    priority: String,
    add_tags: String,
    remove_tags: String,
    assign: String,
}

impl CannedForm {
    fn of(c: &CannedResponse) -> Self {
        Self {
            name: c.name.clone(),
            body: c.body.clone(),
            internal: if c.internal {
                "on".into()
            } else {
                String::new()
            },
            shared: if c.owner.is_none() {
                "on".into()
            } else {
                String::new()
            },
            status: c
                .actions
                .status
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            priority: c
                .actions
                .priority
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            add_tags: c.actions.add_tags.join(", "),
            remove_tags: c.actions.remove_tags.join(", "),
            assign: match c.actions.assign {
                None => String::new(),
                Some(CannedAssign::Me) => "me".into(),
                Some(CannedAssign::Nobody) => "nobody".into(),
                Some(CannedAssign::User { id }) => id.to_string(),
            },
        }
    }

    /// The use-case input; a choice that is not one of the form's is refused at its field.
    fn input(&self) -> Result<CannedResponseInput, FormError> {
        let status = match self.status.trim() {
            "" => None,
            s => Some(
                s.parse::<TicketStatus>()
                    .map_err(|_| FormError::new("status", "Choose the status from the list."))?,
            ),
        };
        let priority =
            match self.priority.trim() {
                "" => None,
                p => Some(p.parse::<Priority>().map_err(|_| {
                    FormError::new("priority", "Choose the priority from the list.")
                })?),
            };
        let assign = match self.assign.trim() {
            "" => None,
            "me" => Some(CannedAssign::Me),
            "nobody" => Some(CannedAssign::Nobody),
            id => Some(CannedAssign::User {
                id: id.parse().map_err(|_| {
                    FormError::new("assign", "Choose whom to assign from the list.")
                })?,
            }),
        };
        Ok(CannedResponseInput {
            name: self.name.clone(),
            body: self.body.clone(),
            internal: self.internal == "on",
            shared: self.shared == "on",
            actions: CannedActions {
                status,
                priority,
                add_tags: skill_list(&self.add_tags),
                remove_tags: skill_list(&self.remove_tags),
                assign,
            },
        })
    }
}

#[derive(Template)]
#[template(path = "agent_canned_form.html")]
struct FormPage {
    page: Page,
    /// Empty for a new one.
    id: String,
    form: CannedForm,
    can_share: bool,
    statuses: Vec<Choice>,
    priorities: Vec<Choice>,
    assignees: Vec<Choice>,
    placeholders: Vec<&'static str>,
    error: FormError,
}

async fn render_form(
    state: &AppState,
    ctx: &Ctx,
    id: String,
    form: CannedForm,
    error: FormError,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let mut statuses = vec![Choice::new("", "Keep the status", &form.status)];
    statuses.extend(
        TicketStatus::ALL
            .iter()
            .filter(|s| **s != TicketStatus::New)
            .map(|s| Choice::new(s.as_str(), &status_label(*s), &form.status)),
    );
    let mut priorities = vec![Choice::new("", "Keep the priority", &form.priority)];
    priorities.extend(
        Priority::ALL
            .iter()
            .map(|p| Choice::new(p.as_str(), p.as_str(), &form.priority)),
    );
    let mut assignees = vec![
        Choice::new("", "Keep the assignee", &form.assign),
        Choice::new("me", "Whoever sends it", &form.assign),
        Choice::new("nobody", "Nobody (back to the queue)", &form.assign),
    ];
    for u in helpdesk
        .store()
        .list_users(ctx.actor.tenant_id, None)
        .await?
    {
        if u.is_staff() && u.active {
            assignees.push(Choice::new(&u.id.to_string(), &u.name, &form.assign));
        }
    }
    let title = if id.is_empty() {
        "New canned response"
    } else {
        "Edit canned response"
    };
    let page = html(&FormPage {
        page: ctx.page(state, title),
        id,
        form,
        can_share: allows(ctx.actor.role, Action::ManageSharedCannedResponses),
        statuses,
        priorities,
        assignees,
        placeholders: Placeholder::ALL.iter().map(|(n, _)| *n).collect(),
        error: error.clone(),
    });
    if error.is_set() { refused(page) } else { page }
}

async fn new_page(State(state): State<AppState>, StaffUser(ctx): StaffUser) -> WebResult<Response> {
    render_form(
        &state,
        &ctx,
        String::new(),
        CannedForm::default(),
        FormError::default(),
    )
    .await
}

async fn edit_page(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let canned = state
        .helpdesk()
        .get_canned_response(&ctx.actor, canned_id(&id)?)
        .await?;
    let form = CannedForm::of(&canned);
    render_form(&state, &ctx, id, form, FormError::default()).await
}

/// The outcome of a save: the list with a confirmation, or the form again with what was
/// typed and the refusal at its field.
async fn saved_or_refused(
    state: &AppState,
    ctx: &Ctx,
    id: String,
    form: CannedForm,
    result: helpdesk_core::Result<CannedResponse>,
) -> WebResult<Response> {
    let e = match result {
        Ok(_) => return Ok(Redirect::to("/agent/canned?done=canned-saved").into_response()),
        Err(e) => e,
    };
    let labels = [
        ("name", "Name"),
        ("body", "Text"),
        ("actions.status", "Status"),
        ("actions.add_tags", "Tags to add"),
        ("actions.remove_tags", "Tags to remove"),
        ("actions.assign", "Assign to"),
    ];
    let error = match &e {
        CoreError::Duplicate {
            kind: DuplicateKind::Name,
            ..
        } => FormError::new(
            "name",
            "Name: another canned response here already has this name.",
        ),
        _ => match FormError::from_core(&e, &labels) {
            Some(error) => error,
            None => return Err(e.into()),
        },
    };
    render_form(state, ctx, id, form, error).await
}

async fn create(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Form(form): Form<CannedForm>,
) -> WebResult<Response> {
    let input = match form.input() {
        Ok(input) => input,
        Err(error) => return render_form(&state, &ctx, String::new(), form, error).await,
    };
    let result = state
        .helpdesk()
        .create_canned_response(&ctx.actor, input)
        .await;
    saved_or_refused(&state, &ctx, String::new(), form, result).await
}

async fn save(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Path(id): Path<String>,
    Form(form): Form<CannedForm>,
) -> WebResult<Response> {
    let canned = canned_id(&id)?;
    let input = match form.input() {
        Ok(input) => input,
        Err(error) => return render_form(&state, &ctx, id, form, error).await,
    };
    let result = state
        .helpdesk()
        .update_canned_response(&ctx.actor, canned, input)
        .await;
    saved_or_refused(&state, &ctx, id, form, result).await
}

#[derive(Template)]
#[template(path = "agent_canned_delete.html")]
struct ConfirmDeletePage {
    page: Page,
    id: String,
    name: String,
}

/// `GET /agent/canned/{id}/delete`: asks before deleting.
async fn confirm_delete(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let canned = state
        .helpdesk()
        .get_canned_response(&ctx.actor, canned_id(&id)?)
        .await?;
    html(&ConfirmDeletePage {
        page: ctx.page(&state, "Delete canned response"),
        id,
        name: canned.name,
    })
}

/// The delete confirmation.
#[derive(Default, Deserialize)]
#[serde(default)]
struct ConfirmForm {
    confirm: String,
}

/// `POST /agent/canned/{id}/delete`: deletes only with `confirm=yes` (from the question).
async fn delete(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Path(id): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> WebResult<Response> {
    let canned = canned_id(&id)?;
    if form.confirm != "yes" {
        return Ok(Redirect::to(&format!("/agent/canned/{canned}/delete")).into_response());
    }
    state
        .helpdesk()
        .delete_canned_response(&ctx.actor, canned)
        .await?;
    Ok(Redirect::to("/agent/canned?done=canned-deleted").into_response())
}

/// The picker on the ticket page: a name search, the matches, and the chosen response
/// filled in for the ticket.
#[derive(Debug, Default)]
pub(crate) struct CannedPicker {
    /// Every name the agent may use (the search box's suggestions).
    pub(crate) names: Vec<String>,
    /// What was searched.
    pub(crate) query: String,
    /// Responses matching the search, when it did not pick exactly one: (id, name).
    pub(crate) matches: Vec<(String, String)>,
    /// "Nothing matches", when so.
    pub(crate) message: String,
    /// The chosen response, ready to send.
    pub(crate) chosen: Option<ChosenCanned>,
}

/// A canned response filled in for the ticket on the page.
#[derive(Debug)]
pub(crate) struct ChosenCanned {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) internal: bool,
    /// The text to send (filled in, or as the agent last typed it).
    pub(crate) body: String,
    /// Its actions in words (empty when none).
    pub(crate) actions: String,
}

/// The picker for the ticket page: `query` is the search (`canned_q`), `chosen` a
/// response id (`canned`), and a refused send keeps its response and text.
pub(crate) async fn picker(
    helpdesk: &Helpdesk,
    ctx: &Ctx,
    ticket: TicketId,
    query: &str,
    chosen: &str,
    refusal: &Refusal,
    names: &Names,
) -> WebResult<CannedPicker> {
    let all = helpdesk.list_canned_responses(&ctx.actor, "").await?;
    let mut picker = CannedPicker {
        names: all.iter().map(|c| c.name.clone()).collect(),
        query: query.trim().to_string(),
        ..CannedPicker::default()
    };
    let resent = refusal
        .error
        .is("canned")
        .then_some(refusal.canned.as_str());
    let wanted = match resent.or(Some(chosen).filter(|c| !c.is_empty())) {
        Some(id) => Some(canned_id(id)?),
        None if !picker.query.is_empty() => {
            let found = helpdesk
                .list_canned_responses(&ctx.actor, &picker.query)
                .await?;
            let exact = found
                .iter()
                .find(|c| c.folded_name() == picker.query.to_lowercase());
            match (exact, found.as_slice()) {
                (Some(c), _) | (None, [c]) => Some(c.id),
                (None, []) => {
                    picker.message = format!("No canned response matches “{}”.", picker.query);
                    None
                }
                (None, many) => {
                    picker.matches = many
                        .iter()
                        .map(|c| (c.id.to_string(), c.name.clone()))
                        .collect();
                    None
                }
            }
        }
        None => None,
    };
    if let Some(id) = wanted {
        let preview = helpdesk
            .preview_canned_response(&ctx.actor, ticket, id)
            .await?;
        let c = preview.canned_response;
        picker.chosen = Some(ChosenCanned {
            id: c.id.to_string(),
            name: c.name.clone(),
            internal: c.internal,
            body: match resent {
                Some(_) => refusal.text.clone(),
                None => preview.body,
            },
            actions: describe_actions(&c.actions, names),
        });
    }
    Ok(picker)
}

/// The send form of a chosen canned response.
#[derive(Default, Deserialize)]
#[serde(default)]
struct ApplyForm {
    body: String,
}

/// `POST /agent/tickets/{id}/canned/{canned}`: sends the (possibly edited) text with the
/// response's actions in one change.
async fn apply(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Path((id, canned)): Path<(String, String)>,
    Form(form): Form<ApplyForm>,
) -> WebResult<Response> {
    let id = ticket_id(&id)?;
    let canned = canned_id(&canned)?;
    let result = state
        .helpdesk()
        .apply_canned_response(&ctx.actor, id, canned, Some(form.body.clone()))
        .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/agent/tickets/{id}")).into_response()),
        Err(e) => {
            let mut refusal = refusal_at(e, "canned", &[("body", "Text")], form.body)?;
            refusal.canned = canned.to_string();
            again(&state, &ctx, id, refusal).await
        }
    }
}
