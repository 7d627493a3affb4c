//! A ticket as the column values of its `tickets` row: one mapping for the `INSERT` of a
//! new ticket and for the `UPDATE` of a changed one, which sets only the columns whose
//! value differs from the ticket the change was planned on (the write's `previous`, or the
//! stored row).
//!
//! Why only those: SQLite rewrites an index whenever one of its columns is in the `SET`
//! list, whether or not the value changed, and the full-text trigger fires on any `SET` of
//! `subject_folded`. Setting all 34 columns made every ticket update rewrite the table's
//! ten indexes and the full-text entry: about 19 pages of write-ahead log per commit,
//! against one page when a reply only moves `updated_at` and `version` (measured on this
//! schema with 3,000 tickets). Fewer pages per commit is less to fsync and fewer
//! checkpoints.

use helpdesk_core::Result;
use helpdesk_core::domain::{Ticket, field_tokens};
use helpdesk_core::store::details_text;
use sqlx::query_builder::Separated;
use sqlx::{QueryBuilder, Sqlite};

use crate::codec::{int, json, ms, opt_ms};
use crate::sql::Sql;

/// One column value as SQLite stores it (`STRICT` table: INTEGER or TEXT, or NULL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// An INTEGER column (timestamps in milliseconds, flags as 0 or 1).
    Int(Option<i64>),
    /// A TEXT column (ids, enum names, JSON).
    Text(Option<String>),
}

impl Value {
    fn text(s: &str) -> Self {
        Self::Text(Some(s.to_owned()))
    }

    fn bind_into(self, list: &mut Separated<'_, '_, Sqlite, &'static str>, separated: bool) {
        match (self, separated) {
            (Self::Int(v), true) => list.push_bind(v),
            (Self::Int(v), false) => list.push_bind_unseparated(v),
            (Self::Text(v), true) => list.push_bind(v),
            (Self::Text(v), false) => list.push_bind_unseparated(v),
        };
    }
}

/// The ticket's columns (all but the `row_id` key), by name, in table order.
pub(crate) fn ticket_row(t: &Ticket) -> Result<Vec<(&'static str, Value)>> {
    use Value::{Int, Text};
    let csat = t.csat.as_ref();
    let id = |x: Option<String>| Text(x);
    Ok(vec![
        ("id", Value::text(&t.id.to_string())),
        ("tenant_id", Value::text(&t.tenant_id.to_string())),
        ("number", Int(Some(int(t.number, "number")?))),
        ("requester", Value::text(&t.requester.to_string())),
        ("assignee", id(t.assignee.map(|a| a.to_string()))),
        ("subject", Value::text(&t.subject)),
        ("subject_folded", Text(Some(t.subject.to_lowercase()))),
        ("description", Value::text(&t.description)),
        ("status", Value::text(t.status.as_str())),
        ("priority", Value::text(t.priority.as_str())),
        ("priority_rank", Int(Some(i64::from(t.priority.rank())))),
        ("category", Text(t.category.clone())),
        ("team", Text(t.team.clone())),
        ("tags", Text(Some(json(&t.tags, "ticket tags")?))),
        (
            "required_skills",
            Text(Some(json(&t.required_skills, "required skills")?)),
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
            Int(Some(i64::from(t.sla.first_response_breached))),
        ),
        (
            "sla_resolution_breached",
            Int(Some(i64::from(t.sla.resolution_breached))),
        ),
        ("sla_paused_since", Int(opt_ms(t.sla.paused_since))),
        (
            "triage",
            Text(t.triage.as_ref().map(|x| json(x, "triage")).transpose()?),
        ),
        ("merged_into", id(t.merged_into.map(|x| x.to_string()))),
        ("follow_up_of", id(t.follow_up_of.map(|x| x.to_string()))),
        ("csat_score", Int(csat.map(|c| i64::from(c.score)))),
        ("csat_comment", Text(csat.and_then(|c| c.comment.clone()))),
        ("csat_at", Int(csat.map(|c| ms(c.at)))),
        ("version", Int(Some(int(t.version, "version")?))),
        // When its personal data was erased (migration 15).
        ("erased_at", Int(opt_ms(t.erased_at))),
        // The Details text of full-text search (migration 11), whatever it is made of.
        ("search_details", Value::text(&details_text(t))),
        // Custom field values (migration 12) and their tokens, which the field filters
        // look for.
        (
            "custom_fields",
            Text(Some(json(&t.custom_fields, "custom fields")?)),
        ),
        (
            "field_tokens",
            Text(Some(json(
                &field_tokens(&t.custom_fields),
                "custom field tokens",
            )?)),
        ),
    ])
}

