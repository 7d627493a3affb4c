//! Analytics with aggregation pipelines, reproducing
//! [`Analytics::compute`](helpdesk_core::analytics::Analytics::compute) exactly:
//! one `$facet` over the tenant's live tickets, one `$group` over draft messages and one
//! over chat sessions. Durations are `$dateDiff` in milliseconds; percentiles are nearest
//! rank, taken from the durations sorted and `$push`ed in the pipeline (`$percentile` is not
//! used: it needs MongoDB 7 and its approximate method is not nearest rank).

use bson::{Bson, Document, doc};
use helpdesk_core::analytics::{
    AgentStats, Analytics, ChatStats, CsatStats, DraftStats, DurationStats, UNCATEGORIZED,
};
use helpdesk_core::domain::{ChatState, DraftState, MessageKind};
use helpdesk_core::store::TimeRange;
use helpdesk_core::{Result, TenantId};
use jiff::Timestamp;
use jiff::civil::Date;

use super::listing::open_status;
use crate::codec::{Reader, date, serde_name, within};
use crate::error::{malformed, unexpected};
use crate::schema::{CHAT_SESSIONS, MESSAGES, TICKETS};
use crate::store::MongoStore;

/// `$dateDiff` in milliseconds from `created_at` to `field`.
fn millis_since_created(field: &str) -> Document {
    doc! { "$dateDiff": {
        "startDate": "$created_at",
        "endDate": field,
        "unit": "millisecond",
    } }
}

/// An expression: `field` is set and inside `range`.
fn set_and_in(field: &str, range: &TimeRange) -> Document {
    doc! { "$and": [
        { "$ne": [{ "$ifNull": [field, null] }, null] },
        { "$gte": [field, date(range.from)] },
        { "$lt": [field, date(range.to)] },
    ] }
}

/// The nearest-rank element `sorted[ceil(p/100 * n) - 1]` of the pushed `$values`.
fn nearest_rank(percent: i32) -> Document {
    doc! { "$arrayElemAt": ["$values", { "$subtract": [
        { "$toInt": { "$ceil": { "$divide": [{ "$multiply": [percent, "$count"] }, 100] } } },
        1,
    ] }] }
}

/// A facet computing duration stats from `created_at` to `field` over tickets in range.
fn duration_facet(field: &str, in_range: &Document) -> Vec<Document> {
    let mut matched = in_range.clone();
    let path = field.trim_start_matches('$');
    matched.insert(path, doc! { "$ne": null });
    vec![
        doc! { "$match": matched },
        doc! { "$project": { "ms": millis_since_created(field) } },
        doc! { "$sort": { "ms": 1 } },
        doc! { "$group": {
            "_id": null,
            "values": { "$push": "$ms" },
            "sum": { "$sum": "$ms" },
            "count": { "$sum": 1_i64 },
        } },
        doc! { "$project": {
            "_id": 0,
            "count": 1,
            "sum": 1,
            "p50": nearest_rank(50),
            "p90": nearest_rank(90),
        } },
    ]
}

fn count_by(key: Bson, in_range: &Document) -> Vec<Document> {
    vec![
        doc! { "$match": in_range.clone() },
        doc! { "$group": { "_id": key, "n": { "$sum": 1_i64 } } },
        doc! { "$sort": { "_id": 1 } },
    ]
}

