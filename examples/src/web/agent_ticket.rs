//! The agent's ticket page: the thread, notes, AI copilot, status, assignee, team,
//! priority, custom fields and merge.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use helpdesk_core::TicketId;
use helpdesk_core::domain::{ChatState, MessageKind, Priority, TicketStatus};
use helpdesk_core::lifecycle::can_transition;
use serde::Deserialize;

use super::agent::Choice;
use super::app::AppState;
use super::attachments::{AttachmentView, attach};
use super::canned::{self, CannedPicker};
use super::error::WebResult;
use super::fields::{self, FieldInput};
use super::form::FormError;
use super::names::Names;
use super::portal::ticket_id;
use super::session::{Ctx, StaffUser};
use super::views::{
    MessageView, Page, SlaText, TicketRow, Time, fmt_time, html, shown_description, status_class,
    status_label,
};

/// A related knowledge-base passage.
#[derive(Debug, Clone)]
struct Related {
    title: String,
    text: String,
    score: String,
}

#[derive(Template)]
#[template(path = "agent_ticket.html")]
struct AgentTicketPage {
    page: Page,
    id: String,
    description: String,
    requester: String,
    status: String,
    status_class: &'static str,
    priority: &'static str,
    facts: Vec<(String, String)>,
    created: Time,
    /// The files given with the ticket.
    ticket_files: Vec<AttachmentView>,
    sla_badge: &'static str,
    sla_text: SlaText,
    messages: Vec<MessageView>,
    proposed_drafts: Vec<MessageView>,
    next_statuses: Vec<Choice>,
    reply_statuses: Vec<Choice>,
    assignees: Vec<Choice>,
    /// The tenant's teams (the first: no team); only shown when there are teams.
    teams: Vec<Choice>,
    priorities: Vec<Choice>,
    summary: Option<String>,
    open_questions: Vec<String>,
    related: Vec<Related>,
    merged: bool,
    /// The open chat session this ticket belongs to, when a human answers it.
    chat_session: Option<String>,
    /// A refused form of the page: why, at its field, and what was typed.
    refusal: Refusal,
    /// The canned-response picker of the reply box.
    canned: CannedPicker,
    /// The custom fields and their form.
    fields: Vec<FieldInput>,
}

impl AgentTicketPage {
    /// The error of the fields form (the shared field inputs show it).
    fn field_error(&self) -> &FormError {
        &self.refusal.error
    }
}

/// The element id of a detail of the ticket page (`Triage fallback`: `fact-triage-fallback`),
/// so tests and styles can find one.
fn fact_id(label: &str) -> String {
    format!("fact-{}", label.to_lowercase().replace(' ', "-"))
}

/// A refused form of the agent's ticket page. Fields: `body` (reply), `note`, `chat`,
/// `status`, `assignee`, `priority`, `merge` and `draft`.
#[derive(Debug, Default)]
pub(crate) struct Refusal {
    pub(crate) error: FormError,
    /// The typed text of the refused form (reply, note, chat message, merge number or
    /// edited draft).
    pub(crate) text: String,
    /// The draft whose decision was refused.
    pub(crate) draft: String,
    /// The canned response whose sending was refused.
    pub(crate) canned: String,
    /// The inputs of a refused fields form.
    pub(crate) typed: Vec<(String, String)>,
}

impl Refusal {
    /// A refusal of `field` with the text that was typed.
    pub(crate) fn new(error: FormError, text: impl Into<String>) -> Self {
        Self {
            error,
            text: text.into(),
            draft: String::new(),
            canned: String::new(),
            typed: Vec::new(),
        }
    }

    /// The typed text when `field` is the refused one, else empty (the template's
    /// `value`s and text areas).
    pub(crate) fn kept(&self, field: &str) -> &str {
        if self.error.is(field) { &self.text } else { "" }
    }
}

/// Query of the ticket page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TicketPageQuery {
    /// `1`: with the AI summary.
    summarize: String,
    /// A canned-response name search.
    canned_q: String,
    /// A chosen canned response (id).
    canned: String,
}

pub(crate) async fn ticket_page(
    State(state): State<AppState>,
    StaffUser(ctx): StaffUser,
    Path(id): Path<String>,
    Query(query): Query<TicketPageQuery>,
) -> WebResult<Response> {
    let id = ticket_id(&id)?;
    render_ticket(&state, &ctx, id, &query, Refusal::default()).await
}

