//! Builders for test data: tenants, users, tickets and ticket changes built the same way
//! the service builds them (events applied with [`Ticket::apply`]), and learned-triage model
//! records.

use jiff::Timestamp;

use crate::domain::{
    AuthorKind, Channel, Event, EventKind, Message, MessageKind, Notification, NotificationKind,
    OutboxEntry, Priority, Role, SlaState, Tenant, TenantSettings, Ticket, TicketStatus, User,
};
use crate::store::{TicketWrite, TriageModel};
use crate::{EventId, MessageId, OutboxId, TenantId, TicketId, UserId};

/// A fixed instant all fixtures start from: Monday 2026-03-02 09:00 UTC.
pub fn t0() -> Timestamp {
    Timestamp::from_second(1_772_442_000).unwrap()
}

/// `t0` plus `minutes`.
pub fn at(minutes: i64) -> Timestamp {
    t0().checked_add(jiff::SignedDuration::from_mins(minutes))
        .unwrap()
}

/// A tenant with default settings.
pub fn tenant(slug: &str) -> Tenant {
    Tenant {
        id: TenantId::new(),
        name: format!("{slug} Inc."),
        slug: slug.into(),
        settings: TenantSettings::default(),
        created_at: t0(),
    }
}

/// An active user.
pub fn user(tenant: &Tenant, role: Role, email: &str) -> User {
    User {
        id: UserId::new(),
        tenant_id: tenant.id,
        email: email.into(),
        name: email.split('@').next().unwrap_or(email).into(),
        role,
        skills: Vec::new(),
        capacity: 0,
        active: true,
        created_at: t0(),
    }
}

/// A new ticket write (version 1) with a `Created` event, one customer message and one
/// outbox entry.
pub fn new_ticket(
    tenant: TenantId,
    requester: UserId,
    number: u64,
    subject: &str,
    priority: Priority,
    created_at: Timestamp,
) -> TicketWrite {
    let ticket = Ticket {
        id: TicketId::new(),
        tenant_id: tenant,
        number,
        requester,
        assignee: None,
        subject: subject.into(),
        description: format!("Description of {subject}"),
        status: TicketStatus::New,
        priority,
        category: None,
        tags: Vec::new(),
        required_skills: Vec::new(),
        sentiment: None,
        language: None,
        channel: Channel::Form,
        created_at,
        updated_at: created_at,
        first_response_at: None,
        resolved_at: None,
        closed_at: None,
        sla: SlaState::default(),
        triage: None,
        merged_into: None,
        follow_up_of: None,
        csat: None,
        custom_fields: std::collections::BTreeMap::new(),
        team: None,
        erased_at: None,
        version: 1,
    };
    let message = Message {
        id: MessageId::new(),
        tenant_id: tenant,
        ticket_id: ticket.id,
        author: Some(requester),
        author_kind: AuthorKind::Customer,
        kind: MessageKind::Reply,
        body: ticket.description.clone(),
        created_at,
        citations: Vec::new(),
        email: None,
        draft: None,
    };
    let created = Event {
        id: EventId::new(),
        tenant_id: tenant,
        ticket_id: ticket.id,
        version: 1,
        at: created_at,
        actor: Some(requester),
        kind: EventKind::Created {
            ticket: Box::new(ticket.clone()),
        },
    };
    let outbox = outbox_entry(
        &ticket,
        vec![requester],
        NotificationKind::Replied { message_id: None },
        created_at,
    );
    TicketWrite {
        ticket,
        previous: None,
        events: vec![created],
        messages: vec![message],
        attachments: Vec::new(),
        outbox: vec![outbox],
        idempotency_key: None,
        chat_activity: None,
        model_usage: Vec::new(),
        routing: None,
    }
}

/// An outbox entry for `ticket`.
pub fn outbox_entry(
    ticket: &Ticket,
    recipients: Vec<UserId>,
    kind: NotificationKind,
    at: Timestamp,
) -> OutboxEntry {
    OutboxEntry {
        id: OutboxId::new(),
        tenant_id: ticket.tenant_id,
        notification: Notification {
            ticket_id: ticket.id,
            ticket_number: ticket.number,
            subject: ticket.subject.clone(),
            recipients,
            kind,
        },
        created_at: at,
        attempts: 0,
        next_attempt_at: at,
        delivered_at: None,
        last_error: None,
    }
}

/// The next change of `ticket`: applies `kinds` as events of version `ticket.version + 1`
/// and returns the write (no messages, no outbox), planned on `ticket` (its `previous`).
pub fn change(
    ticket: &Ticket,
    kinds: Vec<EventKind>,
    at: Timestamp,
    actor: Option<UserId>,
) -> TicketWrite {
    let version = ticket.version + 1;
    let mut next = ticket.clone();
    let events: Vec<Event> = kinds
        .into_iter()
        .map(|kind| Event {
            id: EventId::new(),
            tenant_id: ticket.tenant_id,
            ticket_id: ticket.id,
            version,
            at,
            actor,
            kind,
        })
        .collect();
    for e in &events {
        next.apply(e);
    }
    // A write bumps the version even when it carries no event (a message-only change).
    next.version = version;
    TicketWrite {
        ticket: next,
        previous: Some(ticket.clone()),
        events,
        messages: Vec::new(),
        attachments: Vec::new(),
        outbox: Vec::new(),
        idempotency_key: None,
        chat_activity: None,
        model_usage: Vec::new(),
        routing: None,
    }
}

/// A learned-triage model record of `tenant` as `version`, in service, whose bytes are
/// `bytes` (their SHA-256 and length): trained `version` hours after [`t0`], 800 tickets
/// trained on and 200 held out, 171 of them right, three categories.
pub fn triage_model(tenant: TenantId, version: u64, bytes: &[u8]) -> TriageModel {
    TriageModel {
        tenant_id: tenant,
        version,
        format: "learned-svm-v1+minilm ✓".into(),
        blob: crate::domain::Sha256::digest(bytes),
        size_bytes: bytes.len() as u64,
        trained_at: at(i64::try_from(version).unwrap_or(0) * 60),
        resolved_tickets: 1_000 + version,
        training_tickets: 800,
        holdout_tickets: 200,
        holdout_correct: 171,
        categories: vec!["billing".into(), "login".into(), "shipping".into()],
        retired_at: None,
    }
}