/// `INSERT INTO tickets (every column) VALUES (...)` for a new ticket (the same statement
/// text every time, so SQLite prepares it once per connection).
pub(crate) fn insert_ticket(sql: &Sql, t: &Ticket) -> Result<QueryBuilder<'static, Sqlite>> {
    let row = ticket_row(t)?;
    let mut q = QueryBuilder::new(sql.text("INSERT INTO helpdesk_tickets ("));
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
) -> Result<Option<QueryBuilder<'static, Sqlite>>> {
    let before = ticket_row(stored)?;
    let after = ticket_row(next)?;
    let mut q = QueryBuilder::new(sql.text("UPDATE helpdesk_tickets SET "));
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
    q.push_bind(stored.tenant_id.to_string());
    q.push(" AND id = ");
    q.push_bind(stored.id.to_string());
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
        assert_eq!(row.len(), 39);
        let mut names: Vec<_> = row.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 39);
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
            "UPDATE helpdesk_tickets SET status = ?, version = ? \
             WHERE tenant_id = ? AND id = ? AND version = ?"
        );
        assert!(
            update_changed_columns(&Sql::default(), &stored, &stored, 1)
                .unwrap()
                .is_none()
        );
        let acme = Sql::new("acme_").unwrap();
        let q = update_changed_columns(&acme, &stored, &next, 1)
            .unwrap()
            .unwrap();
        assert!(
            q.sql().starts_with("UPDATE acme_tickets SET status = ?"),
            "{}",
            q.sql()
        );
        let q = insert_ticket(&acme, &stored).unwrap();
        assert!(
            q.sql().starts_with("INSERT INTO acme_tickets (id, "),
            "{}",
            q.sql()
        );
    }

    #[test]
    fn new_tags_also_set_the_details_text_of_search() {
        let stored = ticket();
        let mut next = stored.clone();
        next.tags = vec!["vip".into(), "refund-risk".into()];
        let q = update_changed_columns(&Sql::default(), &stored, &next, 1)
            .unwrap()
            .unwrap();
        assert_eq!(
            q.sql(),
            "UPDATE helpdesk_tickets SET tags = ?, search_details = ? \
             WHERE tenant_id = ? AND id = ? AND version = ?"
        );
    }

    #[test]
    fn new_field_values_set_their_tokens_and_the_details_text_of_search() {
        let stored = ticket();
        let mut next = stored.clone();
        next.custom_fields
            .insert("plan".into(), FieldValue::Text("Pro".into()));
        let q = update_changed_columns(&Sql::default(), &stored, &next, 1)
            .unwrap()
            .unwrap();
        assert_eq!(
            q.sql(),
            "UPDATE helpdesk_tickets SET search_details = ?, custom_fields = ?, \
             field_tokens = ? WHERE tenant_id = ? AND id = ? AND version = ?"
        );
        // A checkbox is no text: its value changes the tokens, not the Details text.
        let stored = next;
        let mut next = stored.clone();
        next.custom_fields
            .insert("vip".into(), FieldValue::Bool(true));
        let q = update_changed_columns(&Sql::default(), &stored, &next, 1)
            .unwrap()
            .unwrap();
        assert_eq!(
            q.sql(),
            "UPDATE helpdesk_tickets SET custom_fields = ?, field_tokens = ? \
             WHERE tenant_id = ? AND id = ? AND version = ?"
        );
    }

    #[test]
    fn a_subject_change_also_sets_its_folded_copy() {
        let stored = ticket();
        let mut next = stored.clone();
        next.subject = "Another Subject".into();
        let q = update_changed_columns(&Sql::default(), &stored, &next, 1)
            .unwrap()
            .unwrap();
        assert!(
            q.sql()
                .starts_with("UPDATE helpdesk_tickets SET subject = ?, subject_folded = ? WHERE")
        );
    }
}
