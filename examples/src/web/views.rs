//! The shared page context, the error page, and small formatting helpers for templates.

use super::attachments::AttachmentView;
use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use helpdesk_core::domain::{AuthorKind, Message, MessageKind, Ticket, TicketStatus};
use jiff::Timestamp;

use super::error::WebResult;

/// What the layout needs on every page.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub(crate) title: String,
    pub(crate) csrf: String,
    pub(crate) user_name: Option<String>,
    /// `customer`, `agent`, `admin`, or empty when signed out.
    pub(crate) role: &'static str,
    pub(crate) tenant_name: String,
    /// Shown in a banner on every page (offline mode, demo store); empty for none.
    pub(crate) mode_notice: String,
    /// Shown to staff while the language model is degraded (the offline paths answer);
    /// empty otherwise.
    pub(crate) ai_notice: Markup,
    /// The request path.
    pub(crate) path: String,
    /// A confirmation of the last change (shown once, after the redirect).
    pub(crate) notice: Option<&'static str>,
    /// The tenant's limits on files, for the file inputs (`Up to 10 files, 10 MB each.`).
    pub(crate) files_hint: String,
}

impl Page {
    /// `active` when the page is `section` or below it (the navigation link of the
    /// current section), else empty.
    pub(crate) fn nav(&self, section: &str) -> &'static str {
        let below = self
            .path
            .strip_prefix(section)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            // The custom fields page is part of the settings.
            || (section == "/admin/settings"
                && (self.path.starts_with("/admin/fields")
                    || self.path.starts_with("/admin/automations")
                    || self.path.starts_with("/admin/teams")));
        // "My tickets" is /portal and the ticket pages, not the new-ticket form; "Queue" is
        // /agent and the ticket pages, not the canned responses.
        let other_tab = (section == "/portal" && self.path == "/portal/new")
            || (section == "/agent" && self.path.starts_with("/agent/canned"));
        if below && !other_tab { "active" } else { "" }
    }

    /// The user's initials for the avatar (`Carlos Rivera` → `CR`).
    pub(crate) fn initials(&self) -> String {
        self.user_name
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .take(2)
            .flat_map(char::to_uppercase)
            .collect()
    }

    /// Whether the viewer is an agent or an admin.
    pub(crate) fn is_staff(&self) -> bool {
        matches!(self.role, "agent" | "admin")
    }
}

/// The standalone error page.
#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage<'a> {
    pub(crate) status: u16,
    pub(crate) reason: &'a str,
    pub(crate) message: &'a str,
}

/// Renders a template into an HTML response.
pub(crate) fn html<T: Template>(template: &T) -> WebResult<Response> {
    Ok(Html(template.render()?).into_response())
}

/// A point in time on a page: `<time datetime="2026-11-22T14:05:00Z">2026-11-22 14:05
/// UTC</time>`. The server writes UTC; `static/time.js` rewrites it in the browser's time
/// zone with a relative time ("3 minutes ago") and the absolute time in the title. Without
/// JavaScript the UTC text stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Time(pub(crate) Timestamp);

impl std::fmt::Display for Time {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only digits, `-`, `:`, `T`, `Z`, spaces and "UTC": nothing to escape.
        write!(
            f,
            r#"<time datetime="{}">{}</time>"#,
            self.0.strftime("%Y-%m-%dT%H:%M:%SZ"),
            self.0.strftime("%Y-%m-%d %H:%M UTC")
        )
    }
}

impl askama::filters::HtmlSafe for Time {}

/// `2026-11-22 14:05 UTC` as a [`Time`] element.
pub(crate) fn fmt_time(t: Timestamp) -> Time {
    Time(t)
}

/// HTML built by this app from fixed words and [`Time`]s (never from user input), shown as
/// is.
#[derive(Debug, Clone, Default)]
pub(crate) struct Markup(pub(crate) String);

impl Markup {
    /// Whether there is nothing to show.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for Markup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for Markup {}

/// The text of an SLA badge: plain words, or words and a [`Time`] ("overdue since …").
#[derive(Debug, Clone, Default)]
pub(crate) struct SlaText {
    words: String,
    since: Option<Time>,
}

impl SlaText {
    fn words(words: impl Into<String>) -> Self {
        Self {
            words: words.into(),
            since: None,
        }
    }

