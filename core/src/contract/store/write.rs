//! What one ticket change commits ([`TicketWrite`]), the chat-session effect that rides
//! along with it ([`ChatActivity`]), and the checks every backend runs before committing.

use jiff::Timestamp;

use super::RoutingClaim;
use crate::ChatSessionId;
use crate::domain::{
    Attachment, ChatSession, Event, EventKind, Message, ModelUsage, OutboxEntry, Ticket,
};

/// Where a new ticket's number goes in the text of a message its creating write adds
/// (an automatic reply that names the number), before the store numbers the ticket:
/// [`TicketWrite::set_ticket_number`] replaces it. Control characters are refused in
/// every text from outside, so no one can type it.
pub const TICKET_NUMBER_SLOT: &str = "\u{1}ticket.number\u{1}";

/// Everything committed together with one ticket change.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketWrite {
    /// The ticket's new state (`version` = 1 on create, expected + 1 on update).
    pub ticket: Ticket,
    /// On an update, the ticket this change was planned on, as stored at the expected
    /// version, when the writer has it (the service always does). A backend may then write
    /// only what differs from it without reading the stored row first; the expected
    /// version still decides, so a stale `previous` is a `Conflict` like any stale write.
    /// It must be the stored ticket at that version: the in-memory reference store rejects
    /// a write whose `previous` differs from what it holds (a `Validation` error on
    /// `previous`), so the conformance suite catches a writer that breaks this.
    /// `None`: the backend compares with the stored row itself. Ignored on create.
    pub previous: Option<Ticket>,
    /// Events of this change, in order; each has `version == ticket.version`.
    pub events: Vec<Event>,
    /// Messages to insert, or to replace by id (draft decisions).
    pub messages: Vec<Message>,
    /// Metadata of files attached to messages of this write (or to the ticket itself),
    /// inserted with them (never replaced: a used attachment id is
    /// `Duplicate { kind: Id }`). Each belongs to the ticket and, when it has a message, to
    /// one of `messages` ([`TicketWrite::check_attachments`]); its bytes are already in the
    /// blob store.
    pub attachments: Vec<Attachment>,
    /// Notifications to queue.
    pub outbox: Vec<OutboxEntry>,
    /// Intake idempotency key, recorded on create.
    pub idempotency_key: Option<String>,
    /// What this change does to a chat session of the ticket's tenant (a chat turn marks
    /// it active, a handoff gives it to a human, ...), committed with the rest.
    pub chat_activity: Option<ChatActivity>,
    /// What the language-model calls of this change spent, appended to the tenant's usage
    /// record ([`ModelUsageStore`](super::ModelUsageStore)) in the same commit.
    pub model_usage: Vec<ModelUsage>,
    /// A routed assignment's claim on its assignee ([`RoutingClaim`]), checked and applied
    /// in the same commit; `None` for every write the router did not assign (manual
    /// assignments included).
    pub routing: Option<RoutingClaim>,
}

/// What a [`TicketWrite`] does to a chat session of the ticket's tenant, in the same
/// commit: a chat turn and the session's activity, a handoff and the session going to a
/// human, a bot resolution and the session closing are each one write, not two.
///
/// Every activity moves the session's `last_activity_at` forward to `at` (never back) and
/// its `version` up by one (so a concurrent read-modify-write of the session, such as the
/// inactivity sweep closing it, sees a conflict and re-reads). With `links_ticket` (the
/// write that opens the chat's ticket) the session's `ticket_id` is set to the write's
/// ticket. `transition` changes the session's state ([`SessionTransition`]). The whole
/// effect is [`ChatSession::apply_activity`]; backends must store exactly what it gives.
///
/// Backends with transactions apply it in the ticket write's transaction; the document
/// backend applies it with the rest of the commit (see its docs). The whole write fails,
/// and nothing is written, when the session is not the tenant's (`NotFound`), when
/// `expected_version` is set and the stored session has another version (`Conflict` on
/// `chat_session`), or when a linking write finds that the session already has a ticket
/// ([`Error::ChatSessionLinked`](crate::Error::ChatSessionLinked)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatActivity {
    /// The session, of the ticket's tenant.
    pub session: ChatSessionId,
    /// The moment of the activity.
    pub at: Timestamp,
    /// Whether this write opens the session's ticket (sets `ticket_id`).
    pub links_ticket: bool,
    /// The session version the change was planned on; `None` for a plain activity mark
    /// that does not depend on the session's state.
    pub expected_version: Option<u64>,
    /// A change of the session's state made with this write.
    pub transition: Option<SessionTransition>,
}

/// A change of a chat session's state committed with a ticket write ([`ChatActivity`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionTransition {
    /// Handed off to a human: the state becomes `Human` (a closed session stays closed)
    /// and `reason` becomes the handoff reason.
    HandOff {
        /// Why.
        reason: String,
    },
    /// An agent answered in the session: a session the bot had becomes `Human`, with
    /// `reason` as its handoff reason unless it already has one; other states stay.
    TakeOver {
        /// The reason recorded when the bot had the session.
        reason: String,
    },
    /// The session closes (`Closed`, `closed_at` = the activity's time); `resolved_by_bot`
    /// records that the bot solved the customer's problem.
    Close {
        /// Whether the bot resolved it.
        resolved_by_bot: bool,
    },
}

impl ChatActivity {
    /// The error every backend gives when a linking write finds the session already has a
    /// ticket.
    pub fn already_linked(&self) -> crate::Error {
        crate::Error::ChatSessionLinked {
            session: self.session.to_string(),
        }
    }

