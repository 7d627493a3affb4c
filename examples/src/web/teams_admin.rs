//! The admin's teams page: the tenant's teams with their members and the categories whose
//! new tickets they take, the form to add or change one, and deleting one after asking.
//! Saved as a change of the tenant's settings, so core checks them (members active staff,
//! a category in one team at most) and records an audit event.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use helpdesk_core::UserId;
use helpdesk_core::domain::{Team, TenantSettings};

use super::agent::Choice;
use super::app::AppState;
use super::error::WebResult;
use super::form::{self, FormError};
use super::keyed::Keyed;
use super::session::{AdminUser, Ctx};
use super::views::{Page, html};

/// The team routes (admins).
pub(crate) fn routes() -> Router<AppState> {
    TEAMS
        .delete_routes("/admin/teams?done=team-deleted")
        .route("/admin/teams", get(list_page).post(add))
        .route("/admin/teams/{key}", get(edit_page).post(save))
}

/// The form's inputs as posted (a `member` and a `category` per ticked box).
type Pairs = Vec<(String, String)>;

fn value<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.trim())
}

/// The team a posted form describes (core checks it when the settings are saved).
fn team_of(pairs: &Pairs, key: &str) -> Result<Team, FormError> {
    let mut members = Vec::new();
    for (name, v) in pairs {
        match name.as_str() {
            "member" => members.push(
                v.parse::<UserId>()
                    .map_err(|_| FormError::new("members", "Choose from the list."))?,
            ),
            _ => continue,
        }
    }
    Ok(Team {
        key: key.trim().to_lowercase(),
        name: value(pairs, "name").to_string(),
        members,
        categories: pairs
            .iter()
            .filter(|(k, _)| k == "category")
            .map(|(_, v)| v.clone())
            .collect(),
    })
}

/// The form's inputs of a saved team.
fn pairs_of(team: &Team) -> Pairs {
    let mut p: Pairs = vec![
        ("key".into(), team.key.clone()),
        ("name".into(), team.name.clone()),
    ];
    p.extend(
        team.members
            .iter()
            .map(|m| ("member".into(), m.to_string())),
    );
    p.extend(
        team.categories
            .iter()
            .map(|c| ("category".into(), c.clone())),
    );
    p
}

/// A row of the list.
struct Row {
    key: String,
    name: String,
    members: String,
    categories: String,
}

#[derive(Template)]
#[template(path = "admin_teams.html")]
struct TeamsPage {
    page: Page,
    rows: Vec<Row>,
    /// The add or edit form, as typed or as saved.
    form: Pairs,
    /// The key of the team being changed (empty: adding one).
    editing: String,
    /// Active agents and admins, ticked when members.
    staff: Vec<Choice>,
    /// The tenant's categories, ticked when the team takes them.
    categories: Vec<Choice>,
    error: FormError,
}

impl TeamsPage {
    fn v(&self, name: &str) -> &str {
        value(&self.form, name)
    }
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    form: Pairs,
    editing: &str,
    error: FormError,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let settings = helpdesk.get_tenant(&ctx.actor).await?.settings;
    let users = helpdesk.list_users(&ctx.actor, None).await?;
    let name_of = |id: &UserId| {
        users
            .iter()
            .find(|u| u.id == *id)
            .map_or_else(|| "(removed)".to_string(), |u| u.name.clone())
    };
    let rows = settings
        .teams
        .iter()
        .map(|t| Row {
            key: t.key.clone(),
            name: t.name.clone(),
            members: t.members.iter().map(name_of).collect::<Vec<_>>().join(", "),
            categories: t.categories.join(", "),
        })
        .collect();
    let ticked = |name: &str, v: &str| form.iter().any(|(k, x)| k == name && x == v);
    let staff = users
        .iter()
        .filter(|u| u.active && u.is_staff())
        .map(|u| {
            let id = u.id.to_string();
            let mut c = Choice::new(&id, &u.name, "");
            c.selected = ticked("member", &id);
            c
        })
        .collect();
    let categories = settings
        .categories
        .iter()
        .map(|cat| {
            let mut c = Choice::new(cat, cat, "");
            c.selected = ticked("category", cat);
            c
        })
        .collect();
    let title = if editing.is_empty() {
        "Teams".to_string()
    } else {
        format!("Team: {}", value(&form, "name"))
    };
    let refused = error.is_set();
    let page = html(&TeamsPage {
        page: ctx.page(state, &title),
        rows,
        form,
        editing: editing.to_string(),
        staff,
        categories,
        error,
    });
    if refused { form::refused(page) } else { page }
}

