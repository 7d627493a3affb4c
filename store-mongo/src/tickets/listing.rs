//! Ticket listings: filtered and cursor-paginated queues, counts of a query's tickets,
//! open counts, SLA-due selection.

use bson::{Bson, Document, doc};
use helpdesk_core::domain::{Channel, Ticket, TicketStatus};
use helpdesk_core::store::{AssigneeFilter, Cursor, Page, TicketQuery, TicketSort};
use helpdesk_core::{Result, TenantId, UserId};
use jiff::Timestamp;

use crate::codec::{Reader, at_or_before, date, regex_literal};
use crate::error::driver;
use crate::fields::{FIELD_TOKENS, tokens_filter};
use crate::mapping::ticket_from;
use crate::schema::TICKETS;
use crate::store::MongoStore;

/// Statuses that are not open work.
const CLOSED_STATUSES: [TicketStatus; 2] = [TicketStatus::Resolved, TicketStatus::Closed];

/// `{status: {$nin: [resolved, closed]}}` as a filter value.
pub(super) fn open_status() -> Document {
    let closed: Vec<&str> = CLOSED_STATUSES.iter().map(|s| s.as_str()).collect();
    doc! { "$nin": closed }
}

/// The filter of a query's conditions (without the cursor): the one filter both
/// [`MongoStore::list`] and [`MongoStore::count`] apply, so a count is what the listing
/// pages through.
fn query_filter(tenant: TenantId, q: &TicketQuery) -> Document {
    let mut f = doc! { "tenant_id": tenant.to_string() };
    if !q.statuses.is_empty() {
        let list: Vec<&str> = q.statuses.iter().map(|s| s.as_str()).collect();
        f.insert("status", doc! { "$in": list });
    }
    if !q.priorities.is_empty() {
        let list: Vec<&str> = q.priorities.iter().map(|p| p.as_str()).collect();
        f.insert("priority", doc! { "$in": list });
    }
    match q.assignee {
        None => {}
        Some(AssigneeFilter::Unassigned) => {
            f.insert("assignee", Bson::Null);
        }
        Some(AssigneeFilter::User(u)) => {
            f.insert("assignee", u.to_string());
        }
    }
    if let Some(r) = q.requester {
        f.insert("requester", r.to_string());
    }
    if let Some(c) = &q.category {
        f.insert("category", c.as_str());
    }
    if let Some(t) = &q.team {
        f.insert("team", t.as_str());
    }
    if q.exclude_bot_chats {
        // Not `Ticket::is_bot_chat` (a chat the bot still handles): written as an `$or` of
        // the two inequalities.
        f.insert(
            "$or",
            vec![
                doc! { "channel": { "$ne": Channel::Chat.as_str() } },
                doc! { "status": { "$ne": TicketStatus::New.as_str() } },
            ],
        );
    }
    if let Some(tokens) = tokens_filter(&q.fields) {
        f.insert(FIELD_TOKENS, tokens);
    }
    let text = q.text.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(text) = text {
        // Case-insensitive substring, matched literally: the pattern is fully escaped.
        f.insert(
            "subject",
            doc! { "$regex": regex_literal(text), "$options": "i" },
        );
    }
    f
}

/// The part of the sort order strictly after `c`.
fn after_cursor(c: &Cursor) -> Document {
    let created = bson::DateTime::from_millis(c.created_ms);
    let id = c.id.to_string();
    match c.sort {
        TicketSort::PriorityThenAge | TicketSort::EscalatedFirst => {
            let rank = i32::from(c.priority_rank);
            let field = rank_field(c.sort);
            doc! { "$or": [
                { field: { "$lt": rank } },
                { field: rank, "created_at": { "$gt": created } },
                { field: rank, "created_at": created, "_id": { "$gt": &id } },
            ] }
        }
        TicketSort::Newest => doc! { "$or": [
            { "created_at": { "$lt": created } },
            { "created_at": created, "_id": { "$lt": &id } },
        ] },
    }
}

fn sort_order(sort: TicketSort) -> Document {
    match sort {
        TicketSort::PriorityThenAge | TicketSort::EscalatedFirst => {
            doc! { rank_field(sort): -1, "created_at": 1, "_id": 1 }
        }
        TicketSort::Newest => doc! { "created_at": -1, "_id": -1 },
    }
}

/// The field a rank sort orders by: the stored `priority_rank`, or `queue_rank` computed by
/// the listing pipeline for the agent queue.
fn rank_field(sort: TicketSort) -> &'static str {
    match sort {
        TicketSort::EscalatedFirst => QUEUE_RANK,
        _ => "priority_rank",
    }
}

/// The computed field of [`queue_rank`](helpdesk_core::store::cursor::queue_rank).
const QUEUE_RANK: &str = "queue_rank";

/// `$addFields` of the queue rank: the priority rank, plus 4 for an Escalated ticket.
fn add_queue_rank() -> Document {
    doc! { "$addFields": { QUEUE_RANK: { "$add": [
        "$priority_rank",
        { "$cond": [{ "$eq": ["$status", TicketStatus::Escalated.as_str()] }, 4, 0] },
    ] } } }
}

