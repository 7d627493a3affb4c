//! Per-tenant API keys for integrations: created and revoked by admins (audited), shown
//! once, stored hashed, acting as one staff user with the role that user had.

use std::time::Duration;

use super::Helpdesk;
use crate::auth::{hash_token, new_token};
use crate::domain::{Actor, ApiKey, AuditKind};
use crate::roles::Action;
use crate::store::AdminChange;
use crate::{ApiKeyId, Error, Result, UserId, validate};

/// What every API key secret starts with, so that a leaked one is recognisable (secret
/// scanners, logs) and a bearer token of another kind is refused without a store read.
pub const API_KEY_SECRET_PREFIX: &str = "hdk_";

/// The longest label of an API key, in characters.
pub const MAX_API_KEY_LABEL_CHARS: usize = 80;

/// A key records its use at most this often: a busy integration does not write on every
/// request, and `last_used_at` is at most this much behind.
pub const API_KEY_TOUCH_INTERVAL: Duration = Duration::from_secs(60);

/// A new API key.
#[derive(Debug, Clone, Default)]
pub struct NewApiKey {
    /// What to call it (1 to [`MAX_API_KEY_LABEL_CHARS`] characters, one line, no control
    /// characters).
    pub label: String,
    /// The staff user the key acts as, an active agent or admin of the admin's tenant;
    /// `None` for the admin creating it.
    pub user_id: Option<UserId>,
}

impl NewApiKey {
    /// A key acting as the admin who creates it.
    pub fn new(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            user_id: None,
        }
    }

    /// A key acting as `user`.
    pub fn acting_as(mut self, user: UserId) -> Self {
        self.user_id = Some(user);
        self
    }
}

/// A key just created, with its secret: the only time the secret is shown. `Debug` does
/// not print it.
#[derive(Clone)]
pub struct CreatedApiKey {
    /// The stored key.
    pub key: ApiKey,
    /// The secret to hand to the integration (a bearer token).
    pub secret: String,
}

impl std::fmt::Debug for CreatedApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedApiKey")
            .field("key", &self.key)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The same answer for every key that does not authenticate, whatever the reason.
const DENIED: Error = Error::Unauthenticated {
    reason: "invalid API key",
};

fn validate_label(label: &str) -> Result<String> {
    let label = validate::required_line("label", label, MAX_API_KEY_LABEL_CHARS)?;
    if label.contains('\t') {
        return Err(Error::validation("label", "must not contain a tab"));
    }
    Ok(label)
}

impl Helpdesk {
    /// Creates an API key (admins only). The key acts as `new.user_id`, an active agent or
    /// admin of the admin's tenant (another tenant's user is `NotFound`, a customer or an
    /// inactive user a `Validation` error on `user_id`), or as the admin. The secret is in
    /// the answer and nowhere else: the store keeps its hash. The creation is audited
    /// (`ApiKeyCreated`) in the same write.
    pub async fn create_api_key(&self, actor: &Actor, new: NewApiKey) -> Result<CreatedApiKey> {
        let (_, admin) = self.check(actor, Action::ManageTenant).await?;
        let label = validate_label(&new.label)?;
        let user = match new.user_id {
            None => admin,
            Some(id) if id == admin.id => admin,
            Some(id) => self
                .inner
                .store
                .get_user(actor.tenant_id, id)
                .await?
                .ok_or_else(|| Error::not_found("user", id))?,
        };
        if !user.is_staff() || !user.active {
            return Err(Error::validation(
                "user_id",
                "must be an active agent or admin",
            ));
        }
        let secret = format!("{API_KEY_SECRET_PREFIX}{}", new_token()?);
        let key = ApiKey {
            id: ApiKeyId::new(),
            tenant_id: actor.tenant_id,
            user_id: user.id,
            role: user.role,
            label,
            prefix: secret.chars().take(ApiKey::PREFIX_CHARS).collect(),
            created_at: self.now(),
            created_by: actor.user_id,
            last_used_at: None,
            revoked_at: None,
        };
        let kind = AuditKind::ApiKeyCreated {
            key: key.id,
            label: key.label.clone(),
            user: key.user_id,
            role: key.role,
        };
        let change = AdminChange::CreateApiKey {
            key: key.clone(),
            secret_hash: hash_token(&secret),
        };
        self.commit_admin(Some(actor), actor.tenant_id, change, kind)
            .await?;
        tracing::info!(key = %key.id, prefix = %key.prefix, "API key created");
        Ok(CreatedApiKey { key, secret })
    }

    /// The tenant's API keys, revoked ones included, newest first (admins only). No
    /// secrets: only their prefixes.
    pub async fn list_api_keys(&self, actor: &Actor) -> Result<Vec<ApiKey>> {
        let (_, _, keys) = self
            .check_while(
                actor,
                Action::ManageTenant,
                self.inner.store.list_api_keys(actor.tenant_id),
            )
            .await?;
        Ok(keys)
    }

    /// Revokes an API key of the admin's tenant (admins only): it never authenticates
    /// again. Audited (`ApiKeyRevoked`). Another tenant's key, or an unknown id, is
    /// `NotFound`; revoking a revoked key keeps its first revocation time.
    pub async fn revoke_api_key(&self, actor: &Actor, id: ApiKeyId) -> Result<()> {
        self.check(actor, Action::ManageTenant).await?;
        let change = AdminChange::RevokeApiKey {
            tenant: actor.tenant_id,
            id,
            at: self.now(),
        };
        self.commit_admin(
            Some(actor),
            actor.tenant_id,
            change,
            AuditKind::ApiKeyRevoked { key: id },
        )
        .await?;
        tracing::info!(key = %id, "API key revoked");
        Ok(())
    }

    /// The actor an API key secret stands for. An unknown or malformed secret, a revoked
    /// key, a user that is gone or inactive, and a user whose role is no longer the key's
    /// all give the same `Unauthenticated` error. A use is recorded in the key's
    /// `last_used_at` at most once per [`API_KEY_TOUCH_INTERVAL`] (a failure to record it
    /// is logged, not returned: the key did authenticate).
    pub async fn authenticate_api_key(&self, secret: &str) -> Result<Actor> {
        if !secret.starts_with(API_KEY_SECRET_PREFIX) {
            return Err(DENIED);
        }
        let Some(key) = self
            .inner
            .store
            .api_key_by_hash(&hash_token(secret))
            .await?
        else {
            return Err(DENIED);
        };
        if key.is_revoked() {
            return Err(DENIED);
        }
        let Some((_, user)) = self
            .inner
            .store
            .user_with_tenant(key.tenant_id, key.user_id)
            .await?
        else {
            return Err(DENIED);
        };
        if !user.active || user.role != key.role {
            return Err(DENIED);
        }
        let now = self.now();
        let due = key.last_used_at.is_none_or(|last| {
            now.duration_since(last)
                .unsigned_abs()
                .ge(&API_KEY_TOUCH_INTERVAL)
        });
        if due
            && let Err(e) = self
                .inner
                .store
                .touch_api_key(key.tenant_id, key.id, now)
                .await
        {
            tracing::warn!(key = %key.id, error = %e, "could not record an API key use");
        }
        Ok(Actor::new(key.tenant_id, key.user_id, key.role))
    }
}
