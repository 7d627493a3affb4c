//! The customer portal: my tickets, raise a ticket, the thread with replies, CSAT.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use helpdesk_core::domain::{Priority, TicketStatus};
use helpdesk_core::service::{NewReply, NewTicket};
use helpdesk_core::store::{TicketQuery, TicketSort};
use helpdesk_core::{Error as CoreError, TicketId};
use serde::Deserialize;

use super::app::AppState;
use super::attachments::{AttachmentView, attach};
use super::error::{WebError, WebResult};
use super::fields::{self, FieldInput};
use super::form::{FormError, refused};
use super::names::Names;
use super::session::{Ctx, CustomerUser};
use super::throttle::wait_secs;
use super::upload::{FILE_FIELD, UploadForm};
use super::views::{
    MessageView, Page, TicketRow, Time, fmt_time, html, shown_description, status_class,
    status_label,
};

/// The portal routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal", get(my_tickets))
        .route("/portal/new", get(new_ticket_page))
        // Forms with files: their reader applies the tenant's limits instead of axum's.
        .route(
            "/portal/tickets",
            post(open_ticket).layer(DefaultBodyLimit::disable()),
        )
        .route("/portal/tickets/{id}", get(ticket_page))
        .route(
            "/portal/tickets/{id}/reply",
            post(reply).layer(DefaultBodyLimit::disable()),
        )
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
    /// What was typed, kept when the form comes back with an error.
    subject: String,
    description: String,
    priority: String,
    /// The refusal, shown above the form, and the field it is about (if any).
    error: Option<String>,
    error_field: String,
    /// The custom fields a customer fills in, and the refusal of one of them.
    fields: Vec<FieldInput>,
    field_err: FormError,
}

/// The fields of the new-ticket form: those customers may fill in.
fn new_ticket_fields(
    defs: &[helpdesk_core::domain::CustomFieldDef],
    typed: Option<&[(String, String)]>,
) -> Vec<FieldInput> {
    let editable: Vec<_> = defs
        .iter()
        .filter(|d| d.customer_editable)
        .cloned()
        .collect();
    fields::inputs(
        &editable,
        &Default::default(),
        helpdesk_core::domain::Role::Customer,
        typed,
    )
}

impl NewTicketPage {
    /// The error of a field input (the shared field inputs show it).
    fn field_error(&self) -> &FormError {
        &self.field_err
    }

    fn empty(page: Page) -> Self {
        Self {
            fields: Vec::new(),
            field_err: FormError::default(),
            page,
            priorities: Priority::ALL.iter().map(|p| p.as_str()).collect(),
            subject: String::new(),
            description: String::new(),
            priority: String::new(),
            error: None,
            error_field: String::new(),
        }
    }

    /// The attributes of the file input when the files were refused.
    fn file_attrs(&self) -> &'static str {
        if self.error_field == FILE_FIELD {
            r#" aria-invalid="true" aria-describedby="attachments-error" autofocus"#
        } else {
            ""
        }
    }
}

async fn new_ticket_page(
    State(state): State<AppState>,
    CustomerUser(ctx): CustomerUser,
) -> WebResult<Response> {
    let defs = state
        .helpdesk()
        .get_tenant(&ctx.actor)
        .await?
        .settings
        .custom_fields;
    let mut page = NewTicketPage::empty(ctx.page(&state, "Raise a ticket"));
    page.fields = new_ticket_fields(&defs, None);
    html(&page)
}

/// The new-ticket form. Fields default to empty so that a missing one is reported on the
/// form like any other mistake, not as the framework's bare 422.
#[derive(Deserialize)]
struct NewTicketForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    priority: String,
}

