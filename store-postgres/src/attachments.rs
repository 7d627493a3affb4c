//! Attachment metadata: inserted with its message inside the ticket write's transaction
//! (`ticket_append`), read here.

use async_trait::async_trait;
use helpdesk_core::domain::Attachment;
use helpdesk_core::store::AttachmentStore;
use helpdesk_core::{AttachmentId, Result, TenantId, TicketId};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Transaction};

use crate::PostgresStore;
use crate::codec::{Columns, int, ms};
use crate::error::{PostgresError, db, insert_err};
use crate::sql::Sql;

macro_rules! attachment_columns {
    () => {
        "id, tenant_id, ticket_id, message_id, file_name, content_type, size, sha256, \
         uploaded_by, created_at"
    };
}

/// One attachment of a tenant, by its primary key.
pub(crate) const TENANT_ATTACHMENT: &str = concat!(
    "SELECT ",
    attachment_columns!(),
    " FROM helpdesk.attachments WHERE tenant_id = $1 AND id = $2"
);

/// A ticket's attachments in creation order (index `attachments_ticket`, migration 4).
pub(crate) const TICKET_ATTACHMENTS: &str = concat!(
    "SELECT ",
    attachment_columns!(),
    " FROM helpdesk.attachments WHERE tenant_id = $1 AND ticket_id = $2 ORDER BY created_at, id"
);

/// Inserts one attachment's metadata inside `tx`; a used id is `Duplicate { kind: Id }`.
pub(crate) async fn insert_attachment(
    sql: &Sql,
    tx: &mut Transaction<'static, Postgres>,
    a: &Attachment,
) -> Result<()> {
    sqlx::query(sql.text(concat!(
        "INSERT INTO helpdesk.attachments (",
        attachment_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    )))
    .bind(a.id.as_uuid())
    .bind(a.tenant_id.as_uuid())
    .bind(a.ticket_id.as_uuid())
    .bind(a.message_id.map(|m| m.as_uuid()))
    .bind(&a.file_name)
    .bind(&a.content_type)
    .bind(int(a.size, "size")?)
    .bind(a.sha256.to_hex())
    .bind(a.uploaded_by.map(|u| u.as_uuid()))
    .bind(ms(a.created_at))
    .execute(&mut **tx)
    .await
    .map_err(insert_err(a.id))?;
    Ok(())
}

fn attachment_from(row: &PgRow) -> Result<Attachment> {
    let c = Columns(row);
    Ok(Attachment {
        id: c.id("id")?,
        tenant_id: c.id("tenant_id")?,
        ticket_id: c.id("ticket_id")?,
        message_id: c.opt_id("message_id")?,
        file_name: c.text("file_name")?,
        content_type: c.text("content_type")?,
        size: c.u64("size")?,
        sha256: c
            .text("sha256")?
            .parse()
            .map_err(|e| PostgresError::corrupt("sha256", e))?,
        uploaded_by: c.opt_id("uploaded_by")?,
        created_at: c.ts("created_at")?,
    })
}

#[async_trait]
impl AttachmentStore for PostgresStore {
    async fn get_attachment(
        &self,
        tenant: TenantId,
        id: AttachmentId,
    ) -> Result<Option<Attachment>> {
        sqlx::query(self.sql.text(TENANT_ATTACHMENT))
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .as_ref()
            .map(attachment_from)
            .transpose()
    }

    async fn list_attachments(
        &self,
        tenant: TenantId,
        ticket: TicketId,
    ) -> Result<Vec<Attachment>> {
        sqlx::query(self.sql.text(TICKET_ATTACHMENTS))
            .bind(tenant.as_uuid())
            .bind(ticket.as_uuid())
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(attachment_from)
            .collect()
    }
}
