//! The filtered, sorted, cursor-paginated ticket listing.
//!
//! The statement is assembled from fixed fragments with [`QueryBuilder`]; every value from
//! the query (statuses, ids, the text, the field tokens, the cursor) is a bound parameter.

use helpdesk_core::domain::{Channel, Priority, Ticket, TicketStatus};
use helpdesk_core::store::{AssigneeFilter, Cursor, Page, TicketQuery, TicketSort};
use helpdesk_core::{Error, Result, TenantId, UserId};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use crate::error::db;
use crate::sql::Sql;
use crate::tickets::{ticket_columns, ticket_from};

/// Needles of at least this many characters go through the trigram index first.
const TRIGRAM: usize = 3;

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
/// (...)` statement cannot read the `tickets_queue` index (tenant, status, priority, age) in
/// order, so SQLite would collect every matching ticket of the tenant and sort them. With
/// several statuses, no text filter and that sort, the statement is therefore one branch
/// per status, each reading at most `limit + 1` entries of the index in order (keys and
/// row ids only), merged by a `UNION ALL` and sorted again (at most `statuses x (limit +
/// 1)` keys); only the `limit + 1` winners are read whole.
pub(crate) async fn list_tickets(
    sql: &Sql,
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
    let mut q = statement("SELECT ", &filter, &statuses, i64::from(limit) + 1);
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
    pool: &SqlitePool,
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
    let mut q = count_statement("SELECT ", &filter, &statuses);
    let n: i64 = q.build_query_scalar().fetch_one(pool).await.map_err(db)?;
    u64::try_from(n).map_err(|_| Error::Internal("negative ticket count"))
}

/// The counting statement after `prefix` (`SELECT `, or `EXPLAIN QUERY PLAN SELECT ` in
/// tests).
pub(crate) fn count_statement<'q>(
    prefix: &str,
    filter: &Filter<'_>,
    statuses: &[TicketStatus],
) -> QueryBuilder<'q, Sqlite> {
    let mut q: QueryBuilder<'q, Sqlite> = QueryBuilder::new(prefix);
    q.push(filter.sql.text("count(*) FROM helpdesk_tickets"));
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

