//! The admin's mail page: the e-mail channel's settings (support address, sender name,
//! signature, acknowledgements, limits) and the quarantine, the mail the helpdesk kept
//! instead of taking in (unreadable, too large, automatic, over a sender's limit, from a
//! sender it may not register), with the reason, the raw message to download, and the two
//! ways out: take it in again or discard it.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use helpdesk_core::QuarantineId;
use helpdesk_core::store::{QuarantineStatus, QuarantinedMail};
use helpdesk_mail::{IngestError, IngestOutcome};
use serde::Deserialize;

use super::app::AppState;
use super::error::{WebError, WebResult};
use super::form::{FormError, refused};
use super::session::{AdminUser, Ctx};
use super::views::{Page, Time, fmt_time, html};

/// Entries listed, newest first.
const LISTED: u32 = 200;

/// The quarantine routes (admins only).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/mail", get(list).post(save_settings))
        .route("/admin/mail/{id}/raw", get(raw))
        .route("/admin/mail/{id}/reingest", post(reingest))
        .route("/admin/mail/{id}/discard", post(discard))
}

/// One row of the page.
struct Row {
    id: String,
    received: Time,
    reason: &'static str,
    detail: String,
    source: String,
    from: String,
    subject: String,
    size: String,
    /// Empty while held; what happened to it otherwise.
    outcome: String,
}

impl Row {
    fn new(entry: &QuarantinedMail) -> Self {
        let outcome = match &entry.status {
            QuarantineStatus::Held => String::new(),
            QuarantineStatus::Released {
                ticket: Some(_), ..
            } => "taken in".into(),
            QuarantineStatus::Released { ticket: None, .. } => "released".into(),
            QuarantineStatus::Discarded { .. } => "discarded".into(),
            _ => "closed".into(),
        };
        Self {
            id: entry.id.to_string(),
            received: fmt_time(entry.received_at),
            reason: entry.reason.name(),
            detail: entry.detail.clone(),
            source: entry.source.clone(),
            from: entry.from.clone().unwrap_or_default(),
            subject: entry.subject.clone().unwrap_or_default(),
            size: human_size(entry.size),
            outcome,
        }
    }
}

#[derive(Template)]
#[template(path = "admin_mail.html")]
struct MailPage {
    page: Page,
    /// The settings as stored, or as typed when a save was refused.
    settings: SettingsForm,
    /// Why the last save was refused, at its field.
    error: FormError,
    rows: Vec<Row>,
    /// Why the last take-in was refused again (shown above the list); empty for none.
    refused: String,
}

/// The e-mail settings form (the checkbox is present only when ticked).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct SettingsForm {
    address: String,
    display_name: String,
    signature: String,
    acknowledge: Option<String>,
    per_hour: String,
    max_mb: String,
}

async fn list(State(state): State<AppState>, AdminUser(ctx): AdminUser) -> WebResult<Response> {
    render(&state, &ctx, None, String::new()).await
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    typed: Option<(SettingsForm, FormError)>,
    refused: String,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let entries = helpdesk.list_quarantine(&ctx.actor, false, LISTED).await?;
    let (settings, error) = match typed {
        Some(typed) => typed,
        None => {
            let email = helpdesk.get_tenant(&ctx.actor).await?.settings.email;
            let form = SettingsForm {
                address: email.address.unwrap_or_default(),
                display_name: email.display_name,
                signature: email.signature,
                acknowledge: email.acknowledge_new_tickets.then(String::new),
                per_hour: email.max_new_tickets_per_sender_per_hour.to_string(),
                max_mb: (email.max_message_bytes / (1024 * 1024)).max(1).to_string(),
            };
            (form, FormError::default())
        }
    };
    html(&MailPage {
        page: ctx.page(state, "E-mail"),
        settings,
        error,
        rows: entries.iter().map(Row::new).collect(),
        refused,
    })
}

async fn save_settings(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Form(form): Form<SettingsForm>,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let again = |error: FormError, form: SettingsForm| {
        let (state, ctx) = (&state, &ctx);
        async move { refused(render(state, ctx, Some((form, error)), String::new()).await) }
    };
    let Ok(per_hour) = form.per_hour.trim().parse::<u32>() else {
        let error = FormError::new(
            "email.max_new_tickets_per_sender_per_hour",
            "New tickets per sender and hour: enter a whole number.",
        );
        return again(error, form).await;
    };
    let Ok(max_mb) = form.max_mb.trim().parse::<u64>() else {
        let error = FormError::new(
            "email.max_message_bytes",
            "Largest message: enter a whole number of megabytes.",
        );
        return again(error, form).await;
    };
    let mut settings = helpdesk.get_tenant(&ctx.actor).await?.settings;
    let address = form.address.trim();
    settings.email.address = (!address.is_empty()).then(|| address.to_string());
    settings.email.display_name = form.display_name.trim().to_string();
    settings.email.signature = form.signature.trim().to_string();
    settings.email.acknowledge_new_tickets = form.acknowledge.is_some();
    settings.email.max_new_tickets_per_sender_per_hour = per_hour;
    settings.email.max_message_bytes = max_mb.saturating_mul(1024 * 1024);
    match helpdesk.update_settings(&ctx.actor, settings).await {
        Ok(_) => Ok(Redirect::to("/admin/mail?done=settings-saved").into_response()),
        Err(e) => match FormError::from_core(
            &e,
            &[
                ("email.address", "Support address"),
                ("email.display_name", "Sender name"),
                ("email.signature", "Signature"),
                (
                    "email.max_new_tickets_per_sender_per_hour",
                    "New tickets per sender and hour",
                ),
                ("email.max_message_bytes", "Largest message"),
            ],
        ) {
            Some(error) => again(error, form).await,
            None => Err(e.into()),
        },
    }
}

fn entry_id(raw: &str) -> Result<QuarantineId, WebError> {
    raw.parse()
        .map_err(|_| WebError::bad_input("quarantine id", "not a quarantine id"))
}

/// The message exactly as it arrived, as a download (never shown in the desk's origin).
async fn raw(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let id = entry_id(&id)?;
    let (_, bytes) = state.helpdesk().quarantined_mail(&ctx.actor, id).await?;
    let disposition = format!("attachment; filename=\"quarantined-{id}.eml\"");
    Ok((
        [
            (header::CONTENT_TYPE, "message/rfc822".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    )
        .into_response())
}

async fn reingest(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let id = entry_id(&id)?;
    match state.mail_ingest().reingest(&ctx.actor, id).await {
        Ok(IngestOutcome::Delivered { ticket, .. }) => Ok(Redirect::to(&format!(
            "/agent/tickets/{ticket}?done=mail-taken-in"
        ))
        .into_response()),
        Ok(_) => Ok(Redirect::to("/admin/mail").into_response()),
        Err(IngestError::StillRefused { reason, detail }) => {
            let text = format!("Still refused ({}): {detail}", reason.name());
            render(&state, &ctx, None, text).await
        }
        Err(IngestError::Engine(e)) => Err(e.into()),
        Err(e) => Err(WebError::bad_input("mail", e.to_string())),
    }
}

async fn discard(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let id = entry_id(&id)?;
    state.helpdesk().discard_quarantined(&ctx.actor, id).await?;
    Ok(Redirect::to("/admin/mail?done=mail-discarded").into_response())
}

/// `1.2 MB`, `512 bytes`.
fn human_size(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} bytes"),
        1_000..1_000_000 => format!("{:.1} kB", bytes as f64 / 1e3),
        _ => format!("{:.1} MB", bytes as f64 / 1e6),
    }
}
