//! Attachments and inline images of an inbound message.

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

use super::headers::one_line;

/// One attachment or inline image, decoded from its transfer encoding.
///
/// Name and content type are what the sender *declared*: untrusted. The attachment store
/// sniffs the real type from the bytes and sanitises the name before keeping either.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InboundAttachment {
    /// The declared file name (`Content-Disposition` filename or `Content-Type` name,
    /// RFC 2231/2047 decoded), on one line; `None` when the part has none.
    pub file_name: Option<String>,
    /// The declared content type, lower-case, without parameters (`image/png`);
    /// `application/octet-stream` when undeclared. A forwarded message is `message/rfc822`.
    pub content_type: String,
    /// `Content-ID` without angle brackets, for inline images an HTML body refers to as
    /// `cid:`.
    pub content_id: Option<String>,
    /// Whether the part is shown inside the body (an inline image) rather than attached.
    pub inline: bool,
    /// The decoded bytes. A text attachment is re-encoded as UTF-8 (mail-parser decodes its
    /// charset); a forwarded message is its raw RFC 5322 bytes.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for InboundAttachment {
    // The bytes are left out: a debug line of a 10 MiB attachment helps no one.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboundAttachment")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("content_id", &self.content_id)
            .field("inline", &self.inline)
            .field("size", &self.bytes.len())
            .finish()
    }
}

pub(super) fn read(message: &Message<'_>) -> Vec<InboundAttachment> {
    let in_list = |list: &[u32], id: usize| list.iter().any(|i| *i as usize == id);
    message
        .parts
        .iter()
        .enumerate()
        .filter(|(id, part)| match &part.body {
            PartType::Multipart(_) => false,
            // Binary parts are always files, the root too: a scanner mails a bare
            // `Content-Type: application/pdf` message.
            PartType::Binary(_) | PartType::InlineBinary(_) | PartType::Message(_) => true,
            // A text or HTML part is an attachment only when it is not one of the bodies
            // (a .txt or .html file attached).
            PartType::Text(_) | PartType::Html(_) => {
                in_list(&message.attachments, *id)
                    && !in_list(&message.text_body, *id)
                    && !in_list(&message.html_body, *id)
            }
        })
        .map(|(_, part)| attachment(part))
        .collect()
}

fn attachment(part: &MessagePart<'_>) -> InboundAttachment {
    let content_type = match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_string(),
        },
        None => match &part.body {
            PartType::Message(_) => "message/rfc822".to_string(),
            PartType::Text(_) => "text/plain".to_string(),
            PartType::Html(_) => "text/html".to_string(),
            _ => "application/octet-stream".to_string(),
        },
    }
    .to_ascii_lowercase();
    let disposition = part
        .content_disposition()
        .map(|cd| cd.ctype().to_ascii_lowercase());
    let content_id = part.content_id().and_then(|id| {
        let id = id
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .trim();
        (!id.is_empty()).then(|| one_line(id))
    });
    let inline = match disposition.as_deref() {
        Some("inline") => true,
        Some(_) => false,
        None => content_id.is_some() || matches!(part.body, PartType::InlineBinary(_)),
    };
    InboundAttachment {
        file_name: part
            .attachment_name()
            .map(one_line)
            .filter(|name| !name.is_empty()),
        content_type,
        content_id,
        inline,
        bytes: part.contents().to_vec(),
    }
}
