//! The filtered, sorted, cursor-paginated ticket listing.
//!
//! The statement is assembled from fixed fragments with [`QueryBuilder`]; every value from
//! the query (statuses, ids, the text, the cursor) is a bound parameter.

use helpdesk_core::domain::Ticket;
use helpdesk_core::store::{AssigneeFilter, Cursor, Page, TicketQuery, TicketSort};
use helpdesk_core::{Result, TenantId};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use crate::error::db;
use crate::tickets::{ticket_columns, ticket_from};

/// Needles of at least this many characters go through the trigram index first.
const TRIGRAM: usize = 3;

pub(crate) async fn list_tickets(
    pool: &SqlitePool,
    tenant: TenantId,
    query: &TicketQuery,
) -> Result<Page<Ticket>> {
    let limit = query.effective_limit()?;
    let cursor = query
        .cursor
        .as_deref()
        .map(|c| Cursor::decode(c, query.sort))
        .transpose()?;
    let needle = query
        .text
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase);

    let mut q: QueryBuilder<'_, Sqlite> = QueryBuilder::new(concat!(
        "SELECT ",
        ticket_columns!(),
        " FROM tickets WHERE tenant_id = "
    ));
    q.push_bind(tenant.to_string());
    if !query.statuses.is_empty() {
        q.push(" AND status IN (");
        let mut list = q.separated(", ");
        for s in &query.statuses {
            list.push_bind(s.as_str());
        }
        q.push(")");
    }
    if !query.priorities.is_empty() {
        q.push(" AND priority IN (");
        let mut list = q.separated(", ");
        for p in &query.priorities {
            list.push_bind(p.as_str());
        }
        q.push(")");
    }
    match query.assignee {
        None => {}
        Some(AssigneeFilter::Unassigned) => {
            q.push(" AND assignee IS NULL");
        }
        Some(AssigneeFilter::User(u)) => {
            q.push(" AND assignee = ").push_bind(u.to_string());
        }
    }
    if let Some(r) = query.requester {
        q.push(" AND requester = ").push_bind(r.to_string());
    }
    if let Some(c) = &query.category {
        q.push(" AND category = ").push_bind(c.clone());
    }
    if let Some(n) = needle {
        if n.chars().count() >= TRIGRAM {
            // The trigram index finds candidates; `instr` below decides exactly.
            q.push(" AND row_id IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ")
                .push_bind(fts_phrase(&n))
                .push(")");
        }
        q.push(" AND instr(subject_folded, ")
            .push_bind(n)
            .push(") > 0");
    }
    if let Some(c) = cursor {
        match c.sort {
            TicketSort::PriorityThenAge => {
                let rank = i64::from(c.priority_rank);
                q.push(" AND (priority_rank < ")
                    .push_bind(rank)
                    .push(" OR (priority_rank = ")
                    .push_bind(rank)
                    .push(" AND (created_at > ")
                    .push_bind(c.created_ms)
                    .push(" OR (created_at = ")
                    .push_bind(c.created_ms)
                    .push(" AND id > ")
                    .push_bind(c.id.to_string())
                    .push("))))");
            }
            TicketSort::Newest => {
                q.push(" AND (created_at < ")
                    .push_bind(c.created_ms)
                    .push(" OR (created_at = ")
                    .push_bind(c.created_ms)
                    .push(" AND id < ")
                    .push_bind(c.id.to_string())
                    .push("))");
            }
        }
    }
    q.push(match query.sort {
        TicketSort::PriorityThenAge => " ORDER BY priority_rank DESC, created_at ASC, id ASC",
        TicketSort::Newest => " ORDER BY created_at DESC, id DESC",
    });
    // One extra row tells whether there is a next page.
    q.push(" LIMIT ").push_bind(i64::from(limit) + 1);

    let rows = q.build().fetch_all(pool).await.map_err(db)?;
    let mut items = rows.iter().map(ticket_from).collect::<Result<Vec<_>>>()?;
    let has_more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = if has_more {
        items.last().map(|t| Cursor::after(t, query.sort).encode())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// An FTS5 string literal: the needle in double quotes, inner quotes doubled, so every
/// character is plain text (a phrase of its trigrams).
fn fts_phrase(needle: &str) -> String {
    format!("\"{}\"", needle.replace('"', "\"\""))
}
