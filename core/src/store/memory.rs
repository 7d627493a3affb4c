//! The in-memory store: the reference backend for tests and small embedded uses.

mod admin;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;

use super::cursor::{Cursor, compare};
use super::{
    ArticleStore, AssigneeFilter, Capabilities, ChatStore, LeaseStore, OutboxStore, Page, Store,
    TenantStore, TicketQuery, TicketStore, TicketWrite, TimeRange, UserStore,
};
use crate::analytics::Analytics;
use crate::domain::{
    Article, AuditEvent, AuthSession, ChatSession, ChatState, Event, Message, MessageKind,
    OutboxEntry, PasswordHash, Role, Tenant, Ticket, User,
};
use crate::{
    ArticleId, ChatSessionId, DuplicateKind, Error, MessageId, OutboxId, Result, TenantId,
    TicketId, UserId,
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
    idempotency: HashMap<(TenantId, String), TicketId>,
    outbox: Vec<OutboxEntry>,
    articles: Vec<Article>,
    chats: Vec<ChatSession>,
    leases: HashMap<String, (String, Timestamp)>,
    audit: Vec<AuditEvent>,
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

impl Store for MemoryStore {
    fn backend_name(&self) -> &'static str {
        "memory"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(true, false, false)
    }
}

#[async_trait]
impl TenantStore for MemoryStore {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        let mut d = self.lock()?;
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

fn check_write(write: &TicketWrite) -> Result<()> {
    let t = &write.ticket;
    let foreign = write
        .events
        .iter()
        .any(|e| e.tenant_id != t.tenant_id || e.ticket_id != t.id)
        || write.messages.iter().any(|m| m.tenant_id != t.tenant_id)
        || write.outbox.iter().any(|o| o.tenant_id != t.tenant_id);
    if foreign {
        return Err(Error::validation(
            "write",
            "events, messages and outbox entries must belong to the ticket's tenant",
        ));
    }
    Ok(())
}

/// The session a write marks active must be one of the ticket's tenant, and one it links
/// must have no ticket yet.
fn check_chat_activity(d: &Data, write: &TicketWrite) -> Result<()> {
    let Some(a) = write.chat_activity else {
        return Ok(());
    };
    match d
        .chats
        .iter()
        .find(|c| c.tenant_id == write.ticket.tenant_id && c.id == a.session)
    {
        None => Err(Error::not_found("chat_session", a.session)),
        Some(c) if a.links_ticket && c.ticket_id.is_some() => Err(a.already_linked()),
        Some(_) => Ok(()),
    }
}

/// Applies a checked write (see [`check_chat_activity`]).
fn apply_write(d: &mut Data, write: &TicketWrite) {
    let t = &write.ticket;
    if let Some(a) = write.chat_activity
        && let Some(session) = d
            .chats
            .iter_mut()
            .find(|c| c.tenant_id == t.tenant_id && c.id == a.session)
    {
        session.touch(a.at, a.links_ticket.then_some(t.id));
    }
    if !d.tickets.contains_key(&t.id) {
        d.ticket_order.push(t.id);
    }
    d.tickets.insert(t.id, t.clone());
    d.events
        .entry(t.id)
        .or_default()
        .extend(write.events.iter().cloned());
    for m in &write.messages {
        match d.messages.iter_mut().find(|x| x.id == m.id) {
            Some(slot) => *slot = m.clone(),
            None => d.messages.push(m.clone()),
        }
    }
    d.outbox.extend(write.outbox.iter().cloned());
    if let Some(key) = &write.idempotency_key {
        d.idempotency.insert((t.tenant_id, key.clone()), t.id);
    }
}

fn matches(t: &Ticket, q: &TicketQuery, needle: Option<&str>) -> bool {
    (q.statuses.is_empty() || q.statuses.contains(&t.status))
        && (q.priorities.is_empty() || q.priorities.contains(&t.priority))
        && match q.assignee {
            None => true,
            Some(AssigneeFilter::Unassigned) => t.assignee.is_none(),
            Some(AssigneeFilter::User(u)) => t.assignee == Some(u),
        }
        && q.requester.is_none_or(|r| t.requester == r)
        && q.category
            .as_ref()
            .is_none_or(|c| t.category.as_ref() == Some(c))
        && needle.is_none_or(|n| t.subject.to_lowercase().contains(n))
}

#[async_trait]
impl TicketStore for MemoryStore {
    async fn next_ticket_number(&self, tenant: TenantId) -> Result<u64> {
        let mut d = self.lock()?;
        let n = d.counters.entry(tenant).or_insert(0);
        *n += 1;
        Ok(*n)
    }

    async fn create_ticket(&self, write: &TicketWrite) -> Result<()> {
        check_write(write)?;
        let mut d = self.lock()?;
        let t = &write.ticket;
        if let Some(key) = &write.idempotency_key
            && d.idempotency.contains_key(&(t.tenant_id, key.clone()))
        {
            return Err(Error::Duplicate {
                kind: DuplicateKind::IdempotencyKey,
                value: key.clone(),
            });
        }
        if d.tickets.contains_key(&t.id) {
            return Err(Error::Duplicate {
                kind: DuplicateKind::Id,
                value: t.id.to_string(),
            });
        }
        if d.tickets
            .values()
            .any(|x| x.tenant_id == t.tenant_id && x.number == t.number)
        {
            return Err(Error::Duplicate {
                kind: DuplicateKind::TicketNumber,
                value: t.number.to_string(),
            });
        }
        check_chat_activity(&d, write)?;
        apply_write(&mut d, write);
        Ok(())
    }

