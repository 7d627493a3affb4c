//! The storage contract: a small family of traits, every call scoped by [`TenantId`].
//!
//! Backends (`helpdesk-store-sqlite`, `helpdesk-store-mongo`, and [`MemoryStore`] here)
//! implement all of them, every method (none has a provided body, and there are no
//! optional capabilities), and pass the one conformance suite in the test kit. A shared
//! handle is a store too: `Arc<T>` implements each trait `T` does, forwarding every
//! method, so `Arc<dyn Store>` ([`DynStore`]) can be wrapped and passed on as a store.
//! Rules every backend keeps:
//!
//! * Tenant isolation: nothing returns, counts or changes another tenant's rows; an id of
//!   another tenant behaves exactly like an unknown id.
//! * A ticket write ([`TicketWrite`]) lands whole or not at all: the ticket, its events, its
//!   messages, its outbox entries and its idempotency key.
//! * [`TicketStore::update_ticket`] checks the expected version; a stale writer gets
//!   [`Error::Conflict`](crate::Error::Conflict) and nothing is written.
//! * [`TicketStore::update_tickets`] commits changes of several tickets (a merge changes
//!   two) as one: every expected version is checked in the same commit, and either every
//!   write lands or none does.
//! * An administrative change (users, passwords, tenant settings, articles) committed
//!   through [`AuditStore::commit_admin_change`] lands together with its audit event or
//!   not at all.
//! * The store numbers tickets: [`TicketStore::create_ticket`] allocates the tenant's next
//!   number as part of creating the ticket and fills it into the write
//!   ([`TicketWrite::set_ticket_number`]); numbers are never reused, gaps are allowed.
//! * Unique values (tenant slug, e-mail per tenant, ticket number per tenant, idempotency key
//!   per tenant) are enforced by the store and reported as
//!   [`Error::Duplicate`](crate::Error::Duplicate).
//! * Routing is decided in the store: a routed assignment carries a [`RoutingClaim`] that
//!   the store checks and applies in the write's own commit (the assignee's routing stamp
//!   still as routing read it, room under their capacity), so helpdesk instances sharing
//!   one database never give an agent more than their capacity and share one rotation.
//! * `Ok` means durable.

mod api_keys;
mod attachments;
mod audit;
mod canned;
mod commits;
pub mod cursor;
mod erasure;
mod forward;
mod kb_index;
mod quarantine;
mod query;
mod routing;
pub mod search;
mod triage_models;
mod usage;
mod views;
mod webhooks;
mod write;

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;

pub use crate::memory::MemoryStore;
pub use api_keys::ApiKeyStore;
pub use attachments::AttachmentStore;
pub use audit::{AdminChange, AdminWrite, AuditCursor, AuditQuery, AuditStore};
pub use canned::{CannedResponseStore, CannedUsage};
pub use commits::{Commit, CommitSignal, CommitWaiter, WeakCommitSignal};
pub use cursor::Cursor;
pub use erasure::{ErasureStore, TicketErasure};
pub use kb_index::{
    ArticleChunks, EmbeddingBytesError, IndexedChunk, KbChange, KbIndexStore, MAX_CHUNK_ID_CHARS,
    MAX_CHUNKS_PER_ARTICLE, MAX_EMBEDDING_DIMENSIONS, MAX_EMBEDDING_MODEL_CHARS,
    embedding_from_le_bytes, embedding_to_le_bytes,
};
pub use quarantine::{QuarantineReason, QuarantineStatus, QuarantineStore, QuarantinedMail};
pub use query::{AssigneeFilter, MessageFilter, Page, TicketQuery, TicketSort, TimeRange};
pub use routing::{ROUTING_ENTITY, RoutingClaim, RoutingStaff, with_open_loads};
pub use search::{
    MAX_TERM_CHARS, MAX_TERMS, SearchCursor, SearchHit, SearchQuery, SearchSource, SearchStore,
    SlaFilter, compare_hits, details_text, has_field_tokens, requester_text, search_terms,
    search_words, subject_text,
};
pub use triage_models::{
    MAX_TRIAGE_CATEGORIES, MAX_TRIAGE_CATEGORY_CHARS, MAX_TRIAGE_FORMAT_CHARS, TRIAGE_MODEL_ENTITY,
    TriageModel, TriageModelStore,
};
pub use usage::ModelUsageStore;
pub use views::SavedViewStore;
pub use webhooks::WebhookStore;
pub use write::{
    ChatActivity, SessionTransition, TICKET_NUMBER_SLOT, TicketWrite, check_ticket_batch,
};

