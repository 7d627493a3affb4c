//! Attachment metadata: inserted with its message inside the ticket write's transaction
//! (`ticket_append`), read here.

use async_trait::async_trait;
use helpdesk_core::domain::Attachment;
use helpdesk_core::store::AttachmentStore;
use helpdesk_core::{AttachmentId, Result, TenantId, TicketId};
use sqlx::sqlite::SqliteRow;
use sqlx::{Sqlite, Transaction};

use crate::SqliteStore;
use crate::codec::{Columns, int, ms};
use crate::error::{SqliteError, db, insert_err};
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
    " FROM helpdesk_attachments WHERE id = ? AND tenant_id = ?"
);

/// A ticket's attachments in creation order, read in order from
/// `helpdesk_attachments_ticket`.
pub(crate) const TICKET_ATTACHMENTS: &str = concat!(
    "SELECT ",
    attachment_columns!(),
    " FROM helpdesk_attachments WHERE tenant_id = ? AND ticket_id = ? ORDER BY created_at, id"
);

/// Inserts one attachment's metadata inside `tx`; a used id is `Duplicate { kind: Id }`.
pub(crate) async fn insert_attachment(
    sql: &Sql,
    tx: &mut Transaction<'static, Sqlite>,
    a: &Attachment,
) -> Result<()> {
    sqlx::query(sql.text(concat!(
        "INSERT INTO helpdesk_attachments (",
        attachment_columns!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )))
    .bind(a.id.to_string())
    .bind(a.tenant_id.to_string())
    .bind(a.ticket_id.to_string())
    .bind(a.message_id.map(|m| m.to_string()))
    .bind(&a.file_name)
    .bind(&a.content_type)
    .bind(int(a.size, "size")?)
    .bind(a.sha256.to_hex())
    .bind(a.uploaded_by.map(|u| u.to_string()))
    .bind(ms(a.created_at))
    .execute(&mut **tx)
    .await
    .map_err(insert_err(a.id))?;
    Ok(())
}

fn attachment_from(row: &SqliteRow) -> Result<Attachment> {
    let c = Columns(row);
    let sha = c.text("sha256")?;
    Ok(Attachment {
        id: c.id("id")?,
        tenant_id: c.id("tenant_id")?,
        ticket_id: c.id("ticket_id")?,
        message_id: c.opt_id("message_id")?,
        file_name: c.text("file_name")?,
        content_type: c.text("content_type")?,
        size: c.u64("size")?,
        sha256: sha
            .parse()
            .map_err(|e| helpdesk_core::Error::from(SqliteError::corrupt("sha256", e)))?,
        uploaded_by: c.opt_id("uploaded_by")?,
        created_at: c.ts("created_at")?,
    })
}

#[async_trait]
impl AttachmentStore for SqliteStore {
    async fn get_attachment(
        &self,
        tenant: TenantId,
        id: AttachmentId,
    ) -> Result<Option<Attachment>> {
        sqlx::query(self.sql.text(TENANT_ATTACHMENT))
            .bind(id.to_string())
            .bind(tenant.to_string())
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
            .bind(tenant.to_string())
            .bind(ticket.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(attachment_from)
            .collect()
    }
}
