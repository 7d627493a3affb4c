//! A shared handle is itself a store: `Arc<T>` implements every store trait `T` does, by
//! forwarding each call to `T`.
//!
//! Every method of the contract is required (none has a provided body), so these impls
//! must name each one: a method added to a trait and not forwarded here is a compile
//! error, not a silent fall-back to a slower or different default (the hazard of
//! forwarding wrappers in, for example, object_store issue #385). `Arc<dyn Store>` (a
//! [`DynStore`](super::DynStore)) is therefore a `Store` too, and can be wrapped again
//! (a test store around a shared one, a store shared by two services).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;

use super::{
    AdminWrite, ApiKeyStore, ArticleStore, AttachmentStore, AuditQuery, AuditStore,
    CannedResponseStore, CannedUsage, ChatStore, ErasureStore, KbIndexStore, LeaseStore,
    MessageFilter, ModelUsageStore, OutboxStore, Page, QuarantineStore, QuarantinedMail,
    RoutingStaff, SavedViewStore, SearchHit, SearchQuery, SearchStore, Store, TenantStore,
    TicketErasure, TicketQuery, TicketStore, TicketWrite, TimeRange, TriageModel, TriageModelStore,
    UserStore, WeakCommitSignal, WebhookStore,
};
use crate::analytics::Analytics;
use crate::domain::{
    ApiKey, Article, Attachment, AuditEvent, AuthSession, CannedResponse, ChatSession, Event,
    Message, OutboxEntry, PasswordHash, Role, SavedView, Tenant, Ticket, User, WebhookEndpoint,
    WebhookOutcome,
};
use crate::{
    ApiKeyId, ArticleId, AttachmentId, CannedResponseId, ChatSessionId, MessageId, OutboxId,
    QuarantineId, Result, SavedViewId, TenantId, TicketId, UserId, WebhookId,
};

#[async_trait]
impl<T: TenantStore + ?Sized> TenantStore for Arc<T> {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        (**self).create_tenant(tenant).await
    }
    async fn get_tenant(&self, id: TenantId) -> Result<Option<Tenant>> {
        (**self).get_tenant(id).await
    }
    async fn get_tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>> {
        (**self).get_tenant_by_slug(slug).await
    }
    async fn update_tenant(&self, tenant: &Tenant) -> Result<()> {
        (**self).update_tenant(tenant).await
    }
    async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        (**self).list_tenants().await
    }
}

#[async_trait]
impl<T: UserStore + ?Sized> UserStore for Arc<T> {
    async fn create_user(&self, user: &User) -> Result<()> {
        (**self).create_user(user).await
    }
    async fn get_user(&self, tenant: TenantId, id: UserId) -> Result<Option<User>> {
        (**self).get_user(tenant, id).await
    }
    async fn get_user_by_email(&self, tenant: TenantId, email: &str) -> Result<Option<User>> {
        (**self).get_user_by_email(tenant, email).await
    }
    async fn update_user(&self, user: &User) -> Result<()> {
        (**self).update_user(user).await
    }
    async fn list_users(&self, tenant: TenantId, role: Option<Role>) -> Result<Vec<User>> {
        (**self).list_users(tenant, role).await
    }
    async fn create_user_with_password(&self, user: &User, hash: &PasswordHash) -> Result<()> {
        (**self).create_user_with_password(user, hash).await
    }
    async fn set_password_hash(
        &self,
        tenant: TenantId,
        user: UserId,
        hash: &PasswordHash,
    ) -> Result<()> {
        (**self).set_password_hash(tenant, user, hash).await
    }
    async fn login_credentials(
        &self,
        tenant: TenantId,
        email: &str,
    ) -> Result<Option<(User, Option<PasswordHash>)>> {
        (**self).login_credentials(tenant, email).await
    }
    async fn create_session(&self, session: &AuthSession) -> Result<()> {
        (**self).create_session(session).await
    }
    async fn get_session(&self, token_hash: &str) -> Result<Option<AuthSession>> {
        (**self).get_session(token_hash).await
    }
    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        (**self).delete_session(token_hash).await
    }
    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64> {
        (**self).delete_expired_sessions(now).await
    }
}

