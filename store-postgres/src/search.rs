//! Full-text search ([`SearchStore`]): one statement per page.
//!
//! The statement collects candidates per source, each from its index:
//!
//! | Rank | Source | Read from |
//! |---|---|---|
//! | 0 | subject and description | `tickets_search_subject` (GIN) |
//! | 1 | tags (and custom field values) | `tickets_search_details` (GIN) |
//! | 2 | requester's name and e-mail | `users_search_trgm` (GIN, when pg_trgm is there), then `tickets_requester` |
//! | 3 | replies and chat turns | `messages_search_body` (GIN) |
//! | 4 | notes | `messages_search_body` (GIN) |
//!
//! (the staff-only sources 1, 2 and 4 only for staff), each joined with its ticket and
//! kept by the query's filters ([`SearchQuery::keeps`], written as SQL below), so the
//! planner may also start from a ticket index when a filter is narrower than the words
//! (a customer's own tickets). The candidates are reduced to the best per ticket (lowest
//! rank, then the newest message), cut after the cursor and ordered by rank, `updated_at`
//! descending and id descending; only the `limit + 1` winners are joined with their ticket
//! row, their message's body and their requester. What the words columns hold and why the
//! tsquery matches word starts is in `search_index`.
//!
//! Every value from the query is a bound parameter: the terms (already checked by
//! [`SearchQuery::check_terms`]) reach the statement as one tsquery of quoted, escaped
//! prefix lexemes and as `LIKE` patterns with every wildcard escaped.

use async_trait::async_trait;
use helpdesk_core::domain::{MessageKind, TicketStatus};
use helpdesk_core::store::{
    AssigneeFilter, Page, SearchCursor, SearchHit, SearchQuery, SearchSource, SearchStore,
    SlaFilter, details_text, requester_text, subject_text,
};
use helpdesk_core::{Result, TenantId};
use jiff::Timestamp;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder};

use crate::PostgresStore;
use crate::codec::{Columns, enum_str, ms};
use crate::error::{PostgresError, db};
use crate::listing::like_pattern;
use crate::search_index::{prefix_tsquery, words_tsvector};
use crate::sql::Sql;
use crate::tickets::{ticket_columns, ticket_from};

/// The requester's name and e-mail as the requester source searches them (lowercased by
/// the database), and as the trigram index `users_search_trgm` covers them.
macro_rules! requester_folded {
    () => {
        "lower(name || ' ' || email)"
    };
}
pub(crate) use requester_folded;

/// What every candidate row carries: its ticket, rank, the ticket's update time, and for a
/// message its creation time and id (to pick the newest).
const SUBJECT: &str = concat!(
    "SELECT t.id AS hit_ticket, 0::bigint AS hit_rank, t.updated_at AS hit_updated, \
     NULL::bigint AS hit_at, NULL::uuid AS hit_message FROM helpdesk.tickets t \
     WHERE ",
    words_tsvector!("t.search_subject"),
    " @@ "
);
const DETAILS: &str = concat!(
    "SELECT t.id, 1::bigint, t.updated_at, NULL::bigint, NULL::uuid FROM helpdesk.tickets t WHERE ",
    words_tsvector!("t.search_details"),
    " @@ "
);
const REQUESTER: &str = "SELECT t.id, 2::bigint, t.updated_at, NULL::bigint, NULL::uuid \
     FROM helpdesk.users u JOIN helpdesk.tickets t ON t.requester = u.id \
     AND t.tenant_id = u.tenant_id WHERE u.tenant_id = ";
/// After `SELECT t.id, <rank>` (3 for public messages, 4 for notes).
const MESSAGES: &str = concat!(
    "::bigint, t.updated_at, m.created_at, m.id FROM helpdesk.messages m \
     JOIN helpdesk.tickets t ON t.id = m.ticket_id AND t.tenant_id = m.tenant_id WHERE ",
    words_tsvector!("m.search_body"),
    " @@ "
);

