//! The JSON shapes of the API's resources.
//!
//! They are the API's own types rather than core's domain types, so the HTTP contract is
//! stable and documented on its own, and so each caller gets only what its role may see:
//! a customer's ticket carries no SLA clocks, triage reasoning or internal fields, and no
//! resource ever carries a password hash or key material.

use helpdesk_core::domain::{
    Article, Attachment, AuthorKind, Channel, ChatSession, ChatState, DraftSource, DraftState,
    EventKind, Message, MessageKind, Priority, Role, Tenant, Ticket, TicketStatus, User,
};
use helpdesk_core::service::FeedItem;
use helpdesk_core::{
    ArticleId, AttachmentId, ChatSessionId, MessageId, TenantId, TicketId, UserId,
};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// A ticket.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketResource {
    /// Id.
    pub id: TicketId,
    /// Number within the tenant (`#42`).
    pub number: u64,
    /// Subject.
    pub subject: String,
    /// The first message's text.
    pub description: String,
    /// Lifecycle status.
    pub status: TicketStatus,
    /// Priority.
    pub priority: Priority,
    /// Category, once triaged or set.
    pub category: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Where it came from.
    pub channel: Channel,
    /// The customer who asked.
    pub requester: UserId,
    /// The agent working on it.
    pub assignee: Option<UserId>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
    /// The first staff reply.
    pub first_response_at: Option<Timestamp>,
    /// When it was resolved.
    pub resolved_at: Option<Timestamp>,
    /// When it was closed.
    pub closed_at: Option<Timestamp>,
    /// When its personal data was erased (a customer's erasure or the retention policy):
    /// its texts read `[erased]` and its files are gone.
    pub erased_at: Option<Timestamp>,
    /// The ticket this one was merged into.
    pub merged_into: Option<TicketId>,
    /// The closed ticket this one follows up.
    pub follow_up_of: Option<TicketId>,
    /// The requester's rating.
    pub csat: Option<CsatResource>,
    /// Custom field values by field key (for customers, only the fields visible to them).
    #[schema(value_type = Object)]
    pub custom_fields: std::collections::BTreeMap<String, helpdesk_core::domain::FieldValue>,
    /// The version, also sent as the `ETag`; send it back in `If-Match` to change the
    /// ticket only if nobody else did in between.
    pub version: u64,
    /// Staff-only fields (absent for customers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal: Option<TicketInternal>,
}

/// Fields of a ticket only staff see.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketInternal {
    /// The team working it (a team's key), if any.
    pub team: Option<String>,
    /// Skills routing looks for.
    pub required_skills: Vec<String>,
    /// Detected sentiment.
    pub sentiment: Option<String>,
    /// Detected language.
    pub language: Option<String>,
    /// First-response due time.
    pub first_response_due: Option<Timestamp>,
    /// Resolution due time.
    pub resolution_due: Option<Timestamp>,
    /// Whether the first-response target was missed.
    pub first_response_breached: bool,
    /// Whether the resolution target was missed.
    pub resolution_breached: bool,
    /// Set while the SLA clock is paused (ticket pending on the customer).
    pub sla_paused_since: Option<Timestamp>,
    /// How triage decided (source, confidence, fallbacks and their reasons).
    #[schema(value_type = Option<Object>)]
    pub triage: Option<serde_json::Value>,
}

/// A customer's rating.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CsatResource {
    /// 1 to 5.
    pub score: u8,
    /// Optional comment.
    pub comment: Option<String>,
    /// When it was given.
    pub at: Timestamp,
}

impl TicketResource {
    /// The ticket as `staff` or a customer may see it.
    pub fn new(ticket: Ticket, staff: bool) -> Self {
        let internal = staff.then(|| TicketInternal {
            team: ticket.team.clone(),
            required_skills: ticket.required_skills.clone(),
            sentiment: ticket.sentiment.map(|s| s.as_str().to_string()),
            language: ticket.language.clone(),
            first_response_due: ticket.sla.first_response_due,
            resolution_due: ticket.sla.resolution_due,
            first_response_breached: ticket.sla.first_response_breached,
            resolution_breached: ticket.sla.resolution_breached,
            sla_paused_since: ticket.sla.paused_since,
            triage: ticket
                .triage
                .as_ref()
                .and_then(|t| serde_json::to_value(t).ok()),
        });
        Self {
            id: ticket.id,
            number: ticket.number,
            subject: ticket.subject,
            description: ticket.description,
            status: ticket.status,
            priority: ticket.priority,
            category: ticket.category,
            tags: ticket.tags,
            channel: ticket.channel,
            requester: ticket.requester,
            assignee: ticket.assignee,
            created_at: ticket.created_at,
            updated_at: ticket.updated_at,
            first_response_at: ticket.first_response_at,
            resolved_at: ticket.resolved_at,
            closed_at: ticket.closed_at,
            erased_at: ticket.erased_at,
            merged_into: ticket.merged_into,
            follow_up_of: ticket.follow_up_of,
            csat: ticket.csat.map(|c| CsatResource {
                score: c.score,
                comment: c.comment,
                at: c.at,
            }),
            custom_fields: ticket.custom_fields,
            version: ticket.version,
            internal,
        }
    }
}

