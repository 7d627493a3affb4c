//! Inbound mail: raw RFC 5322 bytes to an [`InboundMail`] the helpdesk can act on.

mod body;
mod headers;
mod parts;

use mail_parser::{HeaderName, MessageParser};
use sha2::{Digest, Sha256};

use crate::address::Mailbox;
use crate::error::ParseError;

pub use body::{BodySource, MailBody};
pub use headers::HeaderSignals;
pub(crate) use headers::one_line;
pub use parts::InboundAttachment;

const DELIVERED_TO: &str = "Delivered-To";
const ORIGINAL_TO: &str = "X-Original-To";

/// Limits applied before and while parsing. The defaults suit a support mailbox; a tenant
/// with tighter attachment limits enforces them when it stores the attachments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseLimits {
    /// Largest raw message accepted, in bytes (default 25 MiB, the common MTA limit; with
    /// base64 that is about 18 MiB of attachments).
    pub max_message_bytes: usize,
    /// Most MIME parts accepted (default 500): bounds the work on a hostile message.
    pub max_parts: usize,
    /// Most Message-IDs kept from `References` (default 100, the most recent ones).
    pub max_references: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        Self {
            max_message_bytes: 25 * 1024 * 1024,
            max_parts: 500,
            max_references: 100,
        }
    }
}

impl ParseLimits {
    /// The defaults with another size limit.
    #[must_use]
    pub fn with_max_message_bytes(mut self, bytes: usize) -> Self {
        self.max_message_bytes = bytes;
        self
    }

    /// The defaults with another part limit.
    #[must_use]
    pub fn with_max_parts(mut self, parts: usize) -> Self {
        self.max_parts = parts;
        self
    }
}

/// One inbound message, decoded: every header text is UTF-8 whatever its charset was, and
/// Message-IDs are bare (`abc@example.com`, without angle brackets).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct InboundMail {
    /// `Message-ID`, when the message has one (some scripts and broken clients omit it; see
    /// [`dedup_key`](Self::dedup_key)).
    pub message_id: Option<String>,
    /// `In-Reply-To`, in header order.
    pub in_reply_to: Vec<String>,
    /// `References`, in header order (oldest first), at most
    /// [`ParseLimits::max_references`] of the most recent.
    pub references: Vec<String>,
    /// The sender (`From`; the first address when there are several).
    pub from: Mailbox,
    /// `Reply-To`, when present (the helpdesk answers the requester, but shows it).
    pub reply_to: Option<Mailbox>,
    /// `To` recipients.
    pub to: Vec<Mailbox>,
    /// `Cc` recipients.
    pub cc: Vec<Mailbox>,
    /// Envelope recipients the delivering MTA recorded (`Delivered-To`, `X-Original-To`):
    /// where a plus-addressed reply token survives when a client rewrote `To`.
    pub delivered_to: Vec<String>,
    /// `Subject`, decoded, on one line (empty when absent).
    pub subject: String,
    /// `Date`, when present and valid.
    pub date: Option<jiff::Timestamp>,
    /// The text to show and thread, and the original HTML.
    pub body: MailBody,
    /// Attachments and inline images, in MIME order.
    pub attachments: Vec<InboundAttachment>,
    /// The headers that tell automatic mail from a person's.
    pub signals: HeaderSignals,
    /// The raw message's size in bytes.
    pub size: usize,
    /// SHA-256 of the raw bytes, hex.
    pub sha256: String,
}

