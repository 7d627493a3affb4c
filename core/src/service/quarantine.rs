//! The e-mail quarantine: raw mail kept when it could not be (or must not be) turned into
//! a ticket change, so that nothing that arrived is lost. The mail crate puts mail here;
//! admins list it, download the raw bytes, discard it, or mark it released after the mail
//! crate ingested it again.
//!
//! The raw bytes go into the tenant's content-addressed blob namespace first (the same
//! namespace as attachments: the same bytes are stored once), then the row is written; a
//! failure between the two leaves at most an unreferenced blob, never a row without bytes.

use std::sync::Arc;

use crate::blob::BlobKey;
use crate::domain::{Actor, Sha256};
use crate::roles::Action;
use crate::store::{QuarantineReason, QuarantineStatus, QuarantinedMail};
use crate::{Error, QuarantineId, Result, TenantId, TicketId};

use super::Helpdesk;

/// Raw mails at least this large are hashed on a blocking thread.
const HASH_INLINE_MAX: usize = 64 * 1024;

/// Most rows one [`Helpdesk::list_quarantine`] returns.
pub const MAX_QUARANTINE_PAGE: u32 = 500;

impl Helpdesk {
    /// Holds a raw mail in the tenant's quarantine (system use: the mail crate's intake,
    /// whose delivery route names the tenant). The bytes go to the blob store by SHA-256
    /// first, then the row; `detail`, `source`, `from` and `subject` are cut to their
    /// bounds ([`QuarantinedMail::held`]). Needs a blob store (`Configuration` on
    /// `blob_store` without one); an unknown tenant is `NotFound`.
    #[allow(clippy::too_many_arguments)]
    pub async fn quarantine_email(
        &self,
        tenant: TenantId,
        raw: Arc<[u8]>,
        reason: QuarantineReason,
        detail: &str,
        source: &str,
        from: Option<&str>,
        subject: Option<&str>,
    ) -> Result<QuarantinedMail> {
        let blobs = self.required_blob_store()?.clone();
        let tenant = self.tenant(tenant).await?;
        let sha256 = if raw.len() < HASH_INLINE_MAX {
            Sha256::digest(&raw)
        } else {
            let bytes = Arc::clone(&raw);
            tokio::task::spawn_blocking(move || Sha256::digest(&bytes))
                .await
                .map_err(|_| Error::Internal("the hashing task of a quarantined mail failed"))?
        };
        let size = u64::try_from(raw.len()).unwrap_or(u64::MAX);
        blobs
            .put(
                BlobKey {
                    tenant: tenant.id,
                    sha256,
                },
                raw,
            )
            .await?;
        let mail = QuarantinedMail::held(
            tenant.id,
            self.now(),
            reason,
            detail,
            source,
            size,
            sha256,
            from,
            subject,
        );
        self.inner.store.put_quarantined(&mail).await?;
        tracing::warn!(
            tenant = %tenant.slug,
            id = %mail.id,
            reason = reason.name(),
            source = %mail.source,
            "e-mail quarantined"
        );
        Ok(mail)
    }

    /// The tenant's quarantined mail, newest first, only what is still held when
    /// `held_only`, at most `limit` (capped at [`MAX_QUARANTINE_PAGE`]). Admins only.
    pub async fn list_quarantine(
        &self,
        actor: &Actor,
        held_only: bool,
        limit: u32,
    ) -> Result<Vec<QuarantinedMail>> {
        self.check(actor, Action::ManageTenant).await?;
        self.inner
            .store
            .list_quarantined(actor.tenant_id, held_only, limit.min(MAX_QUARANTINE_PAGE))
            .await
    }

    /// One quarantined mail with its raw bytes (serve them as a download, never render
    /// them). Admins only; another tenant's id is `NotFound`.
    pub async fn quarantined_mail(
        &self,
        actor: &Actor,
        id: QuarantineId,
    ) -> Result<(QuarantinedMail, Vec<u8>)> {
        let mail = self.checked_quarantined(actor, id).await?;
        let bytes = self
            .required_blob_store()?
            .get(BlobKey {
                tenant: mail.tenant_id,
                sha256: mail.sha256,
            })
            .await?
            .ok_or(Error::Internal(
                "a quarantined mail's bytes are missing from the blob store",
            ))?;
        Ok((mail, bytes))
    }

    /// Throws a quarantined mail away (its status becomes `Discarded`; the row stays for
    /// the record). Admins only. Discarding one already discarded or released changes
    /// nothing and returns it as it is.
    pub async fn discard_quarantined(
        &self,
        actor: &Actor,
        id: QuarantineId,
    ) -> Result<QuarantinedMail> {
        let mut mail = self.checked_quarantined(actor, id).await?;
        if !mail.is_held() {
            return Ok(mail);
        }
        mail.status = QuarantineStatus::Discarded { at: self.now() };
        self.inner.store.update_quarantined(&mail).await?;
        Ok(mail)
    }

    /// Marks a quarantined mail released, after the mail crate ingested its raw bytes
    /// again; `ticket` is where it landed, when it landed on one. Admins only. A mail
    /// no longer held is returned as it is (a release is recorded once).
    pub async fn release_quarantined(
        &self,
        actor: &Actor,
        id: QuarantineId,
        ticket: Option<TicketId>,
    ) -> Result<QuarantinedMail> {
        let mut mail = self.checked_quarantined(actor, id).await?;
        if !mail.is_held() {
            return Ok(mail);
        }
        if let Some(t) = ticket {
            // Only a ticket of the admin's tenant may be recorded.
            self.inner
                .store
                .get_ticket(actor.tenant_id, t)
                .await?
                .ok_or_else(|| Error::not_found("ticket", t))?;
        }
        mail.status = QuarantineStatus::Released {
            at: self.now(),
            ticket,
        };
        self.inner.store.update_quarantined(&mail).await?;
        Ok(mail)
    }

    /// An admin's quarantined mail of their tenant (`NotFound` otherwise).
    async fn checked_quarantined(
        &self,
        actor: &Actor,
        id: QuarantineId,
    ) -> Result<QuarantinedMail> {
        let store = &self.inner.store;
        let (_, _, found) = self
            .check_while(
                actor,
                Action::ManageTenant,
                store.get_quarantined(actor.tenant_id, id),
            )
            .await?;
        found.ok_or_else(|| Error::not_found(QuarantineId::KIND, id))
    }
}
