//! Routing: pick an assignee among the tenant's agents.
//!
//! Strategies compose: [`RouterChain`] narrows the candidates step by step (skills, then
//! capacity) and picks with the last strategy (round-robin or least loaded); when nobody is
//! left it falls back to an admin. Candidates always come from the service, which only
//! offers active agents and admins of the ticket's own tenant, and every router re-checks
//! that, so a router can never assign a customer, an inactive user or another tenant's
//! user.
//!
//! Routers keep no state: what they decide on (open loads, capacities, each candidate's
//! routing stamp `last_routed`) is read from the store, and the service commits a routed
//! assignment with a [`RoutingClaim`](crate::store::RoutingClaim) that the store checks in
//! the same commit (the stamp as read, room under the capacity). So several helpdesk
//! instances on one database share one rotation and never exceed an agent's capacity:
//! when two of them pick the same agent from the same read, the second commit conflicts
//! and that instance routes again on a fresh read (a few times, then it leaves the ticket
//! unassigned rather than fail the intake). A pick of a candidate without room (the admin
//! fallback) is committed without a claim, like a manual assignment.

use std::fmt::Debug;

use async_trait::async_trait;

use crate::domain::{Role, Ticket, User};
use crate::store::RoutingStaff;
use crate::{TenantId, UserId};

/// A candidate assignee with their current load and routing stamp.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The user.
    pub user: User,
    /// Their open tickets right now.
    pub open_tickets: u64,
    /// Their routing stamp as stored: 0 when never routed, else the (per-tenant increasing)
    /// stamp of their latest routed assignment. Round-robin picks the smallest.
    pub last_routed: u64,
}

impl Candidate {
    /// A candidate never routed before (`last_routed` 0).
    pub fn new(user: User, open_tickets: u64) -> Self {
        Self {
            user,
            open_tickets,
            last_routed: 0,
        }
    }

    /// The same candidate with routing stamp `last_routed`.
    pub fn routed_at(mut self, last_routed: u64) -> Self {
        self.last_routed = last_routed;
        self
    }

    /// Whether the user may be assigned at all (active staff of the tenant).
    pub fn eligible(&self, tenant: TenantId) -> bool {
        self.user.tenant_id == tenant && self.user.active && self.user.is_staff()
    }

    /// Whether the user has room under their capacity (0 = unlimited).
    pub fn has_capacity(&self) -> bool {
        self.user.capacity == 0 || self.open_tickets < u64::from(self.user.capacity)
    }

    /// Whether the user has every skill the ticket requires.
    pub fn has_skills(&self, required: &[String]) -> bool {
        required.iter().all(|skill| {
            self.user
                .skills
                .iter()
                .any(|s| s.eq_ignore_ascii_case(skill))
        })
    }
}

impl From<RoutingStaff> for Candidate {
    fn from(staff: RoutingStaff) -> Self {
        Self {
            user: staff.user,
            open_tickets: staff.open_tickets,
            last_routed: staff.last_routed,
        }
    }
}

/// Chooses an assignee for a ticket.
#[async_trait]
pub trait Router: Send + Sync + Debug {
    /// Picks one of `candidates` (or none). Implementations must only return the id of an
    /// [eligible](Candidate::eligible) candidate.
    async fn route(&self, ticket: &Ticket, candidates: &[Candidate]) -> Option<UserId>;
}

fn eligible<'a>(ticket: &Ticket, candidates: &'a [Candidate]) -> Vec<&'a Candidate> {
    let mut list: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| c.eligible(ticket.tenant_id))
        .collect();
    list.sort_by_key(|c| c.user.id);
    list
}

/// Least loaded (fewest open tickets) among candidates with room under their capacity;
/// ties go to the earliest user id.
#[derive(Debug, Default)]
pub struct LeastLoaded;

#[async_trait]
impl Router for LeastLoaded {
    async fn route(&self, ticket: &Ticket, candidates: &[Candidate]) -> Option<UserId> {
        eligible(ticket, candidates)
            .into_iter()
            .filter(|c| c.has_capacity())
            .min_by_key(|c| (c.open_tickets, c.user.id))
            .map(|c| c.user.id)
    }
}