fn tickets_pipeline(tenant: TenantId, range: &TimeRange) -> Vec<Document> {
    let in_range = doc! { "created_at": within(range) };
    let resolved_in_range = set_and_in("$resolved_at", range);
    let closed: Vec<Bson> = match open_status().get("$nin") {
        Some(Bson::Array(list)) => list.clone(),
        _ => Vec::new(),
    };
    let mut with_sla = in_range.clone();
    with_sla.insert(
        "$or",
        vec![
            doc! { "sla.first_response_due": { "$ne": null } },
            doc! { "sla.resolution_due": { "$ne": null } },
        ],
    );
    vec![
        doc! { "$match": { "tenant_id": tenant.to_string(), "merged_into": null } },
        doc! { "$facet": {
            "per_day": count_by(
                Bson::Document(doc! { "$dateToString": { "format": "%Y-%m-%d", "date": "$created_at" } }),
                &in_range,
            ),
            "by_status": count_by(Bson::String("$status".into()), &in_range),
            "by_priority": count_by(Bson::String("$priority".into()), &in_range),
            "by_category": count_by(
                Bson::Document(doc! { "$ifNull": ["$category", UNCATEGORIZED] }),
                &in_range,
            ),
            "first_response": duration_facet("$first_response_at", &in_range),
            "resolution": duration_facet("$resolved_at", &in_range),
            "sla": [
                { "$match": with_sla },
                { "$group": {
                    "_id": null,
                    "with": { "$sum": 1_i64 },
                    "met": { "$sum": { "$cond": [
                        { "$and": [
                            { "$ne": ["$sla.first_response_breached", true] },
                            { "$ne": ["$sla.resolution_breached", true] },
                        ] },
                        1_i64,
                        0_i64,
                    ] } },
                } },
            ],
            "backlog": [
                { "$match": { "status": open_status() } },
                { "$group": { "_id": null, "n": { "$sum": 1_i64 } } },
            ],
            "agents": [
                { "$match": { "assignee": { "$type": "string" } } },
                { "$group": {
                    "_id": "$assignee",
                    "open": { "$sum": { "$cond": [
                        { "$in": ["$status", closed] }, 0_i64, 1_i64,
                    ] } },
                    "resolved": { "$sum": { "$cond": [resolved_in_range.clone(), 1_i64, 0_i64] } },
                    "handle_sum": { "$sum": { "$cond": [
                        resolved_in_range,
                        millis_since_created("$resolved_at"),
                        0_i64,
                    ] } },
                } },
                { "$match": { "$or": [{ "open": { "$gt": 0 } }, { "resolved": { "$gt": 0 } }] } },
                { "$sort": { "_id": 1 } },
            ],
            "csat": [
                { "$match": { "csat.at": within(range) } },
                { "$group": {
                    "_id": null,
                    "count": { "$sum": 1_i64 },
                    "sum": { "$sum": "$csat.score" },
                } },
            ],
        } },
    ]
}

fn first<'a>(facet: &'a Reader<'a>, field: &'static str) -> Result<Option<Reader<'a>>> {
    Ok(facet.docs(field)?.into_iter().next())
}

fn counts(facet: &Reader<'_>, field: &'static str) -> Result<Vec<(String, u64)>> {
    facet
        .docs(field)?
        .iter()
        .map(|d| Ok((d.str("_id")?.to_string(), d.u64("n")?)))
        .collect()
}

fn durations(facet: &Reader<'_>, field: &'static str) -> Result<DurationStats> {
    let Some(d) = first(facet, field)? else {
        return Ok(DurationStats::default());
    };
    let count = d.u64("count")?;
    Ok(DurationStats {
        count,
        avg_ms: (count > 0)
            .then(|| d.number("sum"))
            .transpose()?
            .map(|s| s / count as f64),
        p50_ms: Some(d.i64("p50")?),
        p90_ms: Some(d.i64("p90")?),
    })
}

fn parse_day(text: &str) -> Result<Date> {
    text.parse()
        .map_err(|e: jiff::Error| malformed(TICKETS, "per_day._id", e))
}

