//! Knowledge-base articles, chat sessions and the notification outbox.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{SlaKind, TicketStatus};
use crate::{ArticleId, ChatSessionId, MessageId, OutboxId, TenantId, TicketId, UserId};

/// A knowledge-base article (markdown body).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    /// Id.
    pub id: ArticleId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Title.
    pub title: String,
    /// Markdown body.
    pub body: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last edit.
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// Who is answering a chat session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub enum ChatState {
    /// The bot answers.
    Bot,
    /// Handed off: a human answers and the bot stays silent until handed back.
    Human,
    /// Closed (by the customer, an agent, or the inactivity sweep).
    Closed,
}

/// A customer's chatbot conversation; its turns are messages on `ticket_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatSession {
    /// Id.
    pub id: ChatSessionId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The customer.
    pub customer: UserId,
    /// The ticket opened by the first message (none before it).
    pub ticket_id: Option<TicketId>,
    /// Who answers.
    pub state: ChatState,
    /// Why it was handed off, if it was.
    pub handoff_reason: Option<String>,
    /// Whether the bot resolved the customer's question without a human.
    pub resolved_by_bot: bool,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last customer or agent turn.
    pub last_activity_at: Timestamp,
    /// When it closed.
    pub closed_at: Option<Timestamp>,
    /// Optimistic-concurrency version.
    pub version: u64,
}

impl ChatSession {
    /// What a [`ChatActivity`](crate::store::ChatActivity) of a write on ticket `ticket`
    /// does to the stored session: `last_activity_at` moves forward to the activity's time
    /// (never back), the version goes up by one, a linking write sets `ticket_id`, and the
    /// transition changes the state. Every backend stores exactly this.
    pub fn apply_activity(&mut self, activity: &crate::store::ChatActivity, ticket: TicketId) {
        use crate::store::SessionTransition;
        if activity.at > self.last_activity_at {
            self.last_activity_at = activity.at;
        }
        if activity.links_ticket {
            self.ticket_id = Some(ticket);
        }
        match &activity.transition {
            None => {}
            Some(SessionTransition::HandOff { reason }) => {
                if self.state != ChatState::Closed {
                    self.state = ChatState::Human;
                }
                self.handoff_reason = Some(reason.clone());
            }
            Some(SessionTransition::TakeOver { reason }) if self.state == ChatState::Bot => {
                self.state = ChatState::Human;
                self.handoff_reason.get_or_insert_with(|| reason.clone());
            }
            Some(SessionTransition::TakeOver { .. }) => {}
            Some(SessionTransition::Close { resolved_by_bot }) => {
                self.state = ChatState::Closed;
                self.closed_at = Some(activity.at);
                self.resolved_by_bot |= *resolved_by_bot;
            }
        }
        self.version += 1;
    }
}

/// A notification to deliver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// The ticket concerned.
    pub ticket_id: TicketId,
    /// Its human number.
    pub ticket_number: u64,
    /// Its subject.
    pub subject: String,
    /// Users to tell.
    pub recipients: Vec<UserId>,
    /// What happened.
    pub kind: NotificationKind,
}

/// What a notification is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum NotificationKind {
    /// The ticket was assigned to the recipient.
    Assigned,
    /// The status changed.
    StatusChanged {
        /// Previous.
        from: TicketStatus,
        /// New.
        to: TicketStatus,
    },
    /// An SLA target was missed.
    SlaBreached {
        /// Which.
        kind: SlaKind,
    },
    /// The chatbot handed a conversation to a human.
    Handoff {
        /// Why.
        reason: String,
    },
    /// A new public reply.
    Replied {
        /// The reply, when the notification is about one message (an agent's public
        /// reply: the mail sent for it quotes and threads on it). `None` in notifications
        /// stored before the field existed (`{"type":"replied"}` still reads) and where no
        /// single message is meant.
        #[serde(default)]
        message_id: Option<MessageId>,
    },
    /// "We received your request": queued to the requester in the write that opens a
    /// ticket by e-mail, when the tenant has a support address and acknowledges new
    /// tickets ([`EmailSettings`](super::EmailSettings)).
    Received,
    /// An automation rule asked for the recipients to be told about the ticket.
    Automation,
}

impl NotificationKind {
    /// A short stable name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Assigned => "assigned",
            Self::StatusChanged { .. } => "status_changed",
            Self::SlaBreached { .. } => "sla_breached",
            Self::Handoff { .. } => "handoff",
            Self::Replied { .. } => "replied",
            Self::Received => "received",
            Self::Automation => "automation",
        }
    }
}

/// A notification in the outbox, written atomically with the change that caused it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Id.
    pub id: OutboxId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// What to deliver.
    pub notification: Notification,
    /// When it was queued.
    pub created_at: Timestamp,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// Not before this time.
    pub next_attempt_at: Timestamp,
    /// Set once delivered.
    pub delivered_at: Option<Timestamp>,
    /// Last failure, for operators.
    pub last_error: Option<String>,
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn replied_stored_before_it_named_its_message_still_reads() {
        let old: NotificationKind =
            serde_json::from_str(r#"{"type":"replied"}"#).expect("old replied");
        assert_eq!(old, NotificationKind::Replied { message_id: None });
        let id = MessageId::new();
        let new = NotificationKind::Replied {
            message_id: Some(id),
        };
        let json = serde_json::to_string(&new).expect("serializes");
        assert_eq!(
            serde_json::from_str::<NotificationKind>(&json).expect("reads back"),
            new
        );
        assert_eq!(new.name(), "replied");
        assert_eq!(NotificationKind::Received.name(), "received");
    }
}
