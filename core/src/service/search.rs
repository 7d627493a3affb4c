//! Searching tickets: what a person typed and the filters they chose, checked and scoped to
//! what they may see, answered by the store's full-text search with a snippet of the text
//! that matched.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::Helpdesk;
use super::fields::{check_field_filters, for_viewer};
use super::snippet::Snippet;
use crate::domain::{Actor, Channel, Priority, Ticket, TicketStatus, ViewAssignee};
use crate::roles::Action;
use crate::store::{
    AssigneeFilter, Page, SearchQuery, SearchSource, SlaFilter, TimeRange, search_terms,
};
use crate::{Error, Result, validate};

/// How far ahead "due soon" looks: an SLA target within the next hour.
pub const DUE_SOON: SignedDuration = SignedDuration::from_hours(1);

/// The longest search text, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;

/// An SLA condition a person picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaCondition {
    /// A target was missed.
    Breached,
    /// A target falls within [`DUE_SOON`] and was not missed yet.
    DueSoon,
}

/// A search as a person asks it. Empty filters match everything; customers' filters other
/// than the text, status and the ranges are ignored (they see only their own tickets).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchRequest {
    /// What they typed (words; at most [`MAX_SEARCH_CHARS`] characters).
    pub q: String,
    /// Any of these statuses.
    pub statuses: Vec<TicketStatus>,
    /// Any of these priorities (staff).
    pub priorities: Vec<Priority>,
    /// The assignee (staff).
    pub assignee: Option<ViewAssignee>,
    /// The category (staff).
    pub category: Option<String>,
    /// The team, by key (staff).
    pub team: Option<String>,
    /// The channel (staff).
    pub channel: Option<Channel>,
    /// A tag (staff).
    pub tag: Option<String>,
    /// Created in this range.
    pub created: Option<TimeRange>,
    /// Last updated in this range.
    pub updated: Option<TimeRange>,
    /// An SLA condition (staff).
    pub sla: Option<SlaCondition>,
    /// Custom field values (`key=value`, see
    /// [`TicketQuery::fields`](crate::store::TicketQuery::fields)); customers may filter
    /// only on fields visible to them.
    pub fields: Vec<String>,
    /// Page size (1..=100; 0: 25).
    pub limit: u32,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// One result: the ticket, where it matched, and the matching passage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    /// The ticket.
    pub ticket: Ticket,
    /// Where it matched best.
    pub source: SearchSource,
    /// The passage around the first match, with the matching words marked.
    pub snippet: Snippet,
}

impl Helpdesk {
    /// Searches the tickets `actor` may see: staff search every ticket of the tenant in
    /// its subject, description, public messages, internal notes, tags, custom fields and
    /// requester; a customer searches only their own tickets' subjects, descriptions and
    /// public messages. Results come best match first (subject, then details, requester,
    /// messages, notes; then the most recently updated), a page at a time.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the field: `q` without a word, too long or with more
    /// than eight words; an unknown category; an assignee who is not staff; a bad cursor or
    /// page size. [`Error::Forbidden`] for an inactive user.
    pub async fn search_tickets(
        &self,
        actor: &Actor,
        request: SearchRequest,
    ) -> Result<Page<SearchResult>> {
        let (tenant, _) = if actor.is_staff() {
            self.check(actor, Action::ViewQueue).await?
        } else {
            self.check(actor, Action::ViewTicket).await?
        };
        let query = self.search_query(actor, &tenant, request).await?;
        let page = self
            .inner
            .store
            .search_tickets(actor.tenant_id, &query)
            .await?;
        let items = page
            .items
            .into_iter()
            .map(|hit| SearchResult {
                snippet: Snippet::of(&hit.text, &query.terms, hit.source),
                source: hit.source,
                ticket: for_viewer(actor, &tenant, hit.ticket),
            })
            .collect();
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    /// The store query of a request, checked and scoped to `actor`.
    async fn search_query(
        &self,
        actor: &Actor,
        tenant: &crate::domain::Tenant,
        request: SearchRequest,
    ) -> Result<SearchQuery> {
        validate::no_control_chars("q", &request.q)?;
        if request.q.chars().count() > MAX_SEARCH_CHARS {
            return Err(Error::validation(
                "q",
                format!("at most {MAX_SEARCH_CHARS} characters"),
            ));
        }
        let terms = search_terms(&request.q)?;
        let mut query = SearchQuery {
            terms,
            statuses: request.statuses,
            created: request.created,
            updated: request.updated,
            limit: request.limit,
            cursor: request.cursor,
            ..SearchQuery::default()
        };
        query.effective_limit()?;
        query.decoded_cursor()?;
        check_field_filters(tenant, &request.fields)?;
        query.fields = request.fields;
        if !actor.is_staff() {
            // A customer filtering on a field they cannot see would learn its value.
            let hidden = query.fields.iter().position(|t| {
                !tenant.settings.custom_fields.iter().any(|d| {
                    d.customer_visible && t.split_once('=').is_some_and(|(k, _)| k == d.key)
                })
            });
            if let Some(i) = hidden {
                return Err(Error::validation(format!("fields[{i}]"), "no such field"));
            }
            query.requester = Some(actor.user_id);
            return Ok(query);
        }
        query.staff = true;
        query.priorities = request.priorities;
        query.channel = request.channel;
        if let Some(c) = &request.category {
            let c = validate::identifier("category", c)?;
            if !tenant.settings.categories.contains(&c) {
                return Err(Error::validation(
                    "category",
                    format!("{c:?} is not one of the tenant's categories"),
                ));
            }
            query.category = Some(c);
        }
        if let Some(t) = &request.team {
            query.team = Some(crate::teams::known_team("team", t, &tenant.settings.teams)?);
        }
        if let Some(tag) = &request.tag {
            // Stored tags are lowercased lines of at most 50 characters.
            query.tag = Some(validate::required_line("tag", tag, 50)?.to_lowercase());
        }
        query.assignee = match request.assignee {
            None => None,
            Some(ViewAssignee::Me) => Some(AssigneeFilter::User(actor.user_id)),
            Some(ViewAssignee::Unassigned) => Some(AssigneeFilter::Unassigned),
            Some(ViewAssignee::User { id }) => {
                let user = self.inner.store.get_user(actor.tenant_id, id).await?;
                if !user.is_some_and(|u| u.is_staff()) {
                    return Err(Error::validation(
                        "assignee",
                        "not an agent or admin of this tenant",
                    ));
                }
                Some(AssigneeFilter::User(id))
            }
        };
        query.sla = request.sla.map(|c| match c {
            SlaCondition::Breached => SlaFilter::Breached,
            SlaCondition::DueSoon => SlaFilter::DueBy {
                by: self.now().checked_add(DUE_SOON).unwrap_or(Timestamp::MAX),
            },
        });
        Ok(query)
    }
}