impl MongoStore {
    pub(super) async fn compute_analytics(
        &self,
        tenant: TenantId,
        range: TimeRange,
        _now: Timestamp,
    ) -> Result<Analytics> {
        let in_range = within(&range);
        let drafts_pipeline = vec![
            doc! { "$match": {
                "tenant_id": tenant.to_string(),
                "kind": serde_name(&MessageKind::Draft, "message kind")?,
                "created_at": in_range.clone(),
            } },
            doc! { "$group": { "_id": "$draft.state", "n": { "$sum": 1_i64 } } },
        ];
        let human = serde_name(&ChatState::Human, "chat state")?;
        let chat_pipeline = vec![
            doc! { "$match": { "tenant_id": tenant.to_string(), "created_at": in_range } },
            doc! { "$group": {
                "_id": null,
                "sessions": { "$sum": 1_i64 },
                "handed_off": { "$sum": { "$cond": [
                    { "$or": [
                        { "$ne": [{ "$ifNull": ["$handoff_reason", null] }, null] },
                        { "$eq": ["$state", human] },
                    ] },
                    1_i64,
                    0_i64,
                ] } },
                "resolved_by_bot": { "$sum": { "$cond": [
                    { "$eq": ["$resolved_by_bot", true] }, 1_i64, 0_i64,
                ] } },
            } },
        ];
        let (facets, draft_rows, chat_rows) = tokio::try_join!(
            self.aggregate(TICKETS, tickets_pipeline(tenant, &range)),
            self.aggregate(MESSAGES, drafts_pipeline),
            self.aggregate(CHAT_SESSIONS, chat_pipeline),
        )?;
        let facet_doc = facets
            .first()
            .ok_or_else(|| unexpected("a $facet stage that returned no document"))?;
        let f = Reader::new(facet_doc, TICKETS);

        let volume_per_day = counts(&f, "per_day")?
            .into_iter()
            .map(|(day, n)| Ok((parse_day(&day)?, n)))
            .collect::<Result<Vec<_>>>()?;
        let total = volume_per_day.iter().map(|(_, n)| n).sum();
        let sla_met_pct = match first(&f, "sla")? {
            Some(s) if s.u64("with")? > 0 => {
                Some(s.u64("met")? as f64 * 100.0 / s.u64("with")? as f64)
            }
            _ => None,
        };
        let backlog = match first(&f, "backlog")? {
            Some(b) => b.u64("n")?,
            None => 0,
        };
        let agents = f
            .docs("agents")?
            .iter()
            .map(|a| {
                let resolved = a.u64("resolved")?;
                Ok(AgentStats {
                    user_id: a.parse("_id")?,
                    open_load: a.u64("open")?,
                    resolved,
                    avg_handle_ms: (resolved > 0)
                        .then(|| a.number("handle_sum"))
                        .transpose()?
                        .map(|s| s / resolved as f64),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let csat = match first(&f, "csat")? {
            Some(c) => {
                let count = c.u64("count")?;
                CsatStats {
                    count,
                    average: (count > 0)
                        .then(|| c.number("sum"))
                        .transpose()?
                        .map(|s| s / count as f64),
                }
            }
            None => CsatStats::default(),
        };

        let mut drafts = DraftStats::default();
        for row in &draft_rows {
            let r = Reader::new(row, MESSAGES);
            let n = r.u64("n")?;
            drafts.proposed += n;
            match r.opt_serde::<DraftState>("_id")? {
                Some(DraftState::Accepted) => drafts.accepted += n,
                Some(DraftState::Edited) => drafts.edited += n,
                Some(DraftState::Discarded) => drafts.discarded += n,
                _ => {}
            }
        }
        let chat = match chat_rows.first() {
            Some(row) => {
                let r = Reader::new(row, CHAT_SESSIONS);
                ChatStats {
                    sessions: r.u64("sessions")?,
                    handed_off: r.u64("handed_off")?,
                    resolved_by_bot: r.u64("resolved_by_bot")?,
                }
            }
            None => ChatStats::default(),
        };

        Ok(Analytics {
            total,
            volume_per_day,
            by_status: counts(&f, "by_status")?,
            by_priority: counts(&f, "by_priority")?,
            by_category: counts(&f, "by_category")?,
            first_response: durations(&f, "first_response")?,
            resolution: durations(&f, "resolution")?,
            sla_met_pct,
            backlog,
            agents,
            csat,
            drafts,
            chat,
        })
    }
}