/// The listing statement after `prefix` (`SELECT `, or `EXPLAIN QUERY PLAN SELECT ` in
/// tests), returning at most `fetch` rows.
pub(crate) fn statement<'q>(
    prefix: &str,
    filter: &Filter<'_>,
    statuses: &[TicketStatus],
    fetch: i64,
) -> QueryBuilder<'q, Sqlite> {
    let sort = filter.query.sort;
    let order = match sort {
        TicketSort::PriorityThenAge => " ORDER BY priority_rank DESC, created_at ASC, id ASC",
        TicketSort::EscalatedFirst => {
            concat!(" ORDER BY ", queue_rank!(), " DESC, created_at ASC, id ASC")
        }
        TicketSort::Newest => " ORDER BY created_at DESC, id DESC",
    };
    let mut q: QueryBuilder<'q, Sqlite> = QueryBuilder::new(prefix);
    q.push(
        filter
            .sql
            .text(concat!(ticket_columns!(), " FROM helpdesk_tickets")),
    );
    let per_status = matches!(
        sort,
        TicketSort::PriorityThenAge | TicketSort::EscalatedFirst
    ) && statuses.len() > 1
        && filter.needle.is_none();
    if per_status {
        // Each branch reads only the sort keys and row ids (from the index); only the
        // winning rows are then read whole. Within one status the escalated bonus of the
        // queue rank is constant, so every branch reads the index in priority order.
        let branch_order = " ORDER BY priority_rank DESC, created_at ASC, id ASC";
        q.push(" WHERE row_id IN (SELECT row_id FROM (");
        for (i, status) in statuses.iter().enumerate() {
            if i > 0 {
                q.push(" UNION ALL ");
            }
            q.push(filter.sql.text(
                "SELECT * FROM (SELECT row_id, status, priority_rank, created_at, id FROM helpdesk_tickets",
            ));
            filter.push(&mut q, std::slice::from_ref(status));
            q.push(branch_order)
                .push(" LIMIT ")
                .push_bind(fetch)
                .push(")");
        }
        q.push(")")
            .push(order)
            .push(" LIMIT ")
            .push_bind(fetch)
            .push(")");
    } else {
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
    /// Pushes ` WHERE tenant_id = ? AND ...` with `statuses` (all statuses when empty).
    fn push(&self, q: &mut QueryBuilder<'_, Sqlite>, statuses: &[TicketStatus]) {
        let query = self.query;
        q.push(" WHERE tenant_id = ")
            .push_bind(self.tenant.to_string());
        push_ticket_filters(
            q,
            statuses,
            &query.priorities,
            query.assignee,
            query.requester,
            query.category.as_deref(),
            query.team.as_deref(),
        );
        if let Some(n) = self.needle {
            if n.chars().count() >= TRIGRAM {
                // The trigram index finds candidates; `instr` below decides exactly.
                q.push(self.sql.text(
                    " AND row_id IN (SELECT rowid FROM helpdesk_tickets_fts \
                     WHERE helpdesk_tickets_fts MATCH ",
                ))
                .push_bind(fts_phrase(n))
                .push(")");
            }
            q.push(" AND instr(subject_folded, ")
                .push_bind(n.to_string())
                .push(") > 0");
        }
        push_field_tokens(q, &query.fields);
        if query.exclude_bot_chats && (statuses.is_empty() || statuses.contains(&TicketStatus::New))
        {
            // `Ticket::is_bot_chat`: a chat the bot still handles (only a New ticket can be
            // one, so a branch of other statuses keeps reading the index alone).
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
    }
}

/// The filters listings and search share: any of `statuses` and `priorities`, the
/// assignee, the requester, the category and the team (each left out when empty).
pub(crate) fn push_ticket_filters(
    q: &mut QueryBuilder<'_, Sqlite>,
    statuses: &[TicketStatus],
    priorities: &[Priority],
    assignee: Option<AssigneeFilter>,
    requester: Option<UserId>,
    category: Option<&str>,
    team: Option<&str>,
) {
    if !statuses.is_empty() {
        q.push(" AND status IN (");
        let mut list = q.separated(", ");
        for s in statuses {
            list.push_bind(s.as_str());
        }
        q.push(")");
    }
    if !priorities.is_empty() {
        q.push(" AND priority IN (");
        let mut list = q.separated(", ");
        for p in priorities {
            list.push_bind(p.as_str());
        }
        q.push(")");
    }
    match assignee {
        None => {}
        Some(AssigneeFilter::Unassigned) => {
            q.push(" AND assignee IS NULL");
        }
        Some(AssigneeFilter::User(u)) => {
            q.push(" AND assignee = ").push_bind(u.to_string());
        }
    }
    if let Some(r) = requester {
        q.push(" AND requester = ").push_bind(r.to_string());
    }
    if let Some(c) = category {
        q.push(" AND category = ").push_bind(c.to_string());
    }
    if let Some(t) = team {
        q.push(" AND team = ").push_bind(t.to_string());
    }
}

/// The custom field filter (`TicketQuery::fields`, `SearchQuery::fields`): every token
/// must be in the ticket's `field_tokens` (migration 12), one `EXISTS` over its JSON array
/// per token, each token bound. No index: it checks the rows the other filters leave, and
/// a listing or search always has the tenant's filter first.
pub(crate) fn push_field_tokens(q: &mut QueryBuilder<'_, Sqlite>, tokens: &[String]) {
    for token in tokens {
        q.push(" AND EXISTS (SELECT 1 FROM json_each(field_tokens) WHERE value = ")
            .push_bind(token.clone())
            .push(")");
    }
}

/// An FTS5 string literal: the needle in double quotes, inner quotes doubled, so every
/// character is plain text (a phrase of its trigrams).
fn fts_phrase(needle: &str) -> String {
    format!("\"{}\"", needle.replace('"', "\"\""))
}
