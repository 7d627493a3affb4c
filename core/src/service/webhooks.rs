//! Webhook endpoints: admins register where the tenant's events are posted, change them,
//! rotate their signing secrets, enable, disable and delete them (each audited). The
//! sender (delivery with retries, signatures) lives with the HTTP layer; it reads and
//! records through [`WebhookStore`](crate::store::WebhookStore).

use base64::Engine as _;

use super::Helpdesk;
use crate::auth::new_random_bytes;
use crate::domain::{Actor, AuditKind, EventKind, WebhookEndpoint, WebhookSecret};
use crate::roles::Action;
use crate::store::AdminChange;
use crate::{Error, Result, WebhookId, validate};

/// What every webhook signing secret starts with (the Standard Webhooks form: the rest
/// is the base64 of the key bytes).
pub const WEBHOOK_SECRET_PREFIX: &str = "whsec_";

/// The longest endpoint URL, in characters.
pub const MAX_WEBHOOK_URL_CHARS: usize = 2000;

/// The most endpoints one tenant may register.
pub const MAX_WEBHOOKS_PER_TENANT: usize = 20;

/// A new webhook endpoint.
#[derive(Debug, Clone, Default)]
pub struct NewWebhook {
    /// Where to post (`https://` or `http://`, at most [`MAX_WEBHOOK_URL_CHARS`]).
    pub url: String,
    /// Event kinds to deliver ([`EventKind::NAMES`]); empty for every kind.
    pub event_types: Vec<String>,
}

/// Changes to an endpoint; `None` keeps the value.
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    /// A new URL.
    pub url: Option<String>,
    /// New event kinds (empty for every kind).
    pub event_types: Option<Vec<String>>,
}

fn validate_url(url: &str) -> Result<String> {
    let url = validate::required_line("url", url, MAX_WEBHOOK_URL_CHARS)?;
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| Error::validation("url", "must start with https:// or http://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.contains('@') {
        return Err(Error::validation("url", "must name a host (and no user)"));
    }
    if url.chars().any(char::is_whitespace) {
        return Err(Error::validation("url", "must not contain spaces"));
    }
    Ok(url)
}

