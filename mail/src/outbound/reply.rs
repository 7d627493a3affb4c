//! An agent's public reply to the requester.

use helpdesk_core::MessageId;
use lettre::Address;
use lettre::message::Mailbox as LettreMailbox;

use super::assemble::{Draft, OutboundAttachment, OutboundMail, assemble, clean_thread_id};
use super::{TenantSender, reply_message_id, reply_subject};
use crate::address::same_address;
use crate::error::BuildError;
use crate::inbound::one_line;

/// Lines of the customer's last message quoted under a reply.
const QUOTE_MAX_LINES: usize = 20;
/// Characters of the customer's last message quoted under a reply.
const QUOTE_MAX_CHARS: usize = 2_000;

/// The message a reply quotes (usually the customer's last one, its new text only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuotedMessage {
    /// Who wrote it (`Jane Doe`).
    pub author: String,
    /// When, if known.
    pub sent_at: Option<jiff::Timestamp>,
    /// Its text.
    pub text: String,
}

/// Builds an agent's reply: see [`ReplyMailBuilder::build`] for what it checks.
#[derive(Clone, Debug)]
pub struct ReplyMailBuilder {
    sender: TenantSender,
    message: Option<MessageId>,
    ticket_number: Option<u64>,
    subject: Option<String>,
    to: Option<(String, Option<String>)>,
    cc: Vec<(String, Option<String>)>,
    body: Option<String>,
    thread: Vec<String>,
    quote: Option<QuotedMessage>,
    reply_token: Option<String>,
    date: Option<jiff::Timestamp>,
    attachments: Vec<OutboundAttachment>,
}

impl ReplyMailBuilder {
    /// A reply from `sender` (the tenant's address, name and signature).
    pub fn new(sender: &TenantSender) -> Self {
        Self {
            sender: sender.clone(),
            message: None,
            ticket_number: None,
            subject: None,
            to: None,
            cc: Vec::new(),
            body: None,
            thread: Vec::new(),
            quote: None,
            reply_token: None,
            date: None,
            attachments: Vec::new(),
        }
    }

    /// The helpdesk message this mail carries: its Message-ID is derived from it, so a
    /// resend is the same mail. Required.
    #[must_use]
    pub fn message(mut self, message: MessageId) -> Self {
        self.message = Some(message);
        self
    }

    /// The ticket's number and subject, for `Re: <subject> [#123]`. Required.
    #[must_use]
    pub fn ticket(mut self, number: u64, subject: &str) -> Self {
        self.ticket_number = Some(number);
        self.subject = Some(subject.to_string());
        self
    }

    /// The requester. Required.
    #[must_use]
    pub fn to(mut self, address: &str, name: Option<&str>) -> Self {
        self.to = Some((address.to_string(), name.map(str::to_string)));
        self
    }

    /// A CC kept from the thread. Our own addresses and the requester are dropped (a copy
    /// to ourselves would come back as a loop).
    #[must_use]
    pub fn cc(mut self, address: &str, name: Option<&str>) -> Self {
        self.cc
            .push((address.to_string(), name.map(str::to_string)));
        self
    }

    /// The reply text (never an internal note: the caller sends public replies only).
    /// Required.
    #[must_use]
    pub fn body(mut self, text: &str) -> Self {
        self.body = Some(text.to_string());
        self
    }