/// Round-robin over candidates with room under their capacity: the one routed longest
/// ago (smallest [`Candidate::last_routed`], never-routed first, ties to the earliest user
/// id). Stateless: the rotation lives in the store's stamps, which every routed assignment
/// moves forward, so it is one rotation per tenant across every helpdesk instance.
#[derive(Debug, Default)]
pub struct RoundRobin;

#[async_trait]
impl Router for RoundRobin {
    async fn route(&self, ticket: &Ticket, candidates: &[Candidate]) -> Option<UserId> {
        eligible(ticket, candidates)
            .into_iter()
            .filter(|c| c.has_capacity())
            .min_by_key(|c| (c.last_routed, c.user.id))
            .map(|c| c.user.id)
    }
}

/// Keeps only candidates with every required skill, then asks `inner`. When no candidate
/// has the skills, asks `inner` with everyone (a generalist beats nobody).
#[derive(Debug)]
pub struct SkillsMatch<R> {
    inner: R,
}

impl<R: Router> SkillsMatch<R> {
    /// Wraps a picking strategy.
    pub fn new(inner: R) -> Self {
        Self { inner }
    }
}

#[async_trait]
impl<R: Router> Router for SkillsMatch<R> {
    async fn route(&self, ticket: &Ticket, candidates: &[Candidate]) -> Option<UserId> {
        let skilled: Vec<Candidate> = candidates
            .iter()
            .filter(|c| c.eligible(ticket.tenant_id) && c.has_skills(&ticket.required_skills))
            .cloned()
            .collect();
        if let Some(id) = self.inner.route(ticket, &skilled).await {
            return Some(id);
        }
        self.inner.route(ticket, candidates).await
    }
}

/// Tries routers in order over the agents only; when none picks anybody, falls back to the
/// least loaded active admin (ignoring capacity), so a ticket is never left unowned while
/// the tenant has an admin. Admins are a fallback, never a peer: while an agent can take a
/// ticket, no admin gets it, whatever their load.
#[derive(Debug)]
pub struct RouterChain {
    routers: Vec<Box<dyn Router>>,
    admin_fallback: bool,
}

impl RouterChain {
    /// An empty chain with the admin fallback on.
    pub fn new() -> Self {
        Self {
            routers: Vec::new(),
            admin_fallback: true,
        }
    }

    /// Adds a router at the end.
    pub fn with(mut self, router: impl Router + 'static) -> Self {
        self.routers.push(Box::new(router));
        self
    }

    /// Turns the admin fallback off (tickets may stay unassigned).
    pub fn without_admin_fallback(mut self) -> Self {
        self.admin_fallback = false;
        self
    }

    /// The default: skills match over least loaded, then any least loaded, then an admin.
    pub fn standard() -> Self {
        Self::new()
            .with(SkillsMatch::new(LeastLoaded))
            .with(LeastLoaded)
    }
}

impl Default for RouterChain {
    fn default() -> Self {
        Self::standard()
    }
}

#[async_trait]
impl Router for RouterChain {
    async fn route(&self, ticket: &Ticket, candidates: &[Candidate]) -> Option<UserId> {
        let agents: Vec<Candidate> = candidates
            .iter()
            .filter(|c| c.user.role != Role::Admin)
            .cloned()
            .collect();
        for router in &self.routers {
            if let Some(id) = router.route(ticket, &agents).await {
                // Trust no router blindly: re-check eligibility.
                if agents
                    .iter()
                    .any(|c| c.user.id == id && c.eligible(ticket.tenant_id))
                {
                    return Some(id);
                }
                tracing::warn!(%id, "router picked an ineligible user; ignored");
            }
        }
        if !self.admin_fallback {
            return None;
        }
        eligible(ticket, candidates)
            .into_iter()
            .filter(|c| c.user.role == Role::Admin)
            .min_by_key(|c| (c.open_tickets, c.user.id))
            .map(|c| c.user.id)
    }
}
