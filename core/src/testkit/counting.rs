//! A store wrapper that counts what each use case costs the store: every call, every
//! commit (a call that writes), and every round trip of latency, where calls in flight
//! together (the service starts independent reads at once) count as one round trip. The
//! counts are machine-independent, unlike timings on shared machines, so tests assert them
//! per use case on every backend ([`crate::testkit::conformance`]) and `BENCHMARKS.md`
//! reports them.
//!
//! ```
//! # tokio_test_block_on(async {
//! use std::sync::Arc;
//! use helpdesk_core::store::{MemoryStore, TenantStore};
//! use helpdesk_core::testkit::CountingStore;
//! let store = Arc::new(CountingStore::new(Arc::new(MemoryStore::new())));
//! store.list_tenants().await.unwrap();
//! let cost = store.take();
//! assert_eq!((cost.calls, cost.round_trips, cost.commits), (1, 1, 0));
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
//! # }
//! ```

use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::analytics::Analytics;
use crate::domain::{
    ApiKey, Article, Attachment, AuditEvent, AuthSession, ChatSession, Event, Message, OutboxEntry,
    PasswordHash, Role, Tenant, Ticket, User,
};
use crate::store::{
    AdminWrite, ApiKeyStore, ArticleStore, AttachmentStore, AuditQuery, AuditStore, ChatStore,
    DynStore, LeaseStore, MessageFilter, OutboxStore, Page, RoutingStaff, Store, TenantStore,
    TicketQuery, TicketStore, TicketWrite, TimeRange, UserStore, WeakCommitSignal,
};
use crate::{
    ApiKeyId, ArticleId, AttachmentId, ChatSessionId, MessageId, OutboxId, Result, TenantId,
    TicketId, UserId,
};

mod desk_stores;

/// What the calls since the last [`CountingStore::take`] cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreCost {
    /// Store calls.
    pub calls: u64,
    /// Round trips of latency: calls made while no other call was in flight.
    pub round_trips: u64,
    /// Calls that write (creates, updates, deletes, leases, outbox marks).
    pub commits: u64,
}

/// Whether a call writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Read,
    Commit,
}

/// Counts the calls made to the store it wraps (see the module docs); forwards each one
/// unchanged.
#[derive(Debug)]
pub struct CountingStore {
    inner: DynStore,
    calls: AtomicU64,
    round_trips: AtomicU64,
    commits: AtomicU64,
    in_flight: AtomicUsize,
}

impl CountingStore {
    /// Wraps `inner`.
    pub fn new(inner: DynStore) -> Self {
        Self {
            inner,
            calls: AtomicU64::new(0),
            round_trips: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }

    /// The cost so far, and starts counting again from zero.
    pub fn take(&self) -> StoreCost {
        StoreCost {
            calls: self.calls.swap(0, Ordering::SeqCst),
            round_trips: self.round_trips.swap(0, Ordering::SeqCst),
            commits: self.commits.swap(0, Ordering::SeqCst),
        }
    }

    async fn track<T>(&self, call: Call, work: impl Future<Output = T>) -> T {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if call == Call::Commit {
            self.commits.fetch_add(1, Ordering::SeqCst);
        }
        if self.in_flight.fetch_add(1, Ordering::SeqCst) == 0 {
            self.round_trips.fetch_add(1, Ordering::SeqCst);
        }
        // A networked store answers later; yielding once gives calls started together
        // (a `join` in the service) the chance to start before this one returns, so they
        // count as one round trip on every backend, the in-memory one included.
        tokio::task::yield_now().await;
        let out = work.await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        out
    }
}

#[async_trait]
impl TenantStore for CountingStore {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        self.track(Call::Commit, self.inner.create_tenant(tenant))
            .await
    }
    async fn get_tenant(&self, id: TenantId) -> Result<Option<Tenant>> {
        self.track(Call::Read, self.inner.get_tenant(id)).await
    }
    async fn get_tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>> {
        self.track(Call::Read, self.inner.get_tenant_by_slug(slug))
            .await
    }
    async fn update_tenant(&self, tenant: &Tenant) -> Result<()> {
        self.track(Call::Commit, self.inner.update_tenant(tenant))
            .await
    }
    async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        self.track(Call::Read, self.inner.list_tenants()).await
    }
}

