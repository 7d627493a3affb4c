//! Admin settings: categories and skills, AI autonomy, SLA policy and business hours.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use helpdesk_core::domain::{AiAutonomy, DayHours, Priority, SlaTarget};
use serde::Deserialize;

use super::agent::Choice;
use super::app::AppState;
use super::error::{WebError, WebResult};
use super::form::{self, FormError};
use super::session::{AdminUser, Ctx};
use super::views::{Page, html};

/// The settings routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/admin/settings", get(settings_page).post(save_settings))
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// One SLA row of the form: each target as whole hours and the minutes left over (stored
/// as business minutes; people think of a 4 h target, not a 240 min one).
#[derive(Debug, Clone)]
struct SlaRow {
    priority: &'static str,
    first_response_hours: String,
    first_response_minutes: String,
    resolution_hours: String,
    resolution_minutes: String,
}

impl SlaRow {
    fn new(priority: &'static str, first_response: u32, resolution: u32) -> Self {
        Self {
            priority,
            first_response_hours: (first_response / 60).to_string(),
            first_response_minutes: (first_response % 60).to_string(),
            resolution_hours: (resolution / 60).to_string(),
            resolution_minutes: (resolution % 60).to_string(),
        }
    }

    /// The row as it was typed.
    fn typed(priority: &'static str, [fr, res]: [(&str, &str); 2]) -> Self {
        Self {
            priority,
            first_response_hours: fr.0.into(),
            first_response_minutes: fr.1.into(),
            resolution_hours: res.0.into(),
            resolution_minutes: res.1.into(),
        }
    }
}

/// One weekday checkbox.
#[derive(Debug, Clone)]
struct DayBox {
    name: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "admin_settings.html")]
struct SettingsPage {
    page: Page,
    categories: String,
    default_category: String,
    skills: String,
    autonomy: Vec<Choice>,
    sla: Vec<SlaRow>,
    timezone: String,
    open: String,
    close: String,
    days: Vec<DayBox>,
    holidays: String,
    chat_inactivity_minutes: String,
    reopen_window_hours: String,
    /// Months after which tickets are closed and their personal data erased; empty: kept.
    retention_months: String,
    self_registration: bool,
    /// Why the last save was refused, shown at its field (nothing was saved).
    error: FormError,
}

