//! Tickets and their triage and SLA state.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Channel, FieldValue, Priority, Sentiment, TicketStatus, TriageSource};
use crate::{TenantId, TicketId, UserId};

/// A support ticket. Its state is exactly the fold of its events (see
/// [`Ticket::apply`](crate::domain::Ticket::apply)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    /// Id (UUID v7).
    pub id: TicketId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Per-tenant human number (1, 2, 3, ...), allocated by the store.
    pub number: u64,
    /// The customer who raised it.
    pub requester: UserId,
    /// The agent or admin working it.
    pub assignee: Option<UserId>,
    /// One-line subject.
    pub subject: String,
    /// The customer's description.
    pub description: String,
    /// Lifecycle status.
    pub status: TicketStatus,
    /// Priority.
    pub priority: Priority,
    /// One of the tenant's categories.
    pub category: Option<String>,
    /// Free tags.
    pub tags: Vec<String>,
    /// Skills from the tenant's vocabulary needed to work it.
    pub required_skills: Vec<String>,
    /// Customer sentiment, from triage.
    pub sentiment: Option<Sentiment>,
    /// BCP-47 language, from triage.
    pub language: Option<String>,
    /// Where it came from.
    pub channel: Channel,
    /// Creation time.
    pub created_at: Timestamp,
    /// Time of the last event.
    pub updated_at: Timestamp,
    /// First public reply by an agent or admin.
    pub first_response_at: Option<Timestamp>,
    /// When it was (last) resolved.
    pub resolved_at: Option<Timestamp>,
    /// When it was closed.
    pub closed_at: Option<Timestamp>,
    /// SLA due times and breach flags.
    pub sla: SlaState,
    /// The accepted triage result.
    pub triage: Option<Triage>,
    /// Set on a duplicate that was merged into another ticket.
    pub merged_into: Option<TicketId>,
    /// Set on a follow-up created by a message on a closed ticket.
    pub follow_up_of: Option<TicketId>,
    /// Customer satisfaction, recorded once after resolution.
    pub csat: Option<Csat>,
    /// Values of the tenant's custom fields, by field key (see
    /// [`CustomFieldDef`](super::CustomFieldDef)); an empty field has no entry.
    #[serde(default)]
    pub custom_fields: BTreeMap<String, FieldValue>,
    /// The team working it (a [`Team`](super::Team)'s key): its members may take it.
    #[serde(default)]
    pub team: Option<String>,
    /// When its personal data was erased (a customer's erasure request or the tenant's
    /// retention policy, see [`crate::erasure`]): its texts were replaced and its files
    /// removed, while its status, times, priority, category and rating stay for analytics.
    #[serde(default)]
    pub erased_at: Option<Timestamp>,
    /// Optimistic-concurrency version: 1 after creation, +1 per committed change.
    pub version: u64,
}

impl Ticket {
    /// Whether the chatbot is still handling this ticket: a chat ticket that nobody handed
    /// off, took over or moved yet (channel Chat, status New). It is not the agents' work
    /// and its SLA clock has not started; see
    /// [`TicketQuery::exclude_bot_chats`](crate::store::TicketQuery::exclude_bot_chats).
    pub fn is_bot_chat(&self) -> bool {
        self.channel == Channel::Chat && self.status == TicketStatus::New
    }

    /// Whether a customer may no longer reopen it at `now`: it was resolved more than
    /// `reopen_window_hours` (the tenant's setting) ago, or has no resolution time.
    pub fn past_reopen_window(&self, reopen_window_hours: u32, now: Timestamp) -> bool {
        let window = jiff::SignedDuration::from_hours(i64::from(reopen_window_hours));
        self.resolved_at
            .and_then(|r| r.checked_add(window).ok())
            .is_none_or(|limit| now > limit)
    }

    /// Whether a customer's message at `now` opens a linked follow-up instead of landing
    /// on it: Closed, or Resolved past the reopen window (a reply in the window reopens).
    pub fn takes_follow_up(&self, reopen_window_hours: u32, now: Timestamp) -> bool {
        self.status == TicketStatus::Closed
            || (self.status == TicketStatus::Resolved
                && self.past_reopen_window(reopen_window_hours, now))
    }
}

/// SLA due times and breach flags. Due times move out while the ticket is Pending.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaState {
    /// When the first response is due.
    pub first_response_due: Option<Timestamp>,
    /// When resolution is due.
    pub resolution_due: Option<Timestamp>,
    /// Whether the first-response target was missed.
    pub first_response_breached: bool,
    /// Whether the resolution target was missed.
    pub resolution_breached: bool,
    /// Set while the clock is paused (status Pending).
    pub paused_since: Option<Timestamp>,
}

/// The triage result accepted for a ticket, with the failures that came before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Triage {
    /// Which classifier produced it.
    pub source: TriageSource,
    /// Its confidence, 0..=1.
    pub confidence: f32,
    /// A one-line summary, when the classifier wrote one.
    pub summary: Option<String>,
    /// Classifiers tried before and why they were passed over.
    pub fallbacks: Vec<TriageFallback>,
    /// The language model that answered, when a model classified it: with a provider
    /// chain, the one that stood in when the primary failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// A classifier that did not produce the accepted result, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriageFallback {
    /// The classifier.
    pub source: TriageSource,
    /// Why it was passed over (`"timeout"`, `"malformed_output: ..."`,
    /// `"low_confidence 0.31"`).
    pub reason: String,
}

/// A customer satisfaction rating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Csat {
    /// 1 (bad) to 5 (great).
    pub score: u8,
    /// Optional comment.
    pub comment: Option<String>,
    /// When it was given.
    pub at: Timestamp,
}
