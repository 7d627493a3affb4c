//! Erasure of personal data: one transaction per erased ticket, and the reads of the
//! retention policy.
//!
//! The search words follow: the ticket row's words columns and each message's
//! `search_body` are written from the erased texts by the same statements as any other
//! ticket write (see `search_index`), and requesters are searched in the users table,
//! whose name and e-mail the customer's erasure rewrites.

use async_trait::async_trait;
use helpdesk_core::domain::{AuditEvent, Sha256, Ticket, User};
use helpdesk_core::store::{ErasureStore, TicketErasure};
use helpdesk_core::{Error, Result, TenantId};
use jiff::Timestamp;
use sqlx::PgConnection;

use crate::codec::{json, ms};
use crate::error::db;
use crate::sql::Sql;
use crate::ticket_update::update_in_tx;
use crate::tickets::{check_write, ticket_columns, ticket_from};
use crate::{PostgresStore, commit, people};

#[async_trait]
impl ErasureStore for PostgresStore {
    /// The ticket update, then each replaced event (guarded by tenant, ticket and kind),
    /// the attachments' rows and the ticket's outbox rows, in one transaction; the first
    /// failure rolls all of it back.
    async fn erase_ticket(&self, expected_version: u64, erasure: &TicketErasure) -> Result<()> {
        erasure.check(expected_version)?;
        let write = &erasure.write;
        check_write(write)?;
        let t = &write.ticket;
        let (tenant, ticket) = (t.tenant_id.as_uuid(), t.id.as_uuid());
        let mut tx = self.tx().await?;
        update_in_tx(&self.sql, &mut tx, expected_version, write).await?;
        for e in &erasure.events {
            let done = sqlx::query(self.sql.text(
                "UPDATE helpdesk.events SET payload = $1 \
                 WHERE id = $2 AND tenant_id = $3 AND ticket_id = $4 AND kind = $5",
            ))
            .bind(json(&e.kind, "event")?)
            .bind(e.id.as_uuid())
            .bind(tenant)
            .bind(ticket)
            .bind(e.kind.name())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            if done.rows_affected() != 1 {
                return Err(TicketErasure::unknown_event(e));
            }
        }
        let attachments: Vec<uuid::Uuid> =
            erasure.attachments.iter().map(|a| a.as_uuid()).collect();
        sqlx::query(self.sql.text(
            "DELETE FROM helpdesk.attachments \
             WHERE tenant_id = $1 AND ticket_id = $2 AND id = ANY($3)",
        ))
        .bind(tenant)
        .bind(ticket)
        .bind(&attachments)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(self.sql.text(
            "DELETE FROM helpdesk.outbox \
             WHERE tenant_id = $1 AND (notification ->> 'ticket_id') = $2",
        ))
        .bind(tenant)
        .bind(t.id.to_string())
        .execute(&mut *tx)
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
            " FROM helpdesk.tickets \
             WHERE tenant_id = $1 AND created_at < $2 AND erased_at IS NULL \
             ORDER BY created_at LIMIT $3"
        )))
        .bind(tenant.as_uuid())
        .bind(ms(before))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(ticket_from).collect()
    }

    async fn blob_in_use(&self, tenant: TenantId, sha256: &Sha256) -> Result<bool> {
        sqlx::query_scalar(self.sql.text(
            "SELECT EXISTS (SELECT 1 FROM helpdesk.attachments \
             WHERE tenant_id = $1 AND sha256 = $2)",
        ))
        .bind(tenant.as_uuid())
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
    conn: &mut PgConnection,
    user: &User,
    audit: &[AuditEvent],
) -> Result<()> {
    people::update_user(sql, conn, user).await?;
    let (tenant, id) = (user.tenant_id.as_uuid(), user.id.as_uuid());
    sqlx::query(
        sql.text("UPDATE helpdesk.users SET password_hash = NULL WHERE tenant_id = $1 AND id = $2"),
    )
    .bind(tenant)
    .bind(id)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    sqlx::query(
        sql.text("DELETE FROM helpdesk.auth_sessions WHERE tenant_id = $1 AND user_id = $2"),
    )
    .bind(tenant)
    .bind(id)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    for a in audit {
        let done = sqlx::query(
            sql.text("UPDATE helpdesk.audit_events SET kind = $1 WHERE id = $2 AND tenant_id = $3"),
        )
        .bind(json(&a.kind, "audit event")?)
        .bind(a.id.as_uuid())
        .bind(tenant)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
        if done.rows_affected() != 1 {
            return Err(Error::not_found("audit_event", a.id));
        }
    }
    Ok(())
}
