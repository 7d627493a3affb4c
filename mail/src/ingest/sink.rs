//! The engine's ingest as the IMAP poller's sink: every message of one mailbox goes to one
//! tenant (the mailbox is the delivery route; the message never chooses its tenant).

use async_trait::async_trait;
use helpdesk_core::TenantId;

use super::MailIngest;
use crate::imap::{MailSink, SinkError};

/// One tenant's mailbox: what the poller fetches goes through [`MailIngest::ingest`].
#[derive(Clone, Debug)]
pub struct TenantMailbox {
    ingest: MailIngest,
    tenant: TenantId,
}

impl TenantMailbox {
    /// Mail of this mailbox goes to `tenant`.
    pub fn new(ingest: MailIngest, tenant: TenantId) -> Self {
        Self { ingest, tenant }
    }
}

#[async_trait]
impl MailSink for TenantMailbox {
    /// A message in the engine or its quarantine is accepted (the poller moves it). Any
    /// error leaves it in the mailbox: a store outage passes, and a configuration error (the
    /// tenant's channel off) must not lose mail while an operator fixes it.
    async fn accept(&self, raw: Vec<u8>, source: &str) -> Result<(), SinkError> {
        match self.ingest.ingest(self.tenant, raw, source).await {
            Ok(_) => Ok(()),
            Err(e) => {
                if !e.is_temporary() {
                    tracing::warn!(
                        tenant = %self.tenant,
                        error = %e,
                        "inbound mail left in the mailbox until the configuration is fixed"
                    );
                }
                Err(SinkError::temporary(e))
            }
        }
    }
}
