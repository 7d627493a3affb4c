//! The e-mail quarantine's rows (`helpdesk_quarantine`); the raw bytes are in the host's
//! blob store. `held` mirrors the status so that the held-only listing reads an index.

use async_trait::async_trait;
use helpdesk_core::store::{QuarantineStore, QuarantinedMail};
use helpdesk_core::{Error, QuarantineId, Result, TenantId};
use sqlx::sqlite::SqliteRow;

use crate::SqliteStore;
use crate::codec::{Columns, int, json, ms};
use crate::error::{SqliteError, db, insert_err};

macro_rules! quarantine_columns {
    () => {
        "id, tenant_id, received_at, reason, detail, source, size, sha256, from_address, \
         subject, status"
    };
}

fn quarantined_from(row: &SqliteRow) -> Result<QuarantinedMail> {
    let c = Columns(row);
    let sha256 = c
        .text("sha256")?
        .parse()
        .map_err(|e| Error::from(SqliteError::corrupt("sha256", e)))?;
    let from = c.opt_text("from_address")?;
    let subject = c.opt_text("subject")?;
    // Stored rows were bounded when they were made: `held` leaves them as they are.
    let mut mail = QuarantinedMail::held(
        c.id("tenant_id")?,
        c.ts("received_at")?,
        c.serde_enum("reason")?,
        &c.text("detail")?,
        &c.text("source")?,
        c.u64("size")?,
        sha256,
        from.as_deref(),
        subject.as_deref(),
    );
    mail.id = c.id("id")?;
    mail.status = c.json("status")?;
    Ok(mail)
}

#[async_trait]
impl QuarantineStore for SqliteStore {
    async fn put_quarantined(&self, mail: &QuarantinedMail) -> Result<()> {
        sqlx::query(self.sql.text(concat!(
            "INSERT INTO helpdesk_quarantine (",
            quarantine_columns!(),
            ", held) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )))
        .bind(mail.id.to_string())
        .bind(mail.tenant_id.to_string())
        .bind(ms(mail.received_at))
        .bind(mail.reason.name())
        .bind(&mail.detail)
        .bind(&mail.source)
        .bind(int(mail.size, "size")?)
        .bind(mail.sha256.to_hex())
        .bind(mail.from.as_deref())
        .bind(mail.subject.as_deref())
        .bind(json(&mail.status, "status")?)
        .bind(mail.is_held())
        .execute(&self.pool)
        .await
        .map_err(insert_err(mail.id))?;
        Ok(())
    }

    async fn get_quarantined(
        &self,
        tenant: TenantId,
        id: QuarantineId,
    ) -> Result<Option<QuarantinedMail>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            quarantine_columns!(),
            " FROM helpdesk_quarantine WHERE id = ? AND tenant_id = ?"
        )))
        .bind(id.to_string())
        .bind(tenant.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(quarantined_from)
        .transpose()
    }

    async fn list_quarantined(
        &self,
        tenant: TenantId,
        held_only: bool,
        limit: u32,
    ) -> Result<Vec<QuarantinedMail>> {
        let statement = if held_only {
            concat!(
                "SELECT ",
                quarantine_columns!(),
                " FROM helpdesk_quarantine WHERE tenant_id = ? AND held = 1 \
                 ORDER BY received_at DESC, id DESC LIMIT ?"
            )
        } else {
            concat!(
                "SELECT ",
                quarantine_columns!(),
                " FROM helpdesk_quarantine WHERE tenant_id = ? \
                 ORDER BY received_at DESC, id DESC LIMIT ?"
            )
        };
        sqlx::query(self.sql.text(statement))
            .bind(tenant.to_string())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(quarantined_from)
            .collect()
    }

    async fn update_quarantined(&self, mail: &QuarantinedMail) -> Result<()> {
        let done = sqlx::query(self.sql.text(
            "UPDATE helpdesk_quarantine SET status = ?, held = ? WHERE id = ? AND tenant_id = ?",
        ))
        .bind(json(&mail.status, "status")?)
        .bind(mail.is_held())
        .bind(mail.id.to_string())
        .bind(mail.tenant_id.to_string())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found(QuarantineId::KIND, mail.id));
        }
        Ok(())
    }
}
