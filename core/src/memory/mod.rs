//! The in-memory store: the reference backend for tests and small embedded uses.

mod admin;
mod api_keys;
mod attachments;
mod canned;
mod combined;
mod erasure;
mod kb_index;
mod quarantine;
mod search;
mod tickets;
mod triage_models;
mod usage;
mod views;
mod webhooks;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::domain::{
    ApiKey, Article, Attachment, AuditEvent, AuthSession, ChatSession, ChatState, Event, Message,
    OutboxEntry, PasswordHash, Role, Tenant, Ticket, User, WebhookEndpoint,
};
use crate::store::{ArticleStore, ChatStore, LeaseStore, OutboxStore, TenantStore, UserStore};
use crate::{
    ArticleId, ChatSessionId, DuplicateKind, Error, OutboxId, Result, TenantId, TicketId, UserId,
};

#[derive(Debug, Default)]
struct Data {
    tenants: Vec<Tenant>,
    users: Vec<User>,
    // Beside the users, not in them: user reads clone `users` and must not carry a hash.
    passwords: HashMap<UserId, PasswordHash>,
    sessions: HashMap<String, AuthSession>,
    counters: HashMap<TenantId, u64>,
    tickets: HashMap<TicketId, Ticket>,
    ticket_order: Vec<TicketId>,
    events: HashMap<TicketId, Vec<Event>>,
    messages: Vec<Message>,
    attachments: Vec<Attachment>,
    idempotency: HashMap<(TenantId, String), TicketId>,
    outbox: Vec<OutboxEntry>,
    articles: Vec<Article>,
    chats: Vec<ChatSession>,
    leases: HashMap<String, (String, Timestamp)>,
    audit: Vec<AuditEvent>,
    /// API keys with the hashes of their secrets (beside them, as passwords are).
    api_keys: Vec<(ApiKey, String)>,
    webhooks: Vec<WebhookEndpoint>,
    quarantine: Vec<crate::store::QuarantinedMail>,
    canned: Vec<crate::domain::CannedResponse>,
    views: Vec<crate::domain::SavedView>,
    model_usage: Vec<(TenantId, crate::domain::ModelUsage)>,
    /// Each staff user's routing stamp (absent: 0), beside the users like the passwords.
    routing_stamps: HashMap<UserId, u64>,
    kb: kb_index::KbData,
    triage_models: Vec<crate::store::TriageModel>,
}

/// A store that keeps everything in process memory. Writes are atomic under one lock, so it
/// satisfies the whole contract; nothing survives the process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    data: Mutex<Data>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, Data>> {
        self.data
            .lock()
            .map_err(|_| Error::backend("memory", false, "store lock poisoned by a panic"))
    }
}

#[async_trait]
impl TenantStore for MemoryStore {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        let mut d = self.lock()?;
        check_new_tenant(&d, tenant)?;
        d.tenants.push(tenant.clone());
        Ok(())
    }

    async fn get_tenant(&self, id: TenantId) -> Result<Option<Tenant>> {
        Ok(self.lock()?.tenants.iter().find(|t| t.id == id).cloned())
    }

    async fn get_tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>> {
        Ok(self
            .lock()?
            .tenants
            .iter()
            .find(|t| t.slug == slug)
            .cloned())
    }

    async fn update_tenant(&self, tenant: &Tenant) -> Result<()> {
        admin::update_tenant(&mut *self.lock()?, tenant)
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        let mut list = self.lock()?.tenants.clone();
        list.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(list)
    }
}

/// The unique checks of a new tenant: the slug first, then the id.
fn check_new_tenant(d: &Data, tenant: &Tenant) -> Result<()> {
    if d.tenants.iter().any(|t| t.slug == tenant.slug) {
        return Err(Error::Duplicate {
            kind: DuplicateKind::TenantSlug,
            value: tenant.slug.clone(),
        });
    }
    if d.tenants.iter().any(|t| t.id == tenant.id) {
        return Err(Error::Duplicate {
            kind: DuplicateKind::Id,
            value: tenant.id.to_string(),
        });
    }
    Ok(())
}

