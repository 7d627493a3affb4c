//! Display names of users, looked up once per page.

use std::collections::HashMap;

use helpdesk_core::domain::{AuthorKind, Message};
use helpdesk_core::{Helpdesk, Result, TenantId, UserId};

/// User names of one tenant.
#[derive(Debug, Default)]
pub(crate) struct Names(HashMap<UserId, String>);

impl Names {
    /// Loads every user name of `tenant`.
    pub(crate) async fn load(helpdesk: &Helpdesk, tenant: TenantId) -> Result<Self> {
        let users = helpdesk.store().list_users(tenant, None).await?;
        Ok(Self(users.into_iter().map(|u| (u.id, u.name)).collect()))
    }

    /// The name of `id`, or `fallback`.
    pub(crate) fn of(&self, id: Option<UserId>, fallback: &str) -> String {
        id.and_then(|id| self.0.get(&id).cloned())
            .unwrap_or_else(|| fallback.to_string())
    }

    /// Who wrote `m`.
    pub(crate) fn author(&self, m: &Message) -> String {
        match m.author_kind {
            AuthorKind::Bot => "Nimbus assistant (bot)".into(),
            AuthorKind::System => "System".into(),
            _ => self.of(m.author, "Unknown"),
        }
    }
}
