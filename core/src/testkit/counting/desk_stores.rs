//! The counting wrappers of the stores behind the agent's tools and the mail channel
//! (webhooks, quarantined mail, canned responses, saved views, search, erasure): the same
//! one-call-one-count rule as the parent module.

use async_trait::async_trait;
use jiff::Timestamp;

use super::{Call, CountingStore};
use crate::domain::{CannedResponse, SavedView, Sha256, Ticket, WebhookEndpoint, WebhookOutcome};
use crate::store::{
    CannedResponseStore, CannedUsage, ErasureStore, ModelUsageStore, Page, QuarantineStore,
    QuarantinedMail, SavedViewStore, SearchHit, SearchQuery, SearchStore, TicketErasure,
    WebhookStore,
};
use crate::{CannedResponseId, QuarantineId, Result, SavedViewId, TenantId, WebhookId};

#[async_trait]
impl WebhookStore for CountingStore {
    async fn get_webhook(
        &self,
        tenant: TenantId,
        id: WebhookId,
    ) -> Result<Option<WebhookEndpoint>> {
        self.track(Call::Read, self.inner.get_webhook(tenant, id))
            .await
    }
    async fn list_webhooks(&self, tenant: TenantId) -> Result<Vec<WebhookEndpoint>> {
        self.track(Call::Read, self.inner.list_webhooks(tenant))
            .await
    }
    async fn due_webhooks(&self, now: Timestamp, limit: u32) -> Result<Vec<WebhookEndpoint>> {
        self.track(Call::Read, self.inner.due_webhooks(now, limit))
            .await
    }
    async fn record_webhook_delivery(
        &self,
        tenant: TenantId,
        id: WebhookId,
        outcome: &WebhookOutcome,
    ) -> Result<()> {
        self.track(
            Call::Commit,
            self.inner.record_webhook_delivery(tenant, id, outcome),
        )
        .await
    }
}

#[async_trait]
impl QuarantineStore for CountingStore {
    async fn put_quarantined(&self, mail: &QuarantinedMail) -> Result<()> {
        self.track(Call::Commit, self.inner.put_quarantined(mail))
            .await
    }
    async fn get_quarantined(
        &self,
        tenant: TenantId,
        id: QuarantineId,
    ) -> Result<Option<QuarantinedMail>> {
        self.track(Call::Read, self.inner.get_quarantined(tenant, id))
            .await
    }
    async fn list_quarantined(
        &self,
        tenant: TenantId,
        held_only: bool,
        limit: u32,
    ) -> Result<Vec<QuarantinedMail>> {
        self.track(
            Call::Read,
            self.inner.list_quarantined(tenant, held_only, limit),
        )
        .await
    }
    async fn update_quarantined(&self, mail: &QuarantinedMail) -> Result<()> {
        self.track(Call::Commit, self.inner.update_quarantined(mail))
            .await
    }
}

#[async_trait]
impl CannedResponseStore for CountingStore {
    async fn get_canned_response(
        &self,
        tenant: TenantId,
        id: CannedResponseId,
    ) -> Result<Option<CannedResponse>> {
        self.track(Call::Read, self.inner.get_canned_response(tenant, id))
            .await
    }
    async fn list_canned_responses(&self, tenant: TenantId) -> Result<Vec<CannedResponse>> {
        self.track(Call::Read, self.inner.list_canned_responses(tenant))
            .await
    }
    async fn canned_response_usage(
        &self,
        tenant: TenantId,
        since: Timestamp,
    ) -> Result<Vec<CannedUsage>> {
        self.track(Call::Read, self.inner.canned_response_usage(tenant, since))
            .await
    }
}

#[async_trait]
impl SavedViewStore for CountingStore {
    async fn get_saved_view(&self, tenant: TenantId, id: SavedViewId) -> Result<Option<SavedView>> {
        self.track(Call::Read, self.inner.get_saved_view(tenant, id))
            .await
    }
    async fn list_saved_views(&self, tenant: TenantId) -> Result<Vec<SavedView>> {
        self.track(Call::Read, self.inner.list_saved_views(tenant))
            .await
    }
}

#[async_trait]
impl SearchStore for CountingStore {
    async fn search_tickets(
        &self,
        tenant: TenantId,
        query: &SearchQuery,
    ) -> Result<Page<SearchHit>> {
        self.track(Call::Read, self.inner.search_tickets(tenant, query))
            .await
    }
}

#[async_trait]
impl ErasureStore for CountingStore {
    async fn erase_ticket(&self, expected_version: u64, erasure: &TicketErasure) -> Result<()> {
        self.track(
            Call::Commit,
            self.inner.erase_ticket(expected_version, erasure),
        )
        .await
    }
    async fn retention_due(
        &self,
        tenant: TenantId,
        before: Timestamp,
        limit: u32,
    ) -> Result<Vec<Ticket>> {
        self.track(Call::Read, self.inner.retention_due(tenant, before, limit))
            .await
    }
    async fn blob_in_use(&self, tenant: TenantId, sha256: &Sha256) -> Result<bool> {
        self.track(Call::Read, self.inner.blob_in_use(tenant, sha256))
            .await
    }
}

#[async_trait]
impl ModelUsageStore for CountingStore {
    async fn record_model_usage(
        &self,
        tenant: TenantId,
        usage: &[crate::domain::ModelUsage],
    ) -> Result<()> {
        self.track(Call::Commit, self.inner.record_model_usage(tenant, usage))
            .await
    }
    async fn model_usage_per_day(
        &self,
        tenant: TenantId,
        range: crate::store::TimeRange,
    ) -> Result<Vec<crate::domain::ModelUsageDay>> {
        self.track(Call::Read, self.inner.model_usage_per_day(tenant, range))
            .await
    }
}

#[async_trait]
impl crate::store::KbIndexStore for CountingStore {
    async fn put_article_chunks(
        &self,
        tenant: TenantId,
        chunks: &crate::store::ArticleChunks,
    ) -> Result<Option<u64>> {
        self.track(Call::Commit, self.inner.put_article_chunks(tenant, chunks))
            .await
    }
    async fn kb_changes(
        &self,
        tenant: TenantId,
        since: u64,
        limit: usize,
    ) -> Result<Vec<crate::store::KbChange>> {
        self.track(Call::Read, self.inner.kb_changes(tenant, since, limit))
            .await
    }
    async fn articles_to_index(
        &self,
        tenant: TenantId,
        model: &str,
        limit: usize,
    ) -> Result<Vec<crate::ArticleId>> {
        self.track(
            Call::Read,
            self.inner.articles_to_index(tenant, model, limit),
        )
        .await
    }
}

#[async_trait]
impl crate::store::TriageModelStore for CountingStore {
    async fn put_triage_model(&self, model: &crate::store::TriageModel) -> Result<()> {
        self.track(Call::Commit, self.inner.put_triage_model(model))
            .await
    }
    async fn list_triage_models(
        &self,
        tenant: TenantId,
        limit: usize,
    ) -> Result<Vec<crate::store::TriageModel>> {
        self.track(Call::Read, self.inner.list_triage_models(tenant, limit))
            .await
    }
    async fn latest_triage_model(
        &self,
        tenant: TenantId,
    ) -> Result<Option<crate::store::TriageModel>> {
        self.track(Call::Read, self.inner.latest_triage_model(tenant))
            .await
    }
    async fn retire_triage_models(&self, tenant: TenantId, at: Timestamp) -> Result<u64> {
        self.track(Call::Commit, self.inner.retire_triage_models(tenant, at))
            .await
    }
}
