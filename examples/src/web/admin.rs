//! Admin pages: analytics with inline SVG charts, users, roles and skills.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use helpdesk_core::domain::Role;
use helpdesk_core::service::{NewUser, UserPatch};
use helpdesk_core::store::TimeRange;
use serde::Deserialize;

use super::ai_usage::{AiUsage, LearnedTriage};
use super::app::AppState;
use super::charts::{bar_chart, column_chart};
use super::error::{WebError, WebResult};
use super::form::{FormError, refused};
use super::names::Names;
use super::session::{AdminUser, Ctx};
use super::views::{Page, html};

/// The admin routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/analytics") }))
        .route("/admin/analytics", get(analytics))
        .route("/admin/users", get(users).post(add_user))
        .route("/admin/users/{id}", post(update_user))
}

/// A figure tile.
#[derive(Debug, Clone)]
struct Tile {
    label: &'static str,
    value: String,
    note: String,
}

impl Tile {
    /// A stable id for the page (`CSAT` → `csat`, `SLA met` → `sla-met`).
    fn key(&self) -> String {
        let mut key = String::new();
        for word in self
            .label
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            if !key.is_empty() {
                key.push('-');
            }
            key.push_str(&word.to_ascii_lowercase());
        }
        key
    }
}

fn tile(label: &'static str, value: impl Into<String>, note: impl Into<String>) -> Tile {
    Tile {
        label,
        value: value.into(),
        note: note.into(),
    }
}

/// `95m` → `1h 35m`; under a minute → `<1m`; `None` → `—`.
fn duration(ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return "—".into();
    };
    let minutes = ms / 60_000;
    match minutes {
        m if m < 1 => "<1m".into(),
        m if m < 60 => format!("{m}m"),
        m if m < 48 * 60 => format!("{}h {:02}m", m / 60, m % 60),
        m => format!("{}d {}h", m / 1440, (m % 1440) / 60),
    }
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".into(), |r| format!("{:.0}%", r * 100.0))
}

/// A chart with its heading.
#[derive(Debug, Clone)]
struct Chart {
    title: &'static str,
    svg: String,
}

#[derive(Template)]
#[template(path = "admin_analytics.html")]
struct AnalyticsPage {
    page: Page,
    days: i64,
    tiles: Vec<Tile>,
    volume: String,
    /// Breakdowns of the tickets (status, priority, category).
    charts: Vec<Chart>,
    /// Per-agent figures.
    agent_charts: Vec<Chart>,
    /// Tickets per option of each dropdown custom field: (title, chart).
    field_charts: Vec<(String, String)>,
    /// What the language models cost.
    ai_usage: AiUsage,
    /// Learned triage's models and their held-out accuracy (`None`: not configured).
    learned: Option<LearnedTriage>,
}

/// The analytics range.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RangeQuery {
    days: Option<i64>,
}