/// A message on a ticket.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageResource {
    /// Id.
    pub id: MessageId,
    /// The ticket.
    pub ticket_id: TicketId,
    /// The author (none for the system and the chatbot).
    pub author: Option<UserId>,
    /// What kind of author.
    pub author_kind: AuthorKind,
    /// Public reply, internal note, AI draft, ...
    pub kind: MessageKind,
    /// Text.
    pub body: String,
    /// Written.
    pub created_at: Timestamp,
    /// Knowledge-base articles the text is grounded in.
    pub citations: Vec<CitationResource>,
    /// For AI drafts: where it came from and what the agent decided.
    pub draft: Option<DraftResource>,
}

/// A knowledge-base source of a message.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CitationResource {
    /// The article.
    pub article_id: ArticleId,
    /// Its title.
    pub title: String,
}

/// The state of an AI draft.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DraftResource {
    /// Which path produced it (the model, or the offline fallback).
    pub source: DraftSource,
    /// Proposed, sent, edited and sent, or discarded.
    pub state: DraftState,
    /// When the agent decided.
    pub decided_at: Option<Timestamp>,
    /// The reply it was sent as.
    pub sent_as: Option<MessageId>,
}

impl From<Message> for MessageResource {
    fn from(m: Message) -> Self {
        Self {
            id: m.id,
            ticket_id: m.ticket_id,
            author: m.author,
            author_kind: m.author_kind,
            kind: m.kind,
            body: m.body,
            created_at: m.created_at,
            citations: m
                .citations
                .into_iter()
                .map(|c| CitationResource {
                    article_id: c.article_id,
                    title: c.title,
                })
                .collect(),
            draft: m.draft.map(|d| DraftResource {
                source: d.source,
                state: d.state,
                decided_at: d.decided_at,
                sent_as: d.sent_as,
            }),
        }
    }
}

/// A file on a ticket or on one of its messages. The bytes are at
/// `attachments/{id}` (relative to the API's root).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachmentResource {
    /// Id.
    pub id: AttachmentId,
    /// The ticket.
    pub ticket_id: TicketId,
    /// The message it came with; none for a file given when the ticket was opened.
    pub message_id: Option<MessageId>,
    /// The file name, sanitised (no path, no control or reserved characters).
    pub file_name: String,
    /// The type sniffed from the bytes (never the uploader's claim).
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes, 64 lowercase hex digits.
    pub sha256: String,
    /// Whether it is a raster image (PNG, JPEG, GIF, WebP) a browser may show inline;
    /// every other file is served as `application/octet-stream`.
    pub image: bool,
    /// Who uploaded it.
    pub uploaded_by: Option<UserId>,
    /// Uploaded.
    pub created_at: Timestamp,
}

impl From<Attachment> for AttachmentResource {
    fn from(a: Attachment) -> Self {
        Self {
            image: a.is_safe_image(),
            id: a.id,
            ticket_id: a.ticket_id,
            message_id: a.message_id,
            sha256: a.sha256.to_hex(),
            file_name: a.file_name,
            content_type: a.content_type,
            size: a.size,
            uploaded_by: a.uploaded_by,
            created_at: a.created_at,
        }
    }
}

/// One entry of a ticket's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventResource {
    /// Id (time ordered).
    pub id: String,
    /// The ticket.
    pub ticket_id: TicketId,
    /// The ticket version the change produced.
    pub version: u64,
    /// When.
    pub at: Timestamp,
    /// Who (none for the system).
    pub actor: Option<UserId>,
    /// What happened (`status_changed`, `message_added`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// The details, whose members depend on `type`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<helpdesk_core::domain::Event> for EventResource {
    fn from(e: helpdesk_core::domain::Event) -> Self {
        let mut data = serde_json::to_value(&e.kind).unwrap_or(serde_json::Value::Null);
        if let Some(object) = data.as_object_mut() {
            object.remove("type");
        }
        Self {
            id: e.id.to_string(),
            ticket_id: e.ticket_id,
            version: e.version,
            at: e.at,
            actor: e.actor,
            kind: e.kind.name().to_string(),
            data,
        }
    }
}

