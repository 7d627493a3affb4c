//! Building one ticket change: events applied as they are added, plus messages and outbox.

use jiff::Timestamp;

use crate::domain::{
    Attachment, AuthorKind, ChatSession, Event, EventKind, Message, MessageKind, ModelUsage,
    Notification, NotificationKind, OutboxEntry, Ticket,
};
use crate::service::attachments::StoredBlob;
use crate::store::{ChatActivity, RoutingClaim, SessionTransition, TicketWrite};
use crate::{AttachmentId, ChatSessionId, EventId, MessageId, OutboxId, UserId};

/// Accumulates one commit: every event is applied to the working copy immediately, so
/// later decisions see the new state, and the stored ticket is exactly the fold of its
/// events.
#[derive(Clone)]
pub(crate) struct Change {
    ticket: Ticket,
    /// The ticket an update is planned on (`None` for a new ticket).
    previous: Option<Ticket>,
    version: u64,
    at: Timestamp,
    actor: Option<UserId>,
    events: Vec<Event>,
    messages: Vec<Message>,
    attachments: Vec<Attachment>,
    outbox: Vec<OutboxEntry>,
    chat_activity: Option<ChatActivity>,
    model_usage: Vec<ModelUsage>,
    routing: Option<RoutingClaim>,
}

impl Change {
    /// A change of an existing ticket (version + 1), planned on `ticket` as stored (the
    /// write's `previous`, so the store need not read it again).
    pub(crate) fn of(ticket: &Ticket, at: Timestamp, actor: Option<UserId>) -> Self {
        Self {
            ticket: ticket.clone(),
            previous: Some(ticket.clone()),
            version: ticket.version + 1,
            at,
            actor,
            events: Vec::new(),
            messages: Vec::new(),
            attachments: Vec::new(),
            outbox: Vec::new(),
            chat_activity: None,
            model_usage: Vec::new(),
            routing: None,
        }
    }

    /// The first change of a new ticket: its `Created` event (version 1).
    pub(crate) fn create(initial: Ticket, actor: Option<UserId>) -> Self {
        let at = initial.created_at;
        let mut change = Self {
            ticket: initial.clone(),
            previous: None,
            version: 1,
            at,
            actor,
            events: Vec::new(),
            messages: Vec::new(),
            attachments: Vec::new(),
            outbox: Vec::new(),
            chat_activity: None,
            model_usage: Vec::new(),
            routing: None,
        };
        change.push(EventKind::Created {
            ticket: Box::new(initial),
        });
        change
    }

    /// Continues a planned write with more events of the same commit (same version), made
    /// by `actor` at `at` (automations: the system); the write's idempotency key is
    /// returned to put back on the finished write.
    pub(crate) fn resume(
        write: TicketWrite,
        at: Timestamp,
        actor: Option<UserId>,
    ) -> (Self, Option<String>) {
        let change = Self {
            version: write.ticket.version,
            ticket: write.ticket,
            previous: write.previous,
            at,
            actor,
            events: write.events,
            messages: write.messages,
            attachments: write.attachments,
            outbox: write.outbox,
            chat_activity: write.chat_activity,
            model_usage: write.model_usage,
            routing: write.routing,
        };
        (change, write.idempotency_key)
    }

    /// Changes the kind of the event at `index` (one that does not change the ticket's
    /// state: the record of an automation rule).
    pub(crate) fn amend_event(&mut self, index: usize, f: impl FnOnce(&mut EventKind)) {
        if let Some(e) = self.events.get_mut(index) {
            f(&mut e.kind);
        }
    }

    /// The events so far.
    pub(crate) fn events(&self) -> &[Event] {
        &self.events
    }

    /// The ticket as changed so far.
    pub(crate) fn ticket(&self) -> &Ticket {
        &self.ticket
    }

    /// Who makes the change.
    pub(crate) fn actor(&self) -> Option<UserId> {
        self.actor
    }

    /// The commit time.
    pub(crate) fn at(&self) -> Timestamp {
        self.at
    }

    /// Adds and applies an event.
    pub(crate) fn push(&mut self, kind: EventKind) {
        let event = Event {
            id: EventId::new(),
            tenant_id: self.ticket.tenant_id,
            ticket_id: self.ticket.id,
            version: self.version,
            at: self.at,
            actor: self.actor,
            kind,
        };
        self.ticket.apply(&event);
        self.events.push(event);
    }