#[async_trait]
impl UserStore for CountingStore {
    async fn create_user(&self, user: &User) -> Result<()> {
        self.track(Call::Commit, self.inner.create_user(user)).await
    }
    async fn get_user(&self, tenant: TenantId, id: UserId) -> Result<Option<User>> {
        self.track(Call::Read, self.inner.get_user(tenant, id))
            .await
    }
    async fn get_user_by_email(&self, tenant: TenantId, email: &str) -> Result<Option<User>> {
        self.track(Call::Read, self.inner.get_user_by_email(tenant, email))
            .await
    }
    async fn update_user(&self, user: &User) -> Result<()> {
        self.track(Call::Commit, self.inner.update_user(user)).await
    }
    async fn list_users(&self, tenant: TenantId, role: Option<Role>) -> Result<Vec<User>> {
        self.track(Call::Read, self.inner.list_users(tenant, role))
            .await
    }
    async fn create_user_with_password(&self, user: &User, hash: &PasswordHash) -> Result<()> {
        self.track(
            Call::Commit,
            self.inner.create_user_with_password(user, hash),
        )
        .await
    }
    async fn set_password_hash(
        &self,
        tenant: TenantId,
        user: UserId,
        hash: &PasswordHash,
    ) -> Result<()> {
        self.track(
            Call::Commit,
            self.inner.set_password_hash(tenant, user, hash),
        )
        .await
    }
    async fn login_credentials(
        &self,
        tenant: TenantId,
        email: &str,
    ) -> Result<Option<(User, Option<PasswordHash>)>> {
        self.track(Call::Read, self.inner.login_credentials(tenant, email))
            .await
    }
    async fn create_session(&self, session: &AuthSession) -> Result<()> {
        self.track(Call::Commit, self.inner.create_session(session))
            .await
    }
    async fn get_session(&self, token_hash: &str) -> Result<Option<AuthSession>> {
        self.track(Call::Read, self.inner.get_session(token_hash))
            .await
    }
    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        self.track(Call::Commit, self.inner.delete_session(token_hash))
            .await
    }
    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64> {
        self.track(Call::Commit, self.inner.delete_expired_sessions(now))
            .await
    }
}

