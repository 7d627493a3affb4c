//! Ticket use-cases: intake, reading, listing, replies, notes, transitions, assignment,
//! edits, merge and CSAT.

mod changes;
mod intake;
mod merge;
mod replies;
mod route;

pub(crate) use changes::{
    check_required_fields, check_team_assignee, set_assignee, set_priority, set_status,
};
pub(crate) use replies::add_agent_reply;
pub(crate) use route::Routed;

use serde::{Deserialize, Serialize};

use super::Helpdesk;
use super::attachments::{NewAttachment, StoredBlob};
use super::change::Change;
use crate::domain::{
    Actor, AuthorKind, Channel, Csat, Event, EventKind, Message, MessageKind, NotificationKind,
    Priority, Role, SlaKind, SlaState, Tenant, Ticket, TicketStatus, User,
};
use crate::lifecycle::check_transition;
use crate::roles::Action;
use crate::routing::Candidate;
use crate::store::{MessageFilter, Page, TicketQuery, TicketWrite};
use crate::triage::ClassifyInput;
use crate::{DuplicateKind, Error, Result, StateError, TicketId, UserId, sla, teams, validate};

/// A ticket to open.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewTicket {
    /// Subject (1..=200 characters).
    pub subject: String,
    /// Description (up to 20,000 characters).
    pub description: String,
    /// Priority chosen by the requester or agent; triage may raise a customer's choice.
    pub priority: Option<Priority>,
    /// Tags.
    pub tags: Vec<String>,
    /// Channel (default Form).
    pub channel: Option<Channel>,
    /// For staff opening on a customer's behalf: the customer.
    pub requester: Option<UserId>,
    /// Intake idempotency key (e-mail Message-ID, client request id).
    pub idempotency_key: Option<String>,
    /// Custom field values by field key, checked against the tenant's fields (customers
    /// may set only those editable by customers).
    pub fields: std::collections::BTreeMap<String, crate::domain::FieldValue>,
    /// Files on the new ticket itself (shown with its description), within the tenant's
    /// limits; they need a blob store. Never part of the serialized form: uploads arrive
    /// as files, not JSON.
    #[serde(skip)]
    pub attachments: Vec<NewAttachment>,
}

impl NewTicket {
    /// A ticket with a subject and description.
    pub fn new(subject: &str, description: &str) -> Self {
        Self {
            subject: subject.into(),
            description: description.into(),
            ..Self::default()
        }
    }

    /// The same ticket with `files` attached.
    pub fn with_attachments(mut self, files: Vec<NewAttachment>) -> Self {
        self.attachments = files;
        self
    }
}

/// The result of [`Helpdesk::open_ticket`].
#[derive(Debug, Clone, PartialEq)]
pub struct OpenOutcome {
    /// The ticket.
    pub ticket: Ticket,
    /// False when the idempotency key matched an existing ticket.
    pub created: bool,
}

/// A ticket as an actor may see it.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketView {
    /// The ticket.
    pub ticket: Ticket,
    /// Messages the actor may see (customers never see notes or drafts).
    pub messages: Vec<Message>,
    /// The audit log (staff only; empty for customers).
    pub events: Vec<Event>,
}

/// A public reply.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewReply {
    /// The text.
    pub body: String,
    /// Staff only: move the ticket to this status in the same change (e.g. Pending).
    pub status_after: Option<TicketStatus>,
    /// Files on the reply, within the tenant's limits; they need a blob store. Never part
    /// of the serialized form.
    #[serde(skip)]
    pub attachments: Vec<NewAttachment>,
}

impl NewReply {
    /// A reply with a body.
    pub fn new(body: &str) -> Self {
        Self {
            body: body.into(),
            status_after: None,
            attachments: Vec::new(),
        }
    }

    /// The same reply with `files` attached.
    pub fn with_attachments(mut self, files: Vec<NewAttachment>) -> Self {
        self.attachments = files;
        self
    }
}

