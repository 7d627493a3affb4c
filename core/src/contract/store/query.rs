//! Ticket listing queries and pages.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::{MessageKind, Priority, TicketStatus};
use crate::{Error, Result, UserId};

/// Which of a ticket's messages [`TicketStore::list_messages`](super::TicketStore::list_messages)
/// returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageFilter {
    /// Every message (staff views, merges, tests).
    #[default]
    All,
    /// The kinds customers can see
    /// ([`MessageKind::CUSTOMER_VISIBLE`]: replies and chat turns, no internal notes, no
    /// drafts).
    CustomerVisible,
}

impl MessageFilter {
    /// The message kinds the filter keeps, `None` for every kind. Backends filter on this
    /// (not on the variant), so a filter added later is applied the same way everywhere.
    pub const fn kinds(self) -> Option<&'static [MessageKind]> {
        match self {
            Self::All => None,
            Self::CustomerVisible => Some(&MessageKind::CUSTOMER_VISIBLE),
        }
    }

    /// Whether the filter keeps a message of this kind.
    pub fn keeps(self, kind: MessageKind) -> bool {
        self.kinds().is_none_or(|kinds| kinds.contains(&kind))
    }
}

/// Filter on the assignee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssigneeFilter {
    /// Tickets with no assignee.
    Unassigned,
    /// Tickets assigned to this user.
    User(UserId),
}

/// Sort order of a listing. Every order is total (ties broken by id).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketSort {
    /// Priority (urgent first), then age (oldest first), then id.
    #[default]
    PriorityThenAge,
    /// Newest first, then id descending.
    Newest,
    /// The agent queue: Escalated tickets first (a customer waits for a human, e.g. a chat
    /// the bot handed off), then as [`TicketSort::PriorityThenAge`]. The rank is
    /// [`queue_rank`](super::cursor::queue_rank).
    EscalatedFirst,
}

/// A ticket listing query. Empty filters match everything.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TicketQuery {
    /// Any of these statuses.
    pub statuses: Vec<TicketStatus>,
    /// Any of these priorities.
    pub priorities: Vec<Priority>,
    /// The assignee.
    pub assignee: Option<AssigneeFilter>,
    /// The requester (customers are always restricted to themselves by the service).
    pub requester: Option<UserId>,
    /// The category.
    pub category: Option<String>,
    /// The team (its key).
    pub team: Option<String>,
    /// Case-insensitive (at least for ASCII) substring of the subject. Matched as plain
    /// text: no wildcard or regex syntax.
    pub text: Option<String>,
    /// Leave out chat tickets the bot is still answering
    /// ([`Ticket::is_bot_chat`](crate::domain::Ticket::is_bot_chat): channel Chat, status
    /// New). The agent queue sets it: such a chat becomes the agents' work when it is
    /// handed off, taken over by an agent or moved to another status.
    pub exclude_bot_chats: bool,
    /// Custom field values the ticket must have, each a
    /// [`field_token`](crate::domain::field_token) (`plan=Pro`; for a multi-select, one of
    /// its options): every token must be among the ticket's
    /// [`field_tokens`](crate::domain::field_tokens).
    pub fields: Vec<String>,
    /// Order.
    pub sort: TicketSort,
    /// Page size (1..=200; 0 means the default of 50).
    pub limit: u32,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

impl TicketQuery {
    /// Largest page size.
    pub const MAX_LIMIT: u32 = 200;
    /// Page size when `limit` is 0.
    pub const DEFAULT_LIMIT: u32 = 50;

    /// The page size to use, validated.
    pub fn effective_limit(&self) -> Result<u32> {
        match self.limit {
            0 => Ok(Self::DEFAULT_LIMIT),
            n if n <= Self::MAX_LIMIT => Ok(n),
            n => Err(Error::validation(
                "limit",
                format!("{n} is more than {}", Self::MAX_LIMIT),
            )),
        }
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A half-open time range `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    /// Inclusive start.
    pub from: Timestamp,
    /// Exclusive end.
    pub to: Timestamp,
}

impl TimeRange {
    /// A validated range (`from < to`).
    pub fn new(from: Timestamp, to: Timestamp) -> Result<Self> {
        if from >= to {
            return Err(Error::validation("range", "`from` must be before `to`"));
        }
        Ok(Self { from, to })
    }

    /// Whether `t` is inside.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.from <= t && t < self.to
    }
}