use crate::analytics::Analytics;
use crate::domain::{
    Article, AuthSession, ChatSession, Event, Message, OutboxEntry, PasswordHash, Role, Tenant,
    Ticket, User,
};
use crate::{ArticleId, ChatSessionId, MessageId, OutboxId, Result, TenantId, TicketId, UserId};

/// Tenants.
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Inserts a tenant; a taken slug is `Duplicate { kind: TenantSlug }`.
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()>;
    /// A tenant by id.
    async fn get_tenant(&self, id: TenantId) -> Result<Option<Tenant>>;
    /// A tenant by slug.
    async fn get_tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>>;
    /// Replaces name and settings (`NotFound` when missing).
    async fn update_tenant(&self, tenant: &Tenant) -> Result<()>;
    /// All tenants, oldest first (used by sweeps).
    async fn list_tenants(&self) -> Result<Vec<Tenant>>;
}

/// Users and login sessions.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Inserts a user; an e-mail taken in the tenant is `Duplicate { kind: Email }`.
    async fn create_user(&self, user: &User) -> Result<()>;
    /// A user of the tenant.
    async fn get_user(&self, tenant: TenantId, id: UserId) -> Result<Option<User>>;
    /// A user of the tenant by (lowercased) e-mail.
    async fn get_user_by_email(&self, tenant: TenantId, email: &str) -> Result<Option<User>>;
    /// Replaces a user (`NotFound` when missing in the tenant).
    async fn update_user(&self, user: &User) -> Result<()>;
    /// The tenant's users, optionally of one role, oldest first.
    async fn list_users(&self, tenant: TenantId, role: Option<Role>) -> Result<Vec<User>>;
    /// Inserts a user together with its password hash, in one write (errors as
    /// [`create_user`](Self::create_user)).
    async fn create_user_with_password(&self, user: &User, hash: &PasswordHash) -> Result<()>;
    /// Replaces a user's password hash (`NotFound` when the user is not the tenant's).
    /// [`update_user`](Self::update_user) never changes it.
    async fn set_password_hash(
        &self,
        tenant: TenantId,
        user: UserId,
        hash: &PasswordHash,
    ) -> Result<()>;
    /// A user of the tenant by (lowercased) e-mail with its password hash, `None` when it has
    /// none: the one read a password login makes. Nothing else returns the hash.
    async fn login_credentials(
        &self,
        tenant: TenantId,
        email: &str,
    ) -> Result<Option<(User, Option<PasswordHash>)>>;
    /// Stores a login session.
    async fn create_session(&self, session: &AuthSession) -> Result<()>;
    /// A session by token hash (expired ones are returned; the caller checks expiry).
    async fn get_session(&self, token_hash: &str) -> Result<Option<AuthSession>>;
    /// Deletes a session (logout); deleting a missing one is not an error.
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    /// Deletes sessions expired at `now`; returns how many.
    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64>;
}

