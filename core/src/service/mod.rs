//! The `Helpdesk` service: every use-case goes through it, checked against the role matrix
//! and the lifecycle table, and every ticket change appends events in one atomic write.
//!
//! Files ride on the inputs of the messages they come with ([`NewTicket`], [`NewReply`],
//! [`NewMessage`], each with [`NewAttachment`]s): checked against the tenant's limits, put
//! in the configured blob store, and committed with their message (see
//! [`Helpdesk::attachment`] for who may read them).

mod analytics;
mod api_keys;
mod articles;
pub(crate) mod attachments;
mod audit;
mod auth;
pub(crate) mod automation;
mod automation_sweep;
mod builder;
mod bulk;
mod canned;
mod change;
mod chat;
mod drafts;
mod email;
mod erasure;
mod feed;
mod feed_cursor;
mod fields;
mod index_sweep;
mod indexing;
mod kb_sync;
mod learned_retirement;
mod learned_triage;
mod precondition;
mod privacy;
mod quarantine;
mod search;
mod snippet;
mod sweeps;
mod tenants;
mod ticket_locks;
mod tickets;
mod views;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

pub use analytics::{ANALYTICS_TRIAGE_MODELS, AnalyticsReport, FieldBreakdown, TeamLoad};
pub use api_keys::{
    API_KEY_SECRET_PREFIX, API_KEY_TOUCH_INTERVAL, CreatedApiKey, MAX_API_KEY_LABEL_CHARS,
    NewApiKey,
};
pub use articles::{
    ArticleInput, MAX_ARTICLE_BODY_CHARS, MAX_ARTICLE_TITLE_CHARS, MAX_IMPORT_BYTES,
    check_import_size,
};
pub use attachments::{AttachmentDownload, NewAttachment};
pub use audit::MAX_AUDIT_PAGE;
pub use auth::LoginOutcome;
pub use automation::AutomationPreview;
pub use automation_sweep::{AutomationSweepReport, DUE_SOON_CANDIDATES};
pub use builder::{HelpdeskBuilder, HelpdeskConfig};
pub use bulk::{BulkOutcome, MAX_BULK_TICKETS};
pub use canned::{
    CannedOutcome, CannedPreview, CannedResponseInput, CannedUsageRow, MAX_CANNED_NAME_CHARS,
    MAX_CANNED_PER_TENANT,
};
pub use email::{EmailDisposition, EmailOutcome, EmailRoute, InboundEmail, email_message_id};
pub use erasure::{ErasurePreview, ErasureReport, RetentionReport};
pub use feed::{FEED_CURSOR_MAX_IDS, FeedCursor, FeedItem, FeedPage, MAX_FEED_PAGE, customer_sees};
pub use fields::{FieldChanges, MAX_FIELD_FILTERS};
pub use index_sweep::{IndexSweepReport, ReindexReport};
pub use indexing::IndexStatus;
pub use learned_triage::{KEPT_MODEL_BLOBS, LearnedTriageConfig, TrainingReport};
pub use privacy::{CustomerExport, TicketExport};
pub use quarantine::MAX_QUARANTINE_PAGE;
pub use search::{DUE_SOON, MAX_SEARCH_CHARS, SearchRequest, SearchResult, SlaCondition};
pub use snippet::{Snippet, SnippetPart};
pub use sweeps::{DispatchReport, SlaSweepReport};
pub use tenants::{NewTenant, NewUser, UserPatch};
pub use tickets::{
    NewMessage, NewReply, NewTicket, OpenOutcome, ReplyOutcome, TicketPatch, TicketView,
};
pub use views::{MAX_VIEW_NAME_CHARS, MAX_VIEWS_PER_TENANT, SavedViewInput};
pub use webhooks::{
    MAX_WEBHOOK_URL_CHARS, MAX_WEBHOOKS_PER_TENANT, NewWebhook, WEBHOOK_SECRET_PREFIX, WebhookPatch,
};

