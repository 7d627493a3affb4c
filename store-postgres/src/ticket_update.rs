//! One ticket update inside the caller's transaction: what `update_ticket` commits alone
//! and `update_tickets` commits together with the other tickets of a change.

use helpdesk_core::store::TicketWrite;
use helpdesk_core::{DuplicateKind, Error, Result};
use sqlx::{Postgres, Transaction};

use crate::codec::int;
use crate::conflict_or_missing;
use crate::error::{db, is_unique_violation};
use crate::sql::Sql;
use crate::ticket_append::append;
use crate::ticket_row::update_changed_columns;
use crate::tickets::{SELECT_TICKET_FOR_UPDATE, ticket_exists, ticket_from};

/// Updates the ticket of `write` at `expected_version` and appends everything in it,
/// inside `tx`. Sets only the columns that differ from the ticket the change was planned
/// on (see `ticket_row`): the write's `previous` when it has one (no read; the service's
/// writes all do), else the stored row, read with `FOR UPDATE` so it cannot change before
/// the `UPDATE`. The `UPDATE` checks the expected version itself: a concurrent writer that
/// committed first makes it match no row (PostgreSQL re-checks the `WHERE` on the newest
/// row version after waiting for the row lock), and one `EXISTS` then tells `Conflict`
/// from `NotFound`. The caller has run `check_write` and `check_previous`, and rolls back
/// on an error.
pub(crate) async fn update_in_tx(
    sql: &Sql,
    tx: &mut Transaction<'static, Postgres>,
    expected_version: u64,
    write: &TicketWrite,
) -> Result<()> {
    let t = &write.ticket;
    let expected = int(expected_version, "expected_version")?;
    let read;
    let base = match &write.previous {
        Some(previous) => previous,
        None => {
            read = sqlx::query(sql.text(SELECT_TICKET_FOR_UPDATE))
                .bind(t.tenant_id.as_uuid())
                .bind(t.id.as_uuid())
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
    let update = update_changed_columns(sql, base, t, expected)?;
    let updated = match update {
        Some(mut update) => {
            let done = update.build().execute(&mut **tx).await.map_err(|e| {
                // The id is unchanged, so the only unique value an update can hit is
                // the per-tenant number.
                if is_unique_violation(&e) {
                    Error::Duplicate {
                        kind: DuplicateKind::TicketNumber,
                        value: t.number.to_string(),
                    }
                } else {
                    db(e)
                }
            })?;
            done.rows_affected() == 1
        }
        // Nothing differs: the version check still decides, under the row lock.
        None => sqlx::query_scalar::<_, i32>(sql.text(
            "SELECT 1 FROM helpdesk.tickets WHERE tenant_id = $1 AND id = $2 \
             AND version = $3 FOR UPDATE",
        ))
        .bind(t.tenant_id.as_uuid())
        .bind(t.id.as_uuid())
        .bind(expected)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)?
        .is_some(),
    };
    if !updated {
        let found = ticket_exists(sql, tx, t).await?;
        return Err(conflict_or_missing(
            found,
            "ticket",
            t.id.to_string(),
            expected_version,
        ));
    }
    append(sql, tx, write).await?;
    if let Some(key) = &write.idempotency_key {
        sqlx::query(sql.text(
            "INSERT INTO helpdesk.idempotency_keys (tenant_id, key, ticket_id) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id, key) DO UPDATE SET ticket_id = excluded.ticket_id",
        ))
        .bind(t.tenant_id.as_uuid())
        .bind(key)
        .bind(t.id.as_uuid())
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    }
    Ok(())
}
