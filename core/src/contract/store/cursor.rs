//! Opaque pagination cursors shared by every backend.

use jiff::Timestamp;

use super::TicketSort;
use crate::domain::{Ticket, TicketStatus};
use crate::{Error, Result, TicketId};

/// The position after which the next page starts: the sort key of the last item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The sort the cursor belongs to.
    pub sort: TicketSort,
    /// Rank of the last item: its priority rank for `PriorityThenAge`, its
    /// [`queue_rank`] for `EscalatedFirst`, 0 for `Newest`.
    pub priority_rank: u8,
    /// Creation time of the last item, in milliseconds since the epoch.
    pub created_ms: i64,
    /// Id of the last item.
    pub id: TicketId,
}

impl Cursor {
    /// The cursor after `ticket` in `sort` order.
    pub fn after(ticket: &Ticket, sort: TicketSort) -> Self {
        Self {
            sort,
            priority_rank: rank(sort, ticket),
            created_ms: ticket.created_at.as_millisecond(),
            id: ticket.id,
        }
    }

    /// The opaque string form.
    pub fn encode(&self) -> String {
        let tag = tag(self.sort);
        format!(
            "{tag}{}.{}.{}",
            self.priority_rank, self.created_ms, self.id
        )
    }

    /// Parses a cursor; it must belong to `sort`.
    pub fn decode(text: &str, sort: TicketSort) -> Result<Self> {
        let bad = || Error::validation("cursor", "not a cursor of this listing");
        let mut chars = text.chars();
        let tag = chars.next().ok_or_else(bad)?;
        if tag != self::tag(sort) {
            return Err(bad());
        }
        let mut parts = chars.as_str().splitn(3, '.');
        let rank: u8 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let created_ms: i64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let id: TicketId = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
        let max_rank = match sort {
            TicketSort::PriorityThenAge => 3,
            TicketSort::EscalatedFirst => 7,
            TicketSort::Newest => 0,
        };
        if rank > max_rank {
            return Err(bad());
        }
        Ok(Self {
            sort,
            priority_rank: rank,
            created_ms,
            id,
        })
    }

    /// Whether `ticket` comes strictly after this cursor in its sort order.
    pub fn is_before(&self, ticket: &Ticket) -> bool {
        let created = ticket.created_at.as_millisecond();
        match self.sort {
            TicketSort::PriorityThenAge | TicketSort::EscalatedFirst => {
                let rank = rank(self.sort, ticket);
                rank < self.priority_rank
                    || (rank == self.priority_rank
                        && (created > self.created_ms
                            || (created == self.created_ms && ticket.id > self.id)))
            }
            TicketSort::Newest => {
                created < self.created_ms || (created == self.created_ms && ticket.id < self.id)
            }
        }
    }

    /// The creation time as a timestamp.
    pub fn created_at(&self) -> Result<Timestamp> {
        Timestamp::from_millisecond(self.created_ms)
            .map_err(|_| Error::validation("cursor", "timestamp out of range"))
    }
}

/// Orders two tickets by `sort` (used by the in-memory store and tests).
pub fn compare(sort: TicketSort, a: &Ticket, b: &Ticket) -> std::cmp::Ordering {
    match sort {
        TicketSort::PriorityThenAge | TicketSort::EscalatedFirst => rank(sort, b)
            .cmp(&rank(sort, a))
            .then(a.created_at.cmp(&b.created_at))
            .then(a.id.cmp(&b.id)),
        TicketSort::Newest => b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)),
    }
}

/// The agent-queue rank of a ticket for [`TicketSort::EscalatedFirst`], higher first: its
/// priority rank (0..=3), plus 4 when it is Escalated, so every escalated ticket comes
/// before every other one (0..=7).
pub fn queue_rank(ticket: &Ticket) -> u8 {
    let escalated = if ticket.status == TicketStatus::Escalated {
        4
    } else {
        0
    };
    ticket.priority.rank() + escalated
}

/// The rank a sort orders by before age (0 for `Newest`).
fn rank(sort: TicketSort, ticket: &Ticket) -> u8 {
    match sort {
        TicketSort::PriorityThenAge => ticket.priority.rank(),
        TicketSort::EscalatedFirst => queue_rank(ticket),
        TicketSort::Newest => 0,
    }
}

/// The first character of a cursor of `sort`.
fn tag(sort: TicketSort) -> char {
    match sort {
        TicketSort::PriorityThenAge => 'p',
        TicketSort::Newest => 'n',
        TicketSort::EscalatedFirst => 'e',
    }
}
