//! Per-tenant API keys for integrations.
//!
//! A key acts as one staff user with the role that user had when the key was created. Its
//! secret is shown once, when it is created; the store keeps only the secret's hash
//! ([`crate::auth::hash_token`]), beside the key, never in it, so no read that returns keys
//! (the admin's listing) can hand the hash out, and `Debug` has nothing secret to print.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::Role;
use crate::{ApiKeyId, TenantId, UserId};

/// An API key of one tenant (without its secret or the secret's hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Id (time ordered).
    pub id: ApiKeyId,
    /// The tenant the key belongs to.
    pub tenant_id: TenantId,
    /// The staff user the key acts as.
    pub user_id: UserId,
    /// The user's role when the key was created; the key stops working when the user's
    /// role changes (or the user is deactivated).
    pub role: Role,
    /// What the admin called it (1 to 80 characters, one line).
    pub label: String,
    /// The first characters of the secret ([`ApiKey::PREFIX_CHARS`]), shown to tell keys
    /// apart; not enough to use it.
    pub prefix: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// The admin who created it.
    pub created_by: UserId,
    /// When it last authenticated a request, at most about a minute off (the service
    /// records a use at most once a minute per key).
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked; a revoked key never authenticates again.
    pub revoked_at: Option<Timestamp>,
}

impl ApiKey {
    /// How many leading characters of the secret a key keeps as its `prefix`.
    pub const PREFIX_CHARS: usize = 8;

    /// Whether the key has been revoked.
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}
