//! Outbound mail: an agent's public reply and the "we received your request" acknowledgement,
//! threaded so that the customer's mail client groups them and their answer comes back to
//! the same ticket.

mod ack;
mod assemble;
mod reply;

use helpdesk_core::{MessageId, TicketId};
use lettre::Address;

use crate::address::OurMailboxes;
use crate::error::BuildError;
use crate::inbound::one_line;

pub use ack::AcknowledgementBuilder;
pub use assemble::{OutboundAttachment, OutboundMail};
pub use reply::{QuotedMessage, ReplyMailBuilder};

/// Most Message-IDs put in `References`: the thread's first and its most recent ones
/// (RFC 5322 §3.6.4 suggests keeping the first when trimming). Long threads otherwise grow
/// a header some servers reject.
pub const MAX_REFERENCES: usize = 20;

/// Who a tenant's mail comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantSender {
    address: Address,
    display_name: String,
    message_id_domain: String,
    signature: Option<String>,
}

impl TenantSender {
    /// The tenant's support address (`support@acme.example`) and the name shown with it
    /// (`Acme Support`). Message-IDs are generated under the address's domain unless
    /// [`with_message_id_domain`](Self::with_message_id_domain) says otherwise.
    pub fn new(address: &str, display_name: &str) -> Result<Self, BuildError> {
        let address: Address =
            address
                .trim()
                .parse()
                .map_err(|source| BuildError::InvalidAddress {
                    field: "from",
                    value: address.to_string(),
                    source,
                })?;
        let message_id_domain = address.domain().to_ascii_lowercase();
        Ok(Self {
            address,
            display_name: one_line(display_name),
            message_id_domain,
            signature: None,
        })
    }

    /// Message-IDs under this domain (`mail.acme.example`).
    pub fn with_message_id_domain(mut self, domain: &str) -> Result<Self, BuildError> {
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        let valid = !domain.is_empty()
            && domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if !valid {
            return Err(BuildError::InvalidValue {
                field: "message_id_domain",
                message: format!("{domain:?} is not a domain name"),
            });
        }
        self.message_id_domain = domain;
        Ok(self)
    }

    /// The signature put under every reply (below the `-- ` delimiter).
    #[must_use]
    pub fn with_signature(mut self, signature: &str) -> Self {
        let signature = signature.trim_matches(['\r', '\n']).replace("\r\n", "\n");
        self.signature = (!signature.trim().is_empty()).then_some(signature);
        self
    }

    /// The support address.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// The domain Message-IDs are generated under.
    pub fn message_id_domain(&self) -> &str {
        &self.message_id_domain
    }

    /// The support address with a reply token: `support+<token>@acme.example`.
    pub fn reply_address(&self, token: &str) -> Result<Address, BuildError> {
        let valid = !token.is_empty()
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        if !valid {
            return Err(BuildError::InvalidValue {
                field: "reply_token",
                message: "only letters, digits, '-', '_' and '.' may appear in a reply token"
                    .into(),
            });
        }
        let user = format!("{}+{token}", self.address.user());
        Address::new(user, self.address.domain()).map_err(|source| BuildError::InvalidAddress {
            field: "reply_token",
            value: token.to_string(),
            source,
        })
    }

    /// What inbound mail must treat as ours: this address and the Message-ID domain.
    pub fn our_mailboxes(&self) -> OurMailboxes {
        OurMailboxes::new()
            .with_address(self.address.as_ref())
            .with_message_id_domain(&self.message_id_domain)
    }
}

/// One of our Message-IDs, recognised: [`parse_our_message_id`] reverses
/// [`reply_message_id`] and [`acknowledgement_message_id`], so a caller can map an
/// `In-Reply-To` back to its message or ticket without storing the ids it sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OurMessageId {
    /// An agent's reply: the helpdesk message it carried.
    Reply(MessageId),
    /// The acknowledgement of a new ticket.
    Acknowledgement(TicketId),
}

/// The Message-ID (bare) of the mail carrying helpdesk message `message`: the same every
/// time it is built, so a resend after a lost acknowledgement threads as the same mail and
/// a client that got both shows one.
pub fn reply_message_id(message: MessageId, domain: &str) -> String {
    format!("msg.{}@{domain}", message.as_uuid().simple())
}

/// The Message-ID (bare) of the acknowledgement of `ticket`, the same on every resend.
pub fn acknowledgement_message_id(ticket: TicketId, domain: &str) -> String {
    format!("ack.{}@{domain}", ticket.as_uuid().simple())
}

