//! One ticket update inside the caller's write transaction: what `update_ticket` commits
//! alone and `update_tickets` commits together with the other tickets of a change.

use helpdesk_core::store::TicketWrite;
use helpdesk_core::{DuplicateKind, Error, Result};
use sqlx::{Sqlite, Transaction};

use crate::codec::int;
use crate::conflict_or_missing;
use crate::error::db;
use crate::sql::Sql;
use crate::ticket_append::append;
use crate::ticket_row::update_changed_columns;
use crate::tickets::{SELECT_TICKET, exists, ticket_from};

/// Updates the ticket of `write` at `expected_version` and appends everything in it,
/// inside `tx`. Sets only the columns that differ from the ticket the change was planned
/// on (see `ticket_row`): the write's `previous` when it has one (no read; the service's
/// writes all do), else the stored row read inside the transaction. The `UPDATE` checks
/// the expected version; when it matches no row, one `EXISTS` tells `Conflict` from
/// `NotFound`. The caller has run `check_write` and `check_previous`, and rolls back on
/// an error.
pub(crate) async fn update_in_tx(
    sql: &Sql,
    tx: &mut Transaction<'static, Sqlite>,
    expected_version: u64,
    write: &TicketWrite,
) -> Result<()> {
    let t = &write.ticket;
    let expected = int(expected_version, "expected_version")?;
    let read;
    let base = match &write.previous {
        Some(previous) => previous,
        None => {
            read = sqlx::query(sql.text(SELECT_TICKET))
                .bind(t.tenant_id.to_string())
                .bind(t.id.to_string())
                .fetch_optional(&mut **tx)
                .await
                .map_err(db)?
                .as_ref()
                .map(ticket_from)
                .transpose()?;
            match &read {
                Some(s) if s.version == expected_version => s,
                found => {
                    return Err(conflict_or_missing(
                        found.is_some(),
                        "ticket",
                        t.id.to_string(),
                        expected_version,
                    ));
                }
            }
        }
    };
    if let Some(mut update) = update_changed_columns(sql, base, t, expected)? {
        let done = update
            .build()
            .execute(&mut **tx)
            .await
            .map_err(|e| match &e {
                // The id is unchanged, so the only unique value an update can hit is the
                // per-tenant number.
                sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::UniqueViolation => {
                    Error::Duplicate {
                        kind: DuplicateKind::TicketNumber,
                        value: t.number.to_string(),
                    }
                }
                _ => db(e),
            })?;
        if done.rows_affected() != 1 {
            // Not the tenant's ticket at the expected version (after a read above this
            // cannot happen under BEGIN IMMEDIATE).
            let found = exists(
                sql,
                tx,
                "SELECT EXISTS (SELECT 1 FROM helpdesk_tickets WHERE tenant_id = ? AND id = ?)",
                t.tenant_id.to_string(),
                t.id.to_string(),
            )
            .await?;
            return Err(conflict_or_missing(
                found,
                "ticket",
                t.id.to_string(),
                expected_version,
            ));
        }
    }
    append(sql, tx, write).await
}