/// The message of refused files: what was wrong, and that they must be chosen again (a
/// browser never fills a file input back in).
pub(crate) fn files_refused(reason: &str) -> String {
    format!("Files: {reason} Nothing was sent; choose the files again.")
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
    upload: UploadForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let UploadForm {
        form: pairs,
        files,
        refusal,
    } = upload;
    // The fixed inputs; the field inputs (`f.*`, which may repeat) are read apart.
    let fixed: Vec<&(String, String)> = pairs
        .iter()
        .filter(|(k, _)| matches!(k.as_str(), "subject" | "description" | "priority"))
        .collect();
    let form: NewTicketForm = serde_urlencoded::to_string(&fixed)
        .ok()
        .and_then(|s| serde_urlencoded::from_str(&s).ok())
        .ok_or_else(|| WebError::bad_input("form", "not a new-ticket form"))?;
    let defs = state
        .helpdesk()
        .get_tenant(&ctx.actor)
        .await?
        .settings
        .custom_fields;
    let again = |status: StatusCode, error: String, field: &str| {
        let mut page = NewTicketPage::empty(ctx.page(&state, "Raise a ticket"));
        page.subject = form.subject.clone();
        page.description = form.description.clone();
        page.priority = form.priority.clone();
        page.fields = new_ticket_fields(&defs, Some(&pairs));
        if field.starts_with("fields.") {
            page.field_err = FormError::new(field, error);
        } else {
            page.error = Some(error);
            page.error_field = field.to_string();
        }
        html(&page).map(|mut r| {
            *r.status_mut() = status;
            r
        })
    };
    let key = format!("{}/{}", ctx.actor.tenant_id, ctx.actor.user_id);
    if let Err(wait) = state.throttles().tickets.check(&key) {
        tracing::warn!(user = %ctx.actor.user_id, "ticket creation throttled");
        let mut response = again(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "You have opened many tickets in a short time. Please wait {} seconds, or add \
                 to one of your open tickets instead.",
                wait_secs(wait)
            ),
            "",
        )?;
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(wait_secs(wait)));
        return Ok(response);
    }
    if let Some(refusal) = refusal {
        return again(StatusCode::BAD_REQUEST, files_refused(&refusal), FILE_FIELD);
    }
    let mut new = NewTicket::new(&form.subject, &form.description).with_attachments(files);
    match fields::changes_from_form(&defs, &pairs) {
        Ok(changes) => {
            new.fields = changes
                .into_iter()
                .filter_map(|(k, v)| Some((k, v?)))
                .collect();
        }
        Err(e) => return again(StatusCode::BAD_REQUEST, e.message().to_string(), e.field()),
    }
    new.priority = match optional::<Priority>(&form.priority) {
        Ok(p) => p,
        Err(_) => {
            return again(
                StatusCode::BAD_REQUEST,
                "Choose a priority from the list.".into(),
                "priority",
            );
        }
    };
    match state.helpdesk().open_ticket(&ctx.actor, new).await {
        Ok(outcome) => Ok(Redirect::to(&format!(
            "/portal/tickets/{}?done=ticket-created",
            outcome.ticket.id
        ))
        .into_response()),
        Err(CoreError::Validation { field, message }) if field.starts_with("fields.") => {
            again(StatusCode::BAD_REQUEST, message.to_string(), &field)
        }
        Err(CoreError::Validation { field, message }) => {
            // `attachments[2]` is refused at the file input.
            let field = field.split('[').next().unwrap_or_default();
            again(
                StatusCode::BAD_REQUEST,
                format!("{}: {message}", field_label(field)),
                field,
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// How a form names a field of the core's validation errors.
fn field_label(field: &str) -> &str {
    match field {
        "subject" => "Subject",
        "description" => "Description",
        "priority" => "Priority",
        FILE_FIELD => "Files",
        other => other,
    }
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
    created: Time,
    messages: Vec<MessageView>,
    /// The files given with the ticket.
    ticket_files: Vec<AttachmentView>,
    can_reply: bool,
    can_rate: bool,
    rating: Option<u8>,
    /// Why the last rating or reply was refused, shown at its field (`score`, `comment`
    /// or `body`).
    error: FormError,
    /// What was typed in the reply and the rating comment, kept when one is refused.
    reply_body: String,
    comment: String,
    /// The rating as five stars (`★★★★☆`), empty when not rated.
    stars: String,
    /// The custom fields the customer sees, and whether any is theirs to change.
    fields: Vec<FieldInput>,
    can_edit_fields: bool,
}

impl TicketPage {
    /// The error of the fields form (the shared field inputs show it).
    fn field_error(&self) -> &FormError {
        &self.error
    }
}

async fn ticket_page(
    State(state): State<AppState>,
    CustomerUser(ctx): CustomerUser,
    Path(id): Path<String>,
) -> WebResult<Response> {
    render_ticket(&state, &ctx, ticket_id(&id)?, Refusal::default()).await
}

/// A refused form of the ticket page: why, and what was typed.
#[derive(Default)]
struct Refusal {
    error: FormError,
    reply_body: String,
    comment: String,
    /// The inputs of a refused fields form.
    typed: Vec<(String, String)>,
}

/// The ticket page answering a refused fields form: `error` at its field, the inputs
/// kept.
pub(crate) async fn refused_fields(
    state: &AppState,
    ctx: &Ctx,
    id: TicketId,
    error: FormError,
    typed: Vec<(String, String)>,
) -> WebResult<Response> {
    let refusal = Refusal {
        error,
        typed,
        ..Refusal::default()
    };
    refused(render_ticket(state, ctx, id, refusal).await)
}

/// The ticket page, with a refused form's error at its field and its text kept.
async fn render_ticket(
    state: &AppState,
    ctx: &Ctx,
    id: TicketId,
    refusal: Refusal,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let view = helpdesk.get_ticket(&ctx.actor, id).await?;
    let names = Names::load(helpdesk, ctx.actor.tenant_id).await?;
    let files = helpdesk.list_attachments(&ctx.actor, id).await?;
    let t = &view.ticket;
    let mut messages: Vec<MessageView> = view
        .messages
        .iter()
        .map(|m| MessageView::new(m, names.author(m)))
        .collect();
    let ticket_files = attach(&mut messages, &files);
    let done = matches!(t.status, TicketStatus::Resolved | TicketStatus::Closed);
    let settings = helpdesk.get_tenant(&ctx.actor).await?.settings;
    let typed = (!refusal.typed.is_empty()).then_some(refusal.typed.as_slice());
    let fields = fields::inputs(
        &settings.custom_fields,
        &t.custom_fields,
        ctx.actor.role,
        typed,
    );
    let can_edit_fields = fields.iter().any(|f| f.editable);
    html(&TicketPage {
        fields,
        can_edit_fields,
        page: ctx.page(state, &format!("Ticket #{}", t.number)),
        id: t.id.to_string(),
        subject: t.subject.clone(),
        description: shown_description(t, &view.messages),
        status: status_label(t.status),
        status_class: status_class(t.status),
        priority: t.priority.as_str(),
        created: fmt_time(t.created_at),
        messages,
        ticket_files,
        can_reply: t.merged_into.is_none(),
        can_rate: done && t.csat.is_none() && t.merged_into.is_none(),
        rating: t.csat.as_ref().map(|c| c.score),
        error: refusal.error,
        reply_body: refusal.reply_body,
        comment: refusal.comment,
        stars: t.csat.as_ref().map_or_else(String::new, |c| {
            let full = usize::from(c.score.min(5));
            format!("{}{}", "★".repeat(full), "☆".repeat(5 - full))
        }),
    })
}

/// A reply form (a missing body is refused on the form like an empty one).
#[derive(Deserialize)]
pub(crate) struct ReplyForm {
    #[serde(default)]
    pub(crate) body: String,
}

async fn reply(
    State(state): State<AppState>,
    CustomerUser(ctx): CustomerUser,
    Path(id): Path<String>,
    upload: UploadForm<ReplyForm>,
) -> WebResult<Response> {
    let id = ticket_id(&id)?;
    let UploadForm {
        form,
        files,
        refusal,
    } = upload;
    if let Some(refusal) = refusal {
        let refusal = Refusal {
            error: FormError::new(FILE_FIELD, files_refused(&refusal)),
            reply_body: form.body,
            ..Refusal::default()
        };
        return refused(render_ticket(&state, &ctx, id, refusal).await);
    }
    let reply = NewReply::new(&form.body).with_attachments(files);
    match state.helpdesk().reply(&ctx.actor, id, reply).await {
        // A reply on a closed ticket opens a follow-up: show the ticket that got the message.
        Ok(outcome) => {
            Ok(Redirect::to(&format!("/portal/tickets/{}", outcome.ticket.id)).into_response())
        }
        Err(e) => match FormError::from_core(&e, &[("body", "Reply"), (FILE_FIELD, "Files")]) {
            Some(error) => {
                let refusal = Refusal {
                    error,
                    reply_body: form.body,
                    ..Refusal::default()
                };
                refused(render_ticket(&state, &ctx, id, refusal).await)
            }
            None => Err(e.into()),
        },
    }
}

/// The CSAT form. The score has no default: the form preselects nothing, so that a
/// customer who sends it without choosing is asked to choose rather than counted as a 5.
#[derive(Deserialize)]
struct CsatForm {
    #[serde(default)]
    score: String,
    #[serde(default)]
    comment: String,
}

async fn rate(
    State(state): State<AppState>,
    CustomerUser(ctx): CustomerUser,
    Path(id): Path<String>,
    Form(form): Form<CsatForm>,
) -> WebResult<Response> {
    let id = ticket_id(&id)?;
    let score = form
        .score
        .trim()
        .parse::<u8>()
        .ok()
        .filter(|s| (1..=5).contains(s));
    let again = |error: FormError, comment: String| Refusal {
        error,
        comment,
        ..Refusal::default()
    };
    let Some(score) = score else {
        let refusal = again(
            FormError::new("score", "Choose a rating from 1 to 5."),
            form.comment,
        );
        return refused(render_ticket(&state, &ctx, id, refusal).await);
    };
    let comment = Some(form.comment.clone()).filter(|c| !c.trim().is_empty());
    match state
        .helpdesk()
        .record_csat(&ctx.actor, id, score, comment)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/portal/tickets/{id}")).into_response()),
        Err(e) => match FormError::from_core(&e, &[("score", "Rating"), ("comment", "Comment")]) {
            Some(error) => {
                refused(render_ticket(&state, &ctx, id, again(error, form.comment)).await)
            }
            None => Err(e.into()),
        },
    }
}