/// Tickets with their events, messages and outbox entries.
#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Opens a ticket: allocates the tenant's next ticket number and inserts the ticket with
    /// everything in `write`, atomically, then returns the write as stored.
    ///
    /// The number is the store's, not the writer's: whatever `write` carries is replaced,
    /// in the ticket, in the snapshot of its `Created` event and in its outbox
    /// notifications, by [`TicketWrite::set_ticket_number`] (every backend uses that one
    /// function, so the three always agree). Numbers count 1, 2, 3, ... per tenant and are
    /// never reused; gaps are allowed: a backend whose allocation is not part of the
    /// insert's commit (MongoDB, see its docs) spends a number on a create that fails.
    ///
    /// A used idempotency key is `Duplicate { kind: IdempotencyKey }`, a used ticket id
    /// `Duplicate { kind: Id }`, an allocated number already taken (a counter behind its
    /// tickets, as after an import that did not carry the counter) `Duplicate { kind:
    /// TicketNumber }`; nothing of the ticket is written then. A chat activity fails it as
    /// [`ChatActivity`] says.
    async fn create_ticket(&self, write: TicketWrite) -> Result<TicketWrite>;
    /// Replaces the ticket when its stored version is `expected_version`, and appends
    /// everything in `write`, atomically; otherwise `Conflict` (or `NotFound`) and nothing
    /// is written.
    async fn update_ticket(&self, expected_version: u64, write: &TicketWrite) -> Result<()>;
    /// Updates several tickets of one tenant in one atomic commit: each `(expected
    /// version, write)` is applied as [`update_ticket`](Self::update_ticket) would, and
    /// either all of them land or none does. Every expected version is checked in the
    /// commit itself, so a change planned on two tickets (a merge) cannot land on one of
    /// them and lose on the other, and two such changes racing on the same tickets cannot
    /// both land.
    ///
    /// Any stale version is `Conflict` (a missing ticket `NotFound`) and nothing is
    /// written. Writes of several tenants, or two writes of the same ticket, are a
    /// `Validation` error on `writes` ([`check_ticket_batch`]), also with nothing written.
    /// An empty slice writes nothing and succeeds.
    ///
    /// Required: a provided version built on `update_ticket` could not make the commits
    /// of several tickets one.
    async fn update_tickets(&self, writes: &[(u64, TicketWrite)]) -> Result<()>;
    /// A ticket of the tenant.
    async fn get_ticket(&self, tenant: TenantId, id: TicketId) -> Result<Option<Ticket>>;
    /// A ticket by its human number.
    async fn get_ticket_by_number(&self, tenant: TenantId, number: u64) -> Result<Option<Ticket>>;
    /// The ticket created with this idempotency key.
    async fn find_by_idempotency_key(
        &self,
        tenant: TenantId,
        key: &str,
    ) -> Result<Option<TicketId>>;
    /// Filtered, sorted, cursor-paginated listing.
    async fn list_tickets(&self, tenant: TenantId, query: &TicketQuery) -> Result<Page<Ticket>>;
    /// How many of the tenant's tickets match `query`'s filters (every filter of
    /// [`list_tickets`](Self::list_tickets); its sort, limit and cursor are ignored): the
    /// count beside a saved view.
    async fn count_tickets(&self, tenant: TenantId, query: &TicketQuery) -> Result<u64>;
    /// Open tickets (status not Resolved/Closed) per assignee.
    async fn open_ticket_counts(&self, tenant: TenantId) -> Result<Vec<(UserId, u64)>>;
    /// Open, unpaused tickets with an SLA target due at or before `now` and not yet flagged:
    /// first response (no `first_response_at`, not `first_response_breached`) or
    /// resolution (not `resolution_breached`). At most `limit`, oldest due first.
    async fn sla_due_tickets(
        &self,
        tenant: TenantId,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Ticket>>;
    /// A ticket's events in commit order.
    async fn list_events(&self, tenant: TenantId, ticket: TicketId) -> Result<Vec<Event>>;
    /// The tenant's ticket events (of every ticket) with `at >= since`, ordered by `at`
    /// then id, ascending, at most `limit` (a backend may treat 0 as 1): the read behind
    /// the live event feed ([`Helpdesk::event_feed`](crate::Helpdesk::event_feed)), which
    /// re-reads a short window before its cursor to catch events committed late with an
    /// older time. Only committed events; never another tenant's.
    async fn list_tenant_events(
        &self,
        tenant: TenantId,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<Event>>;
    /// A ticket's messages that `filter` keeps, in creation order. The service reads
    /// [`MessageFilter::CustomerVisible`] for the customer's view of a thread and for the
    /// history the chatbot and the reply drafts read; backends filter in the query, so a
    /// thread with many drafts or notes is not read to be dropped.
    async fn list_messages(
        &self,
        tenant: TenantId,
        ticket: TicketId,
        filter: MessageFilter,
    ) -> Result<Vec<Message>>;
    /// One message.
    async fn get_message(&self, tenant: TenantId, id: MessageId) -> Result<Option<Message>>;
    /// Analytics for tickets of the tenant, as defined by
    /// [`Analytics::compute`](crate::analytics::Analytics::compute).
    async fn analytics(
        &self,
        tenant: TenantId,
        range: TimeRange,
        now: Timestamp,
    ) -> Result<Analytics>;
}

/// Knowledge-base articles (the source of truth the search index is built from).
#[async_trait]
pub trait ArticleStore: Send + Sync {
    /// Inserts an article.
    async fn create_article(&self, article: &Article) -> Result<()>;
    /// Replaces an article whose stored version is `expected_version` (else `Conflict`).
    async fn update_article(&self, expected_version: u64, article: &Article) -> Result<()>;
    /// Deletes an article (`NotFound` when missing), and with it its stored search chunks,
    /// recording the removal in the tenant's knowledge-base change feed ([`KbIndexStore`]).
    async fn delete_article(&self, tenant: TenantId, id: ArticleId) -> Result<()>;
    /// One article.
    async fn get_article(&self, tenant: TenantId, id: ArticleId) -> Result<Option<Article>>;
    /// All of a tenant's articles, by title.
    async fn list_articles(&self, tenant: TenantId) -> Result<Vec<Article>>;
}

/// Chatbot sessions.
#[async_trait]
pub trait ChatStore: Send + Sync {
    /// Inserts a session.
    async fn create_chat_session(&self, session: &ChatSession) -> Result<()>;
    /// One session.
    async fn get_chat_session(
        &self,
        tenant: TenantId,
        id: ChatSessionId,
    ) -> Result<Option<ChatSession>>;
    /// Replaces a session whose stored version is `expected_version` (else `Conflict`).
    async fn update_chat_session(&self, expected_version: u64, session: &ChatSession)
    -> Result<()>;
    /// Sessions of the tenant, newest first, optionally of one customer.
    async fn list_chat_sessions(
        &self,
        tenant: TenantId,
        customer: Option<UserId>,
    ) -> Result<Vec<ChatSession>>;
    /// Sessions not closed whose last activity is before `idle_before`.
    async fn idle_chat_sessions(
        &self,
        tenant: TenantId,
        idle_before: Timestamp,
    ) -> Result<Vec<ChatSession>>;
}

/// The notification outbox.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Undelivered entries of every tenant due at `now`, oldest due first.
    async fn due_outbox(&self, now: Timestamp, limit: u32) -> Result<Vec<OutboxEntry>>;
    /// Marks an entry delivered.
    async fn mark_outbox_delivered(&self, id: OutboxId, at: Timestamp) -> Result<()>;
    /// Records a failed attempt and when to try again.
    async fn mark_outbox_failed(
        &self,
        id: OutboxId,
        attempts: u32,
        next_attempt_at: Timestamp,
        error: &str,
    ) -> Result<()>;
    /// A tenant's entries, newest first (for operators and tests).
    async fn list_outbox(&self, tenant: TenantId) -> Result<Vec<OutboxEntry>>;
}

