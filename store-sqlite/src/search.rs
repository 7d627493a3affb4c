//! Full-text search ([`SearchStore`]): one statement over the indexes of migration 11.
//!
//! Each source is one branch of a `UNION ALL` of candidates (ticket row, source rank, the
//! requester's name and e-mail or the message body, the message's time and id):
//!
//! * Subject and Details: the word index `tickets_search` (external content on the
//!   tickets: `subject`, `description` and the store-written `search_details`), one
//!   column filter per source, so all terms are in the same text;
//! * Requester (staff): the tenant's users whose `"name <email>"` holds every term, narrowed
//!   through the trigram index `users_search` by the terms of three or more characters,
//!   then their tickets through the requester index;
//! * Message and Note (notes for staff only): the word index `messages_search` of reply,
//!   chat and note bodies, to the message by its key and to its ticket by id.
//!
//! A window keeps each ticket's best candidate (lowest rank, then the newest message); the
//! tickets are joined by `row_id`, filtered as [`SearchQuery::keeps`] does, and ordered by
//! rank, `updated_at` descending and id descending from the cursor on, `limit + 1` rows.
//!
//! Every join is a `CROSS JOIN`, whose order SQLite never changes: each branch starts from
//! its index match, and the tickets are read after the candidates. Left free, the planner
//! read a tenant's tickets first (with the filters, or for the requester), which is a scan
//! of the tenant (`plans.rs` checks the plans).
//!
//! Terms are never part of the statement's text: each is an FTS5 string (in double
//! quotes, inner quotes doubled) inside a bound `MATCH` value, or a bound `instr` needle.

use async_trait::async_trait;
use helpdesk_core::domain::TicketStatus;
use helpdesk_core::store::{
    Page, SearchCursor, SearchHit, SearchQuery, SearchSource, SearchStore, SlaFilter, details_text,
    requester_text, subject_text,
};
use helpdesk_core::{Error, Result, TenantId};
use jiff::Timestamp;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite};

use crate::SqliteStore;
use crate::codec::Columns;
use crate::error::db;
use crate::listing::{push_field_tokens, push_ticket_filters};
use crate::sql::Sql;
use crate::tickets::{ticket_columns, ticket_from};

/// The shortest term the trigram index can find (shorter ones are only checked by `instr`).
const TRIGRAM: usize = 3;

