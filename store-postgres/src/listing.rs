//! The filtered, sorted, cursor-paginated ticket listing.
//!
//! The statement is assembled from fixed fragments with [`QueryBuilder`]; every value from
//! the query (statuses, ids, the text, the field tokens, the cursor) is a bound parameter.

use helpdesk_core::domain::{Channel, Ticket, TicketStatus};
use helpdesk_core::store::{AssigneeFilter, Cursor, Page, TicketQuery, TicketSort};
use helpdesk_core::{Error, Result, TenantId};
use sqlx::{PgPool, Postgres, QueryBuilder};

use crate::error::db;
use crate::sql::Sql;
use crate::tickets::{ticket_columns, ticket_from};

/// The SQL form of [`queue_rank`](helpdesk_core::store::cursor::queue_rank): the priority
/// rank, plus 4 for an Escalated ticket.
macro_rules! queue_rank {
    () => {
        "(priority_rank + CASE WHEN status = 'escalated' THEN 4 ELSE 0 END)"
    };
}

/// The filtered, sorted, cursor-paginated listing.
///
/// The agent queue asks for several statuses sorted by priority then age. One `status IN
/// (...)` condition cannot read the `tickets_queue` index (tenant, status, priority, age)
/// in order, so PostgreSQL would collect every matching ticket of the tenant and sort them
/// (or walk the priority index past every closed ticket). With several statuses, no text
/// filter and a priority sort, the statement is therefore one branch per status, each an
/// ordered read of at most `limit + 1` keys of that index, appended and sorted again (at
/// most `statuses x (limit + 1)` keys); only the `limit + 1` winners are read whole.
pub(crate) async fn list_tickets(
    sql: &Sql,
    pool: &PgPool,
    tenant: TenantId,
    query: &TicketQuery,
) -> Result<Page<Ticket>> {
    let limit = query.effective_limit()?;
    let cursor = query
        .cursor
        .as_deref()
        .map(|c| Cursor::decode(c, query.sort))
        .transpose()?;
    let needle = needle(query);
    let statuses = statuses(query);
    let filter = Filter {
        sql,
        tenant,
        query,
        needle: needle.as_deref(),
        cursor: cursor.as_ref(),
    };
    // One extra row tells whether there is a next page.
    let mut q = statement("", &filter, &statuses, i64::from(limit) + 1);
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

/// How many of the tenant's tickets the listing's filter matches (sort, limit and cursor
/// ignored): one `count(*)` over the same `WHERE` clause as [`list_tickets`], so the two
/// cannot disagree.
pub(crate) async fn count_tickets(
    sql: &Sql,
    pool: &PgPool,
    tenant: TenantId,
    query: &TicketQuery,
) -> Result<u64> {
    let needle = needle(query);
    let statuses = statuses(query);
    let filter = Filter {
        sql,
        tenant,
        query,
        needle: needle.as_deref(),
        cursor: None,
    };
    let mut q = count_statement("", &filter, &statuses);
    let n: i64 = q.build_query_scalar().fetch_one(pool).await.map_err(db)?;
    u64::try_from(n).map_err(|_| Error::Internal("negative ticket count"))
}

/// The counting statement after `prefix` (empty, or `EXPLAIN ` in tests).
pub(crate) fn count_statement<'q>(
    prefix: &str,
    filter: &Filter<'_>,
    statuses: &[TicketStatus],
) -> QueryBuilder<'q, Postgres> {
    let mut q: QueryBuilder<'q, Postgres> = QueryBuilder::new(prefix);
    q.push(filter.sql.text("SELECT count(*) FROM helpdesk.tickets"));
    filter.push(&mut q, statuses);
    q
}

/// The text filter: the query's text trimmed and lowercased (as the stored
/// `subject_folded`), or none when blank.
fn needle(query: &TicketQuery) -> Option<String> {
    query
        .text
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase)
}

/// The query's statuses, sorted and without repeats (one branch or bind per status).
fn statuses(query: &TicketQuery) -> Vec<TicketStatus> {
    let mut statuses = query.statuses.clone();
    statuses.sort_unstable_by_key(|s| s.as_str());
    statuses.dedup();
    statuses
}

/// The listing statement after `prefix` (empty, or `EXPLAIN ` in tests), returning at most
/// `fetch` rows.
pub(crate) fn statement<'q>(
    prefix: &str,
    filter: &Filter<'_>,
    statuses: &[TicketStatus],
    fetch: i64,
) -> QueryBuilder<'q, Postgres> {
    let sort = filter.query.sort;
    let order = match sort {
        TicketSort::PriorityThenAge => " ORDER BY priority_rank DESC, created_at ASC, id ASC",
        TicketSort::EscalatedFirst => {
            concat!(" ORDER BY ", queue_rank!(), " DESC, created_at ASC, id ASC")
        }
        TicketSort::Newest => " ORDER BY created_at DESC, id DESC",
    };
    let mut q: QueryBuilder<'q, Postgres> = QueryBuilder::new(prefix);
    let per_status = matches!(
        sort,
        TicketSort::PriorityThenAge | TicketSort::EscalatedFirst
    ) && statuses.len() > 1
        && filter.needle.is_none();
    if per_status {
        // Each branch reads only the sort keys and ids from the queue index (an index-only
        // scan once the table is vacuumed), at most `fetch` per status; the keys are merged
        // and only the `fetch` winners are read whole, by primary key. Within one status
        // the escalated bonus of the queue rank is constant, so every branch reads the
        // index in priority order.
        q.push(filter.sql.text(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM helpdesk.tickets WHERE id IN (SELECT id FROM ("
        )));
        for (i, status) in statuses.iter().enumerate() {
            if i > 0 {
                q.push(" UNION ALL ");
            }
            q.push(
                filter
                    .sql
                    .text("(SELECT id, status, priority_rank, created_at FROM helpdesk.tickets"),
            );
            filter.push(&mut q, std::slice::from_ref(status));
            q.push(" ORDER BY priority_rank DESC, created_at ASC, id ASC LIMIT ")
                .push_bind(fetch)
                .push(")");
        }
        q.push(") keys")
            .push(order)
            .push(" LIMIT ")
            .push_bind(fetch)
            .push(") AND tenant_id = ")
            .push_bind(filter.tenant.as_uuid());
    } else {
        q.push(filter.sql.text(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM helpdesk.tickets"
        )));
        filter.push(&mut q, statuses);
    }
    q.push(order).push(" LIMIT ").push_bind(fetch);
    q
}

