//! The automatic "we received your request #123" mail on a new ticket.

use helpdesk_core::TicketId;
use lettre::message::Mailbox as LettreMailbox;

use super::assemble::{Draft, OutboundMail, assemble, clean_thread_id};
use super::reply::{display_name, mailbox};
use super::{TenantSender, acknowledgement_message_id, base_subject, reply_subject};
use crate::error::BuildError;
use crate::inbound::one_line;

/// Builds the acknowledgement of a new ticket. It is marked `Auto-Submitted: auto-replied`
/// (RFC 3834) and `X-Auto-Response-Suppress: All`, so that well-behaved responders (ours
/// included) never answer it; the caller sends it only for a ticket a person's mail opened
/// ([`decide`](crate::decide) returned `NewTicket`, never for noise).
#[derive(Clone, Debug)]
pub struct AcknowledgementBuilder {
    sender: TenantSender,
    ticket: Option<(TicketId, u64, String)>,
    to: Option<(String, Option<String>)>,
    in_reply_to: Option<String>,
    body: Option<String>,
    reply_token: Option<String>,
    date: Option<jiff::Timestamp>,
}

impl AcknowledgementBuilder {
    /// An acknowledgement from `sender`.
    pub fn new(sender: &TenantSender) -> Self {
        Self {
            sender: sender.clone(),
            ticket: None,
            to: None,
            in_reply_to: None,
            body: None,
            reply_token: None,
            date: None,
        }
    }

    /// The new ticket: id (the Message-ID is derived from it), number and subject. Required.
    #[must_use]
    pub fn ticket(mut self, id: TicketId, number: u64, subject: &str) -> Self {
        self.ticket = Some((id, number, subject.to_string()));
        self
    }

    /// The requester. Required.
    #[must_use]
    pub fn to(mut self, address: &str, name: Option<&str>) -> Self {
        self.to = Some((address.to_string(), name.map(str::to_string)));
        self
    }

    /// The Message-ID of the customer's mail that opened the ticket, so the
    /// acknowledgement threads under it.
    #[must_use]
    pub fn in_reply_to(mut self, message_id: &str) -> Self {
        self.in_reply_to = Some(message_id.to_string());
        self
    }

    /// The tenant's own wording. `{number}` and `{subject}` are replaced; without it a
    /// plain English text is used.
    #[must_use]
    pub fn body(mut self, template: &str) -> Self {
        self.body = Some(template.to_string());
        self
    }

    /// The ticket's reply token: `Reply-To: <support+token@domain>`.
    #[must_use]
    pub fn reply_token(mut self, token: &str) -> Self {
        self.reply_token = Some(token.to_string());
        self
    }

    /// The `Date` (from the helpdesk's clock). Required.
    #[must_use]
    pub fn date(mut self, date: jiff::Timestamp) -> Self {
        self.date = Some(date);
        self
    }

    /// Checks every field and builds the mail; errors name the field.
    pub fn build(self) -> Result<OutboundMail, BuildError> {
        let (ticket, number, subject) =
            self.ticket.ok_or(BuildError::Missing { field: "ticket" })?;
        let (to_address, to_name) = self.to.ok_or(BuildError::Missing { field: "to" })?;
        let date = self.date.ok_or(BuildError::Missing { field: "date" })?;
        let to = mailbox("to", &to_address, to_name.as_deref())?;
        let thread = match &self.in_reply_to {
            Some(id) => vec![clean_thread_id(id)?],
            None => Vec::new(),
        };
        let reply_to = match &self.reply_token {
            Some(token) => Some(LettreMailbox::new(
                display_name(&self.sender),
                self.sender.reply_address(token)?,
            )),
            None => None,
        };
        let shown_subject = one_line(&base_subject(&subject));
        let template = self.body.unwrap_or_else(|| {
            "Hello,\n\nwe received your request #{number} \"{subject}\" and will answer it as soon as we can.\nTo add to it, reply to this e-mail and keep [#{number}] in the subject.".to_string()
        });
        let mut body = template
            .replace("\r\n", "\n")
            .replace("{number}", &number.to_string())
            .replace("{subject}", &shown_subject);
        if let Some(signature) = &self.sender.signature {
            body.push_str("\n\n-- \n");
            body.push_str(signature);
        }
        body.push('\n');
        assemble(Draft {
            sender: &self.sender,
            to,
            cc: Vec::new(),
            subject: reply_subject(&subject, number),
            body,
            message_id: acknowledgement_message_id(ticket, &self.sender.message_id_domain),
            thread: &thread,
            reply_to,
            date: date.into(),
            automatic: true,
            attachments: &[],
        })
    }
}