async fn analytics(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Query(q): Query<RangeQuery>,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let days = q.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(WebError::bad_input("days", "1 to 366"));
    }
    let now = helpdesk.now();
    let to = now
        .checked_add(jiff::SignedDuration::from_secs(1))
        .map_err(|_| WebError::bad_input("days", "out of range"))?;
    let from = now
        .checked_sub(jiff::SignedDuration::from_hours(24 * days))
        .map_err(|_| WebError::bad_input("days", "out of range"))?;
    let report = helpdesk
        .analytics(&ctx.actor, TimeRange::new(from, to)?)
        .await?;
    let a = &report.analytics;
    let ai_usage = AiUsage::of(&report);
    let learned = helpdesk
        .learned_triage_enabled()
        .then(|| LearnedTriage::of(&report, helpdesk.config().learned_triage.min_tickets));
    let tiles = vec![
        tile(
            "Tickets",
            a.total.to_string(),
            format!("created in the last {days} days"),
        ),
        tile("Backlog", a.backlog.to_string(), "open now"),
        tile(
            "First response p50 / p90",
            format!(
                "{} / {}",
                duration(a.first_response.p50_ms),
                duration(a.first_response.p90_ms)
            ),
            format!("{} tickets", a.first_response.count),
        ),
        tile(
            "Resolution p50 / p90",
            format!(
                "{} / {}",
                duration(a.resolution.p50_ms),
                duration(a.resolution.p90_ms)
            ),
            format!("{} tickets", a.resolution.count),
        ),
        tile(
            "SLA met",
            a.sla_met_pct
                .map_or_else(|| "—".into(), |p| format!("{p:.0}%")),
            "",
        ),
        tile(
            "CSAT",
            a.csat
                .average
                .map_or_else(|| "—".into(), |v| format!("{v:.1} / 5")),
            format!("{} ratings", a.csat.count),
        ),
        tile(
            "AI draft acceptance",
            percent(a.drafts.acceptance_rate()),
            format!(
                "{} accepted, {} edited, {} discarded of {} proposed",
                a.drafts.accepted, a.drafts.edited, a.drafts.discarded, a.drafts.proposed
            ),
        ),
        tile(
            "AI tokens",
            format!("{} in / {} out", ai_usage.total.1, ai_usage.total.2),
            format!("{} model calls", ai_usage.total.0),
        ),
        tile(
            "Chatbot deflection",
            percent(a.chat.deflection_rate()),
            format!(
                "{} chats, {} resolved by the bot, {} handed off",
                a.chat.sessions, a.chat.resolved_by_bot, a.chat.handed_off
            ),
        ),
    ];
    let points: Vec<(String, u64)> = report
        .daily_volume
        .iter()
        .map(|(d, n)| (d.strftime("%m-%d").to_string(), *n))
        .collect();
    let label_every = (points.len() / 10).max(1);
    let volume = column_chart("Tickets per day", &points, label_every);
    let names = Names::load(helpdesk, ctx.actor.tenant_id).await?;
    let load: Vec<(String, u64)> = a
        .agents
        .iter()
        .map(|s| (names.of(Some(s.user_id), "unknown"), s.open_load))
        .collect();
    let resolved: Vec<(String, u64)> = a
        .agents
        .iter()
        .map(|s| (names.of(Some(s.user_id), "unknown"), s.resolved))
        .collect();
    let mut field_charts: Vec<(String, String)> = Vec::new();
    let teams = helpdesk.team_breakdown(&ctx.actor).await?;
    if teams.len() > 1 {
        // Per team (and no team) its open tickets, with how many wait for someone.
        let rows: Vec<(String, u64)> = teams
            .iter()
            .map(|t| (format!("{} ({} unassigned)", t.name, t.unassigned), t.open))
            .collect();
        let title = "Open tickets by team".to_string();
        let svg = bar_chart(&title, &rows);
        field_charts.push((title, svg));
    }
    let by_field: Vec<(String, String)> = helpdesk
        .custom_field_breakdown(&ctx.actor)
        .await?
        .into_iter()
        .map(|b| {
            let mut rows: Vec<(String, u64)> = b
                .options
                .iter()
                .map(|(o, _, all)| (o.clone(), *all))
                .collect();
            rows.push(("(no value)".into(), b.unset.1));
            let title = format!("By {}", b.label);
            let svg = bar_chart(&title, &rows);
            (title, svg)
        })
        .collect();
    field_charts.extend(by_field);
    let charts = vec![
        Chart {
            title: "By status",
            svg: bar_chart("By status", &a.by_status),
        },
        Chart {
            title: "By priority",
            svg: bar_chart("By priority", &a.by_priority),
        },
        Chart {
            title: "By category",
            svg: bar_chart("By category", &a.by_category),
        },
    ];
    let d = &a.drafts;
    let pending = d
        .proposed
        .saturating_sub(d.accepted + d.edited + d.discarded);
    let drafts: Vec<(String, u64)> = [
        ("sent as is", d.accepted),
        ("sent edited", d.edited),
        ("discarded", d.discarded),
        ("pending", pending),
    ]
    .into_iter()
    .map(|(label, n)| (label.to_string(), n))
    .collect();
    let agent_charts = vec![
        Chart {
            title: "Agent load (open tickets)",
            svg: bar_chart("Agent load", &load),
        },
        Chart {
            title: "Resolved per agent",
            svg: bar_chart("Resolved per agent", &resolved),
        },
        Chart {
            title: "AI suggested replies",
            svg: bar_chart("AI suggested replies", &drafts),
        },
    ];
    html(&AnalyticsPage {
        page: ctx.page(&state, "Analytics"),
        days,
        tiles,
        volume,
        charts,
        agent_charts,
        field_charts,
        ai_usage,
        learned,
    })
}

/// A user row.
#[derive(Debug, Clone)]
struct UserRow {
    id: String,
    name: String,
    email: String,
    role: String,
    skills: String,
    active: bool,
    is_me: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    page: Page,
    users: Vec<UserRow>,
    roles: Vec<&'static str>,
    skills: String,
    /// Why the last add or edit was refused: fields `name`, `email`, `role`, `skills` and
    /// `password` of the add form, `edit_role`, `edit_skills` and `edit` of the row
    /// `edit_id`.
    error: FormError,
    /// The row whose edit was refused (its typed values are shown in it).
    edit_id: String,
    /// What was typed in the add form (never the password).
    add: AddUserForm,
}

