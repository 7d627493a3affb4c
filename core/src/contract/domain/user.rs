//! Users, authenticated actors and login sessions.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::Role;
use crate::{TenantId, UserId};

/// A user of one tenant. It carries no credentials: a user's [`PasswordHash`] is read and
/// written only through the store's narrow credential calls, so no read that returns users
/// (listings a host may serialize for any agent) can hand it out.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// The tenant the user belongs to.
    pub tenant_id: TenantId,
    /// Lowercased e-mail, unique within the tenant.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Customer, agent or admin.
    pub role: Role,
    /// Skills from the tenant's vocabulary (agents and admins).
    pub skills: Vec<String>,
    /// Maximum open tickets the router may give this user (0 = no limit).
    pub capacity: u32,
    /// Inactive users cannot log in and are never assigned.
    pub active: bool,
    /// When the user was created.
    pub created_at: Timestamp,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("skills", &self.skills)
            .field("capacity", &self.capacity)
            .field("active", &self.active)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// A user's stored password: an argon2id PHC string, for the helpdesk's own password login.
/// Not serializable, and `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string as stored (no parsing: a malformed one just never verifies).
    pub fn new(phc: impl Into<String>) -> Self {
        Self(phc.into())
    }

    /// The PHC string, for the store to write and the login to verify.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

impl User {
    /// Whether the user works tickets (agent or admin).
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Agent | Role::Admin)
    }
}

/// An authenticated caller. Every `Helpdesk` call takes one; the role matrix is checked
/// against `role`. Host apps with their own auth build it with [`Actor::new`] after
/// authenticating the user themselves; the service re-reads the user and refuses an
/// inactive one or one whose stored role or tenant differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The caller's tenant.
    pub tenant_id: TenantId,
    /// The caller.
    pub user_id: UserId,
    /// The caller's role.
    pub role: Role,
}

impl Actor {
    /// An actor the host has authenticated.
    pub fn new(tenant_id: TenantId, user_id: UserId, role: Role) -> Self {
        Self {
            tenant_id,
            user_id,
            role,
        }
    }

    /// The actor for a stored user.
    pub fn for_user(user: &User) -> Self {
        Self::new(user.tenant_id, user.id, user.role)
    }

    /// Whether the actor is an agent or admin.
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Agent | Role::Admin)
    }
}

/// A login session. Only the SHA-256 hash of the token is stored.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthSession {
    /// Hex SHA-256 of the bearer token.
    pub token_hash: String,
    /// Tenant of the user.
    pub tenant_id: TenantId,
    /// The user.
    pub user_id: UserId,
    /// When the session was created.
    pub created_at: Timestamp,
    /// When it stops being valid.
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for AuthSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSession")
            .field("tenant_id", &self.tenant_id)
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}
