//! Search: one page for staff and customers. Staff search every ticket of the company, in
//! subjects, messages, internal notes, tags and requesters, with the queue's filters plus
//! channel, tag, SLA and dates; a customer searches their own tickets' public text. Each
//! result shows where it matched and the passage, its words marked.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use helpdesk_core::domain::{Channel, Priority, Role, TicketStatus, ViewAssignee};
use helpdesk_core::service::{SearchRequest, SearchResult, SlaCondition, Snippet};
use helpdesk_core::store::{SearchSource, TimeRange};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use serde::Deserialize;

use super::agent::Choice;
use super::app::AppState;
use super::error::WebResult;
use super::form::{self, FormError};
use super::names::Names;
use super::session::{AnyUser, Ctx};
use super::views::{Page, TicketRow, html, status_label};

/// The search route.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/search", get(search_page))
}

/// The search form, as the query string carries it (every field optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct SearchForm {
    q: String,
    status: String,
    priority: String,
    assignee: String,
    category: String,
    /// A team's key.
    team: String,
    channel: String,
    tag: String,
    sla: String,
    /// Created on or after this day (YYYY-MM-DD, UTC).
    from: String,
    /// Created on or before this day.
    to: String,
    /// Updated within the last `1d`, `7d` or `30d`.
    updated: String,
    /// A dropdown field's value, `key=option`.
    field: String,
    cursor: String,
}

/// One result row.
struct ResultRow {
    ticket: TicketRow,
    /// Where it matched, in words ("internal note").
    source: &'static str,
    /// The passage: (text, is a matching word).
    snippet: Vec<(String, bool)>,
    cut_before: bool,
    cut_after: bool,
    link: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    page: Page,
    staff: bool,
    form: SearchForm,
    statuses: Vec<Choice>,
    priorities: Vec<Choice>,
    assignees: Vec<Choice>,
    categories: Vec<Choice>,
    /// The tenant's teams (the first: any).
    teams: Vec<Choice>,
    channels: Vec<Choice>,
    slas: Vec<Choice>,
    updated: Vec<Choice>,
    /// The options of the tenant's dropdown fields the viewer sees (`key=option`).
    field_values: Vec<Choice>,
    searched: bool,
    results: Vec<ResultRow>,
    next_page: Option<String>,
    error: FormError,
}

fn source_words(source: SearchSource) -> &'static str {
    match source {
        SearchSource::Subject => "subject",
        SearchSource::Details => "tags and fields",
        SearchSource::Requester => "requester",
        SearchSource::Message => "message",
        SearchSource::Note => "internal note",
        _ => "ticket",
    }
}

fn parts(snippet: &Snippet) -> Vec<(String, bool)> {
    snippet
        .parts
        .iter()
        .map(|p| (p.text.clone(), p.hit))
        .collect()
}

/// The request of a form; a value that is not one of the form's choices is refused at its
/// field.
fn request_of(form: &SearchForm, now: Timestamp) -> Result<SearchRequest, FormError> {
    let pick = |field: &str, raw: &str, what: &str| {
        FormError::new(field, format!("{what} {raw:?} is not one of the choices."))
    };
    let mut request = SearchRequest {
        q: form.q.clone(),
        cursor: Some(form.cursor.clone()).filter(|c| !c.is_empty()),
        ..SearchRequest::default()
    };
    if !form.status.is_empty() {
        let s: TicketStatus = form
            .status
            .parse()
            .map_err(|_| pick("status", &form.status, "Status"))?;
        request.statuses = vec![s];
    }
    if !form.priority.is_empty() {
        let p: Priority = form
            .priority
            .parse()
            .map_err(|_| pick("priority", &form.priority, "Priority"))?;
        request.priorities = vec![p];
    }
    request.assignee = match form.assignee.as_str() {
        "" => None,
        "me" => Some(ViewAssignee::Me),
        "unassigned" => Some(ViewAssignee::Unassigned),
        other => Some(ViewAssignee::User {
            id: other
                .parse()
                .map_err(|_| pick("assignee", other, "Assignee"))?,
        }),
    };
    request.category = Some(form.category.trim().to_string()).filter(|c| !c.is_empty());
    request.team = Some(form.team.trim().to_string()).filter(|t| !t.is_empty());
    if !form.channel.is_empty() {
        let c: Channel = form
            .channel
            .parse()
            .map_err(|_| pick("channel", &form.channel, "Channel"))?;
        request.channel = Some(c);
    }
    request.tag = Some(form.tag.trim().to_string()).filter(|t| !t.is_empty());
    request.fields = Some(form.field.clone())
        .filter(|f| !f.is_empty())
        .into_iter()
        .collect();
    request.sla = match form.sla.as_str() {
        "" => None,
        "breached" => Some(SlaCondition::Breached),
        "due_soon" => Some(SlaCondition::DueSoon),
        other => return Err(pick("sla", other, "SLA")),
    };
    let day = |field: &str, raw: &str| -> Result<Option<Timestamp>, FormError> {
        if raw.trim().is_empty() {
            return Ok(None);
        }
        let date: Date = raw
            .trim()
            .parse()
            .map_err(|_| FormError::new(field, "Use a date like 2026-12-03."))?;
        date.to_zoned(TimeZone::UTC)
            .map(|z| Some(z.timestamp()))
            .map_err(|_| FormError::new(field, "That date is out of range."))
    };
    let from = day("from", &form.from)?;
    let to = day("to", &form.to)?.map(|t| t + SignedDuration::from_hours(24));
    if from.is_some() || to.is_some() {
        let range = TimeRange::new(
            from.unwrap_or(Timestamp::UNIX_EPOCH),
            to.unwrap_or(Timestamp::MAX),
        )
        .map_err(|_| FormError::new("to", "The end date is before the start date."))?;
        request.created = Some(range);
    }
    let hours = match form.updated.as_str() {
        "" => None,
        "1d" => Some(24),
        "7d" => Some(24 * 7),
        "30d" => Some(24 * 30),
        other => return Err(pick("updated", other, "Updated")),
    };
    if let Some(h) = hours {
        let since = now - SignedDuration::from_hours(h);
        request.updated = TimeRange::new(since, Timestamp::MAX).ok();
    }
    Ok(request)
}