/// The statement of one page after `prefix` (empty, or `EXPLAIN ` in tests), returning at
/// most `fetch` hits. `query.check_terms()` has passed.
pub(crate) fn statement(
    prefix: &str,
    sql: &Sql,
    tenant: TenantId,
    query: &SearchQuery,
    cursor: Option<&SearchCursor>,
    fetch: i64,
) -> Result<QueryBuilder<'static, Postgres>> {
    let tsquery = prefix_tsquery(&query.terms)?;
    let kinds = |list: &[MessageKind]| -> Result<Vec<String>> {
        list.iter().map(|k| enum_str(k, "kind")).collect()
    };
    let mut q: QueryBuilder<'static, Postgres> = QueryBuilder::new(prefix);
    q.push("WITH hits AS (");
    q.push(sql.text(SUBJECT))
        .push_bind(tsquery.clone())
        .push("::tsquery AND t.tenant_id = ")
        .push_bind(tenant.as_uuid());
    push_filters(&mut q, query)?;
    if query.staff {
        q.push(" UNION ALL ")
            .push(sql.text(DETAILS))
            .push_bind(tsquery.clone())
            .push("::tsquery AND t.tenant_id = ")
            .push_bind(tenant.as_uuid());
        push_filters(&mut q, query)?;
        q.push(" UNION ALL ")
            .push(sql.text(REQUESTER))
            .push_bind(tenant.as_uuid());
        for term in &query.terms {
            q.push(concat!(" AND ", requester_folded!(), " LIKE "))
                .push_bind(like_pattern(term));
        }
        push_filters(&mut q, query)?;
    }
    let mut messages = vec![(
        SearchSource::Message,
        kinds(&MessageKind::CUSTOMER_VISIBLE)?,
    )];
    if query.staff {
        messages.push((SearchSource::Note, kinds(&[MessageKind::Note])?));
    }
    for (source, kinds) in messages {
        q.push(" UNION ALL SELECT t.id, ")
            .push(source.rank())
            .push(sql.text(MESSAGES))
            .push_bind(tsquery.clone())
            .push("::tsquery AND m.tenant_id = ")
            .push_bind(tenant.as_uuid())
            .push(" AND m.kind = ANY(")
            .push_bind(kinds)
            .push(")");
        push_filters(&mut q, query)?;
    }
    // The best hit per ticket, then the page after the cursor.
    q.push(
        "), best AS (SELECT DISTINCT ON (hit_ticket) hit_ticket, hit_rank, hit_updated, \
         hit_message FROM hits ORDER BY hit_ticket, hit_rank, hit_at DESC, hit_message DESC), \
         page AS (SELECT * FROM best",
    );
    if let Some(c) = cursor {
        let rank = i64::from(c.rank);
        q.push(" WHERE (hit_rank > ")
            .push_bind(rank)
            .push(" OR (hit_rank = ")
            .push_bind(rank)
            .push(" AND (hit_updated < ")
            .push_bind(c.updated_ms)
            .push(" OR (hit_updated = ")
            .push_bind(c.updated_ms)
            .push(" AND hit_ticket < ")
            .push_bind(c.id.as_uuid())
            .push("))))");
    }
    q.push(" ORDER BY hit_rank, hit_updated DESC, hit_ticket DESC LIMIT ")
        .push_bind(fetch);
    // Only the winners are read whole: the ticket row, the message's body, the requester.
    q.push(sql.text(concat!(
        ") SELECT ",
        ticket_columns!(),
        ", hit_rank, hit_body, hit_name, hit_email FROM page \
         JOIN helpdesk.tickets ON id = hit_ticket \
         LEFT JOIN (SELECT id AS body_id, body AS hit_body FROM helpdesk.messages) m \
           ON body_id = hit_message"
    )));
    q.push(sql.text(if query.staff {
        " LEFT JOIN (SELECT id AS person_id, name AS hit_name, email AS hit_email \
           FROM helpdesk.users) u ON hit_rank = 2 AND person_id = requester"
    } else {
        " CROSS JOIN (SELECT NULL::text AS hit_name, NULL::text AS hit_email) u"
    }));
    q.push(" ORDER BY hit_rank, updated_at DESC, id DESC");
    Ok(q)
}