    /// Whether there is nothing to show.
    pub(crate) fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

impl std::fmt::Display for SlaText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The words are fixed texts of this module (no user input).
        f.write_str(&self.words)?;
        match self.since {
            Some(t) => write!(f, " {t}"),
            None => Ok(()),
        }
    }
}

impl askama::filters::HtmlSafe for SlaText {}

/// A CSS class suffix for a status badge.
pub(crate) fn status_class(status: TicketStatus) -> &'static str {
    status.as_str()
}

/// A human label for a status.
pub(crate) fn status_label(status: TicketStatus) -> String {
    status.as_str().replace('_', " ")
}

/// A ticket row for lists.
#[derive(Debug, Clone)]
pub(crate) struct TicketRow {
    pub(crate) id: String,
    pub(crate) number: u64,
    pub(crate) subject: String,
    pub(crate) status: String,
    pub(crate) status_class: &'static str,
    pub(crate) priority: &'static str,
    pub(crate) category: String,
    pub(crate) assignee: String,
    pub(crate) updated: Time,
    /// `breached`, `due` (due within the next 4 hours or overdue unflagged) or empty.
    pub(crate) sla_badge: &'static str,
    pub(crate) sla_text: SlaText,
}

impl TicketRow {
    /// A row for `ticket`; `assignee` is the display name of its assignee.
    pub(crate) fn new(ticket: &Ticket, assignee: String, now: Timestamp) -> Self {
        let (sla_badge, sla_text) = sla_badge(ticket, now);
        Self {
            id: ticket.id.to_string(),
            number: ticket.number,
            subject: ticket.subject.clone(),
            status: status_label(ticket.status),
            status_class: status_class(ticket.status),
            priority: ticket.priority.as_str(),
            category: ticket.category.clone().unwrap_or_else(|| "—".into()),
            assignee,
            updated: fmt_time(ticket.updated_at),
            sla_badge,
            sla_text,
        }
    }
}

fn sla_badge(ticket: &Ticket, now: Timestamp) -> (&'static str, SlaText) {
    let sla = &ticket.sla;
    if sla.first_response_breached || sla.resolution_breached {
        let what = if sla.first_response_breached {
            "first response"
        } else {
            "resolution"
        };
        return ("breached", SlaText::words(format!("SLA breached ({what})")));
    }
    if !ticket.status.is_open() {
        return ("", SlaText::default());
    }
    let due = if ticket.first_response_at.is_none() {
        sla.first_response_due
    } else {
        sla.resolution_due
    };
    match due {
        Some(due) if sla.paused_since.is_none() => {
            let minutes = (due.as_millisecond() - now.as_millisecond()) / 60_000;
            let words = if minutes < 0 {
                return (
                    "breached",
                    SlaText {
                        words: "overdue since".into(),
                        since: Some(fmt_time(due)),
                    },
                );
            } else if minutes < 240 {
                format!("due in {}h {:02}m", minutes / 60, minutes % 60)
            } else if minutes < 48 * 60 {
                format!("due in {}h", minutes / 60)
            } else {
                format!("due in {} days", minutes / (24 * 60))
            };
            (
                if minutes < 240 { "due" } else { "ok" },
                SlaText::words(words),
            )
        }
        Some(_) => ("", SlaText::words("SLA paused")),
        None => ("", SlaText::default()),
    }
}

/// A message for a thread view.
#[derive(Debug, Clone)]
pub(crate) struct MessageView {
    pub(crate) id: String,
    pub(crate) author: String,
    /// `customer`, `agent`, `bot`, `system`, `note` or `draft` (a CSS class).
    pub(crate) kind: &'static str,
    pub(crate) body: String,
    pub(crate) at: Time,
    /// Cited articles as (id, title).
    pub(crate) citations: Vec<(String, String)>,
    /// For drafts: `proposed`, `accepted`, `edited` or `discarded`.
    pub(crate) draft_state: String,
    pub(crate) draft_source: String,
    /// The body as text runs, `true` for `**bold**` ones (see [`rich_text`]).
    pub(crate) rich: Vec<(bool, String)>,
    /// The files that came with it ([`super::attachments::attach`] fills them in).
    pub(crate) files: Vec<AttachmentView>,
    /// For a message that came by e-mail: the quoted history and signature below its new
    /// text, shown folded (the full text is kept; `rich` is then only the new text).
    pub(crate) folded: String,
    /// Whether it came by e-mail.
    pub(crate) by_email: bool,
}

