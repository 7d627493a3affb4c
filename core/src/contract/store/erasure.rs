//! Erasing personal data from stored tickets: the one write that rewrites history.
//!
//! Everything else in the store is append-only or replaced whole; an erasure must also
//! reach what earlier commits recorded (the snapshot in a ticket's `Created` event, the
//! custom field values in its events, its message bodies, its files), and the search
//! indexes built from them. [`ErasureStore::erase_ticket`] does all of it in one commit.
//! What is removed and what is kept is [`crate::erasure`]'s to say; the store applies it.

use async_trait::async_trait;
use jiff::Timestamp;

use super::TicketWrite;
use crate::domain::{Event, EventKind, Sha256, Ticket};
use crate::{AttachmentId, Error, Result, TenantId};

/// A ticket's erasure, committed whole or not at all by [`ErasureStore::erase_ticket`].
#[derive(Debug, Clone, PartialEq)]
pub struct TicketErasure {
    /// The ticket's change, as [`TicketStore::update_ticket`](super::TicketStore::update_ticket)
    /// commits it: the erased ticket, its
    /// [`PersonalDataErased`](crate::domain::EventKind::PersonalDataErased) event, and its
    /// messages with their texts erased (each replaces the stored message with its id).
    /// It adds no attachments, outbox entries, chat activity or idempotency key.
    pub write: TicketWrite,
    /// Earlier events of the ticket with what they recorded erased: each replaces the
    /// stored event with its id, which keeps its ticket, version, time, actor and kind.
    pub events: Vec<Event>,
    /// The ticket's attachments whose metadata is deleted (their bytes are deleted from
    /// the blob store before the commit).
    pub attachments: Vec<AttachmentId>,
}

impl TicketErasure {
    /// What every backend checks before committing: the write is an erasure (its last
    /// event is `PersonalDataErased`, nothing is added besides its events and messages),
    /// and each replaced event is an earlier one of the same ticket (not itself an
    /// erasure mark). Errors are `Validation` errors naming the field.
    pub fn check(&self, expected_version: u64) -> Result<()> {
        let w = &self.write;
        w.check_previous(expected_version)?;
        if !matches!(
            w.events.last().map(|e| &e.kind),
            Some(EventKind::PersonalDataErased { .. })
        ) {
            return Err(Error::validation(
                "write.events",
                "an erasure ends with its personal_data_erased event",
            ));
        }
        if !w.attachments.is_empty()
            || !w.outbox.is_empty()
            || w.chat_activity.is_some()
            || w.idempotency_key.is_some()
        {
            return Err(Error::validation(
                "write",
                "an erasure adds no attachments, outbox entries, chat activity or key",
            ));
        }
        let t = &w.ticket;
        if w.messages
            .iter()
            .any(|m| m.tenant_id != t.tenant_id || m.ticket_id != t.id)
        {
            return Err(Error::validation(
                "write.messages",
                "must be messages of the erased ticket",
            ));
        }
        for (i, e) in self.events.iter().enumerate() {
            if e.tenant_id != t.tenant_id || e.ticket_id != t.id || e.version > expected_version {
                return Err(Error::validation(
                    format!("events[{i}]"),
                    "must be an earlier event of the erased ticket",
                ));
            }
            if matches!(e.kind, EventKind::PersonalDataErased { .. }) {
                return Err(Error::validation(
                    format!("events[{i}]"),
                    "an erasure mark is never rewritten",
                ));
            }
        }
        Ok(())
    }

    /// The error a backend gives when a replaced event is not a stored event of the
    /// ticket with that id and kind (nothing is written then).
    pub fn unknown_event(event: &Event) -> Error {
        Error::not_found("event", event.id)
    }
}

/// Erasure of personal data, and the tickets a retention policy erases.
#[async_trait]
pub trait ErasureStore: Send + Sync {
    /// Commits `erasure` atomically: the write as
    /// [`update_ticket`](super::TicketStore::update_ticket) commits it (the expected
    /// version checked, `Conflict` or `NotFound` otherwise), each of `erasure.events`
    /// replacing the stored event of the ticket with its id and kind (any other id is
    /// [`TicketErasure::unknown_event`]), the attachments' metadata deleted (ids that are
    /// not the ticket's are left alone), and every outbox entry of the ticket deleted
    /// (delivered or not: a notification names the ticket's subject). Search indexes
    /// follow: a search no longer finds the erased texts once this returns. Invalid
    /// erasures ([`TicketErasure::check`]) write nothing.
    async fn erase_ticket(&self, expected_version: u64, erasure: &TicketErasure) -> Result<()>;

    /// The tenant's tickets created before `before` whose personal data is not erased
    /// (`erased_at` unset), oldest first, at most `limit`: what the retention policy
    /// works through.
    async fn retention_due(
        &self,
        tenant: TenantId,
        before: Timestamp,
        limit: u32,
    ) -> Result<Vec<Ticket>>;

    /// Whether an attachment of the tenant has bytes with this SHA-256: an erased file's
    /// bytes are deleted from the (content-addressed) blob store only when none has.
    async fn blob_in_use(&self, tenant: TenantId, sha256: &Sha256) -> Result<bool>;
}