/// Pushes ` AND ...` for every filter of `query` over the branch's ticket `t`: the SQL of
/// [`SearchQuery::keeps`] (and [`SlaFilter::keeps`]).
fn push_filters(q: &mut QueryBuilder<'static, Postgres>, query: &SearchQuery) -> Result<()> {
    if !query.statuses.is_empty() {
        let list: Vec<&'static str> = query.statuses.iter().map(|s| s.as_str()).collect();
        q.push(" AND t.status = ANY(").push_bind(list).push(")");
    }
    if !query.priorities.is_empty() {
        let list: Vec<&'static str> = query.priorities.iter().map(|p| p.as_str()).collect();
        q.push(" AND t.priority = ANY(").push_bind(list).push(")");
    }
    match query.assignee {
        None => {}
        Some(AssigneeFilter::Unassigned) => {
            q.push(" AND t.assignee IS NULL");
        }
        Some(AssigneeFilter::User(u)) => {
            q.push(" AND t.assignee = ").push_bind(u.as_uuid());
        }
    }
    if let Some(r) = query.requester {
        q.push(" AND t.requester = ").push_bind(r.as_uuid());
    }
    if let Some(c) = &query.category {
        q.push(" AND t.category = ").push_bind(c.clone());
    }
    if let Some(t) = &query.team {
        q.push(" AND t.team = ").push_bind(t.clone());
    }
    if let Some(c) = query.channel {
        q.push(" AND t.channel = ").push_bind(c.as_str());
    }
    if let Some(tag) = &query.tag {
        q.push(" AND t.tags @> jsonb_build_array(")
            .push_bind(tag.clone())
            .push("::text)");
    }
    crate::fields::push_filter(q, "t.field_tokens", &query.fields);
    for (column, range) in [
        ("t.created_at", query.created),
        ("t.updated_at", query.updated),
    ] {
        if let Some(r) = range {
            // Stored times are whole milliseconds: `from <= t < to` holds for them exactly
            // when it holds for the bounds rounded up.
            q.push(" AND ")
                .push(column)
                .push(" >= ")
                .push_bind(ceil_ms(r.from))
                .push(" AND ")
                .push(column)
                .push(" < ")
                .push_bind(ceil_ms(r.to));
        }
    }
    match query.sla {
        None => {}
        Some(SlaFilter::Breached) => {
            q.push(" AND (t.sla_first_response_breached OR t.sla_resolution_breached)");
        }
        Some(SlaFilter::DueBy { by }) => {
            // Not breached, not Resolved or Closed, not paused, and a target at or before
            // `by` (a stored due time is whole milliseconds: `<= by` is `<= floor(by)`).
            let by = floor_ms(by);
            let done = vec![
                TicketStatus::Resolved.as_str(),
                TicketStatus::Closed.as_str(),
            ];
            q.push(" AND t.status <> ALL(")
                .push_bind(done)
                .push(
                    ") AND NOT t.sla_first_response_breached AND NOT t.sla_resolution_breached \
                     AND t.sla_paused_since IS NULL AND ((t.first_response_at IS NULL \
                     AND t.sla_first_response_due <= ",
                )
                .push_bind(by)
                .push(") OR t.sla_resolution_due <= ")
                .push_bind(by)
                .push(")");
        }
        Some(other) => {
            return Err(helpdesk_core::Error::validation(
                "sla",
                format!("{other:?} is not supported by this store version"),
            ));
        }
    }
    Ok(())
}

/// The smallest whole millisecond at or after `t`.
fn ceil_ms(t: Timestamp) -> i64 {
    let m = ms(t);
    if Timestamp::from_millisecond(m).is_ok_and(|whole| whole < t) {
        m + 1
    } else {
        m
    }
}

