//! The part both builders share: headers, threading, body and attachments into a
//! `lettre::Message`.

use std::time::SystemTime;

use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox as LettreMailbox, MultiPart, SinglePart};

use super::{MAX_REFERENCES, TenantSender};
use crate::error::BuildError;
use crate::inbound::one_line;

const AUTO_SUBMITTED: HeaderName = HeaderName::new_from_ascii_str("Auto-Submitted");
const AUTO_RESPONSE_SUPPRESS: HeaderName =
    HeaderName::new_from_ascii_str("X-Auto-Response-Suppress");
const X_LOOP: HeaderName = HeaderName::new_from_ascii_str("X-Loop");

/// A file attached to an outbound reply.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboundAttachment {
    /// The file name shown to the customer.
    pub file_name: String,
    /// Its content type (`application/pdf`), as the attachment store sniffed it.
    pub content_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for OutboundAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundAttachment")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("size", &self.bytes.len())
            .finish()
    }
}

/// A built message, ready for a lettre transport, with the threading ids the caller records
/// (so a customer's answer to it is recognised).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct OutboundMail {
    /// The message (headers, body, envelope).
    pub message: Message,
    /// Its Message-ID, bare.
    pub message_id: String,
    /// Its `In-Reply-To`, bare, when it answers a message.
    pub in_reply_to: Option<String>,
    /// Its `References`, bare, oldest first.
    pub references: Vec<String>,
}

impl OutboundMail {
    /// The RFC 5322 bytes, as a transport sends them.
    pub fn formatted(&self) -> Vec<u8> {
        self.message.formatted()
    }
}

/// What the builders hand to [`assemble`].
pub(super) struct Draft<'a> {
    pub sender: &'a TenantSender,
    pub to: LettreMailbox,
    pub cc: Vec<LettreMailbox>,
    pub subject: String,
    pub body: String,
    pub message_id: String,
    pub thread: &'a [String],
    pub reply_to: Option<LettreMailbox>,
    pub date: SystemTime,
    pub automatic: bool,
    pub attachments: &'a [OutboundAttachment],
}

/// `References` for a reply in `thread` (oldest first): the thread's first id and its most
/// recent ones, at most [`MAX_REFERENCES`].
pub(super) fn capped_references(thread: &[String]) -> Vec<String> {
    if thread.len() <= MAX_REFERENCES {
        return thread.to_vec();
    }
    let recent = thread.len().saturating_sub(MAX_REFERENCES - 1);
    thread
        .first()
        .into_iter()
        .chain(thread.get(recent..).unwrap_or_default())
        .cloned()
        .collect()
}

/// A thread id as the builder accepts it: bare, printable ASCII, no spaces or brackets.
pub(super) fn clean_thread_id(raw: &str) -> Result<String, BuildError> {
    let id = raw.trim().trim_start_matches('<').trim_end_matches('>');
    let valid = !id.is_empty()
        && id.len() <= 250
        && id.contains('@')
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>');
    if valid {
        Ok(id.to_string())
    } else {
        Err(BuildError::InvalidValue {
            field: "thread",
            message: format!("{raw:?} is not a Message-ID"),
        })
    }
}

pub(super) fn assemble(draft: Draft<'_>) -> Result<OutboundMail, BuildError> {
    let sender = draft.sender;
    let from = LettreMailbox::new(
        (!sender.display_name.is_empty()).then(|| sender.display_name.clone()),
        sender.address.clone(),
    );
    let in_reply_to = draft.thread.last().cloned();
    let references = capped_references(draft.thread);
    let mut builder = Message::builder()
        .from(from)
        .to(draft.to)
        .subject(draft.subject)
        .date(draft.date)
        .message_id(Some(format!("<{}>", draft.message_id)))
        .raw_header(HeaderValue::new(X_LOOP, sender.address.to_string()));
    for cc in draft.cc {
        builder = builder.cc(cc);
    }
    if let Some(reply_to) = draft.reply_to {
        builder = builder.reply_to(reply_to);
    }
    if let Some(parent) = &in_reply_to {
        builder = builder.in_reply_to(format!("<{parent}>"));
    }
    if !references.is_empty() {
        let joined = references
            .iter()
            .map(|id| format!("<{id}>"))
            .collect::<Vec<_>>()
            .join(" ");
        builder = builder.references(joined);
    }
    if draft.automatic {
        builder = builder
            .raw_header(HeaderValue::new(AUTO_SUBMITTED, "auto-replied".into()))
            .raw_header(HeaderValue::new(AUTO_RESPONSE_SUPPRESS, "All".into()));
    }
    let text = SinglePart::plain(draft.body);
    let message = if draft.attachments.is_empty() {
        builder.singlepart(text)
    } else {
        let mut mixed = MultiPart::mixed().singlepart(text);
        for file in draft.attachments {
            let content_type = ContentType::parse(&file.content_type).map_err(|source| {
                BuildError::InvalidContentType {
                    value: file.content_type.clone(),
                    source,
                }
            })?;
            mixed = mixed.singlepart(
                Attachment::new(one_line(&file.file_name)).body(file.bytes.clone(), content_type),
            );
        }
        builder.multipart(mixed)
    }
    .map_err(BuildError::Assemble)?;
    Ok(OutboundMail {
        message,
        message_id: draft.message_id,
        in_reply_to,
        references,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn references_keep_the_first_and_the_most_recent() {
        let thread: Vec<String> = (0..50).map(|i| format!("m{i}@x")).collect();
        let capped = capped_references(&thread);
        assert_eq!(capped.len(), MAX_REFERENCES);
        assert_eq!(capped.first().map(String::as_str), Some("m0@x"));
        assert_eq!(capped.get(1).map(String::as_str), Some("m31@x"));
        assert_eq!(capped.last().map(String::as_str), Some("m49@x"));
        assert_eq!(capped_references(&thread[..3]), thread[..3].to_vec());
    }

    #[test]
    fn thread_ids_are_checked() {
        assert_eq!(clean_thread_id("<a@b>").unwrap(), "a@b");
        assert!(clean_thread_id("a b@c").is_err());
        assert!(clean_thread_id("no-at").is_err());
        assert!(clean_thread_id("a@b>\r\nBcc: x@y").is_err());
    }
}
