//! Built-in password login with hashed session tokens.

use jiff::Timestamp;

use super::Helpdesk;
use crate::auth::{hash_token, new_token, verify_password};
use crate::domain::{Actor, AuthSession, User};
use crate::{Error, Result, validate};

/// A successful login. The token is shown once; only its hash is stored.
#[derive(Clone)]
pub struct LoginOutcome {
    /// The bearer token (e.g. a cookie value).
    pub token: String,
    /// The authenticated actor.
    pub actor: Actor,
    /// The user.
    pub user: User,
    /// When the session ends.
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for LoginOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginOutcome")
            .field("actor", &self.actor)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A valid argon2id hash of a random password, verified when the user does not exist so
/// that a login takes the same time either way.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$9Bn8tYrpMy1p/Mx6uGr3mzdCkPh5xjqi8dgpj6EBK8E";

impl Helpdesk {
    /// Logs in with e-mail and password on a tenant. Wrong e-mail, wrong password, no
    /// password set and inactive users all give the same `Unauthenticated` error.
    pub async fn login(
        &self,
        tenant_slug: &str,
        email: &str,
        password: &str,
    ) -> Result<LoginOutcome> {
        let denied = Error::Unauthenticated {
            reason: "wrong e-mail or password",
        };
        let Some(tenant) = self.inner.store.get_tenant_by_slug(tenant_slug).await? else {
            let _ = verify_password(password, DUMMY_HASH);
            return Err(denied);
        };
        let email = validate::email(email).map_err(|_| Error::Unauthenticated {
            reason: "wrong e-mail or password",
        })?;
        let (user, hash) = match self
            .inner
            .store
            .login_credentials(tenant.id, &email)
            .await?
        {
            Some((user, hash)) => (Some(user), hash),
            None => (None, None),
        };
        // Without a stored hash the dummy is verified, and the login refused below.
        let has_password = hash.is_some();
        let phc = hash.map_or_else(|| DUMMY_HASH.to_string(), |h| h.as_str().to_string());
        let password_ok = {
            let password = password.to_string();
            tokio::task::spawn_blocking(move || verify_password(&password, &phc))
                .await
                .unwrap_or(false)
        };
        let user = match user {
            Some(u) if password_ok && u.active && has_password => u,
            _ => return Err(denied),
        };
        let token = new_token()?;
        let now = self.now();
        let expires_at = now
            .checked_add(self.inner.config.session_ttl)
            .map_err(|e| Error::Configuration {
                field: "session_ttl".into(),
                message: e.to_string(),
            })?;
        self.inner
            .store
            .create_session(&AuthSession {
                token_hash: hash_token(&token),
                tenant_id: tenant.id,
                user_id: user.id,
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(LoginOutcome {
            token,
            actor: Actor::for_user(&user),
            user,
            expires_at,
        })
    }

    /// The actor behind a session token; expired sessions and inactive users are refused.
    pub async fn authenticate(&self, token: &str) -> Result<Actor> {
        let session = self
            .inner
            .store
            .get_session(&hash_token(token))
            .await?
            .ok_or(Error::Unauthenticated {
                reason: "unknown session",
            })?;
        if session.expires_at <= self.now() {
            self.inner.store.delete_session(&session.token_hash).await?;
            return Err(Error::Unauthenticated {
                reason: "session expired",
            });
        }
        let user = self
            .inner
            .store
            .get_user(session.tenant_id, session.user_id)
            .await?
            .filter(|u| u.active)
            .ok_or(Error::Unauthenticated {
                reason: "user is inactive",
            })?;
        Ok(Actor::for_user(&user))
    }

    /// Ends a session.
    pub async fn logout(&self, token: &str) -> Result<()> {
        self.inner.store.delete_session(&hash_token(token)).await
    }
}