/// The agent's ticket page as `query` asks (the AI summary, a canned response), with a
/// refused form's error at its field and its text kept.
pub(crate) async fn render_ticket(
    state: &AppState,
    ctx: &Ctx,
    id: TicketId,
    query: &TicketPageQuery,
    refusal: Refusal,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let view = helpdesk.get_ticket(&ctx.actor, id).await?;
    let names = Names::load(helpdesk, ctx.actor.tenant_id).await?;
    let t = &view.ticket;
    let row = TicketRow::new(t, names.of(t.assignee, "unassigned"), helpdesk.now());
    let mut facts = vec![
        ("Number".to_string(), format!("#{}", t.number)),
        ("Requester".into(), names.of(Some(t.requester), "unknown")),
        ("Assignee".into(), row.assignee.clone()),
        ("Category".into(), row.category.clone()),
        ("Channel".into(), t.channel.as_str().into()),
    ];
    if let Some(triage) = &t.triage {
        facts.push((
            "Triage".into(),
            match &triage.model {
                // The model that answered (with a provider chain, the one that stood in).
                Some(model) => format!(
                    "{} {model} ({:.0}% confident)",
                    triage.source,
                    f64::from(triage.confidence) * 100.0
                ),
                None => format!(
                    "{} ({:.0}% confident)",
                    triage.source,
                    f64::from(triage.confidence) * 100.0
                ),
            },
        ));
        // Why earlier classifiers were passed over (a failing or degraded model, ...).
        if !triage.fallbacks.is_empty() {
            let reasons: Vec<String> = triage
                .fallbacks
                .iter()
                .map(|f| format!("{}: {}", f.source, f.reason))
                .collect();
            facts.push(("Triage fallback".into(), reasons.join("; ")));
        }
    }
    if !t.required_skills.is_empty() {
        facts.push(("Skills".into(), t.required_skills.join(", ")));
    }
    if let Some(language) = &t.language {
        facts.push(("Language".into(), language.clone()));
    }
    if !t.tags.is_empty() {
        facts.push(("Tags".into(), t.tags.join(", ")));
    }
    if let Some(into) = t.merged_into {
        facts.push(("Merged into".into(), into.to_string()));
    }
    if let Some(at) = t.erased_at {
        // Says why the texts read "[erased]" (a customer's erasure or the retention policy).
        facts.push((
            "Personal data erased".into(),
            at.strftime("%Y-%m-%d %H:%M UTC").to_string(),
        ));
    }
    // A proposed draft is shown once, as the suggestion form below the thread.
    let mut messages: Vec<MessageView> = view
        .messages
        .iter()
        .map(|m| MessageView::new(m, names.author(m)))
        .filter(|m| m.draft_state != "proposed")
        .collect();
    let files = helpdesk.list_attachments(&ctx.actor, id).await?;
    let ticket_files = attach(&mut messages, &files);
    let proposed_drafts = view
        .messages
        .iter()
        .filter(|m| m.kind == MessageKind::Draft)
        .map(|m| MessageView::new(m, names.author(m)))
        .filter(|m| m.draft_state == "proposed")
        .collect();
    let role = Some(ctx.actor.role);
    let next_statuses = TicketStatus::ALL
        .iter()
        .filter(|s| can_transition(role, t.status, **s))
        .map(|s| Choice::new(s.as_str(), &status_label(*s), ""))
        .collect();
    let mut reply_statuses = vec![Choice::new("", "Keep status", "")];
    reply_statuses.extend(
        [TicketStatus::Pending, TicketStatus::Resolved]
            .iter()
            .filter(|s| can_transition(role, t.status, **s))
            .map(|s| Choice::new(s.as_str(), &format!("and set {}", status_label(*s)), "")),
    );
    let current_assignee = t.assignee.map(|a| a.to_string()).unwrap_or_default();
    let settings = helpdesk.get_tenant(&ctx.actor).await?.settings;
    // A team's ticket is worked by its members.
    let team = t.team.as_deref().and_then(|k| settings.team(k));
    let mut assignees = vec![Choice::new("", "Unassigned", &current_assignee)];
    for u in helpdesk
        .store()
        .list_users(ctx.actor.tenant_id, None)
        .await?
    {
        if u.is_staff() && u.active && team.is_none_or(|team| team.has_member(u.id)) {
            let label = format!("{} ({})", u.name, u.skills.join(", "));
            assignees.push(Choice::new(&u.id.to_string(), &label, &current_assignee));
        }
    }
    let current_team = t.team.clone().unwrap_or_default();
    let mut teams = vec![Choice::new("", "No team", &current_team)];
    teams.extend(
        settings
            .teams
            .iter()
            .map(|team| Choice::new(&team.key, &team.name, &current_team)),
    );
    if let Some(team) = team {
        facts.push(("Team".into(), team.name.clone()));
    }
    let priorities = Priority::ALL
        .iter()
        .map(|p| Choice::new(p.as_str(), p.as_str(), t.priority.as_str()))
        .collect();
    let (summary, open_questions) = if query.summarize == "1" {
        let s = helpdesk.summarize(&ctx.actor, id).await?;
        (Some(s.summary), s.open_questions)
    } else {
        (None, Vec::new())
    };
    let related = helpdesk
        .related_articles(&ctx.actor, id, 3)
        .await?
        .into_iter()
        .map(|c| Related {
            title: c.title,
            text: c.text.replace("**", "").chars().take(280).collect(),
            score: format!("{:.2}", c.score),
        })
        .collect();
    let chat_session = helpdesk
        .store()
        .list_chat_sessions(ctx.actor.tenant_id, Some(t.requester))
        .await?
        .into_iter()
        .find(|s| s.ticket_id == Some(t.id) && s.state == ChatState::Human)
        .map(|s| s.id.to_string());
    let canned = if t.merged_into.is_some() {
        CannedPicker::default()
    } else {
        canned::picker(
            helpdesk,
            ctx,
            id,
            &query.canned_q,
            &query.canned,
            &refusal,
            &names,
        )
        .await?
    };
    let typed = (!refusal.typed.is_empty()).then_some(refusal.typed.as_slice());
    let fields = fields::inputs(
        &settings.custom_fields,
        &t.custom_fields,
        ctx.actor.role,
        typed,
    );
    html(&AgentTicketPage {
        fields,
        page: ctx.page(state, &format!("#{} · {}", t.number, t.subject)),
        id: t.id.to_string(),
        description: shown_description(t, &view.messages),
        requester: names.of(Some(t.requester), "unknown"),
        status: row.status.clone(),
        status_class: status_class(t.status),
        priority: t.priority.as_str(),
        facts,
        created: fmt_time(t.created_at),
        ticket_files,
        sla_badge: row.sla_badge,
        sla_text: row.sla_text.clone(),
        messages,
        proposed_drafts,
        next_statuses,
        reply_statuses,
        assignees,
        teams,
        priorities,
        summary,
        open_questions,
        related,
        merged: t.merged_into.is_some(),
        chat_session,
        refusal,
        canned,
    })
}
