//! Attachments: checking and storing uploaded files before the commit that references
//! them, and reading them back with the thread's visibility rules.
//!
//! Order of a write with files: each file is checked against the tenant's limits, hashed
//! and sniffed (on a blocking thread when large) and put in the blob store under
//! `(tenant, sha256)`; only then is the message committed with the files' metadata, in its
//! one ticket write. A commit that fails after the puts leaves at most blobs nobody
//! references (never a reference without bytes); they are not deleted, since the same
//! bytes may back another attachment of the tenant. The same bytes put twice are stored
//! once per tenant.
//!
//! Reads: staff of the tenant see every attachment of its tickets; a customer sees those
//! on their own tickets that are on the ticket itself or on a message they can see (a
//! reply or a chat turn, never a note or a draft). Anything else, another tenant's
//! attachment included, is `NotFound`, exactly like an unknown id.

use std::collections::HashSet;
use std::sync::Arc;

use futures_util::future::{try_join, try_join_all, try_join3};

use crate::blob::{BlobKey, DynBlobStore};
use crate::domain::{
    Actor, Attachment, Sha256, TenantSettings, sanitize_file_name, sniff_content_type,
};
use crate::roles::Action;
use crate::store::MessageFilter;
use crate::{AttachmentId, Error, Result, TenantId, TicketId};

use super::Helpdesk;

/// Files smaller than this are hashed and sniffed on the calling task; larger ones on a
/// blocking thread.
const HASH_INLINE_MAX: usize = 64 * 1024;

/// A file to attach to a new message or ticket. The name is sanitised and the content type
/// sniffed from the bytes; nothing else the client says about the file is used.
#[derive(Clone, PartialEq, Eq)]
pub struct NewAttachment {
    /// The name the client gave.
    pub file_name: String,
    /// The content.
    pub bytes: Vec<u8>,
}

impl NewAttachment {
    /// A file named `file_name` with `bytes`.
    pub fn new(file_name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            file_name: file_name.into(),
            bytes: bytes.into(),
        }
    }
}

impl std::fmt::Debug for NewAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the bytes: a debug log of an input must not dump a file.
        f.debug_struct("NewAttachment")
            .field("file_name", &self.file_name)
            .field("size", &self.bytes.len())
            .finish()
    }
}

/// An attachment with its bytes, as [`Helpdesk::attachment`] returns it. Serve it as a
/// download (`Content-Disposition: attachment`, `X-Content-Type-Options: nosniff`); only
/// [`Attachment::is_safe_image`] files may be shown inline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentDownload {
    /// The metadata.
    pub attachment: Attachment,
    /// The content.
    pub bytes: Vec<u8>,
}

/// A file put in the blob store, waiting for its message's commit.
#[derive(Debug, Clone)]
pub(crate) struct StoredBlob {
    pub(crate) file_name: String,
    pub(crate) content_type: String,
    pub(crate) size: u64,
    pub(crate) sha256: Sha256,
}

/// Checks the files against the tenant's limits: how many per message and how large each
/// may be (an empty file is refused too: it is a mistake, not an attachment).
pub(crate) fn check_limits(settings: &TenantSettings, files: &[NewAttachment]) -> Result<()> {
    let max_count = usize::try_from(settings.attachments_per_message).unwrap_or(usize::MAX);
    if files.len() > max_count {
        return Err(Error::validation(
            "attachments",
            format!("at most {max_count} files per message"),
        ));
    }
    for (i, f) in files.iter().enumerate() {
        let size = u64::try_from(f.bytes.len()).unwrap_or(u64::MAX);
        if size > settings.attachment_max_bytes {
            return Err(Error::validation(
                format!("attachments[{i}]"),
                format!(
                    "is {size} bytes, larger than the limit of {} bytes",
                    settings.attachment_max_bytes
                ),
            ));
        }
        if size == 0 {
            return Err(Error::validation(format!("attachments[{i}]"), "is empty"));
        }
    }
    Ok(())
}

/// The content address and sniffed type of `bytes`.
fn digest_and_sniff(bytes: &[u8]) -> (Sha256, &'static str) {
    (Sha256::digest(bytes), sniff_content_type(bytes))
}

impl Helpdesk {
    /// The configured blob store, if any.
    pub fn blob_store(&self) -> Option<&DynBlobStore> {
        self.inner.blob_store.as_ref()
    }

    pub(crate) fn required_blob_store(&self) -> Result<&DynBlobStore> {
        self.blob_store().ok_or_else(|| Error::Configuration {
            field: "blob_store".into(),
            message: "attachments need a blob store (HelpdeskBuilder::blob_store)".into(),
        })
    }