use crate::ai::AiStatus;
use crate::ai::breaker::Breaker;
use crate::clock::to_millis;
use crate::domain::{Actor, Tenant, Ticket, User};
use crate::kb::{Embedder, KnowledgeBase};
use crate::llm::LanguageModel;
use crate::notify::Notifier;
use crate::roles::{Action, authorize};
use crate::routing::Router;
use crate::store::{DynStore, TicketWrite};
use crate::triage::ClassifierChain;
use crate::{Clock, Error, Result, TenantId, TicketId};

/// The helpdesk engine a host app embeds. Cheap to clone (all parts are shared handles).
///
/// Build it with [`Helpdesk::builder`]; every use-case takes the acting user as an
/// [`Actor`] and checks the role matrix ([`crate::roles`]).
#[derive(Debug, Clone)]
pub struct Helpdesk {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: DynStore,
    clock: Arc<dyn Clock>,
    classifiers: ClassifierChain,
    router: Arc<dyn Router>,
    notifier: Arc<dyn Notifier>,
    /// The configured model behind the circuit breaker.
    model: Option<Arc<dyn LanguageModel>>,
    breaker: Arc<Breaker>,
    knowledge_base: Option<Arc<dyn KnowledgeBase>>,
    embedder: Option<Arc<dyn Embedder>>,
    blob_store: Option<crate::blob::DynBlobStore>,
    config: HelpdeskConfig,
    instance_id: String,
    ticket_locks: ticket_locks::TicketLocks,
    index_queue: indexing::IndexQueue,
    /// When each tenant's index last caught up with the store, and the single flight.
    kb_sync: kb_sync::KbSyncState,
    /// When each tenant last looked for a newer learned-triage model.
    learned_checks: learned_triage::LearnedChecks,
    /// Wakes readers of the event feed when a ticket write of this helpdesk commits (and,
    /// through the store's relay, when another instance's does).
    commits: crate::store::CommitSignal,
    /// Whether the store relays other instances' commits, once it has been asked.
    commit_relay: tokio::sync::OnceCell<bool>,
}

impl Helpdesk {
    /// Starts building a helpdesk on `store`.
    pub fn builder(store: DynStore) -> HelpdeskBuilder {
        HelpdeskBuilder::new(store)
    }

    /// The store.
    pub fn store(&self) -> &DynStore {
        &self.inner.store
    }

    /// The configured language model, if any, behind the helpdesk's circuit breaker
    /// (calls made through it count, and are refused while the breaker is open).
    pub fn language_model(&self) -> Option<&Arc<dyn LanguageModel>> {
        self.inner.model.as_ref()
    }

    /// The health of the AI features, for a staff banner: not configured, healthy, or
    /// degraded since when and why (the model failed repeatedly and the offline paths
    /// answer until a trial call after the cool-down succeeds).
    pub fn ai_status(&self) -> AiStatus {
        match self.inner.model {
            None => AiStatus::NotConfigured,
            Some(_) => self.inner.breaker.status(),
        }
    }

    /// The model, unless the circuit breaker would refuse a call right now (then the
    /// caller goes straight to its offline path without preparing a prompt).
    pub(crate) fn live_model(&self) -> Option<&dyn LanguageModel> {
        self.inner
            .model
            .as_deref()
            .filter(|_| !self.inner.breaker.refuses_now())
    }

    /// The configured knowledge base, if any.
    pub fn knowledge_base(&self) -> Option<&Arc<dyn KnowledgeBase>> {
        self.inner.knowledge_base.as_ref()
    }

    /// The configured embedder, if any.
    pub fn embedder(&self) -> Option<&Arc<dyn Embedder>> {
        self.inner.embedder.as_ref()
    }

    /// The configuration.
    pub fn config(&self) -> &HelpdeskConfig {
        &self.inner.config
    }

    /// Now, from the injected clock, truncated to milliseconds.
    pub fn now(&self) -> Timestamp {
        to_millis(self.inner.clock.now())
    }