/// Recognises one of our own Message-IDs (with or without brackets) under one of `ours`'
/// domains.
pub fn parse_our_message_id(message_id: &str, ours: &OurMailboxes) -> Option<OurMessageId> {
    if !ours.is_our_message_id(message_id) {
        return None;
    }
    let id = message_id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    let (local, _) = id.rsplit_once('@')?;
    let (kind, uuid) = local.split_once('.')?;
    let uuid = uuid::Uuid::try_parse(uuid).ok()?;
    match kind {
        "msg" => Some(OurMessageId::Reply(MessageId::from_uuid(uuid))),
        "ack" => Some(OurMessageId::Acknowledgement(TicketId::from_uuid(uuid))),
        _ => None,
    }
}

/// `Re: <subject> [#123]`: reply prefixes (`Re:`, `RE:`, `AW:`, `Fwd:`, ...) and ticket tags
/// already in the subject are removed first, so a long thread never reads
/// `Re: RE: Re: x [#12] [#12]`.
pub fn reply_subject(subject: &str, number: u64) -> String {
    let base = base_subject(subject);
    if base.is_empty() {
        format!("Re: [#{number}]")
    } else {
        format!("Re: {base} [#{number}]")
    }
}

const REPLY_PREFIXES: &[&str] = &[
    "re", "fw", "fwd", "aw", "wg", "sv", "vs", "antw", "tr", "rv", "r",
];

/// A subject without reply prefixes and ticket tags, on one line.
pub(crate) fn base_subject(subject: &str) -> String {
    let mut rest = one_line(&without_tags(subject));
    // Leading prefixes, one at a time (`Re:`, `Re[2]:`, `RE :`, `Fwd: Re:`).
    while let Some((head, tail)) = rest.split_once(':') {
        let word = head.trim().split('[').next().unwrap_or_default();
        if !REPLY_PREFIXES.iter().any(|p| word.eq_ignore_ascii_case(p)) {
            break;
        }
        rest = tail.trim().to_string();
    }
    rest
}

/// `subject` with every `[#<digits>]` tag removed.
fn without_tags(subject: &str) -> String {
    let mut out = String::with_capacity(subject.len());
    let mut rest = subject;
    while let Some(start) = rest.find("[#") {
        let (before, from_tag) = rest.split_at(start);
        out.push_str(before);
        let after_open = from_tag.get(2..).unwrap_or_default();
        let digits = after_open.bytes().take_while(u8::is_ascii_digit).count();
        match after_open.get(digits..) {
            Some(tail) if digits > 0 && tail.starts_with(']') => {
                out.push(' ');
                rest = tail.get(1..).unwrap_or_default();
            }
            _ => {
                out.push_str("[#");
                rest = after_open;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn subjects_never_stack_prefixes_or_tags() {
        assert_eq!(
            reply_subject("Printer broken", 12),
            "Re: Printer broken [#12]"
        );
        assert_eq!(
            reply_subject("RE: Re: AW: Printer broken [#12]", 12),
            "Re: Printer broken [#12]"
        );
        assert_eq!(reply_subject("Re[2]: [#12] x", 12), "Re: x [#12]");
        assert_eq!(reply_subject("", 5), "Re: [#5]");
        assert_eq!(
            reply_subject("Line\r\nBcc: evil@x", 5),
            "Re: Line Bcc: evil@x [#5]"
        );
        assert_eq!(
            reply_subject("Price [#abc]: high", 3),
            "Re: Price [#abc]: high [#3]"
        );
    }

    #[test]
    fn our_message_ids_round_trip() {
        let sender = TenantSender::new("support@acme.example", "Acme").unwrap();
        let ours = sender.our_mailboxes();
        let message = MessageId::new();
        let id = reply_message_id(message, sender.message_id_domain());
        assert_eq!(id, reply_message_id(message, "acme.example"));
        assert_eq!(
            parse_our_message_id(&format!("<{id}>"), &ours),
            Some(OurMessageId::Reply(message))
        );
        let ticket = TicketId::new();
        let ack = acknowledgement_message_id(ticket, "acme.example");
        assert_eq!(
            parse_our_message_id(&ack, &ours),
            Some(OurMessageId::Acknowledgement(ticket))
        );
        assert_eq!(parse_our_message_id("msg.zzz@acme.example", &ours), None);
        assert_eq!(
            parse_our_message_id(&id.replace("acme.example", "evil.test"), &ours),
            None
        );
    }

    #[test]
    fn sender_checks_its_fields() {
        assert!(TenantSender::new("not an address", "x").is_err());
        let sender = TenantSender::new("support@acme.example", "Acme").unwrap();
        assert!(sender.clone().with_message_id_domain("bad domain").is_err());
        assert_eq!(
            sender.reply_address("12-ab").unwrap().to_string(),
            "support+12-ab@acme.example"
        );
        assert!(sender.reply_address("a@b").is_err());
        assert!(sender.reply_address("").is_err());
    }
}