async fn users(State(state): State<AppState>, AdminUser(ctx): AdminUser) -> WebResult<Response> {
    render_users(
        &state,
        &ctx,
        FormError::default(),
        None,
        AddUserForm::default(),
    )
    .await
}

/// The users page; after a refused post, `error` at its field, the refused row edit
/// (`edit`) and the add form's text kept.
async fn render_users(
    state: &AppState,
    ctx: &Ctx,
    error: FormError,
    edit: Option<(String, UpdateUserForm)>,
    add: AddUserForm,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let tenant = helpdesk.get_tenant(&ctx.actor).await?;
    let users = helpdesk
        .list_users(&ctx.actor, None)
        .await?
        .into_iter()
        .map(|u| {
            let mut row = UserRow {
                id: u.id.to_string(),
                is_me: u.id == ctx.actor.user_id,
                name: u.name,
                email: u.email,
                role: u.role.as_str().to_string(),
                skills: u.skills.join(", "),
                active: u.active,
            };
            if let Some((_, typed)) = edit.as_ref().filter(|(id, _)| *id == row.id) {
                row.role.clone_from(&typed.role);
                row.skills.clone_from(&typed.skills);
                row.active = typed.active.is_some();
            }
            row
        })
        .collect();
    html(&UsersPage {
        page: ctx.page(state, "Users and roles"),
        users,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        skills: tenant.settings.skills.join(", "),
        error,
        edit_id: edit.map(|(id, _)| id).unwrap_or_default(),
        add: AddUserForm {
            password: String::new(),
            ..add
        },
    })
}

pub(crate) fn skill_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The add-user form (missing fields are refused on the form).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct AddUserForm {
    name: String,
    email: String,
    role: String,
    skills: String,
    password: String,
}

/// The role picked on a form, refused at `field` when it is not one.
fn role_of(raw: &str, field: &str) -> Result<Role, FormError> {
    raw.trim()
        .parse()
        .map_err(|_| FormError::new(field, "Role: choose a role from the list."))
}

async fn add_user(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Form(form): Form<AddUserForm>,
) -> WebResult<Response> {
    let (state, ctx) = (&state, &ctx);
    let again = |error: FormError, form: AddUserForm| async move {
        refused(render_users(state, ctx, error, None, form).await)
    };
    let role = match role_of(&form.role, "role") {
        Ok(role) => role,
        Err(error) => return again(error, form).await,
    };
    let mut new = NewUser::new(form.email.trim(), form.name.trim(), role);
    new.skills = skill_list(&form.skills);
    if !form.password.is_empty() {
        new = new.with_password(&form.password);
    }
    match state.helpdesk().add_user(&ctx.actor, new).await {
        Ok(_) => Ok(Redirect::to("/admin/users?done=user-added").into_response()),
        Err(e) => match FormError::from_core(
            &e,
            &[
                ("name", "Name"),
                ("email", "E-mail"),
                ("skills", "Skills"),
                ("password", "Password"),
            ],
        ) {
            Some(error) => again(error, form).await,
            None => Err(e.into()),
        },
    }
}

/// The edit-user form.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct UpdateUserForm {
    role: String,
    skills: String,
    active: Option<String>,
}

async fn update_user(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(id): Path<String>,
    Form(form): Form<UpdateUserForm>,
) -> WebResult<Response> {
    let user_id = id
        .parse()
        .map_err(|_| WebError::bad_input("user id", "not a user id"))?;
    let (state, ctx, id) = (&state, &ctx, &id);
    let again = |error: FormError, form: UpdateUserForm| async move {
        let edit = Some((id.clone(), form));
        refused(render_users(state, ctx, error, edit, AddUserForm::default()).await)
    };
    let role = match role_of(&form.role, "edit_role") {
        Ok(role) => role,
        Err(error) => return again(error, form).await,
    };
    let patch = UserPatch {
        role: Some(role),
        skills: Some(skill_list(&form.skills)),
        active: Some(form.active.is_some()),
        ..UserPatch::default()
    };
    match state
        .helpdesk()
        .update_user(&ctx.actor, user_id, patch)
        .await
    {
        Ok(_) => Ok(Redirect::to("/admin/users?done=user-saved").into_response()),
        Err(e) => match FormError::from_core(&e, &[("skills", "Skills")]) {
            Some(error) => {
                // The row's own fields: `edit_skills`, or the row as a whole.
                let field = if error.is("skills") {
                    "edit_skills"
                } else {
                    "edit"
                };
                let error = FormError::new(field, error.message());
                again(error, form).await
            }
            None => Err(e.into()),
        },
    }
}