    /// Loads the actor's user and checks that it exists in the actor's tenant, is active,
    /// and still has the actor's role; then checks the role matrix for `action`.
    pub(crate) async fn check(&self, actor: &Actor, action: Action) -> Result<(Tenant, User)> {
        let (tenant, user) = self
            .inner
            .store
            .user_with_tenant(actor.tenant_id, actor.user_id)
            .await?
            .ok_or(Error::Unauthenticated {
                reason: "unknown user",
            })?;
        if !user.active {
            return Err(Error::Unauthenticated {
                reason: "user is inactive",
            });
        }
        if user.role != actor.role {
            return Err(Error::Unauthenticated {
                reason: "role changed; sign in again",
            });
        }
        authorize(actor, action)?;
        Ok((tenant, user))
    }

    /// [`check`](Self::check) with `read` in flight at the same time (one round trip of
    /// latency instead of two). The check decides first: when it fails its error is
    /// returned and what `read` found is dropped unseen, so `read` must only read.
    pub(crate) async fn check_while<T>(
        &self,
        actor: &Actor,
        action: Action,
        read: impl Future<Output = Result<T>> + Send,
    ) -> Result<(Tenant, User, T)> {
        let (checked, read) = futures_util::future::join(self.check(actor, action), read).await;
        let (tenant, user) = checked?;
        Ok((tenant, user, read?))
    }

    /// [`check`](Self::check) with the ticket read at the same time ([`check_while`](Self::check_while)),
    /// kept only if the actor may see it: what a use case on one ticket reads first, and
    /// the row it then plans on (no second read).
    pub(crate) async fn checked_ticket(
        &self,
        actor: &Actor,
        action: Action,
        id: TicketId,
    ) -> Result<(Tenant, User, Ticket)> {
        self.check_while(actor, action, self.visible_ticket(actor, id))
            .await
    }

    pub(crate) async fn tenant(&self, id: TenantId) -> Result<Tenant> {
        self.inner
            .store
            .get_tenant(id)
            .await?
            .ok_or_else(|| Error::not_found("tenant", id))
    }

    /// Loads a ticket the actor may see: staff see the tenant's tickets, customers only
    /// their own (others are reported as not found).
    pub(crate) async fn visible_ticket(&self, actor: &Actor, id: TicketId) -> Result<Ticket> {
        let ticket = self
            .inner
            .store
            .get_ticket(actor.tenant_id, id)
            .await?
            .ok_or_else(|| Error::not_found("ticket", id))?;
        if !actor.is_staff() && ticket.requester != actor.user_id {
            return Err(Error::not_found("ticket", id));
        }
        Ok(ticket)
    }

    /// Runs a read-modify-write on a ticket, retrying on version conflicts and temporary
    /// backend errors (each retry re-reads the ticket and re-plans): `plan` gets the
    /// current ticket and returns the write (or an error, which is returned as is).
    ///
    /// Writers of one ticket in this process take turns ([`ticket_locks`]), so concurrent
    /// replies and notes of this process cost a write at most one conflict (see there); the
    /// other retries are for writers in other processes and for temporary failures.
    pub(crate) async fn mutate_ticket<F>(
        &self,
        tenant: &Tenant,
        id: TicketId,
        plan: F,
    ) -> Result<TicketWrite>
    where
        F: FnMut(&Ticket) -> Result<TicketWrite> + Send,
    {
        self.mutate_ticket_from(tenant, id, None, plan).await
    }

    /// [`mutate_ticket`](Self::mutate_ticket) whose first attempt plans on `known`, a copy
    /// of the ticket the caller has just read, instead of reading it again (one statement
    /// less on the hot paths). A stale copy costs nothing but a retry: the write checks
    /// its version, and every retry re-reads.
    pub(crate) async fn mutate_ticket_from<F>(
        &self,
        tenant: &Tenant,
        id: TicketId,
        known: Option<Ticket>,
        mut plan: F,
    ) -> Result<TicketWrite>
    where
        F: FnMut(&Ticket) -> Result<TicketWrite> + Send,
    {
        self.mutate_ticket_with(tenant, id, known, |t| Ok(Some((plan(t)?, ()))))
            .await?
            .map(|(write, ())| write)
            .ok_or(Error::Internal("a planned ticket change was not committed"))
    }