#[async_trait]
impl SearchStore for SqliteStore {
    /// One statement (see the module docs).
    async fn search_tickets(
        &self,
        tenant: TenantId,
        query: &SearchQuery,
    ) -> Result<Page<SearchHit>> {
        query.check_terms()?;
        let limit = query.effective_limit()?;
        let cursor = query.decoded_cursor()?;
        let mut q = statement("", &self.sql, tenant, query, cursor.as_ref(), limit + 1);
        let rows = q.build().fetch_all(&self.pool).await.map_err(db)?;
        let mut items = rows.iter().map(hit_from).collect::<Result<Vec<_>>>()?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_cursor = if more {
            items.last().map(|h| SearchCursor::after(h).encode())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }
}

/// A result row as a hit: the ticket, its best source and that source's text.
fn hit_from(row: &SqliteRow) -> Result<SearchHit> {
    let ticket = ticket_from(row)?;
    let c = Columns(row);
    let rank = u8::try_from(c.i64("hit_rank")?).ok();
    let source = rank
        .and_then(SearchSource::from_rank)
        .ok_or(Error::Internal("search rank out of range"))?;
    let text = match source {
        SearchSource::Subject => subject_text(&ticket),
        SearchSource::Details => details_text(&ticket),
        SearchSource::Requester => requester_text(&c.text("hit_name")?, &c.text("hit_text")?),
        _ => c.text("hit_text")?,
    };
    Ok(SearchHit {
        ticket,
        source,
        text,
    })
}

/// The search statement after `explain` (empty, or `EXPLAIN QUERY PLAN ` in tests),
/// returning at most `fetch` rows.
pub(crate) fn statement<'q>(
    explain: &str,
    sql: &Sql,
    tenant: TenantId,
    query: &SearchQuery,
    cursor: Option<&SearchCursor>,
    fetch: u32,
) -> QueryBuilder<'q, Sqlite> {
    let words = prefix_terms(&query.terms);
    let tenant = tenant.to_string();
    let mut q: QueryBuilder<'q, Sqlite> = QueryBuilder::new(explain);
    q.push(
        "WITH hits (hit_row, hit_rank, hit_name, hit_text, hit_at, hit_message) AS (SELECT rowid, ",
    )
    .push(SearchSource::Subject.rank())
    .push(sql.text(
        ", NULL, NULL, NULL, NULL FROM helpdesk_tickets_search \
         WHERE helpdesk_tickets_search MATCH ",
    ))
    .push_bind(format!("{{subject description}} : ({words})"));
    if query.staff {
        q.push(" UNION ALL SELECT rowid, ")
            .push(SearchSource::Details.rank())
            .push(sql.text(
                ", NULL, NULL, NULL, NULL FROM helpdesk_tickets_search \
                 WHERE helpdesk_tickets_search MATCH ",
            ))
            .push_bind(format!("search_details : ({words})"));
        push_requester(&mut q, sql, &tenant, &query.terms);
    }
    q.push(" UNION ALL SELECT t.row_id, CASE m.kind WHEN 'note' THEN ")
        .push(SearchSource::Note.rank())
        .push(" ELSE ")
        .push(SearchSource::Message.rank())
        .push(sql.text(
            " END, NULL, m.body, m.created_at, m.id FROM helpdesk_messages_search s \
             CROSS JOIN helpdesk_message_search_keys k ON k.row_id = s.rowid \
             CROSS JOIN helpdesk_messages m ON m.id = k.message_id \
             CROSS JOIN helpdesk_tickets t ON t.id = m.ticket_id \
             WHERE helpdesk_messages_search MATCH ",
        ))
        .push_bind(words)
        .push(" AND m.tenant_id = ")
        .push_bind(tenant.clone());
    if !query.staff {
        q.push(" AND m.kind <> 'note'");
    }
    q.push(
        "), best AS (SELECT *, row_number() OVER (PARTITION BY hit_row \
         ORDER BY hit_rank, hit_at DESC, hit_message DESC) AS hit_n FROM hits) SELECT ",
    );
    q.push(sql.text(concat!(
        ticket_columns!(),
        ", hit_rank, hit_name, hit_text FROM best CROSS JOIN helpdesk_tickets ON row_id = hit_row \
         WHERE hit_n = 1 AND tenant_id = "
    )))
    .push_bind(tenant);
    push_filters(&mut q, query);
    if let Some(c) = cursor {
        let rank = i64::from(c.rank);
        q.push(" AND (hit_rank > ")
            .push_bind(rank)
            .push(" OR (hit_rank = ")
            .push_bind(rank)
            .push(" AND (updated_at < ")
            .push_bind(c.updated_ms)
            .push(" OR (updated_at = ")
            .push_bind(c.updated_ms)
            .push(" AND id < ")
            .push_bind(c.id.to_string())
            .push("))))");
    }
    q.push(" ORDER BY hit_rank, updated_at DESC, id DESC LIMIT ")
        .push_bind(i64::from(fetch));
    q
}

/// The Requester branch: the tenant's users whose `"name <email>"` holds every term
/// (`instr` on the text lowercased by SQLite's `lower`, which folds ASCII letters only),
/// then their tickets through the requester index. When a term has three characters or
/// more, the users come from the trigram index (the terms that long must all be there);
/// otherwise every user of the tenant is checked.
fn push_requester(q: &mut QueryBuilder<'_, Sqlite>, sql: &Sql, tenant: &str, terms: &[String]) {
    q.push(" UNION ALL SELECT t.row_id, ")
        .push(SearchSource::Requester.rank())
        .push(", u.name, u.email, NULL, NULL FROM ");
    let long: Vec<String> = terms
        .iter()
        .filter(|t| t.chars().count() >= TRIGRAM)
        .map(|t| fts_string(t))
        .collect();
    let narrowed = !long.is_empty();
    if narrowed {
        q.push(sql.text(
            "helpdesk_users_search us \
             CROSS JOIN helpdesk_user_search_keys uk ON uk.row_id = us.rowid \
             CROSS JOIN helpdesk_users u ON u.id = uk.user_id ",
        ));
    } else {
        q.push(sql.text("helpdesk_users u "));
    }
    q.push(sql.text(
        "CROSS JOIN helpdesk_tickets t ON t.tenant_id = u.tenant_id AND t.requester = u.id \
         WHERE u.tenant_id = ",
    ))
    .push_bind(tenant.to_owned());
    if narrowed {
        q.push(sql.text(" AND helpdesk_users_search MATCH "))
            .push_bind(long.join(" AND "));
    }
    for term in terms {
        q.push(" AND instr(lower(u.name || ' <' || u.email || '>'), ")
            .push_bind(term.clone())
            .push(") > 0");
    }
}