impl MessageView {
    /// A view of `m`; `author` is the display name of its author.
    pub(crate) fn new(m: &Message, author: String) -> Self {
        let kind = match (m.kind, m.author_kind) {
            (MessageKind::Note, _) => "note",
            (MessageKind::Draft, _) => "draft",
            (_, AuthorKind::Customer) => "customer",
            (_, AuthorKind::Agent) => "agent",
            (_, AuthorKind::Bot) => "bot",
            _ => "system",
        };
        let (draft_state, draft_source) = match &m.draft {
            Some(d) => (enum_text(&d.state), enum_text(&d.source).replace('_', " ")),
            None => (String::new(), String::new()),
        };
        // Mail quotes the whole thread below each answer: fold it so the desk reads as a
        // conversation, as mail clients do.
        let (shown, folded) = match &m.email {
            Some(_) => {
                let split = helpdesk_mail::split_quoted(&m.body);
                (split.new_text, split.folded)
            }
            None => (m.body.clone(), String::new()),
        };
        Self {
            id: m.id.to_string(),
            author,
            kind,
            rich: rich_text(&shown),
            folded,
            by_email: m.email.is_some(),
            body: m.body.clone(),
            at: fmt_time(m.created_at),
            citations: m
                .citations
                .iter()
                .map(|c| (c.article_id.to_string(), c.title.clone()))
                .collect(),
            draft_state,
            draft_source,
            files: Vec::new(),
        }
    }
}

impl MessageView {
    /// A short tag naming the kind of author (`Support`, `AI assistant`, …), or empty.
    pub(crate) fn tag(&self) -> &'static str {
        match self.kind {
            "agent" => "Support",
            "bot" => "AI assistant",
            "note" => "Internal",
            "draft" => "AI draft",
            _ => "",
        }
    }
}

/// Splits text into runs for display, `true` for runs between a pair of `**` (the bold of
/// the markdown in knowledge-base passages the bot quotes). An unpaired `**` stays as
/// typed. The runs are still plain text: the template escapes them.
pub(crate) fn rich_text(text: &str) -> Vec<(bool, String)> {
    let parts: Vec<&str> = text.split("**").collect();
    // With an odd number of `**` the last one has no partner.
    let paired = if parts.len() % 2 == 1 {
        parts.len()
    } else {
        parts.len() - 1
    };
    let mut runs: Vec<(bool, String)> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let (bold, run) = if i < paired {
            (i % 2 == 1, (*part).to_string())
        } else {
            (false, format!("**{part}"))
        };
        if run.is_empty() {
            continue;
        }
        match runs.last_mut() {
            Some((false, last)) if !bold => last.push_str(&run),
            _ => runs.push((bold, run)),
        }
    }
    runs
}

/// The snake_case serde name of a unit enum value.
pub(crate) fn enum_text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The ticket's description as its page shows it: empty when the first message already
/// says the same (a ticket opened by e-mail or chat keeps the mail or first chat message as
/// a message too), so the text is not shown twice.
pub(crate) fn shown_description(ticket: &Ticket, messages: &[Message]) -> String {
    let repeated = messages
        .first()
        .is_some_and(|m| m.body.trim() == ticket.description.trim());
    if repeated {
        String::new()
    } else {
        ticket.description.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bold: bool, text: &str) -> (bool, String) {
        (bold, text.to_string())
    }

    #[test]
    fn paired_stars_make_bold_runs() {
        assert_eq!(
            rich_text("Click **Forgot password?** then **Send**."),
            vec![
                run(false, "Click "),
                run(true, "Forgot password?"),
                run(false, " then "),
                run(true, "Send"),
                run(false, "."),
            ]
        );
    }

    #[test]
    fn unpaired_stars_and_markup_stay_text() {
        assert_eq!(
            rich_text("2 ** 3 <b>x</b>"),
            vec![run(false, "2 ** 3 <b>x</b>")]
        );
        assert_eq!(
            rich_text("a **b** c **d"),
            vec![run(false, "a "), run(true, "b"), run(false, " c **d"),]
        );
        assert!(rich_text("").is_empty());
    }
}