/// Leases, so that only one process works a sweep batch at a time.
#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Takes the named lease for `holder` until `now + ttl` if it is free, expired, or
    /// already held by `holder`. Returns whether `holder` now holds it.
    async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<bool>;
    /// Releases the lease if `holder` holds it.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<()>;
}

/// A complete store backend.
#[async_trait]
pub trait Store:
    TenantStore
    + UserStore
    + TicketStore
    + ArticleStore
    + ChatStore
    + OutboxStore
    + LeaseStore
    + AuditStore
    + ApiKeyStore
    + WebhookStore
    + AttachmentStore
    + QuarantineStore
    + CannedResponseStore
    + SavedViewStore
    + SearchStore
    + ErasureStore
    + ModelUsageStore
    + KbIndexStore
    + TriageModelStore
    + Debug
    + Send
    + Sync
    + 'static
{
    /// Backend name for errors and logs (`"memory"`, `"sqlite"`, `"mongodb"`).
    fn backend_name(&self) -> &'static str;

    /// A user of the tenant together with the tenant: what every service call reads to
    /// authorize its actor. `None` when the user (or the tenant) does not exist.
    async fn user_with_tenant(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Option<(Tenant, User)>>;

    /// A chat session together with its ticket (`None` before the first customer turn
    /// opens it): what every chat turn reads first. `None` when the session is not the
    /// tenant's.
    async fn chat_session_with_ticket(
        &self,
        tenant: TenantId,
        id: ChatSessionId,
    ) -> Result<Option<(ChatSession, Option<Ticket>)>>;

    /// What routing reads on every intake: the tenant's active agents, then its active
    /// admins (each role oldest first), each with the number of open tickets (not Resolved
    /// or Closed) assigned to it and its routing stamp ([`RoutingStaff`];
    /// [`with_open_loads`] pairs them for a backend that reads the two apart). A stamp
    /// reads as 0 until a [`RoutingClaim`] first sets it.
    async fn routing_staff(&self, tenant: TenantId) -> Result<Vec<RoutingStaff>>;

    /// Starts relaying to `signal` the ticket commits that other processes make on this
    /// store's database, for as long as the signal lives, and says whether it does. A
    /// store that can see them (PostgreSQL's `LISTEN`/`NOTIFY`) is listening when this
    /// returns `Ok(true)`, so a commit made after it wakes the signal's readers on every
    /// instance. A store that cannot returns `Ok(false)`: readers of the event feed then
    /// see other processes' events when they next poll (their own helpdesk's commits
    /// signal anyway). Called at most once per helpdesk, inside a Tokio runtime.
    async fn relay_commits(&self, signal: WeakCommitSignal) -> Result<bool>;
}

/// A shared store handle.
pub type DynStore = Arc<dyn Store>;
