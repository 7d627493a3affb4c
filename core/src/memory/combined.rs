//! The memory store's combined reads ([`Store`]'s own methods): each is answered under
//! one lock, so it is a snapshot (the other backends answer them in one statement or in
//! concurrent reads).

use std::collections::HashMap;

use async_trait::async_trait;

use super::MemoryStore;
use crate::domain::{ChatSession, Role, Tenant, Ticket, User};
use crate::store::{RoutingStaff, Store, WeakCommitSignal, with_open_loads};
use crate::{ChatSessionId, Result, TenantId, UserId};

#[async_trait]
impl Store for MemoryStore {
    fn backend_name(&self) -> &'static str {
        "memory"
    }

    async fn user_with_tenant(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Option<(Tenant, User)>> {
        let d = self.lock()?;
        let user = d
            .users
            .iter()
            .find(|u| u.tenant_id == tenant && u.id == user);
        let tenant = d.tenants.iter().find(|t| t.id == tenant);
        Ok(tenant.cloned().zip(user.cloned()))
    }

    async fn chat_session_with_ticket(
        &self,
        tenant: TenantId,
        id: ChatSessionId,
    ) -> Result<Option<(ChatSession, Option<Ticket>)>> {
        let d = self.lock()?;
        let Some(session) = d.chats.iter().find(|c| c.tenant_id == tenant && c.id == id) else {
            return Ok(None);
        };
        let ticket = session
            .ticket_id
            .and_then(|t| d.tickets.get(&t))
            .filter(|t| t.tenant_id == tenant);
        Ok(Some((session.clone(), ticket.cloned())))
    }

    async fn routing_staff(&self, tenant: TenantId) -> Result<Vec<RoutingStaff>> {
        let d = self.lock()?;
        let mut counts: HashMap<UserId, u64> = HashMap::new();
        for t in d.tickets.values() {
            if t.tenant_id == tenant
                && t.status.is_open()
                && let Some(a) = t.assignee
            {
                *counts.entry(a).or_default() += 1;
            }
        }
        let mut staff = Vec::new();
        for role in [Role::Agent, Role::Admin] {
            let mut of_role: Vec<User> = d
                .users
                .iter()
                .filter(|u| u.tenant_id == tenant && u.role == role && u.active)
                .cloned()
                .collect();
            of_role.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
            staff.extend(of_role.into_iter().map(|u| {
                let stamp = d.routing_stamps.get(&u.id).copied().unwrap_or(0);
                (u, stamp)
            }));
        }
        let counts: Vec<(UserId, u64)> = counts.into_iter().collect();
        Ok(with_open_loads(staff, &counts))
    }

    /// The memory store lives in one process, whose helpdesks signal their own commits.
    async fn relay_commits(&self, _signal: WeakCommitSignal) -> Result<bool> {
        Ok(false)
    }
}