    /// The Message-IDs of the thread so far, oldest first (the customer's first mail, our
    /// replies, their answers); the last is the one this answers (`In-Reply-To`).
    #[must_use]
    pub fn thread<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.thread = ids.into_iter().map(|id| id.as_ref().to_string()).collect();
        self
    }

    /// The message quoted (shortly) under the reply.
    #[must_use]
    pub fn quote(mut self, quote: QuotedMessage) -> Self {
        self.quote = Some(quote);
        self
    }

    /// The ticket's reply token: `Reply-To: <support+token@domain>`.
    #[must_use]
    pub fn reply_token(mut self, token: &str) -> Self {
        self.reply_token = Some(token.to_string());
        self
    }

    /// The `Date` (from the helpdesk's clock). Required, so a build is reproducible.
    #[must_use]
    pub fn date(mut self, date: jiff::Timestamp) -> Self {
        self.date = Some(date);
        self
    }

    /// A file attached to the reply.
    #[must_use]
    pub fn attachment(mut self, attachment: OutboundAttachment) -> Self {
        self.attachments.push(attachment);
        self
    }

    /// Checks every field and builds the mail. Errors name the field: a missing required
    /// one, an invalid address, a thread id that is not a Message-ID, a token that cannot be
    /// in an address, an attachment type that does not parse.
    pub fn build(self) -> Result<OutboundMail, BuildError> {
        let message = self
            .message
            .ok_or(BuildError::Missing { field: "message" })?;
        let number = self
            .ticket_number
            .ok_or(BuildError::Missing { field: "ticket" })?;
        let subject = self.subject.unwrap_or_default();
        let (to_address, to_name) = self.to.ok_or(BuildError::Missing { field: "to" })?;
        let body = self.body.ok_or(BuildError::Missing { field: "body" })?;
        let date = self.date.ok_or(BuildError::Missing { field: "date" })?;
        let to = mailbox("to", &to_address, to_name.as_deref())?;
        let mut cc: Vec<LettreMailbox> = Vec::new();
        for (address, name) in &self.cc {
            let mailbox = mailbox("cc", address, name.as_deref())?;
            let email = mailbox.email.to_string();
            let skip = same_address(&email, to.email.as_ref())
                || self.sender.our_mailboxes().is_ours(&email)
                || cc.iter().any(|c| same_address(c.email.as_ref(), &email));
            if !skip {
                cc.push(mailbox);
            }
        }
        let thread = self
            .thread
            .iter()
            .map(|id| clean_thread_id(id))
            .collect::<Result<Vec<_>, _>>()?;
        let reply_to = match &self.reply_token {
            Some(token) => Some(LettreMailbox::new(
                display_name(&self.sender),
                self.sender.reply_address(token)?,
            )),
            None => None,
        };
        let text = reply_text(&body, self.sender.signature.as_deref(), self.quote.as_ref());
        assemble(Draft {
            sender: &self.sender,
            to,
            cc,
            subject: reply_subject(&subject, number),
            body: text,
            message_id: reply_message_id(message, &self.sender.message_id_domain),
            thread: &thread,
            reply_to,
            date: date.into(),
            automatic: false,
            attachments: &self.attachments,
        })
    }
}

pub(super) fn display_name(sender: &TenantSender) -> Option<String> {
    (!sender.display_name.is_empty()).then(|| sender.display_name.clone())
}

/// A recipient, checked: `field` names it in the error.
pub(super) fn mailbox(
    field: &'static str,
    address: &str,
    name: Option<&str>,
) -> Result<LettreMailbox, BuildError> {
    let email: Address = address
        .trim()
        .parse()
        .map_err(|source| BuildError::InvalidAddress {
            field,
            value: address.to_string(),
            source,
        })?;
    let name = name.map(one_line).filter(|n| !n.is_empty());
    Ok(LettreMailbox::new(name, email))
}

/// Reply text, then the signature under `-- `, then a short quote of the message answered.
fn reply_text(body: &str, signature: Option<&str>, quote: Option<&QuotedMessage>) -> String {
    let mut text = body.replace("\r\n", "\n").trim_end().to_string();
    if let Some(signature) = signature {
        text.push_str("\n\n-- \n");
        text.push_str(signature);
    }
    if let Some(quote) = quote {
        text.push_str("\n\n");
        text.push_str(&quoted(quote));
    }
    text.push('\n');
    text
}

/// "On <date>, <author> wrote:" and the first lines of the text, each prefixed with `> `.
pub(super) fn quoted(quote: &QuotedMessage) -> String {
    let author = one_line(&quote.author);
    let author = if author.is_empty() {
        "you".to_string()
    } else {
        author
    };
    let mut out = match quote.sent_at {
        Some(at) => format!(
            "On {}, {author} wrote:\n",
            at.strftime("%a, %-d %b %Y at %H:%M UTC")
        ),
        None => format!("{author} wrote:\n"),
    };
    let text = quote.text.replace("\r\n", "\n");
    let text = text.trim();
    let mut used = 0;
    for (count, line) in text.lines().enumerate() {
        if count == QUOTE_MAX_LINES || used + line.len() > QUOTE_MAX_CHARS {
            out.push_str("> [...]\n");
            break;
        }
        out.push_str(if line.is_empty() { ">" } else { "> " });
        out.push_str(line);
        out.push('\n');
        used += line.len();
    }
    out.trim_end().to_string()
}