    /// The read-modify-write every ticket change goes through: `plan` gets the current
    /// ticket and returns the write together with what the use case returns (the stored
    /// message, a flag, ...), or `None` when there is nothing to change. Retries on
    /// conflicts and temporary failures with a fresh read; the first attempt plans on
    /// `known` when it is this ticket and no other writer of it went first.
    pub(crate) async fn mutate_ticket_with<T, F>(
        &self,
        tenant: &Tenant,
        id: TicketId,
        mut known: Option<Ticket>,
        mut plan: F,
    ) -> Result<Option<(TicketWrite, T)>>
    where
        F: FnMut(&Ticket) -> Result<Option<(TicketWrite, T)>> + Send,
        T: Send,
    {
        let turn = self.inner.ticket_locks.turn(id).await;
        // The caller's copy is stale when another writer of this ticket went first, and a
        // version precondition is checked against the stored ticket, never a copy.
        if turn.waited() || precondition::expects_version(id) {
            known = None;
        }
        let attempts = self.inner.config.max_conflict_retries.max(1);
        let mut last = None;
        // The tenant's change-triggered automation rules run inside the write; their
        // context (the staff) is read once, only when there are such rules.
        let mut rules = if automation::has_change_rules(tenant) {
            Some(self.rule_context(tenant).await?)
        } else {
            None
        };
        let tenant_id = tenant.id;
        for attempt in 0..attempts {
            let current = match known
                .take()
                .filter(|t| t.id == id && t.tenant_id == tenant_id)
            {
                Some(ticket) => ticket,
                None => self
                    .inner
                    .store
                    .get_ticket(tenant_id, id)
                    .await?
                    .ok_or_else(|| Error::not_found("ticket", id))?,
            };
            precondition::check_version(id, current.version)?;
            let Some((write, result)) = plan(&current)? else {
                return Ok(None);
            };
            // A change that changes nothing (assigning the current assignee, a patch with
            // the current values) writes nothing: the ticket keeps its version.
            if write.events.is_empty()
                && write.messages.is_empty()
                && write.attachments.is_empty()
                && write.outbox.is_empty()
                && write.chat_activity.is_none()
            {
                return Ok(Some((write, result)));
            }
            let write = match &mut rules {
                Some(ctx) => {
                    ctx.load_requester(self, write.ticket.requester).await?;
                    automation::run_change_rules(ctx, write)?
                }
                None => write,
            };
            match self
                .inner
                .store
                .update_ticket(current.version, &write)
                .await
            {
                Ok(()) => {
                    self.signal_commit(write.ticket.tenant_id);
                    return Ok(Some((write, result)));
                }
                Err(e) => {
                    tracing::debug!(%id, attempt, error = %e, "ticket write failed");
                    last = Some(back_off(attempt, e).await?);
                }
            }
        }
        Err(last.unwrap_or(Error::Conflict {
            entity: "ticket",
            id: id.to_string(),
            expected: 0,
        }))
    }

    /// The tenant's tickets `ids`, in order, read concurrently (`NotFound` for a missing
    /// one).
    pub(crate) async fn read_tickets<const N: usize>(
        &self,
        tenant: TenantId,
        ids: [TicketId; N],
    ) -> Result<[Ticket; N]> {
        let store = &self.inner.store;
        let read = ids.map(|id| async move {
            store
                .get_ticket(tenant, id)
                .await?
                .ok_or_else(|| Error::not_found("ticket", id))
        });
        let tickets = futures_util::future::try_join_all(read).await?;
        <[Ticket; N]>::try_from(tickets)
            .map_err(|_| Error::Internal("a ticket read returned the wrong count"))
    }
}

/// What a failed ticket commit leads to: a temporary failure (a version conflict, SQLite
/// BUSY) is waited out (a little longer each attempt) and returned for the caller to
/// re-read and re-plan on fresh state; any other error ends the use case.
pub(crate) async fn back_off(attempt: u32, e: Error) -> Result<Error> {
    if !e.is_temporary() {
        return Err(e);
    }
    tokio::time::sleep(Duration::from_millis(1 << attempt.min(6))).await;
    Ok(e)
}
