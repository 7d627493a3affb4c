//! Routing a ticket on the store's routing read: who the router picks, and the claim the
//! store checks in the assigning commit ([`RoutingClaim`]).

use super::*;
use crate::store::RoutingClaim;

/// A routing decision, to commit with [`Change::route_to`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Routed {
    /// The router's pick.
    pub(crate) assignee: UserId,
    /// The claim committed with the assignment: present when the pick had room under
    /// their capacity in the read (the admin fallback, which ignores capacity, and a pick
    /// outside the candidates commit none, as a manual assignment does).
    pub(crate) claim: Option<RoutingClaim>,
}

impl Helpdesk {
    /// Routes `ticket` on a fresh routing read: every routable agent and admin of the
    /// tenant, or, for a ticket of a team, the team's members (the router then weighs
    /// skills, load and stamps among them). The claim's new stamp is above every stamp of
    /// the tenant's staff, so the pick goes to the back of the tenant's rotation.
    pub(crate) async fn route(&self, tenant: &Tenant, ticket: &Ticket) -> Result<Option<Routed>> {
        let staff = self.inner.store.routing_staff(tenant.id).await?;
        let team = ticket.team.as_deref().and_then(|k| tenant.settings.team(k));
        let candidates: Vec<Candidate> = staff
            .iter()
            .filter(|s| team.is_none_or(|t| t.has_member(s.user.id)))
            .cloned()
            .map(Candidate::from)
            .collect();
        let Some(assignee) = self.inner.router.route(ticket, &candidates).await else {
            return Ok(None);
        };
        let claim = candidates
            .iter()
            .any(|c| c.user.id == assignee && c.has_capacity())
            .then(|| RoutingClaim::pick(&staff, assignee))
            .flatten();
        Ok(Some(Routed { assignee, claim }))
    }

    /// How many times a use case routes before it gives up on routing (a claim refused
    /// each time): then the ticket is committed unassigned.
    pub(crate) fn routing_attempts(&self) -> u32 {
        self.inner.config.max_conflict_retries.max(1)
    }
}