fn validate_event_types(types: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for (i, t) in types.iter().enumerate() {
        let t = t.trim();
        if !EventKind::NAMES.contains(&t) {
            return Err(Error::validation(
                format!("event_types[{i}]"),
                format!("{t:?} is not an event kind"),
            ));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    Ok(out)
}

/// A new signing secret: `whsec_` and the base64 of 32 random bytes.
fn new_secret() -> Result<WebhookSecret> {
    let bytes: [u8; 32] = new_random_bytes()?;
    Ok(WebhookSecret::new(format!(
        "{WEBHOOK_SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )))
}

impl Helpdesk {
    /// Registers a webhook endpoint (admins only) with a new signing secret, enabled.
    /// The answer carries the secret (the host shows it to the admin); it is stored to
    /// sign deliveries. Audited (`WebhookCreated`, without the secret).
    pub async fn create_webhook(&self, actor: &Actor, new: NewWebhook) -> Result<WebhookEndpoint> {
        let (_, _, existing) = self
            .check_while(
                actor,
                Action::ManageTenant,
                self.inner.store.list_webhooks(actor.tenant_id),
            )
            .await?;
        if existing.len() >= MAX_WEBHOOKS_PER_TENANT {
            return Err(Error::validation(
                "url",
                format!("at most {MAX_WEBHOOKS_PER_TENANT} endpoints per tenant"),
            ));
        }
        let endpoint = WebhookEndpoint {
            id: WebhookId::new(),
            tenant_id: actor.tenant_id,
            url: validate_url(&new.url)?,
            event_types: validate_event_types(&new.event_types)?,
            secret: new_secret()?,
            previous_secret: None,
            rotated_at: None,
            enabled: true,
            disabled_reason: None,
            consecutive_failures: 0,
            cursor: None,
            next_attempt_at: None,
            created_at: self.now(),
        };
        let kind = AuditKind::WebhookCreated {
            webhook: endpoint.id,
            url: endpoint.url.clone(),
            event_types: endpoint.event_types.clone(),
        };
        let change = AdminChange::CreateWebhook(endpoint.clone());
        self.commit_admin(Some(actor), actor.tenant_id, change, kind)
            .await?;
        Ok(endpoint)
    }

    /// The tenant's webhook endpoints, oldest first (admins only).
    pub async fn list_webhooks(&self, actor: &Actor) -> Result<Vec<WebhookEndpoint>> {
        let (_, _, list) = self
            .check_while(
                actor,
                Action::ManageTenant,
                self.inner.store.list_webhooks(actor.tenant_id),
            )
            .await?;
        Ok(list)
    }

    /// One webhook endpoint of the tenant (admins only; another tenant's is `NotFound`).
    pub async fn get_webhook(&self, actor: &Actor, id: WebhookId) -> Result<WebhookEndpoint> {
        let (_, _, found) = self
            .check_while(
                actor,
                Action::ManageTenant,
                self.inner.store.get_webhook(actor.tenant_id, id),
            )
            .await?;
        found.ok_or_else(|| Error::not_found("webhook", id))
    }

    /// Changes an endpoint's URL or event kinds (admins only); audited (`WebhookUpdated`).
    pub async fn update_webhook(
        &self,
        actor: &Actor,
        id: WebhookId,
        patch: WebhookPatch,
    ) -> Result<WebhookEndpoint> {
        let current = self.get_webhook(actor, id).await?;
        let url = match &patch.url {
            Some(url) => validate_url(url)?,
            None => current.url,
        };
        let event_types = match &patch.event_types {
            Some(types) => validate_event_types(types)?,
            None => current.event_types,
        };
        let kind = AuditKind::WebhookUpdated {
            webhook: id,
            url: url.clone(),
            event_types: event_types.clone(),
        };
        let change = AdminChange::UpdateWebhook {
            tenant: actor.tenant_id,
            id,
            url,
            event_types,
        };
        self.commit_admin(Some(actor), actor.tenant_id, change, kind)
            .await?;
        self.stored_webhook(actor, id).await
    }

    /// Gives an endpoint a new signing secret (admins only); the old one stays as
    /// `previous_secret` for the sender's grace period. Audited (`WebhookSecretRotated`).
    /// The answer carries the new secret.
    pub async fn rotate_webhook_secret(
        &self,
        actor: &Actor,
        id: WebhookId,
    ) -> Result<WebhookEndpoint> {
        self.check(actor, Action::ManageTenant).await?;
        let change = AdminChange::RotateWebhookSecret {
            tenant: actor.tenant_id,
            id,
            secret: new_secret()?,
            at: self.now(),
        };
        let kind = AuditKind::WebhookSecretRotated { webhook: id };
        self.commit_admin(Some(actor), actor.tenant_id, change, kind)
            .await?;
        self.stored_webhook(actor, id).await
    }

    /// Enables an endpoint (clearing its failures and reason) or disables it (admins
    /// only); audited (`WebhookEnabledChanged`).
    pub async fn set_webhook_enabled(
        &self,
        actor: &Actor,
        id: WebhookId,
        enabled: bool,
    ) -> Result<WebhookEndpoint> {
        self.check(actor, Action::ManageTenant).await?;
        let change = AdminChange::SetWebhookEnabled {
            tenant: actor.tenant_id,
            id,
            enabled,
            reason: (!enabled).then(|| "disabled by an admin".to_string()),
        };
        let kind = AuditKind::WebhookEnabledChanged {
            webhook: id,
            enabled,
        };
        self.commit_admin(Some(actor), actor.tenant_id, change, kind)
            .await?;
        self.stored_webhook(actor, id).await
    }

    /// Deletes an endpoint (admins only); audited (`WebhookDeleted`).
    pub async fn delete_webhook(&self, actor: &Actor, id: WebhookId) -> Result<()> {
        self.check(actor, Action::ManageTenant).await?;
        let change = AdminChange::DeleteWebhook {
            tenant: actor.tenant_id,
            id,
        };
        let kind = AuditKind::WebhookDeleted { webhook: id };
        self.commit_admin(Some(actor), actor.tenant_id, change, kind)
            .await
    }

    /// The endpoint as stored after a change (checked already).
    async fn stored_webhook(&self, actor: &Actor, id: WebhookId) -> Result<WebhookEndpoint> {
        self.inner
            .store
            .get_webhook(actor.tenant_id, id)
            .await?
            .ok_or_else(|| Error::not_found("webhook", id))
    }
}
