//! The query documents of a search: the terms on a words array or on the requester's text,
//! the ticket filters of [`SearchQuery::keeps`], and the part of a source's hits after the
//! cursor.

use bson::{Bson, DateTime, Document, doc};
use helpdesk_core::domain::TicketStatus;
use helpdesk_core::store::{AssigneeFilter, SearchCursor, SearchQuery, SlaFilter, TimeRange};
use helpdesk_core::{Error, Result, TenantId};
use jiff::Timestamp;

use super::words::prefix_pattern;
use crate::codec::regex_literal;
use crate::fields::{FIELD_TOKENS, tokens_filter};

/// One condition per term on the words array `field`: an element starts with the term.
/// Every term on the same array, so all of them are in one text.
pub(crate) fn terms_on(field: &str, terms: &[String]) -> Vec<Document> {
    terms
        .iter()
        .map(|t| doc! { field: { "$regex": prefix_pattern(t) } })
        .collect()
}

/// One condition per term on the lowercased requester text `field`: the term anywhere in
/// it (core's [`SearchQuery::found_anywhere`]; terms are lowercase, like the text).
pub(crate) fn anywhere_in(field: &str, terms: &[String]) -> Vec<Document> {
    terms
        .iter()
        .map(|t| doc! { field: { "$regex": regex_literal(t) } })
        .collect()
}

/// `{$nor: [{$and: conditions}]}`: not every one of `conditions` holds (the ticket is not
/// a hit of a better source).
pub(crate) fn not_all(conditions: Vec<Document>) -> Document {
    doc! { "$nor": [{ "$and": conditions }] }
}

/// A filter of tenant `tenant`'s tickets: its own conditions in `all` (terms, exclusions,
/// the cursor) and every filter of `query` ([`SearchQuery::keeps`], with
/// [`SlaFilter::keeps`]). The tenant is a plain equality first, the leading field of every
/// index the search reads.
pub(crate) fn ticket_filter(
    tenant: TenantId,
    query: &SearchQuery,
    mut all: Vec<Document>,
) -> Result<Document> {
    let mut f = doc! { "tenant_id": tenant.to_string() };
    if !query.statuses.is_empty() {
        let list: Vec<&str> = query.statuses.iter().map(|s| s.as_str()).collect();
        all.push(doc! { "status": { "$in": list } });
    }
    if !query.priorities.is_empty() {
        let list: Vec<&str> = query.priorities.iter().map(|p| p.as_str()).collect();
        all.push(doc! { "priority": { "$in": list } });
    }
    match query.assignee {
        None => {}
        Some(AssigneeFilter::Unassigned) => all.push(doc! { "assignee": Bson::Null }),
        Some(AssigneeFilter::User(u)) => all.push(doc! { "assignee": u.to_string() }),
    }
    if let Some(r) = query.requester {
        all.push(doc! { "requester": r.to_string() });
    }
    if let Some(c) = &query.category {
        all.push(doc! { "category": c.as_str() });
    }
    if let Some(t) = &query.team {
        all.push(doc! { "team": t.as_str() });
    }
    if let Some(c) = query.channel {
        all.push(doc! { "channel": c.as_str() });
    }
    if let Some(tag) = &query.tag {
        // Equality with an array is "one of its elements".
        all.push(doc! { "tags": tag.as_str() });
    }
    if let Some(tokens) = tokens_filter(&query.fields) {
        all.push(doc! { FIELD_TOKENS: tokens });
    }
    for (field, range) in [("created_at", query.created), ("updated_at", query.updated)] {
        if let Some(r) = range {
            all.push(doc! { field: within(&r) });
        }
    }
    match query.sla {
        None => {}
        Some(SlaFilter::Breached) => all.push(doc! { "$or": [
            { "sla.first_response_breached": true },
            { "sla.resolution_breached": true },
        ] }),
        Some(SlaFilter::DueBy { by }) => {
            let done = [
                TicketStatus::Resolved.as_str(),
                TicketStatus::Closed.as_str(),
            ];
            let due = at_or_before(by);
            all.push(doc! { "status": { "$nin": done.to_vec() } });
            all.push(doc! { "sla.first_response_breached": { "$ne": true } });
            all.push(doc! { "sla.resolution_breached": { "$ne": true } });
            all.push(doc! { "sla.paused_since": Bson::Null });
            all.push(doc! { "$or": [
                { "first_response_at": Bson::Null, "sla.first_response_due": due.clone() },
                { "sla.resolution_due": due },
            ] });
        }
        Some(other) => {
            return Err(Error::validation(
                "sla",
                format!("{other:?} is not supported by this store version"),
            ));
        }
    }
    if !all.is_empty() {
        f.insert("$and", all);
    }
    Ok(f)
}