fn hhmm(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

async fn settings_page(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
) -> WebResult<Response> {
    render(&state, &ctx, None).await
}

/// The settings page with the stored settings, or after a refused save with what was
/// typed and the error at its field.
async fn render(
    state: &AppState,
    ctx: &Ctx,
    refused: Option<(&SettingsForm, FormError)>,
) -> WebResult<Response> {
    let tenant = state.helpdesk().get_tenant(&ctx.actor).await?;
    let s = tenant.settings;
    let first_day = s.calendar.weekly_hours.first();
    let autonomy = s.ai_autonomy.as_str();
    let mut page = SettingsPage {
        page: ctx.page(state, "Settings"),
        categories: s.categories.join(", "),
        default_category: s.default_category.clone(),
        skills: s.skills.join(", "),
        autonomy: AiAutonomy::ALL
            .iter()
            .map(|a| Choice::new(a.as_str(), &a.as_str().replace('_', " "), autonomy))
            .collect(),
        sla: Priority::ALL
            .iter()
            .rev()
            .map(|p| {
                let t = s.sla.target(*p);
                SlaRow::new(
                    p.as_str(),
                    t.map_or(0, |t| t.first_response_minutes),
                    t.map_or(0, |t| t.resolution_minutes),
                )
            })
            .collect(),
        timezone: s.calendar.timezone.clone(),
        open: hhmm(first_day.map_or(9 * 60, |d| d.open_minute)),
        close: hhmm(first_day.map_or(17 * 60, |d| d.close_minute)),
        days: WEEKDAYS
            .iter()
            .enumerate()
            .map(|(i, name)| DayBox {
                name,
                checked: s
                    .calendar
                    .weekly_hours
                    .iter()
                    .any(|d| usize::from(d.weekday) == i + 1),
            })
            .collect(),
        holidays: s
            .calendar
            .holidays
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        chat_inactivity_minutes: s.chat_inactivity_minutes.to_string(),
        reopen_window_hours: s.reopen_window_hours.to_string(),
        retention_months: s
            .retention_months
            .map_or_else(String::new, |m| m.to_string()),
        self_registration: s.self_registration,
        error: FormError::default(),
    };
    if let Some((f, error)) = refused {
        page.typed(f);
        page.error = error;
    }
    html(&page)
}

impl SettingsPage {
    /// Shows what was typed instead of what is stored.
    fn typed(&mut self, f: &SettingsForm) {
        self.categories.clone_from(&f.categories);
        self.default_category.clone_from(&f.default_category);
        self.skills.clone_from(&f.skills);
        for c in &mut self.autonomy {
            c.selected = c.value == f.ai_autonomy;
        }
        self.sla = Priority::ALL
            .iter()
            .rev()
            .map(|p| SlaRow::typed(p.as_str(), f.sla_fields(*p)))
            .collect();
        self.timezone.clone_from(&f.timezone);
        self.open.clone_from(&f.open);
        self.close.clone_from(&f.close);
        let ticked = [&f.mon, &f.tue, &f.wed, &f.thu, &f.fri, &f.sat, &f.sun];
        for (day, on) in self.days.iter_mut().zip(ticked) {
            day.checked = on.is_some();
        }
        self.holidays.clone_from(&f.holidays);
        self.chat_inactivity_minutes
            .clone_from(&f.chat_inactivity_minutes);
        self.reopen_window_hours.clone_from(&f.reopen_window_hours);
        self.retention_months.clone_from(&f.retention_months);
        self.self_registration = f.self_registration.is_some();
    }
}

/// The settings form (checkbox fields are present only when ticked; a missing field is
/// refused on the form like an empty one).
#[derive(Default, Deserialize)]
#[serde(default)]
struct SettingsForm {
    /// A checkbox: present when ticked.
    #[serde(default)]
    self_registration: Option<String>,
    categories: String,
    default_category: String,
    skills: String,
    ai_autonomy: String,
    // SLA targets: `{fr,res}_{priority}_{h,m}`, hours and minutes (empty counts as 0).
    #[serde(default)]
    fr_urgent_h: String,
    #[serde(default)]
    fr_urgent_m: String,
    #[serde(default)]
    res_urgent_h: String,
    #[serde(default)]
    res_urgent_m: String,
    #[serde(default)]
    fr_high_h: String,
    #[serde(default)]
    fr_high_m: String,
    #[serde(default)]
    res_high_h: String,
    #[serde(default)]
    res_high_m: String,
    #[serde(default)]
    fr_medium_h: String,
    #[serde(default)]
    fr_medium_m: String,
    #[serde(default)]
    res_medium_h: String,
    #[serde(default)]
    res_medium_m: String,
    #[serde(default)]
    fr_low_h: String,
    #[serde(default)]
    fr_low_m: String,
    #[serde(default)]
    res_low_h: String,
    #[serde(default)]
    res_low_m: String,
    timezone: String,
    open: String,
    close: String,
    mon: Option<String>,
    tue: Option<String>,
    wed: Option<String>,
    thu: Option<String>,
    fri: Option<String>,
    sat: Option<String>,
    sun: Option<String>,
    #[serde(default)]
    holidays: String,
    chat_inactivity_minutes: String,
    reopen_window_hours: String,
    /// Empty: keep tickets until erased on request.
    #[serde(default)]
    retention_months: String,
}

fn list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

/// A whole number field.
fn whole(field: &'static str, raw: &str) -> WebResult<u32> {
    raw.trim()
        .parse()
        .map_err(|_| WebError::bad_input(field, "enter a whole number"))
}

fn minute_of_day(field: &'static str, raw: &str) -> WebResult<u16> {
    let (h, m) = raw
        .trim()
        .split_once(':')
        .ok_or_else(|| WebError::bad_input(field, "use HH:MM, e.g. 09:00"))?;
    let (h, m): (u16, u16) = h
        .parse()
        .ok()
        .zip(m.parse().ok())
        .ok_or_else(|| WebError::bad_input(field, "use HH:MM, e.g. 09:00"))?;
    if h > 24 || m > 59 || (h == 24 && m > 0) {
        return Err(WebError::bad_input(field, "not a time of day"));
    }
    Ok(h * 60 + m)
}

impl SettingsForm {
    /// The hours and minutes fields of the first-response and resolution targets.
    fn sla_fields(&self, p: Priority) -> [(&str, &str); 2] {
        let (fr_h, fr_m, res_h, res_m) = match p {
            Priority::Urgent => (
                &self.fr_urgent_h,
                &self.fr_urgent_m,
                &self.res_urgent_h,
                &self.res_urgent_m,
            ),
            Priority::High => (
                &self.fr_high_h,
                &self.fr_high_m,
                &self.res_high_h,
                &self.res_high_m,
            ),
            Priority::Medium => (
                &self.fr_medium_h,
                &self.fr_medium_m,
                &self.res_medium_h,
                &self.res_medium_m,
            ),
            _ => (
                &self.fr_low_h,
                &self.fr_low_m,
                &self.res_low_h,
                &self.res_low_m,
            ),
        };
        [(fr_h, fr_m), (res_h, res_m)]
    }
}

/// Business minutes from an hours and a minutes field (an empty field counts as 0); the
/// minutes must be below 60 and the total at least one minute.
fn sla_minutes((hours, minutes): (&str, &str), label: &str) -> WebResult<u32> {
    let number = |raw: &str| {
        if raw.is_empty() {
            Some(0)
        } else {
            raw.parse::<u32>().ok()
        }
    };
    let invalid = || {
        WebError::bad_input(
            "sla",
            format!("{label}: enter whole hours and minutes (0 to 59)"),
        )
    };
    let hours = number(hours.trim()).ok_or_else(invalid)?;
    let minutes = number(minutes.trim())
        .filter(|m| *m < 60)
        .ok_or_else(invalid)?;
    let total = hours
        .checked_mul(60)
        .and_then(|h| h.checked_add(minutes))
        .ok_or_else(invalid)?;
    if total == 0 {
        return Err(WebError::bad_input(
            "sla",
            format!("{label}: must be at least one minute"),
        ));
    }
    Ok(total)
}

/// `POST /admin/settings`. A refused field re-shows the form with the reason above it
/// instead of a bare error page; nothing is saved.
async fn save_settings(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Form(f): Form<SettingsForm>,
) -> WebResult<Response> {
    let error = match save(&state, &ctx, &f).await {
        Ok(()) => return Ok(Redirect::to("/admin/settings?done=settings-saved").into_response()),
        Err(WebError::BadInput { field, message }) => FormError::new(field, message),
        Err(WebError::Core(e)) => match FormError::from_core(
            &e,
            &[
                ("categories", "Categories"),
                ("default_category", "Default category"),
                ("skills", "Agent skills"),
                ("ai_autonomy", "AI autonomy"),
                ("timezone", "Time zone"),
                ("holidays", "Holidays"),
                ("chat_inactivity_minutes", "Close idle chats after"),
                ("reopen_window_hours", "Customers may reopen within"),
                ("retention_months", "Erase tickets older than"),
            ],
        ) {
            Some(error) => error,
            None => return Err(e.into()),
        },
        Err(e) => return Err(e),
    };
    form::refused(render(&state, &ctx, Some((&f, error))).await)
}

async fn save(state: &AppState, ctx: &Ctx, f: &SettingsForm) -> WebResult<()> {
    let helpdesk = state.helpdesk();
    let mut s = helpdesk.get_tenant(&ctx.actor).await?.settings;
    s.categories = list(&f.categories);
    s.default_category = f.default_category.trim().to_lowercase();
    s.skills = list(&f.skills);
    let categories = s.categories.clone();
    s.category_skills
        .retain(|c| categories.contains(&c.category));
    s.ai_autonomy = f
        .ai_autonomy
        .parse()
        .map_err(|_| WebError::bad_input("ai_autonomy", "AI autonomy: choose one from the list"))?;
    let t = |priority, first_response_minutes, resolution_minutes| SlaTarget {
        priority,
        first_response_minutes,
        resolution_minutes,
    };
    s.sla.targets = Priority::ALL
        .iter()
        .rev()
        .map(|p| {
            let name = p.as_str();
            let [first_response, resolution] = f.sla_fields(*p);
            Ok(t(
                *p,
                sla_minutes(first_response, &format!("{name} first response"))?,
                sla_minutes(resolution, &format!("{name} resolution"))?,
            ))
        })
        .collect::<WebResult<_>>()?;
    let open = minute_of_day("open", &f.open)?;
    let close = minute_of_day("close", &f.close)?;
    if open >= close {
        return Err(WebError::bad_input(
            "close",
            "Closes: must be after the opening time",
        ));
    }
    let ticked = [&f.mon, &f.tue, &f.wed, &f.thu, &f.fri, &f.sat, &f.sun];
    s.calendar.timezone = f.timezone.trim().to_string();
    s.calendar.weekly_hours = (1u8..)
        .zip(ticked)
        .filter(|(_, on)| on.is_some())
        .map(|(weekday, _)| DayHours {
            weekday,
            open_minute: open,
            close_minute: close,
        })
        .collect();
    s.calendar.holidays = list(&f.holidays)
        .iter()
        .map(|d| {
            d.parse().map_err(|_| {
                WebError::bad_input("holidays", format!("Holidays: {d:?} is not YYYY-MM-DD"))
            })
        })
        .collect::<WebResult<_>>()?;
    s.chat_inactivity_minutes = whole("chat_inactivity_minutes", &f.chat_inactivity_minutes)?;
    s.reopen_window_hours = whole("reopen_window_hours", &f.reopen_window_hours)?;
    s.retention_months = match f.retention_months.trim() {
        "" => None,
        months => Some(whole("retention_months", months)?),
    };
    s.self_registration = f.self_registration.is_some();
    helpdesk.update_settings(&ctx.actor, s).await?;
    Ok(())
}
