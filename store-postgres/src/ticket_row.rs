//! A ticket as the column values of its `tickets` row: one mapping for the `INSERT` of a
//! new ticket and for the `UPDATE` of a changed one, which sets only the columns whose
//! value differs from the ticket the change was planned on (the write's `previous`, or the
//! stored row).
//!
//! Why only those: PostgreSQL writes a new row version on every update either way, but an
//! update that changes no indexed column can be a heap-only tuple (HOT) update, which adds
//! no entry to any of the table's indexes. A reply moves only `updated_at`, `version` and
//! perhaps `first_response_at`; setting all 38 columns would still be HOT (PostgreSQL
//! compares the values), so the gain here is smaller statements and fewer parameters to
//! send, and the same write shape as the SQLite store.

use helpdesk_core::Result;
use helpdesk_core::domain::Ticket;
use sqlx::query_builder::Separated;
use sqlx::types::Json;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use crate::codec::{int, json, ms, opt_ms};
use crate::fields::tokens_column;
use crate::search_index::{details_words, subject_words};
use crate::sql::Sql;

/// One column value as PostgreSQL stores it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// A `bigint` column (timestamps in milliseconds, counts, versions).
    Int(Option<i64>),
    /// A `text` column (enum names, free text).
    Text(Option<String>),
    /// A `uuid` column.
    Id(Option<Uuid>),
    /// A `boolean` column.
    Bool(bool),
    /// A `jsonb` column.
    Json(Option<Json<serde_json::Value>>),
    /// A `text[]` column.
    Texts(Vec<String>),
}

impl Value {
    fn text(s: &str) -> Self {
        Self::Text(Some(s.to_owned()))
    }

    fn bind_into(self, list: &mut Separated<'_, '_, Postgres, &'static str>, separated: bool) {
        macro_rules! bind {
            ($v:expr) => {
                if separated {
                    list.push_bind($v)
                } else {
                    list.push_bind_unseparated($v)
                }
            };
        }
        match self {
            Self::Int(v) => bind!(v),
            Self::Text(v) => bind!(v),
            Self::Id(v) => bind!(v),
            Self::Bool(v) => bind!(v),
            Self::Json(v) => bind!(v),
            Self::Texts(v) => bind!(v),
        };
    }
}

/// The ticket's columns, by name, in table order.
pub(crate) fn ticket_row(t: &Ticket) -> Result<Vec<(&'static str, Value)>> {
    use Value::{Bool, Id, Int, Text};
    let csat = t.csat.as_ref();
    Ok(vec![
        ("id", Id(Some(t.id.as_uuid()))),
        ("tenant_id", Id(Some(t.tenant_id.as_uuid()))),
        ("number", Int(Some(int(t.number, "number")?))),
        ("requester", Id(Some(t.requester.as_uuid()))),
        ("assignee", Id(t.assignee.map(|a| a.as_uuid()))),
        ("subject", Value::text(&t.subject)),
        ("subject_folded", Text(Some(t.subject.to_lowercase()))),
        ("description", Value::text(&t.description)),
        ("status", Value::text(t.status.as_str())),
        ("priority", Value::text(t.priority.as_str())),
        ("priority_rank", Int(Some(i64::from(t.priority.rank())))),
        ("category", Text(t.category.clone())),
        ("team", Text(t.team.clone())),
        ("tags", Value::Json(Some(json(&t.tags, "ticket tags")?))),
        (
            "required_skills",
            Value::Json(Some(json(&t.required_skills, "required skills")?)),
        ),
        (
            "sentiment",
            Text(t.sentiment.map(|s| s.as_str().to_owned())),
        ),
        ("language", Text(t.language.clone())),
        ("channel", Value::text(t.channel.as_str())),
        ("created_at", Int(Some(ms(t.created_at)))),
        ("updated_at", Int(Some(ms(t.updated_at)))),
        ("first_response_at", Int(opt_ms(t.first_response_at))),
        ("resolved_at", Int(opt_ms(t.resolved_at))),
        ("closed_at", Int(opt_ms(t.closed_at))),
        (
            "sla_first_response_due",
            Int(opt_ms(t.sla.first_response_due)),
        ),
        ("sla_resolution_due", Int(opt_ms(t.sla.resolution_due))),
        (
            "sla_first_response_breached",
            Bool(t.sla.first_response_breached),
        ),
        ("sla_resolution_breached", Bool(t.sla.resolution_breached)),
        ("sla_paused_since", Int(opt_ms(t.sla.paused_since))),
        (
            "triage",
            Value::Json(t.triage.as_ref().map(|x| json(x, "triage")).transpose()?),
        ),
        ("merged_into", Id(t.merged_into.map(|x| x.as_uuid()))),
        ("follow_up_of", Id(t.follow_up_of.map(|x| x.as_uuid()))),
        ("csat_score", Int(csat.map(|c| i64::from(c.score)))),
        ("csat_comment", Text(csat.and_then(|c| c.comment.clone()))),
        ("csat_at", Int(csat.map(|c| ms(c.at)))),
        ("version", Int(Some(int(t.version, "version")?))),
        // When its personal data was erased (migration 12).
        ("erased_at", Int(opt_ms(t.erased_at))),
        // The words full-text search indexes (see `search_index`).
        ("search_subject", Text(Some(subject_words(t)))),
        ("search_details", Text(Some(details_words(t)))),
        // Custom field values and their filter tokens (see `fields`).
        (
            "custom_fields",
            Value::Json(Some(json(&t.custom_fields, "custom fields")?)),
        ),
        ("field_tokens", Value::Texts(tokens_column(t)?)),
    ])
}

