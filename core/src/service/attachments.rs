//! Attachments on messages: checking and storing uploaded files before the commit that
//! references them, and reading them back with the thread's visibility rules.
//!
//! Order of a write with files: each file is checked against the tenant's limits, hashed
//! (on a blocking thread when large) and put in the blob store under `(tenant, sha256)`;
//! only then is the message committed with the files' metadata, in its one ticket write.
//! A commit that fails after the puts leaves at most blobs nobody references (never a
//! reference without bytes); the same bytes put twice are stored once per tenant.

use std::sync::Arc;

use crate::blob::BlobKey;
use crate::domain::{Attachment, Sha256, TenantSettings, sanitize_file_name, sniff_content_type};
use crate::{Error, Result, TenantId};

use super::Helpdesk;

/// Files at least this large are hashed on a blocking thread.
const HASH_INLINE_MAX: usize = 64 * 1024;

/// A file to attach to a new message. The name is sanitised and the content type sniffed
/// from the bytes; nothing else the client says about the file is used.
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

/// An attachment with its bytes, as [`Helpdesk::attachment`] returns it.
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

impl Helpdesk {
    /// Checks `files` against `settings` and puts them in the blob store: the step before
    /// the commit of the message they come with. No files, no work (and no blob store
    /// needed).
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
        let blobs = self
            .inner
            .blob_store
            .as_ref()
            .ok_or_else(|| Error::Configuration {
                field: "blob_store".into(),
                message: "attachments need a blob store (HelpdeskBuilder::blob_store)".into(),
            })?;
        let mut stored = Vec::with_capacity(files.len());
        for f in files {
            let bytes: Arc<[u8]> = Arc::from(f.bytes);
            let sha256 = if bytes.len() < HASH_INLINE_MAX {
                Sha256::digest(&bytes)
            } else {
                let b = bytes.clone();
                tokio::task::spawn_blocking(move || Sha256::digest(&b))
                    .await
                    .map_err(|_| Error::Internal("the hashing task of an attachment failed"))?
            };
            let content_type = sniff_content_type(&bytes).to_string();
            let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
            blobs.put(BlobKey { tenant, sha256 }, bytes).await?;
            stored.push(StoredBlob {
                file_name: sanitize_file_name(&f.file_name),
                content_type,
                size,
                sha256,
            });
        }
        Ok(stored)
    }
}
