//! The e-mail quarantine's rows (placeholder until this backend stores them: every call
//! is refused with a backend error, never silently ignored).

use async_trait::async_trait;
use helpdesk_core::store::{QuarantineStore, QuarantinedMail};
use helpdesk_core::{Error, QuarantineId, Result, TenantId};

use crate::MongoStore;

fn not_yet() -> Error {
    Error::backend(
        "mongodb",
        false,
        "the e-mail quarantine is not stored by this backend yet",
    )
}

#[async_trait]
impl QuarantineStore for MongoStore {
    async fn put_quarantined(&self, _mail: &QuarantinedMail) -> Result<()> {
        Err(not_yet())
    }
    async fn get_quarantined(
        &self,
        _tenant: TenantId,
        _id: QuarantineId,
    ) -> Result<Option<QuarantinedMail>> {
        Err(not_yet())
    }
    async fn list_quarantined(
        &self,
        _tenant: TenantId,
        _held_only: bool,
        _limit: u32,
    ) -> Result<Vec<QuarantinedMail>> {
        Err(not_yet())
    }
    async fn update_quarantined(&self, _mail: &QuarantinedMail) -> Result<()> {
        Err(not_yet())
    }
}