/// `INSERT INTO tickets (every column) VALUES (...)` for a new ticket (the same statement
/// text every time, so it is prepared once per connection).
pub(crate) fn insert_ticket(sql: &Sql, t: &Ticket) -> Result<QueryBuilder<'static, Postgres>> {
    let row = ticket_row(t)?;
    let mut q = QueryBuilder::new(sql.text("INSERT INTO helpdesk.tickets ("));
    let mut names = q.separated(", ");
    for (name, _) in &row {
        names.push(*name);
    }
    q.push(") VALUES (");
    let mut values = q.separated(", ");
    for (_, value) in row {
        value.bind_into(&mut values, true);
    }
    q.push(")");
    Ok(q)
}

/// `UPDATE tickets SET <the columns that differ between stored and next> WHERE` the
/// ticket still has `expected_version`; `None` when no column differs.
pub(crate) fn update_changed_columns(
    sql: &Sql,
    stored: &Ticket,
    next: &Ticket,
    expected_version: i64,
) -> Result<Option<QueryBuilder<'static, Postgres>>> {
    let before = ticket_row(stored)?;
    let after = ticket_row(next)?;
    let mut q = QueryBuilder::new(sql.text("UPDATE helpdesk.tickets SET "));
    let mut changed = 0;
    let mut set = q.separated(", ");
    for ((name, old), (_, new)) in before.iter().zip(after) {
        if *old != new {
            set.push(*name);
            set.push_unseparated(" = ");
            new.bind_into(&mut set, false);
            changed += 1;
        }
    }
    if changed == 0 {
        return Ok(None);
    }
    q.push(" WHERE tenant_id = ");
    q.push_bind(stored.tenant_id.as_uuid());
    q.push(" AND id = ");
    q.push_bind(stored.id.as_uuid());
    q.push(" AND version = ");
    q.push_bind(expected_version);
    Ok(Some(q))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use helpdesk_core::domain::{FieldValue, Priority, TicketStatus};
    use helpdesk_core::testkit::fixtures::{new_ticket, t0};
    use helpdesk_core::{TenantId, UserId};

    fn ticket() -> Ticket {
        new_ticket(
            TenantId::new(),
            UserId::new(),
            7,
            "Printer On Fire",
            Priority::High,
            t0(),
        )
        .ticket
    }

    #[test]
    fn the_row_names_every_column_of_the_table_once() {
        let row = ticket_row(&ticket()).unwrap();
        assert_eq!(row.len(), 40);
        let mut names: Vec<_> = row.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 40);
    }

    #[test]
    fn an_update_sets_only_what_changed() {
        let stored = ticket();
        let mut next = stored.clone();
        next.version += 1;
        next.status = TicketStatus::Pending;
        let q = update_changed_columns(&Sql::default(), &stored, &next, 1)
            .unwrap()
            .unwrap();
        assert_eq!(
            q.sql(),
            "UPDATE helpdesk.tickets SET status = $1, version = $2 \
             WHERE tenant_id = $3 AND id = $4 AND version = $5"
        );
        assert!(
            update_changed_columns(&Sql::default(), &stored, &stored, 1)
                .unwrap()
                .is_none()
        );
        // Only the custom fields: their tokens and the searched details follow.
        let mut next = stored.clone();
        next.version += 1;
        next.custom_fields
            .insert("plan".into(), FieldValue::Text("Pro".into()));
        let q = update_changed_columns(&Sql::default(), &stored, &next, 1)
            .unwrap()
            .unwrap();
        assert_eq!(
            q.sql(),
            "UPDATE helpdesk.tickets SET version = $1, search_details = $2, custom_fields = $3, \
             field_tokens = $4 WHERE tenant_id = $5 AND id = $6 AND version = $7"
        );
        let support = Sql::new("support").unwrap();
        let q = insert_ticket(&support, &stored).unwrap();
        assert!(
            q.sql().starts_with("INSERT INTO \"support\".tickets (id, "),
            "{}",
            q.sql()
        );
    }
}