async fn search_page(
    State(state): State<AppState>,
    AnyUser(ctx): AnyUser,
    Query(form): Query<SearchForm>,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let staff = ctx.actor.is_staff();
    let mut error = FormError::default();
    let mut results = Vec::new();
    let mut next_page = None;
    let searched = !form.q.trim().is_empty();
    if searched {
        match request_of(&form, helpdesk.now()) {
            Err(e) => error = e,
            Ok(request) => match helpdesk.search_tickets(&ctx.actor, request).await {
                Ok(page) => {
                    results = rows(&state, &ctx, page.items).await?;
                    next_page = page.next_cursor.map(|cursor| next_query(&form, &cursor));
                }
                Err(e) => {
                    error = FormError::from_core(&e, LABELS).ok_or(e)?;
                }
            },
        }
    }
    let refused = error.is_set();
    let tenant = helpdesk.get_tenant(&ctx.actor).await?;
    let mut field_values = vec![Choice::new("", "Any field value", &form.field)];
    field_values.extend(super::fields::dropdown_choices(
        &tenant.settings,
        &form.field,
        staff,
    ));
    let page = html(&SearchPage {
        page: ctx.page(&state, "Search"),
        staff,
        field_values,
        statuses: choices(
            &form.status,
            "Any status",
            TicketStatus::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), status_label(*s))),
        ),
        priorities: choices(
            &form.priority,
            "Any priority",
            Priority::ALL
                .iter()
                .map(|p| (p.as_str().to_string(), p.as_str().to_string())),
        ),
        assignees: assignees(&state, &ctx, &form.assignee).await?,
        categories: choices(
            &form.category,
            "Any category",
            tenant
                .settings
                .categories
                .iter()
                .map(|c| (c.clone(), c.clone())),
        ),
        teams: choices(
            &form.team,
            "Any team",
            tenant
                .settings
                .teams
                .iter()
                .map(|t| (t.key.clone(), t.name.clone())),
        ),
        channels: choices(
            &form.channel,
            "Any channel",
            Channel::ALL
                .iter()
                .map(|c| (c.as_str().to_string(), c.as_str().to_string())),
        ),
        slas: choices(
            &form.sla,
            "Any SLA state",
            [("breached", "Breached"), ("due_soon", "Due within an hour")]
                .map(|(v, l)| (v.to_string(), l.to_string())),
        ),
        updated: choices(
            &form.updated,
            "Any time",
            [
                ("1d", "Last 24 hours"),
                ("7d", "Last 7 days"),
                ("30d", "Last 30 days"),
            ]
            .map(|(v, l)| (v.to_string(), l.to_string())),
        ),
        form,
        searched,
        results,
        next_page,
        error,
    });
    if refused { form::refused(page) } else { page }
}

/// The words the page uses for the fields core may refuse.
const LABELS: &[(&str, &str)] = &[
    ("q", "Search"),
    ("category", "Category"),
    ("team", "Team"),
    ("assignee", "Assignee"),
    ("tag", "Tag"),
    ("cursor", "Page"),
    ("fields", "Field value"),
];