#[async_trait]
impl<T: TicketStore + ?Sized> TicketStore for Arc<T> {
    async fn create_ticket(&self, write: TicketWrite) -> Result<TicketWrite> {
        (**self).create_ticket(write).await
    }
    async fn update_ticket(&self, expected_version: u64, write: &TicketWrite) -> Result<()> {
        (**self).update_ticket(expected_version, write).await
    }
    async fn update_tickets(&self, writes: &[(u64, TicketWrite)]) -> Result<()> {
        (**self).update_tickets(writes).await
    }
    async fn get_ticket(&self, tenant: TenantId, id: TicketId) -> Result<Option<Ticket>> {
        (**self).get_ticket(tenant, id).await
    }
    async fn get_ticket_by_number(&self, tenant: TenantId, number: u64) -> Result<Option<Ticket>> {
        (**self).get_ticket_by_number(tenant, number).await
    }
    async fn find_by_idempotency_key(
        &self,
        tenant: TenantId,
        key: &str,
    ) -> Result<Option<TicketId>> {
        (**self).find_by_idempotency_key(tenant, key).await
    }
    async fn list_tickets(&self, tenant: TenantId, query: &TicketQuery) -> Result<Page<Ticket>> {
        (**self).list_tickets(tenant, query).await
    }
    async fn count_tickets(&self, tenant: TenantId, query: &TicketQuery) -> Result<u64> {
        (**self).count_tickets(tenant, query).await
    }
    async fn open_ticket_counts(&self, tenant: TenantId) -> Result<Vec<(UserId, u64)>> {
        (**self).open_ticket_counts(tenant).await
    }
    async fn sla_due_tickets(
        &self,
        tenant: TenantId,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Ticket>> {
        (**self).sla_due_tickets(tenant, now, limit).await
    }
    async fn list_events(&self, tenant: TenantId, ticket: TicketId) -> Result<Vec<Event>> {
        (**self).list_events(tenant, ticket).await
    }
    async fn list_tenant_events(
        &self,
        tenant: TenantId,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<Event>> {
        (**self).list_tenant_events(tenant, since, limit).await
    }
    async fn list_messages(
        &self,
        tenant: TenantId,
        ticket: TicketId,
        filter: MessageFilter,
    ) -> Result<Vec<Message>> {
        (**self).list_messages(tenant, ticket, filter).await
    }
    async fn get_message(&self, tenant: TenantId, id: MessageId) -> Result<Option<Message>> {
        (**self).get_message(tenant, id).await
    }
    async fn analytics(
        &self,
        tenant: TenantId,
        range: TimeRange,
        now: Timestamp,
    ) -> Result<Analytics> {
        (**self).analytics(tenant, range, now).await
    }
}

#[async_trait]
impl<T: ArticleStore + ?Sized> ArticleStore for Arc<T> {
    async fn create_article(&self, article: &Article) -> Result<()> {
        (**self).create_article(article).await
    }
    async fn update_article(&self, expected_version: u64, article: &Article) -> Result<()> {
        (**self).update_article(expected_version, article).await
    }
    async fn delete_article(&self, tenant: TenantId, id: ArticleId) -> Result<()> {
        (**self).delete_article(tenant, id).await
    }
    async fn get_article(&self, tenant: TenantId, id: ArticleId) -> Result<Option<Article>> {
        (**self).get_article(tenant, id).await
    }
    async fn list_articles(&self, tenant: TenantId) -> Result<Vec<Article>> {
        (**self).list_articles(tenant).await
    }
}

#[async_trait]
impl<T: ChatStore + ?Sized> ChatStore for Arc<T> {
    async fn create_chat_session(&self, session: &ChatSession) -> Result<()> {
        (**self).create_chat_session(session).await
    }
    async fn get_chat_session(
        &self,
        tenant: TenantId,
        id: ChatSessionId,
    ) -> Result<Option<ChatSession>> {
        (**self).get_chat_session(tenant, id).await
    }
    async fn update_chat_session(
        &self,
        expected_version: u64,
        session: &ChatSession,
    ) -> Result<()> {
        (**self)
            .update_chat_session(expected_version, session)
            .await
    }
    async fn list_chat_sessions(
        &self,
        tenant: TenantId,
        customer: Option<UserId>,
    ) -> Result<Vec<ChatSession>> {
        (**self).list_chat_sessions(tenant, customer).await
    }
    async fn idle_chat_sessions(
        &self,
        tenant: TenantId,
        idle_before: Timestamp,
    ) -> Result<Vec<ChatSession>> {
        (**self).idle_chat_sessions(tenant, idle_before).await
    }
}

#[async_trait]
impl<T: OutboxStore + ?Sized> OutboxStore for Arc<T> {
    async fn due_outbox(&self, now: Timestamp, limit: u32) -> Result<Vec<OutboxEntry>> {
        (**self).due_outbox(now, limit).await
    }
    async fn mark_outbox_delivered(&self, id: OutboxId, at: Timestamp) -> Result<()> {
        (**self).mark_outbox_delivered(id, at).await
    }
    async fn mark_outbox_failed(
        &self,
        id: OutboxId,
        attempts: u32,
        next_attempt_at: Timestamp,
        error: &str,
    ) -> Result<()> {
        (**self)
            .mark_outbox_failed(id, attempts, next_attempt_at, error)
            .await
    }
    async fn list_outbox(&self, tenant: TenantId) -> Result<Vec<OutboxEntry>> {
        (**self).list_outbox(tenant).await
    }
}

#[async_trait]
impl<T: LeaseStore + ?Sized> LeaseStore for Arc<T> {
    async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<bool> {
        (**self).try_acquire_lease(name, holder, now, ttl).await
    }
    async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        (**self).release_lease(name, holder).await
    }
}

#[async_trait]
impl<T: AuditStore + ?Sized> AuditStore for Arc<T> {
    async fn commit_admin_change(&self, write: &AdminWrite) -> Result<()> {
        (**self).commit_admin_change(write).await
    }
    async fn list_audit_events(
        &self,
        tenant: TenantId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEvent>> {
        (**self).list_audit_events(tenant, query).await
    }
}

#[async_trait]
impl<T: ApiKeyStore + ?Sized> ApiKeyStore for Arc<T> {
    async fn api_key_by_hash(&self, secret_hash: &str) -> Result<Option<ApiKey>> {
        (**self).api_key_by_hash(secret_hash).await
    }
    async fn list_api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKey>> {
        (**self).list_api_keys(tenant).await
    }
    async fn touch_api_key(&self, tenant: TenantId, id: ApiKeyId, at: Timestamp) -> Result<()> {
        (**self).touch_api_key(tenant, id, at).await
    }
}

#[async_trait]
impl<T: CannedResponseStore + ?Sized> CannedResponseStore for Arc<T> {
    async fn get_canned_response(
        &self,
        tenant: TenantId,
        id: CannedResponseId,
    ) -> Result<Option<CannedResponse>> {
        (**self).get_canned_response(tenant, id).await
    }
    async fn list_canned_responses(&self, tenant: TenantId) -> Result<Vec<CannedResponse>> {
        (**self).list_canned_responses(tenant).await
    }
    async fn canned_response_usage(
        &self,
        tenant: TenantId,
        since: Timestamp,
    ) -> Result<Vec<CannedUsage>> {
        (**self).canned_response_usage(tenant, since).await
    }
}

#[async_trait]
impl<T: SavedViewStore + ?Sized> SavedViewStore for Arc<T> {
    async fn get_saved_view(&self, tenant: TenantId, id: SavedViewId) -> Result<Option<SavedView>> {
        (**self).get_saved_view(tenant, id).await
    }
    async fn list_saved_views(&self, tenant: TenantId) -> Result<Vec<SavedView>> {
        (**self).list_saved_views(tenant).await
    }
}

#[async_trait]
impl<T: SearchStore + ?Sized> SearchStore for Arc<T> {
    async fn search_tickets(
        &self,
        tenant: TenantId,
        query: &SearchQuery,
    ) -> Result<Page<SearchHit>> {
        (**self).search_tickets(tenant, query).await
    }
}

#[async_trait]
impl<T: WebhookStore + ?Sized> WebhookStore for Arc<T> {
    async fn get_webhook(
        &self,
        tenant: TenantId,
        id: WebhookId,
    ) -> Result<Option<WebhookEndpoint>> {
        (**self).get_webhook(tenant, id).await
    }
    async fn list_webhooks(&self, tenant: TenantId) -> Result<Vec<WebhookEndpoint>> {
        (**self).list_webhooks(tenant).await
    }
    async fn due_webhooks(&self, now: Timestamp, limit: u32) -> Result<Vec<WebhookEndpoint>> {
        (**self).due_webhooks(now, limit).await
    }
    async fn record_webhook_delivery(
        &self,
        tenant: TenantId,
        id: WebhookId,
        outcome: &WebhookOutcome,
    ) -> Result<()> {
        (**self).record_webhook_delivery(tenant, id, outcome).await
    }
}

#[async_trait]
impl<T: AttachmentStore + ?Sized> AttachmentStore for Arc<T> {
    async fn get_attachment(
        &self,
        tenant: TenantId,
        id: AttachmentId,
    ) -> Result<Option<Attachment>> {
        (**self).get_attachment(tenant, id).await
    }
    async fn list_attachments(
        &self,
        tenant: TenantId,
        ticket: TicketId,
    ) -> Result<Vec<Attachment>> {
        (**self).list_attachments(tenant, ticket).await
    }
}

#[async_trait]
impl<T: QuarantineStore + ?Sized> QuarantineStore for Arc<T> {
    async fn put_quarantined(&self, mail: &QuarantinedMail) -> Result<()> {
        (**self).put_quarantined(mail).await
    }
    async fn get_quarantined(
        &self,
        tenant: TenantId,
        id: QuarantineId,
    ) -> Result<Option<QuarantinedMail>> {
        (**self).get_quarantined(tenant, id).await
    }
    async fn list_quarantined(
        &self,
        tenant: TenantId,
        held_only: bool,
        limit: u32,
    ) -> Result<Vec<QuarantinedMail>> {
        (**self).list_quarantined(tenant, held_only, limit).await
    }
    async fn update_quarantined(&self, mail: &QuarantinedMail) -> Result<()> {
        (**self).update_quarantined(mail).await
    }
}

#[async_trait]
impl<T: Store + ?Sized> Store for Arc<T> {
    fn backend_name(&self) -> &'static str {
        (**self).backend_name()
    }
    async fn user_with_tenant(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Option<(Tenant, User)>> {
        (**self).user_with_tenant(tenant, user).await
    }
    async fn chat_session_with_ticket(
        &self,
        tenant: TenantId,
        id: ChatSessionId,
    ) -> Result<Option<(ChatSession, Option<Ticket>)>> {
        (**self).chat_session_with_ticket(tenant, id).await
    }
    async fn routing_staff(&self, tenant: TenantId) -> Result<Vec<RoutingStaff>> {
        (**self).routing_staff(tenant).await
    }
    async fn relay_commits(&self, signal: WeakCommitSignal) -> Result<bool> {
        (**self).relay_commits(signal).await
    }
}

#[async_trait]
impl<T: ErasureStore + ?Sized> ErasureStore for Arc<T> {
    async fn erase_ticket(&self, expected_version: u64, erasure: &TicketErasure) -> Result<()> {
        (**self).erase_ticket(expected_version, erasure).await
    }
    async fn retention_due(
        &self,
        tenant: TenantId,
        before: Timestamp,
        limit: u32,
    ) -> Result<Vec<Ticket>> {
        (**self).retention_due(tenant, before, limit).await
    }
    async fn blob_in_use(&self, tenant: TenantId, sha256: &crate::domain::Sha256) -> Result<bool> {
        (**self).blob_in_use(tenant, sha256).await
    }
}

#[async_trait]
impl<T: ModelUsageStore + ?Sized> ModelUsageStore for Arc<T> {
    async fn record_model_usage(
        &self,
        tenant: TenantId,
        usage: &[crate::domain::ModelUsage],
    ) -> Result<()> {
        (**self).record_model_usage(tenant, usage).await
    }
    async fn model_usage_per_day(
        &self,
        tenant: TenantId,
        range: TimeRange,
    ) -> Result<Vec<crate::domain::ModelUsageDay>> {
        (**self).model_usage_per_day(tenant, range).await
    }
}

#[async_trait]
impl<T: KbIndexStore + ?Sized> KbIndexStore for Arc<T> {
    async fn put_article_chunks(
        &self,
        tenant: TenantId,
        chunks: &super::ArticleChunks,
    ) -> Result<Option<u64>> {
        (**self).put_article_chunks(tenant, chunks).await
    }
    async fn kb_changes(
        &self,
        tenant: TenantId,
        since: u64,
        limit: usize,
    ) -> Result<Vec<super::KbChange>> {
        (**self).kb_changes(tenant, since, limit).await
    }
    async fn articles_to_index(
        &self,
        tenant: TenantId,
        model: &str,
        limit: usize,
    ) -> Result<Vec<ArticleId>> {
        (**self).articles_to_index(tenant, model, limit).await
    }
}

#[async_trait]
impl<T: TriageModelStore + ?Sized> TriageModelStore for Arc<T> {
    async fn put_triage_model(&self, model: &TriageModel) -> Result<()> {
        (**self).put_triage_model(model).await
    }
    async fn list_triage_models(&self, tenant: TenantId, limit: usize) -> Result<Vec<TriageModel>> {
        (**self).list_triage_models(tenant, limit).await
    }
    async fn latest_triage_model(&self, tenant: TenantId) -> Result<Option<TriageModel>> {
        (**self).latest_triage_model(tenant).await
    }
    async fn retire_triage_models(&self, tenant: TenantId, at: Timestamp) -> Result<u64> {
        (**self).retire_triage_models(tenant, at).await
    }
}
