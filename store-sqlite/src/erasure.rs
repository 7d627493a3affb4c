//! Erasure of personal data: one `BEGIN IMMEDIATE` transaction per erased ticket, and the
//! reads of the retention policy.
//!
//! The full-text indexes follow by their triggers (migration 11): rewriting the subject,
//! the description, a message body or a user's name and e-mail deletes the old entry and
//! indexes the new text. FTS5 drops a deleted entry's terms from its b-trees when it
//! merges segments, so the erased words stop being found at once and leave the index file
//! at its next merge.

use async_trait::async_trait;
use helpdesk_core::domain::{AuditEvent, Sha256, Ticket, User};
use helpdesk_core::store::{ErasureStore, TicketErasure};
use helpdesk_core::{Error, Result, TenantId};
use jiff::Timestamp;
use sqlx::SqliteConnection;

use crate::codec::{json, ms};
use crate::error::db;
use crate::sql::Sql;
use crate::ticket_update::update_in_tx;
use crate::tickets::{check_write, ticket_columns, ticket_from};
use crate::{SqliteStore, commit, people};

#[async_trait]
impl ErasureStore for SqliteStore {
    /// The ticket update, then each replaced event (guarded by tenant, ticket and kind),
    /// the attachments' rows and the ticket's outbox rows, in one transaction; the first
    /// failure rolls all of it back.
    async fn erase_ticket(&self, expected_version: u64, erasure: &TicketErasure) -> Result<()> {
        erasure.check(expected_version)?;
        let write = &erasure.write;
        check_write(write)?;
        let t = &write.ticket;
        let (tenant, ticket) = (t.tenant_id.to_string(), t.id.to_string());
        let mut tx = self.write_tx().await?;
        update_in_tx(&self.sql, &mut tx, expected_version, write).await?;
        for e in &erasure.events {
            let done = sqlx::query(self.sql.text(
                "UPDATE helpdesk_events SET payload = ? \
                 WHERE id = ? AND tenant_id = ? AND ticket_id = ? AND kind = ?",
            ))
            .bind(json(&e.kind, "event")?)
            .bind(e.id.to_string())
            .bind(&tenant)
            .bind(&ticket)
            .bind(e.kind.name())
            .execute(&mut **tx)
            .await
            .map_err(db)?;
            if done.rows_affected() != 1 {
                return Err(TicketErasure::unknown_event(e));
            }
        }
        for id in &erasure.attachments {
            sqlx::query(self.sql.text(
                "DELETE FROM helpdesk_attachments WHERE id = ? AND tenant_id = ? AND ticket_id = ?",
            ))
            .bind(id.to_string())
            .bind(&tenant)
            .bind(&ticket)
            .execute(&mut **tx)
            .await
            .map_err(db)?;
        }
        sqlx::query(self.sql.text(
            "DELETE FROM helpdesk_outbox WHERE tenant_id = ? \
             AND json_extract(notification, '$.ticket_id') = ?",
        ))
        .bind(&tenant)
        .bind(&ticket)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
        commit(tx).await
    }

    async fn retention_due(
        &self,
        tenant: TenantId,
        before: Timestamp,
        limit: u32,
    ) -> Result<Vec<Ticket>> {
        let rows = sqlx::query(self.sql.text(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM helpdesk_tickets INDEXED BY helpdesk_tickets_retention \
             WHERE tenant_id = ? AND created_at < ? AND erased_at IS NULL \
             ORDER BY created_at LIMIT ?"
        )))
        .bind(tenant.to_string())
        .bind(ms(before))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(ticket_from).collect()
    }

    async fn blob_in_use(&self, tenant: TenantId, sha256: &Sha256) -> Result<bool> {
        sqlx::query_scalar(self.sql.text(
            "SELECT EXISTS (SELECT 1 FROM helpdesk_attachments \
             WHERE tenant_id = ? AND sha256 = ?)",
        ))
        .bind(tenant.to_string())
        .bind(sha256.to_hex())
        .fetch_one(&self.pool)
        .await
        .map_err(db)
    }
}

/// A customer's erasure (`AdminChange::EraseUser`) inside the admin change's transaction:
/// the user replaced, its password hash and sessions deleted, the audit events rewritten.
pub(crate) async fn erase_user(
    sql: &Sql,
    conn: &mut SqliteConnection,
    user: &User,
    audit: &[AuditEvent],
) -> Result<()> {
    people::update_user(sql, conn, user).await?;
    let (tenant, id) = (user.tenant_id.to_string(), user.id.to_string());
    sqlx::query(
        sql.text("UPDATE helpdesk_users SET password_hash = NULL WHERE tenant_id = ? AND id = ?"),
    )
    .bind(&tenant)
    .bind(&id)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    sqlx::query(sql.text("DELETE FROM helpdesk_auth_sessions WHERE tenant_id = ? AND user_id = ?"))
        .bind(&tenant)
        .bind(&id)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    for a in audit {
        let done = sqlx::query(
            sql.text("UPDATE helpdesk_audit_events SET kind = ? WHERE id = ? AND tenant_id = ?"),
        )
        .bind(json(&a.kind, "audit event")?)
        .bind(a.id.to_string())
        .bind(&tenant)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
        if done.rows_affected() != 1 {
            return Err(Error::not_found("audit_event", a.id));
        }
    }
    Ok(())
}