async fn list_page(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
) -> WebResult<Response> {
    render(&state, &ctx, Vec::new(), "", FormError::default()).await
}

async fn edit_page(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(key): Path<String>,
) -> WebResult<Response> {
    let teams = state
        .helpdesk()
        .get_tenant(&ctx.actor)
        .await?
        .settings
        .teams;
    let team = teams
        .iter()
        .find(|t| t.key == key)
        .ok_or_else(|| helpdesk_core::Error::not_found("team", &key))?;
    render(&state, &ctx, pairs_of(team), &key, FormError::default()).await
}

/// Saves the teams with `change` applied; a refusal comes back on the form as typed.
async fn commit(
    state: &AppState,
    ctx: &Ctx,
    pairs: Pairs,
    editing: &str,
    change: impl FnOnce(&mut Vec<Team>, Team) -> Result<(), FormError>,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let mut settings = helpdesk.get_tenant(&ctx.actor).await?.settings;
    let key = if editing.is_empty() {
        value(&pairs, "key").to_string()
    } else {
        editing.to_string()
    };
    let outcome = match team_of(&pairs, &key).and_then(|t| change(&mut settings.teams, t)) {
        Ok(()) => match helpdesk.update_settings(&ctx.actor, settings).await {
            Ok(_) => Ok(()),
            // `settings.teams[2].members[0]` is refused at the form's part it names.
            Err(e) => match &e {
                helpdesk_core::Error::Validation { field, message } => {
                    let part = field
                        .rsplit('.')
                        .next()
                        .and_then(|p| p.split('[').next())
                        .unwrap_or_default();
                    let input = match part {
                        "key" | "name" | "members" | "categories" => part,
                        _ => "",
                    };
                    Err(Ok(FormError::new(input, message.to_string())))
                }
                _ => Err(Err(e)),
            },
        },
        Err(f) => Err(Ok(f)),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to("/admin/teams?done=team-saved").into_response()),
        Err(Ok(error)) => render(state, ctx, pairs, editing, error).await,
        Err(Err(e)) => Err(e.into()),
    }
}

async fn add(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Form(pairs): Form<Pairs>,
) -> WebResult<Response> {
    commit(&state, &ctx, pairs, "", |teams, team| {
        TEAMS.insert(teams, team)
    })
    .await
}

async fn save(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(key): Path<String>,
    Form(pairs): Form<Pairs>,
) -> WebResult<Response> {
    // The key names the team on tickets: it is never changed.
    let editing = key.clone();
    commit(&state, &ctx, pairs, &editing, move |teams, team| {
        TEAMS.replace(teams, &key, team)
    })
    .await
}

/// The teams as keyed entries of the settings.
static TEAMS: Keyed<Team> = Keyed {
    entity: "team",
    what: "the team",
    page: "/admin/teams",
    note: "Its tickets keep the team in their history but no longer belong to a team: any \
           agent may take them, and new tickets of its categories go to everyone.",
    list: team_list,
    key_name: team_key_name,
};

fn team_list(s: &mut TenantSettings) -> &mut Vec<Team> {
    &mut s.teams
}

fn team_key_name(t: &Team) -> (&str, &str) {
    (&t.key, &t.name)
}