impl MongoStore {
    pub(super) async fn list(&self, tenant: TenantId, q: &TicketQuery) -> Result<Page<Ticket>> {
        let limit = q.effective_limit()? as usize;
        let cursor = q
            .cursor
            .as_deref()
            .map(|c| Cursor::decode(c, q.sort))
            .transpose()?;
        let mut filter = query_filter(tenant, q);
        let docs = if q.sort == TicketSort::EscalatedFirst {
            // The queue rank is computed, so the cursor applies after it.
            let mut pipeline = vec![doc! { "$match": filter }, add_queue_rank()];
            if let Some(c) = &cursor {
                pipeline.push(doc! { "$match": after_cursor(c) });
            }
            pipeline.push(doc! { "$sort": sort_order(q.sort) });
            pipeline.push(doc! { "$limit": limit as i64 + 1 });
            pipeline.push(doc! { "$project": { QUEUE_RANK: 0 } });
            self.aggregate(TICKETS, pipeline).await?
        } else {
            if let Some(c) = &cursor {
                filter = doc! { "$and": [filter, after_cursor(c)] };
            }
            self.find_all(TICKETS, filter, sort_order(q.sort), limit as i64 + 1)
                .await?
        };
        let has_more = docs.len() > limit;
        let items = docs
            .iter()
            .take(limit)
            .map(ticket_from)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = if has_more {
            items.last().map(|t| Cursor::after(t, q.sort).encode())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// How many tickets `list` would page through for `q`: its filter without cursor, sort
    /// or limit. Like `list`, it reads the ticket documents as they are (a commit's ticket
    /// state is written by its first write; only its events and messages may be pending),
    /// so nothing needs settling first.
    pub(super) async fn count(&self, tenant: TenantId, q: &TicketQuery) -> Result<u64> {
        let n = self
            .coll(TICKETS)
            .count_documents(query_filter(tenant, q))
            .await
            .map_err(driver)?;
        Ok(n)
    }

    pub(super) async fn open_counts(&self, tenant: TenantId) -> Result<Vec<(UserId, u64)>> {
        let pipeline = vec![
            doc! { "$match": {
                "tenant_id": tenant.to_string(),
                "status": open_status(),
                "assignee": { "$type": "string" },
            } },
            doc! { "$group": { "_id": "$assignee", "open": { "$sum": 1_i64 } } },
            doc! { "$sort": { "_id": 1 } },
        ];
        self.aggregate(TICKETS, pipeline)
            .await?
            .iter()
            .map(|d| {
                let r = Reader::new(d, TICKETS);
                Ok((r.parse("_id")?, r.u64("open")?))
            })
            .collect()
    }

    pub(super) async fn sla_due(
        &self,
        tenant: TenantId,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Ticket>> {
        let due_by = now;
        let now = date(now);
        // A target counts when it is set, due by now and not flagged (first response also
        // only while unanswered); the ticket's sort key is its earliest counting target.
        let first_response_counts = doc! { "$and": [
            { "$ne": [{ "$ifNull": ["$sla.first_response_due", null] }, null] },
            { "$lte": ["$sla.first_response_due", now] },
            { "$eq": [{ "$ifNull": ["$first_response_at", null] }, null] },
            { "$ne": ["$sla.first_response_breached", true] },
        ] };
        let resolution_counts = doc! { "$and": [
            { "$ne": [{ "$ifNull": ["$sla.resolution_due", null] }, null] },
            { "$lte": ["$sla.resolution_due", now] },
            { "$ne": ["$sla.resolution_breached", true] },
        ] };
        let pipeline = vec![
            doc! { "$match": {
                "tenant_id": tenant.to_string(),
                "status": open_status(),
                "sla.paused_since": null,
                "$or": [
                    {
                        "sla.first_response_due": at_or_before(due_by),
                        "first_response_at": null,
                        "sla.first_response_breached": { "$ne": true },
                    },
                    {
                        "sla.resolution_due": at_or_before(due_by),
                        "sla.resolution_breached": { "$ne": true },
                    },
                ],
            } },
            doc! { "$addFields": { "sla_due_key": { "$min": [
                { "$cond": [first_response_counts, "$sla.first_response_due", null] },
                { "$cond": [resolution_counts, "$sla.resolution_due", null] },
            ] } } },
            doc! { "$sort": { "sla_due_key": 1, "_id": 1 } },
            doc! { "$limit": i64::from(limit) },
        ];
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.aggregate(TICKETS, pipeline)
            .await?
            .iter()
            .map(ticket_from)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn text_filter_is_an_escaped_case_insensitive_regex() {
        let q = TicketQuery {
            text: Some("  a.b*c(  ".into()),
            ..TicketQuery::default()
        };
        let f = query_filter(TenantId::new(), &q);
        let subject = f.get_document("subject").unwrap();
        assert_eq!(subject.get_str("$regex").unwrap(), r"a\.b\*c\(");
        assert_eq!(subject.get_str("$options").unwrap(), "i");
        let blank = TicketQuery {
            text: Some("   ".into()),
            ..TicketQuery::default()
        };
        assert!(!query_filter(TenantId::new(), &blank).contains_key("subject"));
    }

    #[test]
    fn field_filters_are_on_the_tokens_array() {
        let tenant = TenantId::new();
        let none = query_filter(tenant, &TicketQuery::default());
        assert!(!none.contains_key("field_tokens"));
        let one = TicketQuery {
            fields: vec!["plan=Pro".into()],
            ..TicketQuery::default()
        };
        assert_eq!(
            query_filter(tenant, &one),
            doc! { "tenant_id": tenant.to_string(), "field_tokens": "plan=Pro" }
        );
        let two = TicketQuery {
            fields: vec!["plan=Pro".into(), "vip=true".into()],
            ..TicketQuery::default()
        };
        assert_eq!(
            query_filter(tenant, &two)
                .get_document("field_tokens")
                .unwrap(),
            &doc! { "$all": ["plan=Pro", "vip=true"] }
        );
    }
}
