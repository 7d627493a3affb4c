//! Attachment metadata: one document per file in `attachments`, written by the ticket
//! commit protocol like a commit's events (inside the ticket document's `pending`
//! commit first, then copied; see `tickets::commit`), read here after settling.

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use helpdesk_core::domain::Attachment;
use helpdesk_core::store::{AttachmentStore, TicketWrite};
use helpdesk_core::{AttachmentId, DuplicateKind, Error, Result, TenantId, TicketId};

use crate::codec::{Reader, date, int, opt_string};
use crate::schema::ATTACHMENTS;
use crate::store::MongoStore;

/// An attachment document.
pub(crate) fn attachment_doc(a: &Attachment) -> Result<Document> {
    Ok(doc! {
        "_id": a.id.to_string(),
        "tenant_id": a.tenant_id.to_string(),
        "ticket_id": a.ticket_id.to_string(),
        "message_id": opt_string(a.message_id),
        "file_name": &a.file_name,
        "content_type": &a.content_type,
        "size": int(a.size, "attachments.size")?,
        "sha256": a.sha256.to_hex(),
        "uploaded_by": opt_string(a.uploaded_by),
        "created_at": date(a.created_at),
    })
}

/// Reads an attachment document.
fn attachment_from(d: &Document) -> Result<Attachment> {
    let r = Reader::new(d, ATTACHMENTS);
    Ok(Attachment {
        id: r.parse("_id")?,
        tenant_id: r.parse("tenant_id")?,
        ticket_id: r.parse("ticket_id")?,
        message_id: r.opt_parse("message_id")?,
        file_name: r.str("file_name")?.to_string(),
        content_type: r.str("content_type")?.to_string(),
        size: r.u64("size")?,
        sha256: r.parse("sha256")?,
        uploaded_by: r.opt_parse("uploaded_by")?,
        created_at: r.time("created_at")?,
    })
}

impl MongoStore {
    /// A write's attachment ids must be new: checked before the commit, because copying a
    /// pending commit skips documents already there (that is what makes settling
    /// idempotent), so a used id would otherwise be dropped silently. The ids are fresh
    /// UUIDv7s from the service; this catches a caller reusing one (any tenant's), not a
    /// race between two writes inventing the same id.
    pub(crate) async fn check_new_attachments(&self, write: &TicketWrite) -> Result<()> {
        if write.attachments.is_empty() {
            return Ok(());
        }
        let ids: Vec<Bson> = write
            .attachments
            .iter()
            .map(|a| Bson::String(a.id.to_string()))
            .collect();
        let used = self
            .coll(ATTACHMENTS)
            .find_one(doc! { "_id": { "$in": ids } })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(crate::error::driver)?;
        match used {
            None => Ok(()),
            Some(d) => Err(Error::Duplicate {
                kind: DuplicateKind::Id,
                value: Reader::new(&d, ATTACHMENTS).str("_id")?.to_string(),
            }),
        }
    }
}

#[async_trait]
impl AttachmentStore for MongoStore {
    /// Pending commits of the tenant are applied first (as `get_message` does), so every
    /// committed attachment is found.
    async fn get_attachment(
        &self,
        tenant: TenantId,
        id: AttachmentId,
    ) -> Result<Option<Attachment>> {
        self.settle(doc! { "tenant_id": tenant.to_string() })
            .await?;
        self.find_one(
            ATTACHMENTS,
            doc! { "_id": id.to_string(), "tenant_id": tenant.to_string() },
        )
        .await?
        .map(|d| attachment_from(&d))
        .transpose()
    }

    /// The ticket's pending commit is applied first; one query on
    /// `(tenant_id, ticket_id, created_at, _id)`.
    async fn list_attachments(
        &self,
        tenant: TenantId,
        ticket: TicketId,
    ) -> Result<Vec<Attachment>> {
        if self.settled_version(tenant, ticket).await?.is_none() {
            return Ok(Vec::new());
        }
        let filter = doc! { "tenant_id": tenant.to_string(), "ticket_id": ticket.to_string() };
        self.find_all(ATTACHMENTS, filter, doc! { "created_at": 1, "_id": 1 }, 0)
            .await?
            .iter()
            .map(attachment_from)
            .collect()
    }
}
