//! Custom field values (migration 9): a ticket's values are the `jsonb` column
//! `tickets.custom_fields`, and its `key=value` tokens (core's [`field_tokens`]) the
//! `text[]` column `tickets.field_tokens`, both written in the statement that writes the
//! ticket row. The field filters ([`TicketQuery::fields`](helpdesk_core::store::TicketQuery),
//! [`SearchQuery::fields`](helpdesk_core::store::SearchQuery)) are one containment test
//! over that column, which its GIN index `tickets_field_tokens` answers.

use helpdesk_core::domain::{FieldValue, Ticket, field_tokens};
use helpdesk_core::{Error, Result};
use sqlx::{Postgres, QueryBuilder};

/// Longest token the store keeps, in bytes. A GIN index entry holds at most about 2,700
/// bytes (a third of a page), and a longer key fails the whole write; core's checks keep a
/// token to at most 2,051 bytes (a 50-character key, `=`, 500 characters of text).
pub(crate) const MAX_TOKEN_BYTES: usize = 2_600;

/// `tickets.field_tokens`: the ticket's [`field_tokens`] (sorted, each once), of the values
/// as `custom_fields` reads them back: a `jsonb` number has no negative zero, so `-0`
/// is stored, read and tokenized as `0`. A token longer than [`MAX_TOKEN_BYTES`] is
/// refused as a validation error, before the database would refuse it as an index error.
pub(crate) fn tokens_column(ticket: &Ticket) -> Result<Vec<String>> {
    let negative_zero =
        |v: &FieldValue| matches!(v, FieldValue::Number(n) if *n == 0.0 && n.is_sign_negative());
    let tokens = if ticket.custom_fields.values().any(negative_zero) {
        let mut stored = ticket.custom_fields.clone();
        for value in stored.values_mut().filter(|v| negative_zero(v)) {
            *value = FieldValue::Number(0.0);
        }
        field_tokens(&stored)
    } else {
        field_tokens(&ticket.custom_fields)
    };
    if let Some(long) = tokens.iter().find(|t| t.len() > MAX_TOKEN_BYTES) {
        let key = long.split('=').next().unwrap_or_default();
        return Err(Error::validation(
            format!("fields.{key}"),
            format!("the value is longer than this store keeps ({MAX_TOKEN_BYTES} bytes)"),
        ));
    }
    Ok(tokens)
}

/// Pushes ` AND <column> @> $n::text[]` (`column` is `field_tokens`, with the statement's
/// alias if any) when `tokens` is not empty: every token must be among the ticket's, as
/// [`has_field_tokens`](helpdesk_core::store::has_field_tokens) says. Nothing when it is
/// empty (containment of the empty array is true, but would read the whole index).
pub(crate) fn push_filter(q: &mut QueryBuilder<'_, Postgres>, column: &str, tokens: &[String]) {
    if tokens.is_empty() {
        return;
    }
    q.push(" AND ")
        .push(column)
        .push(" @> ")
        .push_bind(tokens.to_vec())
        .push("::text[]");
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::BTreeMap;

    use helpdesk_core::domain::Priority;
    use helpdesk_core::testkit::fixtures::{new_ticket, t0};
    use helpdesk_core::{TenantId, UserId};

    use super::*;

    fn with_fields(fields: &[(&str, FieldValue)]) -> Ticket {
        let mut t = new_ticket(TenantId::new(), UserId::new(), 1, "S", Priority::Low, t0()).ticket;
        t.custom_fields = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect::<BTreeMap<_, _>>();
        t
    }

    #[test]
    fn tokens_are_cores_and_too_long_ones_are_refused() {
        let t = with_fields(&[
            ("plan", FieldValue::Text("Pro".into())),
            ("seats", FieldValue::Number(-3.0)),
            (
                "modules",
                FieldValue::List(vec!["CRM".into(), "Billing".into()]),
            ),
            ("delta", FieldValue::Number(-0.0)),
        ]);
        assert_eq!(
            tokens_column(&t).unwrap(),
            [
                "delta=0",
                "modules=Billing",
                "modules=CRM",
                "plan=Pro",
                "seats=-3"
            ]
        );
        // The longest value core accepts fits.
        let longest = "é".repeat(500);
        let t = with_fields(&[(&"k".repeat(50), FieldValue::Text(longest))]);
        assert!(tokens_column(&t).is_ok());
        let t = with_fields(&[("notes", FieldValue::Text("x".repeat(MAX_TOKEN_BYTES)))]);
        let refused = tokens_column(&t);
        assert!(
            matches!(&refused, Err(Error::Validation { field, .. }) if field == "fields.notes"),
            "{refused:?}"
        );
    }

    #[test]
    fn the_filter_binds_the_tokens_as_one_array() {
        let mut q = QueryBuilder::<Postgres>::new("SELECT 1 WHERE true");
        push_filter(&mut q, "t.field_tokens", &[]);
        assert_eq!(q.sql(), "SELECT 1 WHERE true");
        push_filter(&mut q, "t.field_tokens", &["plan=Pro".into(), "x=1".into()]);
        assert_eq!(
            q.sql(),
            "SELECT 1 WHERE true AND t.field_tokens @> $1::text[]"
        );
    }
}