/// The `WHERE` clause of a listing (pushed once per statement branch) and of a count.
pub(crate) struct Filter<'a> {
    pub(crate) sql: &'a Sql,
    pub(crate) tenant: TenantId,
    pub(crate) query: &'a TicketQuery,
    pub(crate) needle: Option<&'a str>,
    pub(crate) cursor: Option<&'a Cursor>,
}

impl Filter<'_> {
    /// Pushes ` WHERE tenant_id = $n AND ...` with `statuses` (all statuses when empty).
    fn push(&self, q: &mut QueryBuilder<'_, Postgres>, statuses: &[TicketStatus]) {
        let query = self.query;
        q.push(" WHERE tenant_id = ")
            .push_bind(self.tenant.as_uuid());
        match statuses {
            [] => {}
            // `=` rather than `= ANY(...)`: the planner then reads the queue index in order.
            [one] => {
                q.push(" AND status = ").push_bind(one.as_str());
            }
            many => {
                let list: Vec<&'static str> = many.iter().map(|s| s.as_str()).collect();
                q.push(" AND status = ANY(").push_bind(list).push(")");
            }
        }
        if !query.priorities.is_empty() {
            let list: Vec<&'static str> = query.priorities.iter().map(|p| p.as_str()).collect();
            q.push(" AND priority = ANY(").push_bind(list).push(")");
        }
        match query.assignee {
            None => {}
            Some(AssigneeFilter::Unassigned) => {
                q.push(" AND assignee IS NULL");
            }
            Some(AssigneeFilter::User(u)) => {
                q.push(" AND assignee = ").push_bind(u.as_uuid());
            }
        }
        if let Some(r) = query.requester {
            q.push(" AND requester = ").push_bind(r.as_uuid());
        }
        if let Some(c) = &query.category {
            q.push(" AND category = ").push_bind(c.clone());
        }
        if let Some(t) = &query.team {
            q.push(" AND team = ").push_bind(t.clone());
        }
        if let Some(n) = self.needle {
            // A plain substring of the folded subject: LIKE with its wildcards escaped,
            // which the trigram index (when pg_trgm is there) answers for 3+ characters.
            q.push(" AND subject_folded LIKE ")
                .push_bind(like_pattern(n));
        }
        crate::fields::push_filter(q, "field_tokens", &query.fields);
        if query.exclude_bot_chats && (statuses.is_empty() || statuses.contains(&TicketStatus::New))
        {
            // `Ticket::is_bot_chat`: a chat the bot still handles (only a New ticket can be
            // one, so a branch of other statuses needs no such term).
            q.push(" AND NOT (channel = ")
                .push_bind(Channel::Chat.as_str())
                .push(" AND status = ")
                .push_bind(TicketStatus::New.as_str())
                .push(")");
        }
        if let Some(c) = self.cursor {
            match c.sort {
                TicketSort::PriorityThenAge | TicketSort::EscalatedFirst => {
                    let rank = i64::from(c.priority_rank);
                    let column = if c.sort == TicketSort::EscalatedFirst {
                        queue_rank!()
                    } else {
                        "priority_rank"
                    };
                    q.push(" AND (")
                        .push(column)
                        .push(" < ")
                        .push_bind(rank)
                        .push(" OR (")
                        .push(column)
                        .push(" = ")
                        .push_bind(rank)
                        .push(" AND (created_at > ")
                        .push_bind(c.created_ms)
                        .push(" OR (created_at = ")
                        .push_bind(c.created_ms)
                        .push(" AND id > ")
                        .push_bind(c.id.as_uuid())
                        .push("))))");
                }
                TicketSort::Newest => {
                    q.push(" AND (created_at < ")
                        .push_bind(c.created_ms)
                        .push(" OR (created_at = ")
                        .push_bind(c.created_ms)
                        .push(" AND id < ")
                        .push_bind(c.id.as_uuid())
                        .push("))");
                }
            }
        }
    }
}

/// A `LIKE` pattern matching `needle` anywhere, every character literal (`\`, `%` and `_`
/// escaped with `\`, PostgreSQL's default escape character).
pub(crate) fn like_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_escape_every_wildcard() {
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(like_pattern("printer"), "%printer%");
    }
}