/// The largest whole millisecond at or before `t`.
fn floor_ms(t: Timestamp) -> i64 {
    let m = ms(t);
    if Timestamp::from_millisecond(m).is_ok_and(|whole| whole > t) {
        m - 1
    } else {
        m
    }
}

/// One row of the statement as a hit, its text made as the contract says.
fn hit_from(row: &PgRow) -> Result<SearchHit> {
    let ticket = ticket_from(row)?;
    let c = Columns(row);
    let rank = c.i64("hit_rank")?;
    let source = u8::try_from(rank)
        .ok()
        .and_then(SearchSource::from_rank)
        .ok_or_else(|| PostgresError::corrupt("hit_rank", format!("no source of rank {rank}")))?;
    let text = match source {
        SearchSource::Subject => subject_text(&ticket),
        SearchSource::Details => details_text(&ticket),
        SearchSource::Requester => {
            let (Some(name), Some(email)) = (c.opt_text("hit_name")?, c.opt_text("hit_email")?)
            else {
                return Err(PostgresError::corrupt("hit_name", "the requester is missing").into());
            };
            requester_text(&name, &email)
        }
        SearchSource::Message | SearchSource::Note => c
            .opt_text("hit_body")?
            .ok_or_else(|| PostgresError::corrupt("hit_body", "the message is missing"))?,
        other => {
            return Err(
                PostgresError::corrupt("hit_rank", format!("{other:?} is not searched")).into(),
            );
        }
    };
    Ok(SearchHit {
        ticket,
        source,
        text,
    })
}

#[async_trait]
impl SearchStore for PostgresStore {
    /// One statement (see the module docs of `search`).
    async fn search_tickets(
        &self,
        tenant: TenantId,
        query: &SearchQuery,
    ) -> Result<Page<SearchHit>> {
        query.check_terms()?;
        let limit = query.effective_limit()?;
        let cursor = query.decoded_cursor()?;
        // One extra row tells whether there is a next page.
        let mut q = statement(
            "",
            &self.sql,
            tenant,
            query,
            cursor.as_ref(),
            i64::from(limit) + 1,
        )?;
        let rows = q.build().fetch_all(&self.pool).await.map_err(db)?;
        let mut items = rows.iter().map(hit_from).collect::<Result<Vec<_>>>()?;
        let has_more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_cursor = if has_more {
            items.last().map(|h| SearchCursor::after(h).encode())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn bounds_round_to_whole_milliseconds_the_right_way() {
        let whole = Timestamp::from_millisecond(1_000).unwrap();
        let after = whole + jiff::SignedDuration::from_micros(300);
        assert_eq!((ceil_ms(whole), floor_ms(whole)), (1_000, 1_000));
        assert_eq!((ceil_ms(after), floor_ms(after)), (1_001, 1_000));
        let before =
            Timestamp::from_millisecond(-1_000).unwrap() - jiff::SignedDuration::from_micros(300);
        assert_eq!((ceil_ms(before), floor_ms(before)), (-1_000, -1_001));
    }

    #[test]
    fn customers_search_only_the_public_sources() {
        let query = SearchQuery {
            terms: vec!["refund".into()],
            ..SearchQuery::default()
        };
        let q = statement("", &Sql::default(), TenantId::new(), &query, None, 26).unwrap();
        let text = q.sql();
        assert!(text.contains("search_subject") && text.contains("search_body"));
        assert!(!text.contains("search_details") && !text.contains("helpdesk.users u"));
        assert_eq!(text.matches("UNION ALL").count(), 1);
        let staff = SearchQuery {
            staff: true,
            ..query
        };
        let q = statement("", &Sql::default(), TenantId::new(), &staff, None, 26).unwrap();
        assert_eq!(q.sql().matches("UNION ALL").count(), 4);
    }
}
