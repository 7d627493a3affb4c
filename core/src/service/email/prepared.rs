//! An inbound mail checked and bounded before anything is written: its Message-ID, its
//! sender, its subject and text within the desk's limits, and the deterministic id of the
//! message made from it.

use uuid::Uuid;

use super::InboundEmail;
use crate::domain::{AuthorKind, EmailHeaders, Message, MessageKind, User};
use crate::service::change::Change;
use crate::service::tickets::validate_key;
use crate::{Error, MessageId, Result, TenantId, validate};

/// Longest Message-ID accepted (RFC 5322 lines are at most 998 characters).
const MAX_MESSAGE_ID_CHARS: usize = 998;

/// The text of a message made from a mail with no text.
const NO_TEXT: &str = "(no text)";

/// A mail checked and bounded, ready to be written.
pub(super) struct Prepared {
    /// The deterministic id of the message made from it ([`email_message_id`]).
    pub(super) id: MessageId,
    /// The intake idempotency key of a ticket opened by it.
    pub(super) key: String,
    /// The sender's address, lowercased.
    pub(super) from: String,
    pub(super) from_name: String,
    pub(super) subject: String,
    /// The text, bounded, for a description (may be empty).
    pub(super) body: String,
    headers: EmailHeaders,
}

impl Prepared {
    pub(super) fn new(tenant: TenantId, mail: &InboundEmail) -> Result<Self> {
        let message_id = mail
            .message_id
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>');
        if message_id.is_empty()
            || message_id.chars().count() > MAX_MESSAGE_ID_CHARS
            || message_id
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Error::validation(
                "message_id",
                "1 to 998 characters without spaces or control characters",
            ));
        }
        let from = validate::email(&mail.from_address).map_err(|_| {
            Error::validation(
                "from_address",
                format!("{:?} is not an e-mail address", mail.from_address),
            )
        })?;
        let key = format!("email:{message_id}");
        // A key longer than the store allows is replaced by its digest (still one key per
        // Message-ID).
        let key = match validate_key(&key) {
            Ok(key) => key,
            Err(_) => format!(
                "email-sha256:{}",
                crate::domain::Sha256::digest(message_id.as_bytes())
            ),
        };
        let headers = EmailHeaders::new(message_id, from.clone())
            .with_cc(mail.cc.iter().map(|a| one_line(a, 320)))
            .with_references(
                mail.references
                    .iter()
                    .map(|r| one_line(r, MAX_MESSAGE_ID_CHARS)),
            );
        let mut subject = one_line(&mail.subject, validate::MAX_SUBJECT_CHARS);
        if !validate::has_visible_text(&subject) {
            subject = "(no subject)".into();
        }
        Ok(Self {
            id: email_message_id(tenant, message_id),
            key,
            from,
            from_name: one_line(&mail.from_name, validate::MAX_NAME_CHARS),
            subject,
            body: bounded_body(&mail.body, 0),
            headers,
        })
    }

    /// The text of a message made from the mail, after `prefix`.
    pub(super) fn message_text(&self, prefix: &str) -> String {
        let body = if validate::has_visible_text(&self.body) {
            self.body.as_str()
        } else {
            NO_TEXT
        };
        if prefix.is_empty() {
            return body.to_string();
        }
        format!("{prefix}{}", bounded_body(body, prefix.chars().count()))
    }

    /// The message made from the mail on `change`'s ticket, with its deterministic id and
    /// headers.
    pub(super) fn message(
        &self,
        change: &Change,
        author: Option<&User>,
        author_kind: AuthorKind,
        kind: MessageKind,
        body: String,
    ) -> Message {
        let ticket = change.ticket();
        Message {
            id: self.id,
            tenant_id: ticket.tenant_id,
            ticket_id: ticket.id,
            author: author.map(|u| u.id),
            author_kind,
            kind,
            body,
            created_at: change.at(),
            citations: Vec::new(),
            draft: None,
            email: Some(self.headers.clone()),
        }
    }
}

/// The id of the message made from the mail `message_id` of `tenant`: a UUID v5 in the
/// tenant's namespace, so a second delivery of the same mail names the same message (and
/// two tenants' copies never collide). The mail crate uses it to find the ticket of a mail
/// that answers one the helpdesk received (a customer replying to their own message).
pub fn email_message_id(tenant: TenantId, message_id: &str) -> MessageId {
    MessageId::from_uuid(Uuid::new_v5(&tenant.as_uuid(), message_id.as_bytes()))
}

/// `text` on one line (control characters become spaces), trimmed, at most `max` chars.
fn one_line(text: &str, max: usize) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    line.trim().chars().take(max).collect()
}

/// A mail's text as a message body: line breaks normalised, control characters other than
/// newline and tab made spaces, cut (with a note) to leave room for `reserved` characters
/// within the body limit.
fn bounded_body(text: &str, reserved: usize) -> String {
    const CUT: &str = "\n\n[The e-mail was longer; the rest was cut.]";
    let text = validate::normalize_line_breaks(text);
    let clean: String = text
        .chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                ' '
            } else {
                c
            }
        })
        .collect();
    let room = validate::MAX_BODY_CHARS.saturating_sub(reserved);
    if clean.chars().count() <= room {
        return clean.trim_end().to_string();
    }
    let keep = room.saturating_sub(CUT.chars().count());
    let mut cut: String = clean.chars().take(keep).collect();
    cut.push_str(CUT);
    cut
}