#[async_trait]
impl TicketStore for CountingStore {
    async fn create_ticket(&self, write: TicketWrite) -> Result<TicketWrite> {
        self.track(Call::Commit, self.inner.create_ticket(write))
            .await
    }
    async fn update_ticket(&self, expected_version: u64, write: &TicketWrite) -> Result<()> {
        self.track(
            Call::Commit,
            self.inner.update_ticket(expected_version, write),
        )
        .await
    }
    async fn update_tickets(&self, writes: &[(u64, TicketWrite)]) -> Result<()> {
        self.track(Call::Commit, self.inner.update_tickets(writes))
            .await
    }
    async fn get_ticket(&self, tenant: TenantId, id: TicketId) -> Result<Option<Ticket>> {
        self.track(Call::Read, self.inner.get_ticket(tenant, id))
            .await
    }
    async fn get_ticket_by_number(&self, tenant: TenantId, number: u64) -> Result<Option<Ticket>> {
        self.track(Call::Read, self.inner.get_ticket_by_number(tenant, number))
            .await
    }
    async fn find_by_idempotency_key(
        &self,
        tenant: TenantId,
        key: &str,
    ) -> Result<Option<TicketId>> {
        self.track(Call::Read, self.inner.find_by_idempotency_key(tenant, key))
            .await
    }
    async fn list_tickets(&self, tenant: TenantId, query: &TicketQuery) -> Result<Page<Ticket>> {
        self.track(Call::Read, self.inner.list_tickets(tenant, query))
            .await
    }
    async fn count_tickets(&self, tenant: TenantId, query: &TicketQuery) -> Result<u64> {
        self.track(Call::Read, self.inner.count_tickets(tenant, query))
            .await
    }
    async fn open_ticket_counts(&self, tenant: TenantId) -> Result<Vec<(UserId, u64)>> {
        self.track(Call::Read, self.inner.open_ticket_counts(tenant))
            .await
    }
    async fn sla_due_tickets(
        &self,
        tenant: TenantId,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Ticket>> {
        self.track(Call::Read, self.inner.sla_due_tickets(tenant, now, limit))
            .await
    }
    async fn list_events(&self, tenant: TenantId, ticket: TicketId) -> Result<Vec<Event>> {
        self.track(Call::Read, self.inner.list_events(tenant, ticket))
            .await
    }
    async fn list_tenant_events(
        &self,
        tenant: TenantId,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<Event>> {
        self.track(
            Call::Read,
            self.inner.list_tenant_events(tenant, since, limit),
        )
        .await
    }
    async fn list_messages(
        &self,
        tenant: TenantId,
        ticket: TicketId,
        filter: MessageFilter,
    ) -> Result<Vec<Message>> {
        self.track(Call::Read, self.inner.list_messages(tenant, ticket, filter))
            .await
    }
    async fn get_message(&self, tenant: TenantId, id: MessageId) -> Result<Option<Message>> {
        self.track(Call::Read, self.inner.get_message(tenant, id))
            .await
    }
    async fn analytics(
        &self,
        tenant: TenantId,
        range: TimeRange,
        now: Timestamp,
    ) -> Result<Analytics> {
        self.track(Call::Read, self.inner.analytics(tenant, range, now))
            .await
    }
}

#[async_trait]
impl ArticleStore for CountingStore {
    async fn create_article(&self, article: &Article) -> Result<()> {
        self.track(Call::Commit, self.inner.create_article(article))
            .await
    }
    async fn update_article(&self, expected_version: u64, article: &Article) -> Result<()> {
        self.track(
            Call::Commit,
            self.inner.update_article(expected_version, article),
        )
        .await
    }
    async fn delete_article(&self, tenant: TenantId, id: ArticleId) -> Result<()> {
        self.track(Call::Commit, self.inner.delete_article(tenant, id))
            .await
    }
    async fn get_article(&self, tenant: TenantId, id: ArticleId) -> Result<Option<Article>> {
        self.track(Call::Read, self.inner.get_article(tenant, id))
            .await
    }
    async fn list_articles(&self, tenant: TenantId) -> Result<Vec<Article>> {
        self.track(Call::Read, self.inner.list_articles(tenant))
            .await
    }
}

#[async_trait]
impl ChatStore for CountingStore {
    async fn create_chat_session(&self, session: &ChatSession) -> Result<()> {
        self.track(Call::Commit, self.inner.create_chat_session(session))
            .await
    }
    async fn get_chat_session(
        &self,
        tenant: TenantId,
        id: ChatSessionId,
    ) -> Result<Option<ChatSession>> {
        self.track(Call::Read, self.inner.get_chat_session(tenant, id))
            .await
    }
    async fn update_chat_session(
        &self,
        expected_version: u64,
        session: &ChatSession,
    ) -> Result<()> {
        self.track(
            Call::Commit,
            self.inner.update_chat_session(expected_version, session),
        )
        .await
    }
    async fn list_chat_sessions(
        &self,
        tenant: TenantId,
        customer: Option<UserId>,
    ) -> Result<Vec<ChatSession>> {
        self.track(Call::Read, self.inner.list_chat_sessions(tenant, customer))
            .await
    }
    async fn idle_chat_sessions(
        &self,
        tenant: TenantId,
        idle_before: Timestamp,
    ) -> Result<Vec<ChatSession>> {
        self.track(
            Call::Read,
            self.inner.idle_chat_sessions(tenant, idle_before),
        )
        .await
    }
}

#[async_trait]
impl OutboxStore for CountingStore {
    async fn due_outbox(&self, now: Timestamp, limit: u32) -> Result<Vec<OutboxEntry>> {
        self.track(Call::Read, self.inner.due_outbox(now, limit))
            .await
    }
    async fn mark_outbox_delivered(&self, id: OutboxId, at: Timestamp) -> Result<()> {
        self.track(Call::Commit, self.inner.mark_outbox_delivered(id, at))
            .await
    }
    async fn mark_outbox_failed(
        &self,
        id: OutboxId,
        attempts: u32,
        next_attempt_at: Timestamp,
        error: &str,
    ) -> Result<()> {
        self.track(
            Call::Commit,
            self.inner
                .mark_outbox_failed(id, attempts, next_attempt_at, error),
        )
        .await
    }
    async fn list_outbox(&self, tenant: TenantId) -> Result<Vec<OutboxEntry>> {
        self.track(Call::Read, self.inner.list_outbox(tenant)).await
    }
}

#[async_trait]
impl LeaseStore for CountingStore {
    async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<bool> {
        self.track(
            Call::Commit,
            self.inner.try_acquire_lease(name, holder, now, ttl),
        )
        .await
    }
    async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        self.track(Call::Commit, self.inner.release_lease(name, holder))
            .await
    }
}

#[async_trait]
impl AuditStore for CountingStore {
    async fn commit_admin_change(&self, write: &AdminWrite) -> Result<()> {
        self.track(Call::Commit, self.inner.commit_admin_change(write))
            .await
    }
    async fn list_audit_events(
        &self,
        tenant: TenantId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEvent>> {
        self.track(Call::Read, self.inner.list_audit_events(tenant, query))
            .await
    }
}

#[async_trait]
impl ApiKeyStore for CountingStore {
    async fn api_key_by_hash(&self, secret_hash: &str) -> Result<Option<ApiKey>> {
        self.track(Call::Read, self.inner.api_key_by_hash(secret_hash))
            .await
    }
    async fn list_api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKey>> {
        self.track(Call::Read, self.inner.list_api_keys(tenant))
            .await
    }
    async fn touch_api_key(&self, tenant: TenantId, id: ApiKeyId, at: Timestamp) -> Result<()> {
        self.track(Call::Commit, self.inner.touch_api_key(tenant, id, at))
            .await
    }
}

#[async_trait]
impl AttachmentStore for CountingStore {
    async fn get_attachment(
        &self,
        tenant: TenantId,
        id: AttachmentId,
    ) -> Result<Option<Attachment>> {
        self.track(Call::Read, self.inner.get_attachment(tenant, id))
            .await
    }
    async fn list_attachments(
        &self,
        tenant: TenantId,
        ticket: TicketId,
    ) -> Result<Vec<Attachment>> {
        self.track(Call::Read, self.inner.list_attachments(tenant, ticket))
            .await
    }
}

#[async_trait]
impl Store for CountingStore {
    fn backend_name(&self) -> &'static str {
        self.inner.backend_name()
    }
    async fn user_with_tenant(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Option<(Tenant, User)>> {
        self.track(Call::Read, self.inner.user_with_tenant(tenant, user))
            .await
    }
    async fn chat_session_with_ticket(
        &self,
        tenant: TenantId,
        id: ChatSessionId,
    ) -> Result<Option<(ChatSession, Option<Ticket>)>> {
        self.track(Call::Read, self.inner.chat_session_with_ticket(tenant, id))
            .await
    }
    async fn routing_staff(&self, tenant: TenantId) -> Result<Vec<RoutingStaff>> {
        self.track(Call::Read, self.inner.routing_staff(tenant))
            .await
    }
    async fn relay_commits(&self, signal: WeakCommitSignal) -> Result<bool> {
        // Not a store round trip of a use case: setting up a listener, once per helpdesk.
        self.inner.relay_commits(signal).await
    }
}
