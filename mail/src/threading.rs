//! Which ticket an inbound message belongs to.
//!
//! In order of trust: (a) the Message-IDs it answers (`In-Reply-To`, then `References`
//! newest first) against the ids we sent; (b) a reply token in a plus-address
//! (`support+<token>@`) among its recipients; (c) a `[#123]` tag in the subject, honoured
//! only when the sender is the ticket's requester or an address on its thread. The decision
//! is a pure function of the message and the caller's lookups, so every branch is tested
//! without a store.

use std::collections::HashMap;

use helpdesk_core::TicketId;

use crate::address::{OurMailboxes, same_address};
use crate::inbound::InboundMail;
use crate::noise::{NoiseReason, classify};

/// A ticket as the threading decision needs to see it. The caller fills it from its store.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThreadTicket {
    /// The ticket.
    pub id: TicketId,
    /// Its number in the tenant (`#123`).
    pub number: u64,
    /// The requester's e-mail address.
    pub requester: String,
    /// Other addresses on the thread (CCs the helpdesk kept) who may use the subject tag.
    pub participants: Vec<String>,
    /// Whether a customer's message opens a linked follow-up instead of landing on it. The
    /// caller decides: it knows the tenant's reopen window and the clock (Closed, or
    /// Resolved past the window, in `Helpdesk::reply`'s terms). A merged ticket should be
    /// looked up as the ticket it was merged into.
    pub closed: bool,
}

impl ThreadTicket {
    /// An open ticket with no participants besides its requester.
    pub fn new(id: TicketId, number: u64, requester: impl Into<String>) -> Self {
        Self {
            id,
            number,
            requester: requester.into(),
            participants: Vec::new(),
            closed: false,
        }
    }

    /// With these addresses on the thread besides the requester.
    #[must_use]
    pub fn with_participants<I, S>(mut self, participants: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.participants = participants.into_iter().map(Into::into).collect();
        self
    }

    /// Marked closed (see [`closed`](Self::closed)).
    #[must_use]
    pub fn closed(mut self, closed: bool) -> Self {
        self.closed = closed;
        self
    }

    /// Whether `address` is the requester or a participant.
    pub fn is_on_thread(&self, address: &str) -> bool {
        same_address(&self.requester, address)
            || self.participants.iter().any(|p| same_address(p, address))
    }
}

/// The caller's lookups, all within the one tenant the message was addressed to.
pub trait ThreadLookup {
    /// The ticket of a message we sent with this Message-ID (bare, without brackets).
    fn ticket_for_message_id(&self, message_id: &str) -> Option<ThreadTicket>;
    /// The ticket a reply token was issued for (see [`ReplyTokenKey`](crate::ReplyTokenKey)).
    fn ticket_for_reply_token(&self, token: &str) -> Option<ThreadTicket>;
    /// The ticket with this number.
    fn ticket_for_number(&self, number: u64) -> Option<ThreadTicket>;
}

/// Lookups answered from maps filled beforehand: an async caller reads
/// [`ThreadKeys::extract`] from the message, fetches those few keys from its store, and
/// decides with this.
#[derive(Clone, Debug, Default)]
pub struct PrefetchedLookup {
    by_message_id: HashMap<String, ThreadTicket>,
    by_token: HashMap<String, ThreadTicket>,
    by_number: HashMap<u64, ThreadTicket>,
}

impl PrefetchedLookup {
    /// Empty: every lookup misses.
    pub fn new() -> Self {
        Self::default()
    }

    /// `message_id` (bare) was sent on `ticket`.
    #[must_use]
    pub fn with_message_id(mut self, message_id: &str, ticket: ThreadTicket) -> Self {
        self.by_message_id.insert(message_id.to_string(), ticket);
        self
    }

    /// `token` belongs to `ticket`.
    #[must_use]
    pub fn with_reply_token(mut self, token: &str, ticket: ThreadTicket) -> Self {
        self.by_token.insert(token.to_ascii_lowercase(), ticket);
        self
    }

    /// `ticket` by its number.
    #[must_use]
    pub fn with_ticket(mut self, ticket: ThreadTicket) -> Self {
        self.by_number.insert(ticket.number, ticket);
        self
    }
}

impl ThreadLookup for PrefetchedLookup {
    fn ticket_for_message_id(&self, message_id: &str) -> Option<ThreadTicket> {
        self.by_message_id.get(message_id).cloned()
    }

    fn ticket_for_reply_token(&self, token: &str) -> Option<ThreadTicket> {
        self.by_token.get(&token.to_ascii_lowercase()).cloned()
    }

    fn ticket_for_number(&self, number: u64) -> Option<ThreadTicket> {
        self.by_number.get(&number).cloned()
    }
}

/// The threading keys of a message, each list in the order it is tried.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThreadKeys {
    /// `In-Reply-To` ids, then `References` newest first, without repeats.
    pub message_ids: Vec<String>,
    /// Reply tokens of our plus-addresses among the recipients (`To`, `Cc`, `Delivered-To`).
    pub reply_tokens: Vec<String>,
    /// `[#123]` tags in the subject, rightmost first (ours is appended at the end; a
    /// forwarded subject keeps older tags to the left).
    pub ticket_numbers: Vec<u64>,
}

