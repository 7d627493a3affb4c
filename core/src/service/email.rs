//! The e-mail channel's use case: an inbound mail, already parsed and routed by the mail
//! crate, becomes a new ticket, a customer reply, a follow-up or an internal note, in one
//! atomic write, exactly once per Message-ID.
//!
//! The tenant is the delivery route's (the pipe's tenant, the IMAP mailbox's
//! configuration), never something the message says.

use super::attachments::NewAttachment;
use crate::TicketId;
use crate::domain::Ticket;

/// An inbound e-mail, parsed and routed, for [`Helpdesk::receive_email`](crate::Helpdesk::receive_email).
///
/// Everything in it is untrusted text from the sender; the helpdesk bounds and validates it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InboundEmail {
    /// Its Message-ID, bare (no angle brackets); the mail crate makes one from the raw
    /// bytes' SHA-256 when the mail has none. Receiving the same id twice is a
    /// [`EmailDisposition::Duplicate`].
    pub message_id: String,
    /// The sender's address.
    pub from_address: String,
    /// The sender's display name (may be empty).
    pub from_name: String,
    /// Addresses it was copied to.
    pub cc: Vec<String>,
    /// Its `In-Reply-To` then `References` ids, bare.
    pub references: Vec<String>,
    /// The subject; empty becomes `"(no subject)"`.
    pub subject: String,
    /// The full text, quotes included (the desk folds them).
    pub body: String,
    /// Its files.
    pub attachments: Vec<NewAttachment>,
    /// Where the mail crate's threading put it.
    pub route: EmailRoute,
}

impl InboundEmail {
    /// A mail with this Message-ID from this address, routed to `route`, with no name,
    /// copies, references, subject, text or files (add them with the builder methods).
    pub fn new(
        message_id: impl Into<String>,
        from_address: impl Into<String>,
        route: EmailRoute,
    ) -> Self {
        Self {
            message_id: message_id.into(),
            from_address: from_address.into(),
            from_name: String::new(),
            cc: Vec::new(),
            references: Vec::new(),
            subject: String::new(),
            body: String::new(),
            attachments: Vec::new(),
            route,
        }
    }

    /// With the sender's display name.
    pub fn with_from_name(mut self, name: impl Into<String>) -> Self {
        self.from_name = name.into();
        self
    }

    /// With the `Cc` addresses.
    pub fn with_cc(mut self, cc: Vec<String>) -> Self {
        self.cc = cc;
        self
    }

    /// With the referenced Message-IDs (`In-Reply-To` first, then `References`).
    pub fn with_references(mut self, references: Vec<String>) -> Self {
        self.references = references;
        self
    }

    /// With the subject.
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = subject.into();
        self
    }

    /// With the text.
    pub fn with_body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }

    /// With files.
    pub fn with_attachments(mut self, attachments: Vec<NewAttachment>) -> Self {
        self.attachments = attachments;
        self
    }
}

/// Where an inbound mail goes, as the mail crate's threading decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmailRoute {
    /// Nothing matched: a new ticket.
    New,
    /// A reply to this ticket (found by our Message-IDs, the reply token or the subject
    /// tag); an unknown or another tenant's id is `NotFound`.
    Ticket(TicketId),
}

/// What [`Helpdesk::receive_email`](crate::Helpdesk::receive_email) did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EmailOutcome {
    /// The ticket the mail landed on (the new one, the replied one, the follow-up, or for
    /// a duplicate the one the first delivery landed on), as stored.
    pub ticket: Ticket,
    /// What became of the mail.
    pub disposition: EmailDisposition,
}

/// What became of an inbound mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmailDisposition {
    /// A new ticket was opened (channel Email).
    Opened,
    /// A customer reply on the routed ticket.
    Replied,
    /// The routed ticket was closed (or resolved past the reopen window): a linked
    /// follow-up ticket was opened with the mail as its description.
    FollowUp {
        /// The closed ticket.
        of: TicketId,
    },
    /// Routed to a ticket, but the sender is not its requester: kept as an internal note
    /// for staff, never shown to the requester.
    FromOtherSender,
    /// This Message-ID was already received: nothing was written.
    Duplicate,
}
