//! Full-text search: staff search every ticket of the tenant (subjects, descriptions,
//! public messages, internal notes, tags, requesters); customers their own tickets' public
//! text. Each result says where it matched and carries the passage with the matching
//! words marked.

use axum::extract::State;
use helpdesk_core::domain::{Channel, Priority, TicketStatus, ViewAssignee};
use helpdesk_core::service::{SearchRequest, SlaCondition};
use helpdesk_core::store::{SearchSource, TimeRange};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ApiState;
use crate::auth::Caller;
use crate::extract::Query;
use crate::problem::{ApiResult, Problem};
use crate::resources::TicketResource;

use super::tickets::parse_list;

/// A search. Lists are comma-separated; filters other than `status` and the dates are for
/// staff (ignored for customers).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchParams {
    /// The words to find (1 to 8 words, at most 200 characters). A word matches the start
    /// of a word of the text (`refund` finds "refunded"); every word must be in the same
    /// text (the subject and description, one message or one note, the tags and fields, or
    /// the requester's name and e-mail, where a word matches anywhere).
    q: String,
    /// Statuses, comma-separated.
    status: Option<String>,
    /// Priorities, comma-separated.
    priority: Option<String>,
    /// `me`, `none`, or a user id.
    assignee: Option<String>,
    /// Only this category.
    category: Option<String>,
    /// Only this team's tickets, by key (staff).
    team: Option<String>,
    /// Only this channel.
    #[param(inline)]
    channel: Option<Channel>,
    /// Only tickets with this tag.
    tag: Option<String>,
    /// `breached` or `due_soon` (a target within the next hour).
    sla: Option<String>,
    /// A custom field value, `key=value` (customers: fields visible to them).
    field: Option<String>,
    /// Created at or after (RFC 3339).
    #[param(value_type = Option<String>)]
    created_from: Option<Timestamp>,
    /// Created before.
    #[param(value_type = Option<String>)]
    created_to: Option<Timestamp>,
    /// Updated at or after.
    #[param(value_type = Option<String>)]
    updated_from: Option<Timestamp>,
    /// Updated before.
    #[param(value_type = Option<String>)]
    updated_to: Option<Timestamp>,
    /// Page size, 1 to 100 (default 25).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A run of a passage.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PassagePart {
    /// Its text (plain text: escape it before putting it in HTML).
    text: String,
    /// Whether it is a matching word.
    hit: bool,
}

/// One result.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SearchResultResource {
    /// The ticket.
    ticket: TicketResource,
    /// Where it matched best: `subject` (with the description), `details` (tags and fields),
    /// `requester`, `message` or `note`.
    #[schema(value_type = String)]
    matched_in: SearchSource,
    /// The passage around the first match.
    snippet: Vec<PassagePart>,
    /// Text was cut before the passage.
    cut_before: bool,
    /// Text was cut after it.
    cut_after: bool,
}

/// A page of results, best match first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SearchPage {
    /// The results.
    items: Vec<SearchResultResource>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

fn range(
    field: &'static str,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> ApiResult<Option<TimeRange>> {
    if from.is_none() && to.is_none() {
        return Ok(None);
    }
    TimeRange::new(
        from.unwrap_or(Timestamp::UNIX_EPOCH),
        to.unwrap_or(Timestamp::MAX),
    )
    .map(Some)
    .map_err(|_| Problem::validation(field, "the start must be before the end"))
}

/// Search tickets.
#[utoipa::path(get, path = "/search", tag = "tickets", params(SearchParams),
    responses(
        (status = 200, body = SearchPage),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn search(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Query(params): Query<SearchParams>,
) -> ApiResult<axum::Json<SearchPage>> {
    let assignee = match params.assignee.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("me") => Some(ViewAssignee::Me),
        Some("none") => Some(ViewAssignee::Unassigned),
        Some(id) => Some(ViewAssignee::User {
            id: id.parse().map_err(|_| {
                Problem::validation("assignee", "must be `me`, `none` or a user id")
            })?,
        }),
    };
    let sla = match params.sla.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("breached") => Some(SlaCondition::Breached),
        Some("due_soon") => Some(SlaCondition::DueSoon),
        Some(_) => {
            return Err(Problem::validation(
                "sla",
                "must be `breached` or `due_soon`",
            ));
        }
    };
    let request = SearchRequest {
        q: params.q,
        statuses: parse_list::<TicketStatus>("status", params.status.as_deref())?,
        priorities: parse_list::<Priority>("priority", params.priority.as_deref())?,
        assignee,
        category: params.category.filter(|c| !c.trim().is_empty()),
        team: params.team.filter(|t| !t.trim().is_empty()),
        channel: params.channel,
        tag: params.tag.filter(|t| !t.trim().is_empty()),
        created: range("created_to", params.created_from, params.created_to)?,
        updated: range("updated_to", params.updated_from, params.updated_to)?,
        sla,
        fields: params.field.filter(|f| !f.is_empty()).into_iter().collect(),
        limit: params.limit.unwrap_or(0),
        cursor: params.cursor.filter(|c| !c.is_empty()),
    };
    if request.limit == 0 && params.limit.is_some() {
        return Err(Problem::validation("limit", "must be 1 to 100"));
    }
    let page = state.helpdesk().search_tickets(&actor, request).await?;
    let staff = actor.is_staff();
    Ok(axum::Json(SearchPage {
        items: page
            .items
            .into_iter()
            .map(|r| SearchResultResource {
                ticket: TicketResource::new(r.ticket, staff),
                matched_in: r.source,
                snippet: r
                    .snippet
                    .parts
                    .into_iter()
                    .map(|p| PassagePart {
                        text: p.text,
                        hit: p.hit,
                    })
                    .collect(),
                cut_before: r.snippet.cut_before,
                cut_after: r.snippet.cut_after,
            })
            .collect(),
        next_cursor: page.next_cursor,
    }))
}