/// The filters of [`SearchQuery::keeps`] on the joined ticket.
fn push_filters(q: &mut QueryBuilder<'_, Sqlite>, query: &SearchQuery) {
    push_ticket_filters(
        q,
        &query.statuses,
        &query.priorities,
        query.assignee,
        query.requester,
        query.category.as_deref(),
        query.team.as_deref(),
    );
    if let Some(c) = query.channel {
        q.push(" AND channel = ").push_bind(c.as_str());
    }
    if let Some(tag) = &query.tag {
        q.push(" AND EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ")
            .push_bind(tag.clone())
            .push(")");
    }
    push_field_tokens(q, &query.fields);
    // Stored times are whole milliseconds: `from <= t` is `t >= ceil(from)` and `t < to`
    // is `t < ceil(to)`.
    for (column, range) in [
        (" AND created_at >= ", query.created),
        (" AND updated_at >= ", query.updated),
    ] {
        if let Some(r) = range {
            let end = column.replace(">=", "<");
            q.push(column)
                .push_bind(ceil_ms(r.from))
                .push(end)
                .push_bind(ceil_ms(r.to));
        }
    }
    match query.sla {
        None => {}
        Some(SlaFilter::Breached) => {
            q.push(" AND (sla_first_response_breached <> 0 OR sla_resolution_breached <> 0)");
        }
        Some(SlaFilter::DueBy { by }) => {
            let by = floor_ms(by);
            q.push(" AND status NOT IN (")
                .push_bind(TicketStatus::Resolved.as_str())
                .push(", ")
                .push_bind(TicketStatus::Closed.as_str())
                .push(
                    ") AND sla_first_response_breached = 0 AND sla_resolution_breached = 0 \
                     AND sla_paused_since IS NULL AND ((first_response_at IS NULL \
                     AND sla_first_response_due <= ",
                )
                .push_bind(by)
                .push(") OR sla_resolution_due <= ")
                .push_bind(by)
                .push(")");
        }
        Some(_) => {
            // A condition added to core later: match nothing rather than too much.
            q.push(" AND 0");
        }
    }
}

/// The terms as an FTS5 expression: each a string followed by `*` (a prefix query: a word
/// starting with the term), all of them required.
fn prefix_terms(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| format!("{}*", fts_string(t)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// An FTS5 string: the text in double quotes, inner quotes doubled, so nothing in it is
/// query syntax.
fn fts_string(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The smallest whole millisecond at or after `t`.
fn ceil_ms(t: Timestamp) -> i64 {
    let m = t.as_millisecond();
    match Timestamp::from_millisecond(m) {
        Ok(whole) if whole < t => m.saturating_add(1),
        _ => m,
    }
}

/// The largest whole millisecond at or before `t`.
fn floor_ms(t: Timestamp) -> i64 {
    let m = t.as_millisecond();
    match Timestamp::from_millisecond(m) {
        Ok(whole) if whole > t => m.saturating_sub(1),
        _ => m,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use helpdesk_core::domain::MessageKind;

    use super::*;
    use crate::codec::enum_str;

    #[test]
    fn terms_are_quoted_prefix_strings() {
        let terms = vec!["refund".to_owned(), "a\"b".to_owned()];
        assert_eq!(prefix_terms(&terms), r#""refund"* AND "a""b"*"#);
    }

    #[test]
    fn whole_milliseconds_round_the_right_way() {
        let t = Timestamp::from_millisecond(5).unwrap();
        let later = t + jiff::SignedDuration::from_micros(400);
        assert_eq!((ceil_ms(t), floor_ms(t)), (5, 5));
        assert_eq!((ceil_ms(later), floor_ms(later)), (6, 5));
        let before =
            Timestamp::from_millisecond(-5).unwrap() - jiff::SignedDuration::from_micros(400);
        assert_eq!((ceil_ms(before), floor_ms(before)), (-5, -6));
    }

    #[test]
    fn the_kinds_in_the_statement_and_triggers_are_the_stored_names() {
        assert_eq!(enum_str(&MessageKind::Reply, "kind").unwrap(), "reply");
        assert_eq!(enum_str(&MessageKind::Chat, "kind").unwrap(), "chat");
        assert_eq!(enum_str(&MessageKind::Note, "kind").unwrap(), "note");
    }

    #[test]
    fn a_custom_prefix_names_every_index_and_key_table() {
        let sql = Sql::new("acme_").unwrap();
        let query = SearchQuery {
            terms: vec!["refund".into()],
            staff: true,
            ..SearchQuery::default()
        };
        let q = statement("", &sql, TenantId::new(), &query, None, 26);
        assert!(!q.sql().contains("helpdesk_"), "{}", q.sql());
        for table in [
            "acme_tickets_search",
            "acme_users_search",
            "acme_user_search_keys",
            "acme_messages_search",
            "acme_message_search_keys",
        ] {
            assert!(q.sql().contains(table), "{table}: {}", q.sql());
        }
    }
}