    /// The error every backend gives when `expected_version` is not the stored one.
    pub fn stale(&self) -> crate::Error {
        crate::Error::Conflict {
            entity: "chat_session",
            id: self.session.to_string(),
            expected: self.expected_version.unwrap_or_default(),
        }
    }

    /// Checks the activity against the stored `session` (of the write's tenant): the
    /// expected version, and that a linking write finds no ticket yet.
    pub fn check(&self, session: &ChatSession) -> crate::Result<()> {
        if self.expected_version.is_some_and(|v| v != session.version) {
            return Err(self.stale());
        }
        if self.links_ticket && session.ticket_id.is_some() {
            return Err(self.already_linked());
        }
        Ok(())
    }
}

impl TicketWrite {
    /// Checks the write's [`RoutingClaim`], when it has one, against its ticket
    /// ([`RoutingClaim::check`]): what every backend checks before committing.
    pub fn check_routing(&self) -> crate::Result<()> {
        self.routing
            .as_ref()
            .map_or(Ok(()), |claim| claim.check(self.ticket.assignee))
    }

    /// Checks that every attachment is of the write's tenant and ticket, comes with one of
    /// the write's messages (unless it is on the ticket itself) and has an id no other attachment of the write has (that is
    /// `Duplicate { kind: Id }`): what every backend checks before storing a write.
    pub fn check_attachments(&self) -> crate::Result<()> {
        for (i, a) in self.attachments.iter().enumerate() {
            if self.attachments[..i].iter().any(|b| b.id == a.id) {
                return Err(crate::Error::Duplicate {
                    kind: crate::DuplicateKind::Id,
                    value: a.id.to_string(),
                });
            }
            if a.tenant_id != self.ticket.tenant_id || a.ticket_id != self.ticket.id {
                return Err(crate::Error::validation(
                    format!("attachments[{i}]"),
                    "must belong to the write's ticket and tenant",
                ));
            }
            if a.message_id
                .is_some_and(|id| !self.messages.iter().any(|m| m.id == id))
            {
                return Err(crate::Error::validation(
                    format!("attachments[{i}]"),
                    "must come with one of the write's messages",
                ));
            }
        }
        Ok(())
    }

    /// Checks that `previous`, when present, is the same ticket as `ticket`, of the same
    /// tenant, at `expected_version`, and that `ticket` is its next version: the part of the
    /// `previous` contract a backend can check without reading the stored row.
    pub fn check_previous(&self, expected_version: u64) -> crate::Result<()> {
        let Some(previous) = &self.previous else {
            return Ok(());
        };
        if previous.id != self.ticket.id || previous.tenant_id != self.ticket.tenant_id {
            return Err(crate::Error::validation(
                "previous",
                "must be the same ticket of the same tenant as the write",
            ));
        }
        if previous.version != expected_version {
            return Err(crate::Error::validation(
                "previous",
                format!(
                    "has version {} but the write expects version {expected_version}",
                    previous.version
                ),
            ));
        }
        if self.ticket.version != expected_version.saturating_add(1) {
            return Err(crate::Error::validation(
                "ticket.version",
                format!("must be the expected version {expected_version} + 1"),
            ));
        }
        Ok(())
    }

    /// Gives a new ticket its number everywhere a create write carries it: the ticket, the
    /// snapshot in its `Created` event, its outbox notifications, and each
    /// [`TICKET_NUMBER_SLOT`] in the text of its messages. The one place the
    /// number is filled in: every backend calls it in
    /// [`TicketStore::create_ticket`](super::TicketStore::create_ticket) with the number it
    /// allocated, before it stores the write. Writers leave the number 0.
    pub fn set_ticket_number(&mut self, number: u64) {
        self.ticket.number = number;
        for event in &mut self.events {
            if let EventKind::Created { ticket } = &mut event.kind {
                ticket.number = number;
            }
        }
        for entry in &mut self.outbox {
            entry.notification.ticket_number = number;
        }
        for message in &mut self.messages {
            if message.body.contains(TICKET_NUMBER_SLOT) {
                message.body = message
                    .body
                    .replace(TICKET_NUMBER_SLOT, &number.to_string());
            }
        }
    }
}

/// Checks what every backend checks before committing several ticket writes at once
/// ([`TicketStore::update_tickets`](super::TicketStore::update_tickets)): all of them of
/// one tenant, no ticket twice, and each write's `previous` consistent with its expected
/// version ([`TicketWrite::check_previous`]).
pub fn check_ticket_batch(writes: &[(u64, TicketWrite)]) -> crate::Result<()> {
    let Some((_, first)) = writes.first() else {
        return Ok(());
    };
    let tenant = first.ticket.tenant_id;
    for (i, (expected, write)) in writes.iter().enumerate() {
        if write.ticket.tenant_id != tenant {
            return Err(crate::Error::validation(
                "writes",
                "all writes of one commit must be of the same tenant",
            ));
        }
        if writes[..i]
            .iter()
            .any(|(_, w)| w.ticket.id == write.ticket.id)
        {
            return Err(crate::Error::validation(
                "writes",
                format!("ticket {} appears more than once", write.ticket.id),
            ));
        }
        write.check_previous(*expected)?;
        if write.routing.is_some() {
            return Err(crate::Error::validation(
                "routing",
                "a routed assignment is committed alone (update_ticket), not in a batch",
            ));
        }
    }
    Ok(())
}