    /// Adds a message and its `MessageAdded` event; returns the message.
    pub(crate) fn add_message(
        &mut self,
        author: Option<UserId>,
        author_kind: AuthorKind,
        kind: MessageKind,
        body: String,
    ) -> Message {
        let message = Message {
            id: MessageId::new(),
            tenant_id: self.ticket.tenant_id,
            ticket_id: self.ticket.id,
            author,
            author_kind,
            kind,
            body,
            created_at: self.at,
            citations: Vec::new(),
            email: None,
            draft: None,
        };
        self.push(EventKind::MessageAdded {
            message_id: message.id,
            kind,
            author_kind,
        });
        self.messages.push(message.clone());
        message
    }

    /// Adds an already-built message (with citations or draft info) and its event.
    pub(crate) fn add_built_message(&mut self, message: Message) {
        self.push(EventKind::MessageAdded {
            message_id: message.id,
            kind: message.kind,
            author_kind: message.author_kind,
        });
        self.messages.push(message);
    }

    /// Attaches stored blobs to `message` (one of this change's messages), or with `None`
    /// to the ticket itself: their metadata commits with this change. The uploader is the
    /// message's author, or the change's actor for files on the ticket.
    pub(crate) fn attach(&mut self, message: Option<&Message>, files: Vec<StoredBlob>) {
        let uploaded_by = message.map_or(self.actor, |m| m.author);
        for f in files {
            self.attachments.push(Attachment {
                id: AttachmentId::new(),
                tenant_id: self.ticket.tenant_id,
                ticket_id: self.ticket.id,
                message_id: message.map(|m| m.id),
                file_name: f.file_name,
                content_type: f.content_type,
                size: f.size,
                sha256: f.sha256,
                uploaded_by,
                created_at: self.at,
            });
        }
    }

    /// Replaces a stored message (draft decisions) without an event of its own.
    pub(crate) fn replace_message(&mut self, message: Message) {
        self.messages.push(message);
    }

    /// Queues a notification for `recipients` (skipped when empty).
    pub(crate) fn notify(&mut self, recipients: Vec<UserId>, kind: NotificationKind) {
        let mut recipients = recipients;
        recipients.sort();
        recipients.dedup();
        if recipients.is_empty() {
            return;
        }
        self.outbox.push(OutboxEntry {
            id: OutboxId::new(),
            tenant_id: self.ticket.tenant_id,
            notification: Notification {
                ticket_id: self.ticket.id,
                ticket_number: self.ticket.number,
                subject: self.ticket.subject.clone(),
                recipients,
                kind,
            },
            created_at: self.at,
            attempts: 0,
            next_attempt_at: self.at,
            delivered_at: None,
            last_error: None,
        });
    }

    /// Marks the chat session active in the same write (a customer's chat turn); with
    /// `links_ticket` (the write that opens the chat's ticket) it also becomes the
    /// session's ticket.
    pub(crate) fn touch_chat_session(&mut self, session: ChatSessionId, links_ticket: bool) {
        self.chat_activity = Some(ChatActivity {
            session,
            at: self.at,
            links_ticket,
            expected_version: None,
            transition: None,
        });
    }

    /// Changes the chat session `session` (read at its version) with this commit: marks it
    /// active and applies `transition`; a session changed meanwhile fails the commit with
    /// a conflict.
    pub(crate) fn change_chat_session(
        &mut self,
        session: &ChatSession,
        transition: Option<SessionTransition>,
    ) {
        self.chat_activity = Some(ChatActivity {
            session: session.id,
            at: self.at,
            links_ticket: false,
            expected_version: Some(session.version),
            transition,
        });
    }

    /// Records what the language-model calls of this change spent, committed with it.
    pub(crate) fn record_usage(&mut self, usage: Vec<ModelUsage>) {
        self.model_usage.extend(usage);
    }

    /// Assigns the ticket as the router picked: the `Assigned` event, the assignee's
    /// notification and, for a pick made under capacity, the claim the store checks in the
    /// same commit ([`RoutingClaim`]).
    pub(crate) fn route_to(&mut self, assignee: UserId, claim: Option<RoutingClaim>) {
        let from = self.ticket.assignee;
        self.push(EventKind::Assigned {
            from,
            to: Some(assignee),
        });
        self.routing = claim.filter(|c| c.assignee == assignee);
    }

    /// Whether anything was added.
    pub(crate) fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The write to commit.
    pub(crate) fn finish(self) -> TicketWrite {
        // A rule that reassigned the ticket after routing drops the router's claim.
        let routing = self
            .routing
            .filter(|c| Some(c.assignee) == self.ticket.assignee);
        TicketWrite {
            ticket: self.ticket,
            previous: self.previous,
            events: self.events,
            messages: self.messages,
            attachments: self.attachments,
            outbox: self.outbox,
            idempotency_key: None,
            chat_activity: self.chat_activity,
            model_usage: self.model_usage,
            routing,
        }
    }
}
