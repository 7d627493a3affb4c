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
    /// The e-mail this message arrived in (messages made from inbound mail only; `None`
    /// for every other message), kept so that replies to it thread.
    #[serde(default)]
    pub email: Option<EmailHeaders>,
}

/// The e-mail a message arrived in (inbound mail only), kept so replies thread.
///
/// The lists are bounded ([`EmailHeaders::MAX_CC`], [`EmailHeaders::MAX_REFERENCES`]):
/// the builder methods keep the first ones and drop the rest, so a hostile mail with
/// thousands of addresses cannot make a message row grow without bound.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EmailHeaders {
    /// Its Message-ID, bare (no angle brackets).
    pub message_id: String,
    /// The sender's address.
    pub from: String,
    /// Addresses it was copied to (at most [`EmailHeaders::MAX_CC`]).
    #[serde(default)]
    pub cc: Vec<String>,
    /// Its `In-Reply-To` then `References` ids, bare (at most
    /// [`EmailHeaders::MAX_REFERENCES`]).
    #[serde(default)]
    pub references: Vec<String>,
}

impl EmailHeaders {
    /// How many `Cc` addresses are kept.
    pub const MAX_CC: usize = 50;
    /// How many referenced Message-IDs are kept.
    pub const MAX_REFERENCES: usize = 20;

    /// Headers of a mail with this Message-ID (bare) from this address, copied to no one
    /// and referencing nothing.
    pub fn new(message_id: impl Into<String>, from: impl Into<String>) -> Self {
        Self {
            message_id: message_id.into(),
            from: from.into(),
            cc: Vec::new(),
            references: Vec::new(),
        }
    }

    /// With these `Cc` addresses (the first [`EmailHeaders::MAX_CC`] kept).
    pub fn with_cc<I, S>(mut self, cc: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.cc = cc.into_iter().take(Self::MAX_CC).map(Into::into).collect();
        self
    }

    /// With these referenced Message-IDs, `In-Reply-To` first (the first
    /// [`EmailHeaders::MAX_REFERENCES`] kept).
    pub fn with_references<I, S>(mut self, references: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.references = references
            .into_iter()
            .take(Self::MAX_REFERENCES)
            .map(Into::into)
            .collect();
        self
    }
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
    /// One of the desk's canned responses that matches the request, filled in for this
    /// ticket (no model, or the model failed). A model's draft that started from one is
    /// [`DraftSource::Llm`], and its label names the canned response.
    CannedResponse,
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
    /// The language model that wrote it ([`DraftSource::Llm`]); for a chain of models,
    /// the one that answered, so a switch to the fallback shows on the draft.
    #[serde(default)]
    pub model: Option<String>,
}
