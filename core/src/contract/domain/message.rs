//! Messages on a ticket: replies, internal notes, chat turns and AI drafts.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{ArticleId, MessageId, TenantId, TicketId, UserId};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub enum AuthorKind {
    /// The requester.
    Customer,
    /// An agent or admin.
    Agent,
    /// The chatbot or the AI copilot.
    Bot,
    /// The helpdesk itself (merge notices, ...).
    System,
}

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub enum MessageKind {
    /// A public reply in the ticket thread.
    Reply,
    /// An internal note: never visible to customers, in any listing or count.
    Note,
    /// A chat turn (customer, bot or agent) of a chat session.
    Chat,
    /// An AI draft for agents: invisible to customers until an agent sends it (which creates
    /// a [`MessageKind::Reply`]).
    Draft,
}

impl MessageKind {
    /// The kinds customers can ever see, for backends that filter on them.
    pub const CUSTOMER_VISIBLE: [MessageKind; 2] = [Self::Reply, Self::Chat];

    /// Whether customers can ever see a message of this kind.
    pub const fn customer_visible(&self) -> bool {
        matches!(self, Self::Reply | Self::Chat)
    }
}

/// A message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Id.
    pub id: MessageId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The ticket it belongs to.
    pub ticket_id: TicketId,
    /// The user who wrote it (none for bot and system messages).
    pub author: Option<UserId>,
    /// What kind of author.
    pub author_kind: AuthorKind,
    /// What kind of message.
    pub kind: MessageKind,
    /// The text.
    pub body: String,
    /// When it was written.
    pub created_at: Timestamp,
    /// Knowledge-base chunks the text is grounded on.
    pub citations: Vec<Citation>,
    /// Draft bookkeeping, for [`MessageKind::Draft`].
    pub draft: Option<DraftInfo>,
}

/// A knowledge-base chunk a message cites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citation {
    /// Chunk id as returned by the knowledge base.
    pub chunk_id: String,
    /// Article the chunk belongs to.
    pub article_id: ArticleId,
    /// Article title, for display.
    pub title: String,
}

/// Where a draft came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub enum DraftSource {
    /// Written by the language model.
    Llm,
    /// Copied from the reply of the most similar resolved ticket. No longer produced (such
    /// a draft carried another customer's text); kept so that stored drafts still read.
    SimilarTicket,
    /// A template with this ticket's facts quoting the best knowledge-base passage (no
    /// model, or the model failed).
    KbPassage,
    /// A template with this ticket's facts only: no model and no matching knowledge-base
    /// passage.
    Template,
}

/// What the agent did with a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub enum DraftState {
    /// Not decided yet.
    Proposed,
    /// Sent as is.
    Accepted,
    /// Sent after editing.
    Edited,
    /// Thrown away.
    Discarded,
}

/// Draft bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftInfo {
    /// Where it came from.
    pub source: DraftSource,
    /// What happened to it.
    pub state: DraftState,
    /// When the agent decided.
    pub decided_at: Option<Timestamp>,
    /// The reply it became, when sent.
    pub sent_as: Option<MessageId>,
}