    async fn update_ticket(&self, expected_version: u64, write: &TicketWrite) -> Result<()> {
        check_write(write)?;
        let mut d = self.lock()?;
        let t = &write.ticket;
        let stored = d
            .tickets
            .get(&t.id)
            .filter(|x| x.tenant_id == t.tenant_id)
            .ok_or_else(|| Error::not_found("ticket", t.id))?;
        if stored.version != expected_version {
            return Err(Error::Conflict {
                entity: "ticket",
                id: t.id.to_string(),
                expected: expected_version,
            });
        }
        write.check_previous(expected_version)?;
        if write.previous.as_ref().is_some_and(|p| p != stored) {
            // Another backend would write only what differs from `previous` and lose the
            // rest: the reference store refuses, so a writer that breaks the contract fails
            // its tests here.
            return Err(Error::validation(
                "previous",
                "is not the ticket stored at the expected version",
            ));
        }
        check_chat_activity(&d, write)?;
        apply_write(&mut d, write);
        Ok(())
    }

    async fn get_ticket(&self, tenant: TenantId, id: TicketId) -> Result<Option<Ticket>> {
        Ok(self
            .lock()?
            .tickets
            .get(&id)
            .filter(|t| t.tenant_id == tenant)
            .cloned())
    }

    async fn get_ticket_by_number(&self, tenant: TenantId, number: u64) -> Result<Option<Ticket>> {
        Ok(self
            .lock()?
            .tickets
            .values()
            .find(|t| t.tenant_id == tenant && t.number == number)
            .cloned())
    }

    async fn find_by_idempotency_key(
        &self,
        tenant: TenantId,
        key: &str,
    ) -> Result<Option<TicketId>> {
        Ok(self
            .lock()?
            .idempotency
            .get(&(tenant, key.to_string()))
            .copied())
    }

    async fn list_tickets(&self, tenant: TenantId, query: &TicketQuery) -> Result<Page<Ticket>> {
        let limit = query.effective_limit()? as usize;
        let cursor = query
            .cursor
            .as_deref()
            .map(|c| Cursor::decode(c, query.sort))
            .transpose()?;
        let needle = query
            .text
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase);
        let d = self.lock()?;
        let mut list: Vec<&Ticket> = d
            .tickets
            .values()
            .filter(|t| t.tenant_id == tenant)
            .filter(|t| matches(t, query, needle.as_deref()))
            .filter(|t| cursor.is_none_or(|c| c.is_before(t)))
            .collect();
        list.sort_by(|a, b| compare(query.sort, a, b));
        let has_more = list.len() > limit;
        let items: Vec<Ticket> = list.into_iter().take(limit).cloned().collect();
        let next_cursor = if has_more {
            items.last().map(|t| Cursor::after(t, query.sort).encode())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    async fn open_ticket_counts(&self, tenant: TenantId) -> Result<Vec<(UserId, u64)>> {
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
        let mut list: Vec<(UserId, u64)> = counts.into_iter().collect();
        list.sort();
        Ok(list)
    }

    async fn sla_due_tickets(
        &self,
        tenant: TenantId,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Ticket>> {
        let d = self.lock()?;
        let mut due: Vec<(Timestamp, &Ticket)> = d
            .tickets
            .values()
            .filter(|t| t.tenant_id == tenant && t.status.is_open() && t.sla.paused_since.is_none())
            .filter_map(|t| {
                let fr = t.sla.first_response_due.filter(|due| {
                    *due <= now && t.first_response_at.is_none() && !t.sla.first_response_breached
                });
                let res = t
                    .sla
                    .resolution_due
                    .filter(|due| *due <= now && !t.sla.resolution_breached);
                match (fr, res) {
                    (Some(a), Some(b)) => Some((a.min(b), t)),
                    (Some(a), None) | (None, Some(a)) => Some((a, t)),
                    (None, None) => None,
                }
            })
            .collect();
        due.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
        Ok(due
            .into_iter()
            .take(limit as usize)
            .map(|(_, t)| t.clone())
            .collect())
    }

    async fn list_events(&self, tenant: TenantId, ticket: TicketId) -> Result<Vec<Event>> {
        Ok(self
            .lock()?
            .events
            .get(&ticket)
            .map(|list| {
                list.iter()
                    .filter(|e| e.tenant_id == tenant)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn list_messages(&self, tenant: TenantId, ticket: TicketId) -> Result<Vec<Message>> {
        let mut list: Vec<Message> = self
            .lock()?
            .messages
            .iter()
            .filter(|m| m.tenant_id == tenant && m.ticket_id == ticket)
            .cloned()
            .collect();
        list.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(list)
    }

    async fn get_message(&self, tenant: TenantId, id: MessageId) -> Result<Option<Message>> {
        Ok(self
            .lock()?
            .messages
            .iter()
            .find(|m| m.tenant_id == tenant && m.id == id)
            .cloned())
    }

    async fn analytics(
        &self,
        tenant: TenantId,
        range: TimeRange,
        now: Timestamp,
    ) -> Result<Analytics> {
        let d = self.lock()?;
        let tickets: Vec<Ticket> = d
            .tickets
            .values()
            .filter(|t| t.tenant_id == tenant)
            .cloned()
            .collect();
        let drafts: Vec<Message> = d
            .messages
            .iter()
            .filter(|m| m.tenant_id == tenant && m.kind == MessageKind::Draft)
            .cloned()
            .collect();
        let chats: Vec<ChatSession> = d
            .chats
            .iter()
            .filter(|c| c.tenant_id == tenant)
            .cloned()
            .collect();
        Ok(Analytics::compute(&tickets, &drafts, &chats, range, now))
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