/// A ticket with its thread and (for staff) its history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketDetail {
    /// The ticket.
    pub ticket: TicketResource,
    /// Its messages, oldest first (customers see public ones only).
    pub messages: Vec<MessageResource>,
    /// Its history, oldest first (empty for customers).
    pub events: Vec<EventResource>,
}

/// One page of a listing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketPage {
    /// The tickets.
    pub items: Vec<TicketResource>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A user.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserResource {
    /// Id.
    pub id: UserId,
    /// E-mail.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Skills (agents).
    pub skills: Vec<String>,
    /// Open tickets the agent takes at most.
    pub capacity: u32,
    /// Whether the user may sign in.
    pub active: bool,
    /// Created.
    pub created_at: Timestamp,
}

impl From<User> for UserResource {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            skills: u.skills,
            capacity: u.capacity,
            active: u.active,
            created_at: u.created_at,
        }
    }
}

/// A tenant (one company).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TenantResource {
    /// Id.
    pub id: TenantId,
    /// Name.
    pub name: String,
    /// The short name used to sign in.
    pub slug: String,
    /// Settings (categories, SLA policy, business hours, AI autonomy, ...); staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub settings: Option<serde_json::Value>,
    /// Created.
    pub created_at: Timestamp,
}

impl TenantResource {
    /// The tenant as `staff` or a customer may see it.
    pub fn new(tenant: Tenant, staff: bool) -> Self {
        Self {
            id: tenant.id,
            name: tenant.name,
            slug: tenant.slug,
            settings: staff
                .then(|| serde_json::to_value(&tenant.settings).ok())
                .flatten(),
            created_at: tenant.created_at,
        }
    }
}

/// A knowledge-base article.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleResource {
    /// Id.
    pub id: ArticleId,
    /// Title.
    pub title: String,
    /// Markdown body.
    pub body: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
    /// The version, also the `ETag`.
    pub version: u64,
}

impl From<Article> for ArticleResource {
    fn from(a: Article) -> Self {
        Self {
            id: a.id,
            title: a.title,
            body: a.body,
            tags: a.tags,
            created_at: a.created_at,
            updated_at: a.updated_at,
            version: a.version,
        }
    }
}

/// A chat session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChatSessionResource {
    /// Id.
    pub id: ChatSessionId,
    /// The customer.
    pub customer: UserId,
    /// The ticket the conversation is recorded on, once the customer wrote.
    pub ticket_id: Option<TicketId>,
    /// Who answers: the bot, a human, or nobody (closed).
    pub state: ChatState,
    /// Why it went to a human.
    pub handoff_reason: Option<String>,
    /// Whether the bot resolved it.
    pub resolved_by_bot: bool,
    /// Started.
    pub created_at: Timestamp,
    /// Last message.
    pub last_activity_at: Timestamp,
    /// Closed.
    pub closed_at: Option<Timestamp>,
}

impl From<ChatSession> for ChatSessionResource {
    fn from(s: ChatSession) -> Self {
        Self {
            id: s.id,
            customer: s.customer,
            ticket_id: s.ticket_id,
            state: s.state,
            handoff_reason: s.handoff_reason,
            resolved_by_bot: s.resolved_by_bot,
            created_at: s.created_at,
            last_activity_at: s.last_activity_at,
            closed_at: s.closed_at,
        }
    }
}

/// One live event: the `data` of an event of the stream (whose SSE `event:` field is
/// `type`) and of a webhook delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct LiveEvent {
    /// The event's id (unique, time ordered): tells a re-delivered event apart.
    pub id: String,
    /// When it happened.
    pub at: Timestamp,
    /// The ticket.
    pub ticket_id: TicketId,
    /// Its number.
    pub ticket_number: u64,
    /// What happened (`created`, `message_added`, `assigned`, `sla_breached`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Who did it (none for the system).
    pub actor: Option<UserId>,
    /// The details, whose members depend on `type` (for `created`, the ticket as the
    /// caller may see it).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl LiveEvent {
    /// The event as `staff` or a customer may see it.
    pub fn new(item: FeedItem, staff: bool) -> Self {
        let data = match item.event.kind {
            EventKind::Created { ticket } => serde_json::json!({
                "ticket": TicketResource::new(*ticket, staff),
            }),
            kind => {
                let mut data = serde_json::to_value(&kind).unwrap_or_default();
                if let Some(object) = data.as_object_mut() {
                    object.remove("type");
                }
                data
            }
        };
        Self {
            id: item.id.to_string(),
            at: item.at,
            ticket_id: item.ticket_id,
            ticket_number: item.ticket_number,
            kind: item.kind.to_string(),
            actor: item.event.actor,
            data,
        }
    }
}
