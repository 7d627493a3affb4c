//! The e-mail quarantine: raw mail the intake could not (or would not) turn into a ticket
//! change, kept so that nothing that arrived is lost. The row is metadata; the raw bytes
//! are in the tenant's content-addressed blob namespace ([`BlobKey`](crate::blob::BlobKey)
//! of the tenant and [`QuarantinedMail::sha256`]), put there before the row is written.

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::Sha256;
use crate::{QuarantineId, Result, TenantId, TicketId};

/// A raw e-mail held in quarantine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QuarantinedMail {
    /// Id.
    pub id: QuarantineId,
    /// The tenant whose delivery route the mail came by.
    pub tenant_id: TenantId,
    /// When it was quarantined.
    pub received_at: Timestamp,
    /// Why it is held.
    pub reason: QuarantineReason,
    /// What went wrong, for the admin (at most [`QuarantinedMail::MAX_DETAIL_CHARS`]).
    pub detail: String,
    /// Where it came from: `"pipe"`, `"imap:INBOX"`, ... (at most
    /// [`QuarantinedMail::MAX_SOURCE_CHARS`]).
    pub source: String,
    /// Size of the raw message, in bytes.
    pub size: u64,
    /// SHA-256 of the raw message: its blob's content address in the tenant's namespace.
    pub sha256: Sha256,
    /// The sender, when it could be read (untrusted: as the mail claims it).
    pub from: Option<String>,
    /// The subject, when it could be read (untrusted).
    pub subject: Option<String>,
    /// Held, released or discarded.
    pub status: QuarantineStatus,
}

impl QuarantinedMail {
    /// Longest `detail`, in characters.
    pub const MAX_DETAIL_CHARS: usize = 1_000;
    /// Longest `source`, in characters.
    pub const MAX_SOURCE_CHARS: usize = 200;
    /// Longest `from` and `subject`, in characters.
    pub const MAX_HEADER_CHARS: usize = 500;

    /// A newly held mail. Text longer than its bound is cut (never refused: what arrived
    /// must be kept whatever it says).
    #[allow(clippy::too_many_arguments)]
    pub fn held(
        tenant_id: TenantId,
        received_at: Timestamp,
        reason: QuarantineReason,
        detail: &str,
        source: &str,
        size: u64,
        sha256: Sha256,
        from: Option<&str>,
        subject: Option<&str>,
    ) -> Self {
        Self {
            id: QuarantineId::new(),
            tenant_id,
            received_at,
            reason,
            detail: bounded(detail, Self::MAX_DETAIL_CHARS),
            source: bounded(source, Self::MAX_SOURCE_CHARS),
            size,
            sha256,
            from: from.map(|f| bounded(f, Self::MAX_HEADER_CHARS)),
            subject: subject.map(|s| bounded(s, Self::MAX_HEADER_CHARS)),
            status: QuarantineStatus::Held,
        }
    }

    /// Whether it is still held (neither released nor discarded).
    pub fn is_held(&self) -> bool {
        matches!(self.status, QuarantineStatus::Held)
    }
}

/// `text` cut to `max` characters, control characters other than newline and tab made
/// spaces (the text is shown to admins and may come from a hostile mail).
fn bounded(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Why a mail is held in quarantine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum QuarantineReason {
    /// It could not be parsed as an e-mail.
    Malformed,
    /// It is larger than the tenant's `email.max_message_bytes`.
    Oversized,
    /// Its sender opened more new tickets this hour than the tenant allows.
    RateLimited,
    /// Its sender may not write to the desk ([`Error::SenderRefused`](crate::Error::SenderRefused)).
    SenderRefused,
    /// Noise (auto-reply, bounce, list traffic, our own mail) kept for inspection.
    Ignored,
    /// Ingesting it failed for another reason (the detail says which).
    Failed,
}

impl QuarantineReason {
    /// A short stable name (`"malformed"`), as stored and shown.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Oversized => "oversized",
            Self::RateLimited => "rate_limited",
            Self::SenderRefused => "sender_refused",
            Self::Ignored => "ignored",
            Self::Failed => "failed",
        }
    }
}

impl std::fmt::Display for QuarantineReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What became of a quarantined mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum QuarantineStatus {
    /// Waiting for an admin.
    Held,
    /// An admin had it ingested again.
    Released {
        /// When.
        at: Timestamp,
        /// The ticket it landed on, when it landed on one.
        ticket: Option<TicketId>,
    },
    /// An admin threw it away (its raw bytes stay in the blob store: the same bytes may
    /// back something else of the tenant).
    Discarded {
        /// When.
        at: Timestamp,
    },
}

/// Quarantined mail rows, every call scoped by tenant.
#[async_trait]
pub trait QuarantineStore: Send + Sync {
    /// Inserts a quarantined mail (a used id is `Duplicate { kind: Id }`).
    async fn put_quarantined(&self, mail: &QuarantinedMail) -> Result<()>;
    /// One quarantined mail of the tenant (another tenant's id behaves as an unknown one).
    async fn get_quarantined(
        &self,
        tenant: TenantId,
        id: QuarantineId,
    ) -> Result<Option<QuarantinedMail>>;
    /// The tenant's quarantined mail, newest first (`received_at`, then id), only those
    /// still held when `held_only`, at most `limit`.
    async fn list_quarantined(
        &self,
        tenant: TenantId,
        held_only: bool,
        limit: u32,
    ) -> Result<Vec<QuarantinedMail>>;
    /// Replaces a quarantined mail's status (nothing else of it changes); `NotFound`
    /// when it is not the tenant's.
    async fn update_quarantined(&self, mail: &QuarantinedMail) -> Result<()>;
}
