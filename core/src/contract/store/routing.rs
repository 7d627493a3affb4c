//! Routing state kept in the store, so that several helpdesk instances on one database
//! share one rotation and never give an agent more than their capacity.
//!
//! Every staff user has a routing stamp (`last_routed`): 0 until the router first picks
//! them, then a per-tenant increasing value written by each routed assignment. Routing
//! reads the stamps with the loads ([`Store::routing_staff`](super::Store::routing_staff)),
//! and a routed assignment commits a [`RoutingClaim`] with its ticket write: the store
//! moves the assignee's stamp from the value the router saw to the new one, and checks the
//! assignee's capacity, in the same commit. Two instances that both pick the same agent
//! from the same read therefore conflict (the second finds the stamp moved), and the loser
//! routes again on a fresh read.

use crate::domain::User;
use crate::{Error, TenantId, UserId};

/// The [`Error::Conflict`] entity of a refused [`RoutingClaim`] (its id is the assignee).
pub const ROUTING_ENTITY: &str = "routing";

/// A staff member as routing reads them ([`Store::routing_staff`](super::Store::routing_staff)).
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingStaff {
    /// The user.
    pub user: User,
    /// Their open tickets (not Resolved or Closed) right now.
    pub open_tickets: u64,
    /// Their routing stamp: 0 when never routed, else the stamp of their latest routed
    /// assignment (a per-tenant increasing value).
    pub last_routed: u64,
}

/// A routed assignment, committed with the ticket write that assigns it
/// ([`TicketWrite::routing`](super::TicketWrite::routing)).
///
/// The store applies it in the write's commit, and refuses the whole write (nothing
/// written) when it no longer holds:
///
/// * the write's ticket must be assigned to `assignee` (else `Validation` on
///   `routing.assignee`), and `last_routed` must be above `expected_last_routed` (else
///   `Validation` on `routing.last_routed`);
/// * `assignee` must be a user of the ticket's tenant (else `NotFound` on `user`, as for
///   an unknown id);
/// * the assignee must still be active staff (agent or admin), their stored stamp must
///   still be `expected_last_routed`, and, with a capacity above 0 on their user row, their
///   open tickets counted with this write's ticket must not exceed it; otherwise
///   [`RoutingClaim::conflict`] (an [`Error::Conflict`] on [`ROUTING_ENTITY`]).
///
/// When it holds, the assignee's stamp becomes `last_routed`. A claim is honoured by
/// [`TicketStore::create_ticket`](super::TicketStore::create_ticket) and
/// [`TicketStore::update_ticket`](super::TicketStore::update_ticket);
/// [`TicketStore::update_tickets`](super::TicketStore::update_tickets) refuses a write that
/// carries one ([`check_ticket_batch`](super::check_ticket_batch)). A manual assignment
/// carries no claim: people may assign beyond capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoutingClaim {
    /// The routed assignee (the write's ticket's assignee).
    pub assignee: UserId,
    /// The assignee's stamp as routing read it.
    pub expected_last_routed: u64,
    /// The stamp to store.
    pub last_routed: u64,
}

impl RoutingClaim {
    /// A claim on `assignee`, picked from `staff` (the tenant's routing read): expects the
    /// stamp read for them and stores one above every stamp read, so the assignee goes to
    /// the back of the rotation. `None` when `assignee` is not in `staff`.
    pub fn pick(staff: &[RoutingStaff], assignee: UserId) -> Option<Self> {
        let picked = staff.iter().find(|s| s.user.id == assignee)?;
        let top = staff.iter().map(|s| s.last_routed).max().unwrap_or(0);
        Some(Self {
            assignee,
            expected_last_routed: picked.last_routed,
            last_routed: top.saturating_add(1),
        })
    }

    /// The error every backend gives when the claim no longer holds (stamp moved, no room,
    /// or no longer active staff).
    pub fn conflict(&self) -> Error {
        Error::Conflict {
            entity: ROUTING_ENTITY,
            id: self.assignee.to_string(),
            expected: self.expected_last_routed,
        }
    }

    /// Checks the claim against the write's ticket (`tenant`, `assignee`): what every
    /// backend checks before it opens its commit.
    pub fn check(&self, assignee: Option<UserId>) -> crate::Result<()> {
        if assignee != Some(self.assignee) {
            return Err(Error::validation(
                "routing.assignee",
                "must be the assignee of the write's ticket",
            ));
        }
        if self.last_routed <= self.expected_last_routed {
            return Err(Error::validation(
                "routing.last_routed",
                "must be above routing.expected_last_routed",
            ));
        }
        Ok(())
    }

    /// Decides the claim against the assignee as stored, for a backend that reads them in
    /// its commit: `user` is the assignee's row of `tenant` (`None` when there is none),
    /// `stamp` their stored stamp, `open` their open tickets counted with the write's
    /// ticket.
    pub fn decide(
        &self,
        tenant: TenantId,
        user: Option<&User>,
        stamp: u64,
        open: u64,
    ) -> crate::Result<()> {
        let Some(user) = user.filter(|u| u.tenant_id == tenant) else {
            return Err(Error::not_found("user", self.assignee));
        };
        let room = user.capacity == 0 || open <= u64::from(user.capacity);
        if !user.active || !user.is_staff() || stamp != self.expected_last_routed || !room {
            return Err(self.conflict());
        }
        Ok(())
    }
}

impl Error {
    /// Whether this is a refused [`RoutingClaim`]: the routing read is stale, and routing
    /// again on a fresh read may pick someone else.
    pub fn is_routing_conflict(&self) -> bool {
        matches!(self, Error::Conflict { entity, .. } if *entity == ROUTING_ENTITY)
    }
}

/// Pairs each staff member and their stamp with its count in `counts` (from
/// [`TicketStore::open_ticket_counts`](super::TicketStore::open_ticket_counts); 0 when it
/// has none), keeping the staff's order: what
/// [`Store::routing_staff`](super::Store::routing_staff) returns, for backends that read
/// the two separately.
pub fn with_open_loads(staff: Vec<(User, u64)>, counts: &[(UserId, u64)]) -> Vec<RoutingStaff> {
    staff
        .into_iter()
        .map(|(user, last_routed)| {
            let open_tickets = counts
                .iter()
                .find(|(id, _)| *id == user.id)
                .map_or(0, |(_, n)| *n);
            RoutingStaff {
                user,
                open_tickets,
                last_routed,
            }
        })
        .collect()
}