/// Inserts a user after the unique checks (the e-mail in the tenant first, then the id).
fn insert_user(d: &mut Data, user: &User) -> Result<()> {
    if d.users
        .iter()
        .any(|u| u.tenant_id == user.tenant_id && u.email == user.email)
    {
        return Err(Error::Duplicate {
            kind: DuplicateKind::Email,
            value: user.email.clone(),
        });
    }
    if d.users.iter().any(|u| u.id == user.id) {
        return Err(Error::Duplicate {
            kind: DuplicateKind::Id,
            value: user.id.to_string(),
        });
    }
    d.users.push(user.clone());
    Ok(())
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn create_user(&self, user: &User) -> Result<()> {
        insert_user(&mut *self.lock()?, user)
    }

    async fn create_user_with_password(&self, user: &User, hash: &PasswordHash) -> Result<()> {
        admin::create_user(&mut *self.lock()?, user, Some(hash))
    }

    async fn set_password_hash(
        &self,
        tenant: TenantId,
        user: UserId,
        hash: &PasswordHash,
    ) -> Result<()> {
        admin::set_password(&mut *self.lock()?, tenant, user, hash)
    }

    async fn login_credentials(
        &self,
        tenant: TenantId,
        email: &str,
    ) -> Result<Option<(User, Option<PasswordHash>)>> {
        let d = self.lock()?;
        Ok(d.users
            .iter()
            .find(|u| u.tenant_id == tenant && u.email == email)
            .map(|u| (u.clone(), d.passwords.get(&u.id).cloned())))
    }

    async fn get_user(&self, tenant: TenantId, id: UserId) -> Result<Option<User>> {
        Ok(self
            .lock()?
            .users
            .iter()
            .find(|u| u.tenant_id == tenant && u.id == id)
            .cloned())
    }

    async fn get_user_by_email(&self, tenant: TenantId, email: &str) -> Result<Option<User>> {
        Ok(self
            .lock()?
            .users
            .iter()
            .find(|u| u.tenant_id == tenant && u.email == email)
            .cloned())
    }

    async fn update_user(&self, user: &User) -> Result<()> {
        admin::update_user(&mut *self.lock()?, user)
    }

    async fn list_users(&self, tenant: TenantId, role: Option<Role>) -> Result<Vec<User>> {
        let mut list: Vec<User> = self
            .lock()?
            .users
            .iter()
            .filter(|u| u.tenant_id == tenant && role.is_none_or(|r| u.role == r))
            .cloned()
            .collect();
        list.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(list)
    }

    async fn create_session(&self, session: &AuthSession) -> Result<()> {
        let mut d = self.lock()?;
        if d.sessions.contains_key(&session.token_hash) {
            return Err(Error::Duplicate {
                kind: DuplicateKind::Id,
                value: "session".into(),
            });
        }
        d.sessions
            .insert(session.token_hash.clone(), session.clone());
        Ok(())
    }

    async fn get_session(&self, token_hash: &str) -> Result<Option<AuthSession>> {
        Ok(self.lock()?.sessions.get(token_hash).cloned())
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        self.lock()?.sessions.remove(token_hash);
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64> {
        let mut d = self.lock()?;
        let before = d.sessions.len();
        d.sessions.retain(|_, s| s.expires_at > now);
        Ok((before - d.sessions.len()) as u64)
    }
}

#[async_trait]
impl ArticleStore for MemoryStore {
    async fn create_article(&self, article: &Article) -> Result<()> {
        admin::create_article(&mut *self.lock()?, article)
    }

    async fn update_article(&self, expected_version: u64, article: &Article) -> Result<()> {
        admin::update_article(&mut *self.lock()?, expected_version, article)
    }

    async fn delete_article(&self, tenant: TenantId, id: ArticleId) -> Result<()> {
        admin::delete_article(&mut *self.lock()?, tenant, id)
    }

    async fn get_article(&self, tenant: TenantId, id: ArticleId) -> Result<Option<Article>> {
        Ok(self
            .lock()?
            .articles
            .iter()
            .find(|a| a.tenant_id == tenant && a.id == id)
            .cloned())
    }

    async fn list_articles(&self, tenant: TenantId) -> Result<Vec<Article>> {
        let mut list: Vec<Article> = self
            .lock()?
            .articles
            .iter()
            .filter(|a| a.tenant_id == tenant)
            .cloned()
            .collect();
        list.sort_by(|a, b| a.title.cmp(&b.title).then(a.id.cmp(&b.id)));
        Ok(list)
    }
}

#[async_trait]
impl ChatStore for MemoryStore {
    async fn create_chat_session(&self, session: &ChatSession) -> Result<()> {
        let mut d = self.lock()?;
        if d.chats.iter().any(|c| c.id == session.id) {
            return Err(Error::Duplicate {
                kind: DuplicateKind::Id,
                value: session.id.to_string(),
            });
        }
        d.chats.push(session.clone());
        Ok(())
    }

    async fn get_chat_session(
        &self,
        tenant: TenantId,
        id: ChatSessionId,
    ) -> Result<Option<ChatSession>> {
        Ok(self
            .lock()?
            .chats
            .iter()
            .find(|c| c.tenant_id == tenant && c.id == id)
            .cloned())
    }

    async fn update_chat_session(
        &self,
        expected_version: u64,
        session: &ChatSession,
    ) -> Result<()> {
        let mut d = self.lock()?;
        let slot = d
            .chats
            .iter_mut()
            .find(|c| c.tenant_id == session.tenant_id && c.id == session.id)
            .ok_or_else(|| Error::not_found("chat_session", session.id))?;
        if slot.version != expected_version {
            return Err(Error::Conflict {
                entity: "chat_session",
                id: session.id.to_string(),
                expected: expected_version,
            });
        }
        *slot = session.clone();
        Ok(())
    }

    async fn list_chat_sessions(
        &self,
        tenant: TenantId,
        customer: Option<UserId>,
    ) -> Result<Vec<ChatSession>> {
        let mut list: Vec<ChatSession> = self
            .lock()?
            .chats
            .iter()
            .filter(|c| c.tenant_id == tenant && customer.is_none_or(|u| c.customer == u))
            .cloned()
            .collect();
        list.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(list)
    }

    async fn idle_chat_sessions(
        &self,
        tenant: TenantId,
        idle_before: Timestamp,
    ) -> Result<Vec<ChatSession>> {
        let mut list: Vec<ChatSession> = self
            .lock()?
            .chats
            .iter()
            .filter(|c| {
                c.tenant_id == tenant
                    && c.state != ChatState::Closed
                    && c.last_activity_at < idle_before
            })
            .cloned()
            .collect();
        list.sort_by(|a, b| {
            a.last_activity_at
                .cmp(&b.last_activity_at)
                .then(a.id.cmp(&b.id))
        });
        Ok(list)
    }
}

#[async_trait]
impl OutboxStore for MemoryStore {
    async fn due_outbox(&self, now: Timestamp, limit: u32) -> Result<Vec<OutboxEntry>> {
        let mut list: Vec<OutboxEntry> = self
            .lock()?
            .outbox
            .iter()
            .filter(|o| o.delivered_at.is_none() && o.next_attempt_at <= now)
            .cloned()
            .collect();
        list.sort_by(|a, b| {
            a.next_attempt_at
                .cmp(&b.next_attempt_at)
                .then(a.id.cmp(&b.id))
        });
        list.truncate(limit as usize);
        Ok(list)
    }

    async fn mark_outbox_delivered(&self, id: OutboxId, at: Timestamp) -> Result<()> {
        let mut d = self.lock()?;
        let slot = d
            .outbox
            .iter_mut()
            .find(|o| o.id == id)
            .ok_or_else(|| Error::not_found("outbox", id))?;
        slot.delivered_at = Some(at);
        Ok(())
    }

    async fn mark_outbox_failed(
        &self,
        id: OutboxId,
        attempts: u32,
        next_attempt_at: Timestamp,
        error: &str,
    ) -> Result<()> {
        let mut d = self.lock()?;
        let slot = d
            .outbox
            .iter_mut()
            .find(|o| o.id == id)
            .ok_or_else(|| Error::not_found("outbox", id))?;
        slot.attempts = attempts;
        slot.next_attempt_at = next_attempt_at;
        slot.last_error = Some(error.to_string());
        Ok(())
    }

    async fn list_outbox(&self, tenant: TenantId) -> Result<Vec<OutboxEntry>> {
        let mut list: Vec<OutboxEntry> = self
            .lock()?
            .outbox
            .iter()
            .filter(|o| o.tenant_id == tenant)
            .cloned()
            .collect();
        list.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(list)
    }
}

#[async_trait]
impl LeaseStore for MemoryStore {
    async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<bool> {
        let mut d = self.lock()?;
        let until = now
            .checked_add(ttl)
            .map_err(|e| Error::validation("ttl", e.to_string()))?;
        let free = match d.leases.get(name) {
            None => true,
            Some((h, expires)) => h == holder || *expires <= now,
        };
        if free {
            d.leases
                .insert(name.to_string(), (holder.to_string(), until));
        }
        Ok(free)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        let mut d = self.lock()?;
        if d.leases.get(name).is_some_and(|(h, _)| h == holder) {
            d.leases.remove(name);
        }
        Ok(())
    }
}