impl ThreadKeys {
    /// Reads the keys of `mail`; a token counts only on one of `ours`' addresses.
    pub fn extract(mail: &InboundMail, ours: &OurMailboxes) -> Self {
        let mut message_ids: Vec<String> = Vec::new();
        let newest_first = mail.in_reply_to.iter().chain(mail.references.iter().rev());
        for id in newest_first {
            if !message_ids.contains(id) {
                message_ids.push(id.clone());
            }
        }
        let mut reply_tokens: Vec<String> = Vec::new();
        for token in mail
            .recipients()
            .iter()
            .filter_map(|address| ours.reply_token_in(address))
        {
            let token = token.to_ascii_lowercase();
            if !reply_tokens.contains(&token) {
                reply_tokens.push(token);
            }
        }
        Self {
            message_ids,
            reply_tokens,
            ticket_numbers: subject_tags(&mail.subject),
        }
    }
}

/// The `[#123]` tags of a subject, rightmost first, without repeats.
pub fn subject_tags(subject: &str) -> Vec<u64> {
    let mut numbers: Vec<u64> = Vec::new();
    for piece in subject.split("[#").skip(1) {
        let Some((digits, _)) = piece.split_once(']') else {
            continue;
        };
        let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        if let Some(number) = all_digits.then(|| digits.parse::<u64>().ok()).flatten()
            && !numbers.contains(&number)
        {
            numbers.push(number);
        }
    }
    numbers.reverse();
    numbers
}

/// How a message was matched to its ticket.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ThreadMatch {
    /// It answers one of our Message-IDs.
    MessageId(String),
    /// It was sent to one of our reply-token addresses.
    ReplyToken(String),
    /// Its subject carries the ticket's tag, and the sender is on the ticket's thread.
    SubjectTag(u64),
}

/// What to do with an inbound message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ThreadDecision {
    /// Open a ticket (channel `email`) for the sender.
    NewTicket {
        /// A subject tag that named a ticket the sender is not on, ignored (worth a log
        /// line: a stranger quoting a ticket number gets their own ticket, never another
        /// customer's thread).
        ignored_tag: Option<u64>,
    },
    /// Add the message to this ticket.
    Reply {
        /// The ticket.
        ticket: ThreadTicket,
        /// How it was found.
        matched_by: ThreadMatch,
    },
    /// The ticket is closed: open a follow-up linked to it (`Helpdesk::reply` does this for
    /// a customer's reply on its own).
    FollowUp {
        /// The closed ticket.
        closed: ThreadTicket,
        /// How it was found.
        matched_by: ThreadMatch,
    },
    /// Neither open a ticket nor reply.
    Ignore {
        /// Why.
        reason: NoiseReason,
    },
}

/// Decides where `mail` goes: noise is ignored first, then the keys are tried in order
/// (Message-IDs, reply tokens, subject tags checked against the sender), and a message
/// that matches nothing opens a ticket. The per-sender rate limit against mail storms is
/// the caller's, before this.
pub fn decide(
    mail: &InboundMail,
    ours: &OurMailboxes,
    lookup: &dyn ThreadLookup,
) -> ThreadDecision {
    match classify(mail, ours) {
        Some(reason) => ThreadDecision::Ignore { reason },
        None => decide_thread(mail, ours, lookup),
    }
}

/// [`decide`] without the noise filter: where `mail` goes when it is taken as a person's
/// message whatever its headers say (an admin re-ingesting an auto-reply from quarantine).
/// Never [`ThreadDecision::Ignore`].
pub fn decide_thread(
    mail: &InboundMail,
    ours: &OurMailboxes,
    lookup: &dyn ThreadLookup,
) -> ThreadDecision {
    let keys = ThreadKeys::extract(mail, ours);
    let found = keys
        .message_ids
        .iter()
        .find_map(|id| {
            lookup
                .ticket_for_message_id(id)
                .map(|t| (t, ThreadMatch::MessageId(id.clone())))
        })
        .or_else(|| {
            keys.reply_tokens.iter().find_map(|token| {
                lookup
                    .ticket_for_reply_token(token)
                    .map(|t| (t, ThreadMatch::ReplyToken(token.clone())))
            })
        });
    let mut ignored_tag = None;
    let found = found.or_else(|| {
        keys.ticket_numbers.iter().find_map(|number| {
            let ticket = lookup.ticket_for_number(*number)?;
            if ticket.is_on_thread(&mail.from.address) {
                Some((ticket, ThreadMatch::SubjectTag(*number)))
            } else {
                ignored_tag.get_or_insert(*number);
                None
            }
        })
    });
    match found {
        Some((ticket, matched_by)) if ticket.closed => ThreadDecision::FollowUp {
            closed: ticket,
            matched_by,
        },
        Some((ticket, matched_by)) => ThreadDecision::Reply { ticket, matched_by },
        None => ThreadDecision::NewTicket { ignored_tag },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn subject_tags_rightmost_first() {
        assert_eq!(subject_tags("Re: Fwd: old [#7] printer [#12]"), vec![12, 7]);
        assert_eq!(subject_tags("[#12] and [#12]"), vec![12]);
        assert!(subject_tags("[#] [#abc] [#-1] [# 3] [#99999999999999999999999]").is_empty());
        assert_eq!(subject_tags("[#0042]"), vec![42]);
    }
}