    /// Checks `files` against `settings` and puts them in the blob store (concurrently):
    /// the step before the commit of the message they come with. No files, no work (and no
    /// blob store needed).
    pub(crate) async fn store_blobs(
        &self,
        tenant: TenantId,
        settings: &TenantSettings,
        files: Vec<NewAttachment>,
    ) -> Result<Vec<StoredBlob>> {
        if files.is_empty() {
            return Ok(Vec::new());
        }
        check_limits(settings, &files)?;
        let blobs = self.required_blob_store()?;
        try_join_all(files.into_iter().map(|f| async move {
            let bytes: Arc<[u8]> = Arc::from(f.bytes);
            let (sha256, content_type) = if bytes.len() < HASH_INLINE_MAX {
                digest_and_sniff(&bytes)
            } else {
                let b = Arc::clone(&bytes);
                tokio::task::spawn_blocking(move || digest_and_sniff(&b))
                    .await
                    .map_err(|_| Error::Internal("the hashing task of an attachment failed"))?
            };
            let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
            blobs.put(BlobKey { tenant, sha256 }, bytes).await?;
            Ok::<_, Error>(StoredBlob {
                file_name: sanitize_file_name(&f.file_name),
                content_type: content_type.to_string(),
                size,
                sha256,
            })
        }))
        .await
    }

    /// An attachment with its bytes, for an actor who may see it: staff of its tenant, or
    /// the customer whose ticket it is on when it is on the ticket itself or on a message
    /// customers see (never a note's or a draft's). Anything else is `NotFound`, the same
    /// error as an unknown id. Without a blob store configured: `Configuration` on
    /// `blob_store`.
    pub async fn attachment(&self, actor: &Actor, id: AttachmentId) -> Result<AttachmentDownload> {
        let store = &self.inner.store;
        let (_, _, found) = self
            .check_while(
                actor,
                Action::ViewTicket,
                store.get_attachment(actor.tenant_id, id),
            )
            .await?;
        let hidden = || Error::not_found("attachment", id);
        let attachment = found.ok_or_else(hidden)?;
        if !actor.is_staff() && !self.customer_sees(actor, &attachment).await? {
            return Err(hidden());
        }
        let key = BlobKey {
            tenant: attachment.tenant_id,
            sha256: attachment.sha256,
        };
        let bytes = self
            .required_blob_store()?
            .get(key)
            .await?
            .ok_or(Error::Internal(
                "an attachment's bytes are missing from the blob store",
            ))?;
        Ok(AttachmentDownload { attachment, bytes })
    }

    /// A ticket's attachments the actor may see (the rules of [`attachment`](Self::attachment)),
    /// in creation order: all of them for staff; for the customer whose ticket it is, those
    /// on the ticket itself and on the messages they see. A ticket the actor may not see is
    /// `NotFound`. One round trip: the check, the ticket and the lists are read together.
    pub async fn list_attachments(&self, actor: &Actor, id: TicketId) -> Result<Vec<Attachment>> {
        let store = &self.inner.store;
        let tenant = actor.tenant_id;
        let customer_thread = async {
            if actor.is_staff() {
                return Ok(None);
            }
            let thread = store
                .list_messages(tenant, id, MessageFilter::CustomerVisible)
                .await?;
            Ok(Some(
                thread.into_iter().map(|m| m.id).collect::<HashSet<_>>(),
            ))
        };
        let reads = async {
            let (_ticket, files, visible) = try_join3(
                self.visible_ticket(actor, id),
                store.list_attachments(tenant, id),
                customer_thread,
            )
            .await?;
            Ok((files, visible))
        };
        let (_, _, (files, visible)) = self.check_while(actor, Action::ViewTicket, reads).await?;
        Ok(match visible {
            None => files,
            Some(ids) => files
                .into_iter()
                .filter(|a| a.message_id.is_none_or(|m| ids.contains(&m)))
                .collect(),
        })
    }

    /// Whether the customer `actor` may see `attachment`: it is on one of their tickets,
    /// and on the ticket itself or on a message of a kind customers see.
    async fn customer_sees(&self, actor: &Actor, attachment: &Attachment) -> Result<bool> {
        let store = &self.inner.store;
        let tenant = actor.tenant_id;
        let message = async {
            match attachment.message_id {
                None => Ok(None),
                Some(m) => store.get_message(tenant, m).await.map(Some),
            }
        };
        let (ticket, message) =
            try_join(store.get_ticket(tenant, attachment.ticket_id), message).await?;
        let own_ticket = ticket.is_some_and(|t| t.requester == actor.user_id);
        let visible_message = match message {
            None => true,
            Some(found) => found
                .is_some_and(|m| m.ticket_id == attachment.ticket_id && m.kind.customer_visible()),
        };
        Ok(own_ticket && visible_message)
    }
}
