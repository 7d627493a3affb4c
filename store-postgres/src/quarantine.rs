//! The e-mail quarantine's rows (`quarantine` in the store's schema); the raw bytes are in
//! the host's blob store. `held` mirrors the status so that the held-only listing reads an
//! index.

use async_trait::async_trait;
use helpdesk_core::store::{QuarantineStore, QuarantinedMail};
use helpdesk_core::{Error, QuarantineId, Result, TenantId};
use sqlx::postgres::PgRow;

use crate::PostgresStore;
use crate::codec::{Columns, int, json, ms};
use crate::error::{PostgresError, db, insert_err};

macro_rules! quarantine_columns {
    () => {
        "id, tenant_id, received_at, reason, detail, source, size, sha256, from_address, \
         subject, status"
    };
}

fn quarantined_from(row: &PgRow) -> Result<QuarantinedMail> {
    let c = Columns(row);
    let sha256 = c
        .text("sha256")?
        .parse()
        .map_err(|e| Error::from(PostgresError::corrupt("sha256", e)))?;
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
impl QuarantineStore for PostgresStore {
    async fn put_quarantined(&self, mail: &QuarantinedMail) -> Result<()> {
        sqlx::query(self.sql.text(concat!(
            "INSERT INTO helpdesk.quarantine (",
            quarantine_columns!(),
            ", held) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        )))
        .bind(mail.id.as_uuid())
        .bind(mail.tenant_id.as_uuid())
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
            " FROM helpdesk.quarantine WHERE id = $1 AND tenant_id = $2"
        )))
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
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
                " FROM helpdesk.quarantine WHERE tenant_id = $1 AND held \
                 ORDER BY received_at DESC, id DESC LIMIT $2"
            )
        } else {
            concat!(
                "SELECT ",
                quarantine_columns!(),
                " FROM helpdesk.quarantine WHERE tenant_id = $1 \
                 ORDER BY received_at DESC, id DESC LIMIT $2"
            )
        };
        sqlx::query(self.sql.text(statement))
            .bind(tenant.as_uuid())
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
            "UPDATE helpdesk.quarantine SET status = $1, held = $2 \
             WHERE id = $3 AND tenant_id = $4",
        ))
        .bind(json(&mail.status, "status")?)
        .bind(mail.is_held())
        .bind(mail.id.as_uuid())
        .bind(mail.tenant_id.as_uuid())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found(QuarantineId::KIND, mail.id));
        }
        Ok(())
    }
}