fn choices(
    current: &str,
    any: &str,
    values: impl IntoIterator<Item = (String, String)>,
) -> Vec<Choice> {
    let mut list = vec![Choice::new("", any, current)];
    list.extend(
        values
            .into_iter()
            .map(|(v, l)| Choice::new(&v, &l, current)),
    );
    list
}

async fn assignees(state: &AppState, ctx: &Ctx, current: &str) -> WebResult<Vec<Choice>> {
    let mut list = vec![
        Choice::new("", "Anyone", current),
        Choice::new("me", "Me", current),
        Choice::new("unassigned", "Unassigned", current),
    ];
    if ctx.actor.is_staff() {
        for u in state
            .helpdesk()
            .store()
            .list_users(ctx.actor.tenant_id, None)
            .await?
        {
            if u.is_staff() && u.id != ctx.actor.user_id {
                list.push(Choice::new(&u.id.to_string(), &u.name, current));
            }
        }
    }
    Ok(list)
}

async fn rows(state: &AppState, ctx: &Ctx, items: Vec<SearchResult>) -> WebResult<Vec<ResultRow>> {
    let helpdesk = state.helpdesk();
    let now = helpdesk.now();
    let names = if ctx.actor.is_staff() {
        Some(Names::load(helpdesk, ctx.actor.tenant_id).await?)
    } else {
        None
    };
    Ok(items
        .into_iter()
        .map(|r| {
            let assignee = names
                .as_ref()
                .map_or_else(String::new, |n| n.of(r.ticket.assignee, "unassigned"));
            let link = if ctx.actor.role == Role::Customer {
                format!("/portal/tickets/{}", r.ticket.id)
            } else {
                format!("/agent/tickets/{}", r.ticket.id)
            };
            ResultRow {
                ticket: TicketRow::new(&r.ticket, assignee, now),
                source: source_words(r.source),
                snippet: parts(&r.snippet),
                cut_before: r.snippet.cut_before,
                cut_after: r.snippet.cut_after,
                link,
            }
        })
        .collect())
}

/// The query string of the next page: the same form with the cursor.
fn next_query(form: &SearchForm, cursor: &str) -> String {
    serde_urlencoded::to_string([
        ("q", form.q.as_str()),
        ("status", &form.status),
        ("priority", &form.priority),
        ("assignee", &form.assignee),
        ("category", &form.category),
        ("team", &form.team),
        ("channel", &form.channel),
        ("tag", &form.tag),
        ("sla", &form.sla),
        ("from", &form.from),
        ("to", &form.to),
        ("updated", &form.updated),
        ("field", &form.field),
        ("cursor", cursor),
    ])
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn form_values_become_the_request_or_a_refusal_at_their_field() {
        let now: Timestamp = "2026-12-03T12:00:00Z".parse().unwrap();
        let form = SearchForm {
            q: "refund".into(),
            status: "open".into(),
            assignee: "me".into(),
            sla: "due_soon".into(),
            from: "2026-12-01".into(),
            to: "2026-12-01".into(),
            updated: "7d".into(),
            ..SearchForm::default()
        };
        let r = request_of(&form, now).unwrap();
        assert_eq!(r.statuses, [TicketStatus::Open]);
        assert_eq!(r.assignee, Some(ViewAssignee::Me));
        assert_eq!(r.sla, Some(SlaCondition::DueSoon));
        let created = r.created.unwrap();
        assert_eq!(created.from, "2026-12-01T00:00:00Z".parse().unwrap());
        assert_eq!(created.to, "2026-12-02T00:00:00Z".parse().unwrap());
        assert_eq!(
            r.updated.unwrap().from,
            "2026-11-26T12:00:00Z".parse().unwrap()
        );
        for (field, bad) in [
            (
                "status",
                SearchForm {
                    status: "gone".into(),
                    ..form.clone()
                },
            ),
            (
                "sla",
                SearchForm {
                    sla: "late".into(),
                    ..form.clone()
                },
            ),
            (
                "from",
                SearchForm {
                    from: "yesterday".into(),
                    ..form.clone()
                },
            ),
            (
                "to",
                SearchForm {
                    from: "2026-12-05".into(),
                    to: "2026-12-01".into(),
                    ..form.clone()
                },
            ),
            (
                "updated",
                SearchForm {
                    updated: "2y".into(),
                    ..form.clone()
                },
            ),
            (
                "assignee",
                SearchForm {
                    assignee: "bob".into(),
                    ..form.clone()
                },
            ),
        ] {
            let e = request_of(&bad, now).unwrap_err();
            assert!(e.is(field), "{field}: {}", e.message());
        }
    }
}