/// The hits of the source of rank `rank` that come after `cursor`: `None` when none do (the
/// cursor is past the whole source), `Some(None)` when all do.
pub(crate) fn after_cursor(rank: u8, cursor: Option<&SearchCursor>) -> Option<Option<Document>> {
    let Some(c) = cursor else {
        return Some(None);
    };
    if rank < c.rank {
        return None;
    }
    if rank > c.rank {
        return Some(None);
    }
    let updated = DateTime::from_millis(c.updated_ms);
    let id = c.id.to_string();
    Some(Some(doc! { "$or": [
        { "updated_at": { "$lt": updated } },
        { "updated_at": updated, "_id": { "$lt": id } },
    ] }))
}

/// The order of one source's hits: the most recently updated ticket first, then by id
/// descending (a ticket id's string form sorts as the id does).
pub(crate) fn hit_order() -> Document {
    doc! { "updated_at": -1, "_id": -1 }
}

// Stored times are whole milliseconds; the bounds below are exclusive only (see
// `codec::at_or_before` for the SecantusDB quirk that asks for it) and rounded so that they
// keep exactly the stored times the reference's inclusive/exclusive bounds keep, even for a
// bound between two milliseconds.

/// "Inside `[from, to)`" on a stored date: after `ceil(from) - 1 ms` and before `ceil(to)`.
fn within(range: &TimeRange) -> Document {
    doc! {
        "$gt": DateTime::from_millis(ceil_ms(range.from).saturating_sub(1)),
        "$lt": DateTime::from_millis(ceil_ms(range.to)),
    }
}

/// "At or before `t`" on a stored date: before `floor(t) + 1 ms`.
fn at_or_before(t: Timestamp) -> Document {
    doc! { "$lt": DateTime::from_millis(floor_ms(t).saturating_add(1)) }
}

/// The smallest whole millisecond at or after `t`.
fn ceil_ms(t: Timestamp) -> i64 {
    let m = t.as_millisecond();
    if Timestamp::from_millisecond(m).is_ok_and(|whole| whole < t) {
        m + 1
    } else {
        m
    }
}

/// The largest whole millisecond at or before `t`.
fn floor_ms(t: Timestamp) -> i64 {
    let m = t.as_millisecond();
    if Timestamp::from_millisecond(m).is_ok_and(|whole| whole > t) {
        m - 1
    } else {
        m
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use helpdesk_core::TicketId;
    use helpdesk_core::store::SearchSource;

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
        let range = TimeRange::new(after, after + jiff::SignedDuration::from_secs(1)).unwrap();
        assert_eq!(
            within(&range),
            doc! {
                "$gt": DateTime::from_millis(1_000),
                "$lt": DateTime::from_millis(2_001),
            }
        );
    }

    #[test]
    fn terms_are_anchored_on_words_and_free_in_the_requester() {
        let terms = vec!["refund".to_owned(), "a.b".to_owned()];
        assert_eq!(
            terms_on("search_subject", &terms),
            [
                doc! { "search_subject": { "$regex": "^refund" } },
                doc! { "search_subject": { "$regex": r"^a\.b" } },
            ]
        );
        assert_eq!(
            anywhere_in("search_requester", &terms),
            [
                doc! { "search_requester": { "$regex": "refund" } },
                doc! { "search_requester": { "$regex": r"a\.b" } },
            ]
        );
    }

    #[test]
    fn the_tenant_leads_and_filters_follow() {
        let tenant = TenantId::new();
        let plain = ticket_filter(tenant, &SearchQuery::default(), Vec::new()).unwrap();
        assert_eq!(plain, doc! { "tenant_id": tenant.to_string() });
        let query = SearchQuery {
            tag: Some("vip".into()),
            fields: vec!["plan=Pro".into()],
            sla: Some(SlaFilter::Breached),
            ..SearchQuery::default()
        };
        let words = terms_on("search_subject", &["jam".to_owned()]);
        let f = ticket_filter(tenant, &query, words).unwrap();
        assert_eq!(f.keys().next().map(String::as_str), Some("tenant_id"));
        let all = f.get_array("$and").unwrap();
        assert_eq!(all.len(), 4);
        assert_eq!(
            all[0],
            Bson::Document(doc! { "search_subject": { "$regex": "^jam" } })
        );
        assert_eq!(all[1], Bson::Document(doc! { "tags": "vip" }));
        assert_eq!(all[2], Bson::Document(doc! { "field_tokens": "plan=Pro" }));
    }

    #[test]
    fn the_cursor_skips_better_sources_and_cuts_its_own() {
        let c = SearchCursor {
            rank: SearchSource::Requester.rank(),
            updated_ms: 5,
            id: TicketId::new(),
        };
        assert_eq!(after_cursor(0, Some(&c)), None);
        assert_eq!(after_cursor(1, Some(&c)), None);
        assert_eq!(after_cursor(3, Some(&c)), Some(None));
        assert_eq!(after_cursor(0, None), Some(None));
        let own = after_cursor(2, Some(&c)).unwrap().unwrap();
        assert_eq!(own.get_array("$or").unwrap().len(), 2);
    }
}
