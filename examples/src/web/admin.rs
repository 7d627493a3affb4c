//! Admin pages: analytics with inline SVG charts, users, roles and skills.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use helpdesk_core::domain::Role;
use helpdesk_core::service::{NewUser, UserPatch};
use helpdesk_core::store::TimeRange;
use serde::Deserialize;

use super::app::AppState;
use super::charts::{bar_chart, column_chart};
use super::error::{WebError, WebResult};
use super::names::Names;
use super::session::AdminUser;
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
    })
}

/// A user row.
#[derive(Debug, Clone)]
struct UserRow {
    id: String,
    name: String,
    email: String,
    role: &'static str,
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
}

async fn users(State(state): State<AppState>, AdminUser(ctx): AdminUser) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let tenant = helpdesk.get_tenant(&ctx.actor).await?;
    let users = helpdesk
        .list_users(&ctx.actor, None)
        .await?
        .into_iter()
        .map(|u| UserRow {
            id: u.id.to_string(),
            is_me: u.id == ctx.actor.user_id,
            name: u.name,
            email: u.email,
            role: u.role.as_str(),
            skills: u.skills.join(", "),
            active: u.active,
        })
        .collect();
    html(&UsersPage {
        page: ctx.page(&state, "Users and roles"),
        users,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        skills: tenant.settings.skills.join(", "),
    })
}

pub(crate) fn skill_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The add-user form.
#[derive(Deserialize)]
struct AddUserForm {
    name: String,
    email: String,
    role: String,
    #[serde(default)]
    skills: String,
    #[serde(default)]
    password: String,
}

async fn add_user(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Form(form): Form<AddUserForm>,
) -> WebResult<Redirect> {
    let role: Role = form.role.parse()?;
    let mut new = NewUser::new(form.email.trim(), form.name.trim(), role);
    new.skills = skill_list(&form.skills);
    if !form.password.is_empty() {
        new = new.with_password(&form.password);
    }
    state.helpdesk().add_user(&ctx.actor, new).await?;
    Ok(Redirect::to("/admin/users?done=user-added"))
}

/// The edit-user form.
#[derive(Deserialize)]
struct UpdateUserForm {
    role: String,
    #[serde(default)]
    skills: String,
    #[serde(default)]
    active: Option<String>,
}

async fn update_user(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(id): Path<String>,
    Form(form): Form<UpdateUserForm>,
) -> WebResult<Redirect> {
    let id = id
        .parse()
        .map_err(|_| WebError::bad_input("user id", "not a user id"))?;
    let patch = UserPatch {
        role: Some(form.role.parse()?),
        skills: Some(skill_list(&form.skills)),
        active: Some(form.active.is_some()),
        ..UserPatch::default()
    };
    state.helpdesk().update_user(&ctx.actor, id, patch).await?;
    Ok(Redirect::to("/admin/users?done=user-saved"))
}