impl InboundMail {
    /// Parses raw message bytes. A message over the size or part limit, one that is not an
    /// e-mail message at all, or one without a readable `From` is an error naming why; the
    /// caller keeps the raw bytes in quarantine. Everything else is read best-effort
    /// (mail-parser never panics and decodes any charset it knows).
    ///
    /// This is CPU work (decoding, HTML layout, hashing) of up to the size limit: async
    /// callers run it on a blocking thread (`tokio::task::spawn_blocking`).
    pub fn parse(raw: &[u8], limits: &ParseLimits) -> Result<Self, ParseError> {
        if raw.len() > limits.max_message_bytes {
            return Err(ParseError::TooLarge {
                size: raw.len(),
                limit: limits.max_message_bytes,
            });
        }
        if !starts_with_header_field(raw) {
            return Err(ParseError::Malformed {
                reason: "the first line is not a header field",
            });
        }
        let parser = MessageParser::new()
            .with_mime_headers()
            .with_date_headers()
            .with_address_headers()
            .with_message_ids()
            .header_text(HeaderName::Subject)
            .header_address(DELIVERED_TO)
            .header_address(ORIGINAL_TO);
        let message = parser
            .parse(raw)
            .filter(|message| !message.parts.is_empty())
            .ok_or(ParseError::Malformed {
                reason: "no header section could be read",
            })?;
        if message.parts.len() > limits.max_parts {
            return Err(ParseError::TooManyParts {
                count: message.parts.len(),
                limit: limits.max_parts,
            });
        }
        let from = message
            .from()
            .and_then(|from| headers::mailboxes(from).into_iter().next())
            .ok_or(ParseError::MissingHeader { field: "From" })?;

        let mut references = headers::message_ids(message.references());
        if references.len() > limits.max_references {
            references.drain(..references.len() - limits.max_references);
        }
        let delivered_to = [DELIVERED_TO, ORIGINAL_TO]
            .into_iter()
            .flat_map(|name| message.header_values(name))
            .filter_map(|value| value.as_address())
            .flat_map(headers::mailboxes)
            .map(|mailbox| mailbox.address)
            .collect();

        Ok(Self {
            message_id: message.message_id().and_then(headers::clean_message_id),
            in_reply_to: headers::message_ids(message.in_reply_to()),
            references,
            reply_to: message
                .reply_to()
                .and_then(|r| headers::mailboxes(r).into_iter().next()),
            to: message.to().map(headers::mailboxes).unwrap_or_default(),
            cc: message.cc().map(headers::mailboxes).unwrap_or_default(),
            delivered_to,
            subject: message.subject().map(headers::one_line).unwrap_or_default(),
            date: message
                .date()
                .filter(|date| date.is_valid())
                .and_then(|date| jiff::Timestamp::from_second(date.to_timestamp()).ok()),
            body: body::read(&message),
            attachments: parts::read(&message),
            signals: HeaderSignals::read(&message),
            size: raw.len(),
            sha256: hex(&Sha256::digest(raw)),
            from,
        })
    }

    /// A key that is the same every time this message is delivered: its Message-ID, or,
    /// without one, `sha256:<hash of the raw bytes>`. Ingest is idempotent on it (an IMAP
    /// poller that crashed after committing fetches the message again).
    pub fn dedup_key(&self) -> String {
        match &self.message_id {
            Some(id) => id.clone(),
            None => format!("sha256:{}", self.sha256),
        }
    }

    /// Every recipient address (`To`, `Cc`, then the envelope's `Delivered-To` and
    /// `X-Original-To`), in that order, without repeats.
    pub fn recipients(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        let listed = self.to.iter().chain(&self.cc).map(|m| m.address.clone());
        for address in listed.chain(self.delivered_to.iter().cloned()) {
            if !all.iter().any(|seen| seen.eq_ignore_ascii_case(&address)) {
                all.push(address);
            }
        }
        all
    }
}

/// Whether the message starts as RFC 5322 says it must, with a header field (`Name: ...`),
/// after an optional mbox `From ` line. mail-parser reads anything best-effort; this keeps a
/// piped image or a truncated body from becoming a ticket.
fn starts_with_header_field(raw: &[u8]) -> bool {
    let mut lines = raw.split(|b| *b == b'\n');
    let mut first = lines.next().unwrap_or_default();
    if first.starts_with(b"From ") {
        first = lines.next().unwrap_or_default();
    }
    let Some(colon) = first.iter().position(|b| *b == b':') else {
        return false;
    };
    let name = first.get(..colon).unwrap_or_default();
    (1..=76).contains(&name.len()) && name.iter().all(|b| b.is_ascii_graphic())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}