/// The text of a note or a chat turn, with files (within the tenant's limits; they need a
/// blob store). Plain text converts into one without files, so
/// `helpdesk.add_note(&actor, id, "text")` works as it reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewMessage {
    /// The text.
    pub body: String,
    /// The files.
    pub attachments: Vec<NewAttachment>,
}

impl NewMessage {
    /// A message with a body and no files.
    pub fn new(body: impl Into<String>) -> Self {
        Self {
            body: body.into(),
            attachments: Vec::new(),
        }
    }

    /// The same message with `files` attached.
    pub fn with_attachments(mut self, files: Vec<NewAttachment>) -> Self {
        self.attachments = files;
        self
    }
}

impl From<&str> for NewMessage {
    fn from(body: &str) -> Self {
        Self::new(body)
    }
}

impl From<&String> for NewMessage {
    fn from(body: &String) -> Self {
        Self::new(body.as_str())
    }
}

impl From<String> for NewMessage {
    fn from(body: String) -> Self {
        Self::new(body)
    }
}

/// What a reply did.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyOutcome {
    /// The stored message.
    pub message: Message,
    /// The ticket it landed on (a new follow-up when the original was closed).
    pub ticket: Ticket,
    /// Whether the reply reopened a resolved ticket.
    pub reopened: bool,
    /// Set when the reply opened a follow-up ticket.
    pub follow_up_of: Option<TicketId>,
}

/// Edits of ticket fields by staff; `None` keeps the value.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TicketPatch {
    /// New priority (SLA due times are recomputed).
    pub priority: Option<Priority>,
    /// New category (must be one of the tenant's).
    pub category: Option<String>,
    /// New tags.
    pub tags: Option<Vec<String>>,
}

pub(super) fn validate_key(key: &str) -> Result<String> {
    validate::required_line("idempotency_key", key, 200)
}

pub(super) fn others(list: &[Option<UserId>], actor: UserId) -> Vec<UserId> {
    list.iter()
        .flatten()
        .copied()
        .filter(|u| *u != actor)
        .collect()
}

impl Helpdesk {
    /// A ticket with the messages (and, for staff, events) the actor may see.
    pub async fn get_ticket(&self, actor: &Actor, id: TicketId) -> Result<TicketView> {
        let (tenant, _, ticket) = self.checked_ticket(actor, Action::ViewTicket, id).await?;
        let ticket = crate::service::fields::for_viewer(actor, &tenant, ticket);
        let store = &self.inner.store;
        let (messages, events) = if actor.is_staff() {
            (
                store
                    .list_messages(actor.tenant_id, id, MessageFilter::All)
                    .await?,
                store.list_events(actor.tenant_id, id).await?,
            )
        } else {
            (
                store
                    .list_messages(actor.tenant_id, id, MessageFilter::CustomerVisible)
                    .await?,
                Vec::new(),
            )
        };
        Ok(TicketView {
            ticket,
            messages,
            events,
        })
    }

    /// Lists tickets: customers get only their own, staff the tenant queue.
    pub async fn list_tickets(&self, actor: &Actor, query: TicketQuery) -> Result<Page<Ticket>> {
        let mut query = query;
        let (tenant, _) = if actor.is_staff() {
            self.check(actor, Action::ViewQueue).await?
        } else {
            query.requester = Some(actor.user_id);
            // Which team works a ticket is the desk's business.
            query.team = None;
            self.check(actor, Action::ViewTicket).await?
        };
        if let Some(text) = &query.text {
            validate::no_control_chars("text", text)?;
            if text.chars().count() > 200 {
                return Err(Error::validation("text", "at most 200 characters"));
            }
        }
        crate::service::fields::check_field_filters(&tenant, &query.fields)?;
        let mut page = self
            .inner
            .store
            .list_tickets(actor.tenant_id, &query)
            .await?;
        if !actor.is_staff() {
            page.items = page
                .items
                .into_iter()
                .map(|t| crate::service::fields::for_viewer(actor, &tenant, t))
                .collect();
        }
        Ok(page)
    }
}
