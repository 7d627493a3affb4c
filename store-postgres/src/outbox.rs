//! The notification outbox.
//!
//! Delivery runs under the `outbox-dispatch` lease (see `leases`), so of several instances
//! on one database one delivers a batch at a time, and an entry is marked delivered before
//! the lease is released: the next holder's `due_outbox` no longer returns it.

use async_trait::async_trait;
use helpdesk_core::domain::OutboxEntry;
use helpdesk_core::store::OutboxStore;
use helpdesk_core::{Error, OutboxId, Result, TenantId};
use jiff::Timestamp;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Transaction};

use crate::PostgresStore;
use crate::codec::{Columns, json, ms, opt_ms};
use crate::error::{db, insert_err};
use crate::sql::Sql;

macro_rules! outbox_columns {
    () => {
        "id, tenant_id, notification, created_at, attempts, \
     next_attempt_at, delivered_at, last_error"
    };
}

fn outbox_from(row: &PgRow) -> Result<OutboxEntry> {
    let c = Columns(row);
    Ok(OutboxEntry {
        id: c.id("id")?,
        tenant_id: c.id("tenant_id")?,
        notification: c.json("notification")?,
        created_at: c.ts("created_at")?,
        attempts: c.u32("attempts")?,
        next_attempt_at: c.ts("next_attempt_at")?,
        delivered_at: c.opt_ts("delivered_at")?,
        last_error: c.opt_text("last_error")?,
    })
}

/// Queues an outbox entry inside a ticket write.
pub(crate) async fn insert_outbox(
    sql: &Sql,
    tx: &mut Transaction<'static, Postgres>,
    o: &OutboxEntry,
) -> Result<()> {
    sqlx::query(sql.text(concat!(
        "INSERT INTO helpdesk.outbox (",
        outbox_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )))
    .bind(o.id.as_uuid())
    .bind(o.tenant_id.as_uuid())
    .bind(json(&o.notification, "notification")?)
    .bind(ms(o.created_at))
    .bind(i64::from(o.attempts))
    .bind(ms(o.next_attempt_at))
    .bind(opt_ms(o.delivered_at))
    .bind(&o.last_error)
    .execute(&mut **tx)
    .await
    .map_err(insert_err(o.id))?;
    Ok(())
}

#[async_trait]
impl OutboxStore for PostgresStore {
    async fn due_outbox(&self, now: Timestamp, limit: u32) -> Result<Vec<OutboxEntry>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            outbox_columns!(),
            " FROM helpdesk.outbox WHERE delivered_at IS NULL \
             AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2"
        )))
        .bind(ms(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(outbox_from)
        .collect()
    }

    async fn mark_outbox_delivered(&self, id: OutboxId, at: Timestamp) -> Result<()> {
        let done = sqlx::query(
            self.sql
                .text("UPDATE helpdesk.outbox SET delivered_at = $1 WHERE id = $2"),
        )
        .bind(ms(at))
        .bind(id.as_uuid())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("outbox", id));
        }
        Ok(())
    }

    async fn mark_outbox_failed(
        &self,
        id: OutboxId,
        attempts: u32,
        next_attempt_at: Timestamp,
        error: &str,
    ) -> Result<()> {
        let done = sqlx::query(self.sql.text(
            "UPDATE helpdesk.outbox SET attempts = $1, next_attempt_at = $2, last_error = $3 \
             WHERE id = $4",
        ))
        .bind(i64::from(attempts))
        .bind(ms(next_attempt_at))
        .bind(error)
        .bind(id.as_uuid())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("outbox", id));
        }
        Ok(())
    }

    async fn list_outbox(&self, tenant: TenantId) -> Result<Vec<OutboxEntry>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            outbox_columns!(),
            " FROM helpdesk.outbox WHERE tenant_id = $1 \
             ORDER BY created_at DESC, id DESC"
        )))
        .bind(tenant.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(outbox_from)
        .collect()
    }
}
