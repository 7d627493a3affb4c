//! Teams: groups of agents (Billing, Technical) a ticket can be given to before, or
//! instead of, one agent. A tenant's teams live in its settings; a ticket names its team by
//! key ([`Ticket::team`](super::Ticket::team)).

use serde::{Deserialize, Serialize};

use crate::UserId;

/// A team of the tenant's agents and admins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Team {
    /// Identifier, unique in the tenant (`billing`); what tickets and filters name.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Its members: active agents or admins of the tenant.
    pub members: Vec<UserId>,
    /// Categories whose new tickets go to this team (a category belongs to one team at
    /// most): routing then picks an assignee among its members.
    pub categories: Vec<String>,
}

impl Team {
    /// Whether `user` is a member.
    pub fn has_member(&self, user: UserId) -> bool {
        self.members.contains(&user)
    }
}
