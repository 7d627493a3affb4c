//! The e-mail quarantine's rows: one document per held mail in `quarantine`; the raw bytes
//! are in the host's blob store. `held` mirrors the status so that the held-only listing
//! reads an index.

use async_trait::async_trait;
use bson::{Document, doc};
use helpdesk_core::store::{QuarantineStore, QuarantinedMail};
use helpdesk_core::{DuplicateKind, Error, QuarantineId, Result, TenantId};

use crate::codec::{Reader, date, int, to_bson};
use crate::error::{driver, is_duplicate_key};
use crate::schema::QUARANTINE;
use crate::store::MongoStore;

fn quarantined_doc(mail: &QuarantinedMail) -> Result<Document> {
    Ok(doc! {
        "_id": mail.id.to_string(),
        "tenant_id": mail.tenant_id.to_string(),
        "received_at": date(mail.received_at),
        "reason": mail.reason.name(),
        "detail": &mail.detail,
        "source": &mail.source,
        "size": int(mail.size, "quarantine.size")?,
        "sha256": mail.sha256.to_hex(),
        "from": mail.from.as_deref(),
        "subject": mail.subject.as_deref(),
        "status": to_bson(&mail.status, "quarantine status")?,
        "held": mail.is_held(),
    })
}

fn quarantined_from(d: &Document) -> Result<QuarantinedMail> {
    let r = Reader::new(d, QUARANTINE);
    let from = r.opt_string("from")?;
    let subject = r.opt_string("subject")?;
    // Stored rows were bounded when they were made: `held` leaves them as they are.
    let mut mail = QuarantinedMail::held(
        r.parse("tenant_id")?,
        r.time("received_at")?,
        r.serde("reason")?,
        r.str("detail")?,
        r.str("source")?,
        r.u64("size")?,
        r.parse("sha256")?,
        from.as_deref(),
        subject.as_deref(),
    );
    mail.id = r.parse("_id")?;
    mail.status = r.serde("status")?;
    Ok(mail)
}

#[async_trait]
impl QuarantineStore for MongoStore {
    async fn put_quarantined(&self, mail: &QuarantinedMail) -> Result<()> {
        match self
            .coll(QUARANTINE)
            .insert_one(quarantined_doc(mail)?)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_duplicate_key(&e) => Err(Error::Duplicate {
                kind: DuplicateKind::Id,
                value: mail.id.to_string(),
            }),
            Err(e) => Err(driver(e)),
        }
    }

    async fn get_quarantined(
        &self,
        tenant: TenantId,
        id: QuarantineId,
    ) -> Result<Option<QuarantinedMail>> {
        self.find_one(
            QUARANTINE,
            doc! { "_id": id.to_string(), "tenant_id": tenant.to_string() },
        )
        .await?
        .map(|d| quarantined_from(&d))
        .transpose()
    }

    async fn list_quarantined(
        &self,
        tenant: TenantId,
        held_only: bool,
        limit: u32,
    ) -> Result<Vec<QuarantinedMail>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut filter = doc! { "tenant_id": tenant.to_string() };
        if held_only {
            filter.insert("held", true);
        }
        self.find_all(
            QUARANTINE,
            filter,
            doc! { "received_at": -1, "_id": -1 },
            i64::from(limit),
        )
        .await?
        .iter()
        .map(quarantined_from)
        .collect()
    }

    async fn update_quarantined(&self, mail: &QuarantinedMail) -> Result<()> {
        let result = self
            .coll(QUARANTINE)
            .update_one(
                doc! { "_id": mail.id.to_string(), "tenant_id": mail.tenant_id.to_string() },
                doc! { "$set": {
                    "status": to_bson(&mail.status, "quarantine status")?,
                    "held": mail.is_held(),
                } },
            )
            .await
            .map_err(driver)?;
        if result.matched_count == 0 {
            return Err(Error::not_found(QuarantineId::KIND, mail.id));
        }
        Ok(())
    }
}
