//! Keeping this instance's knowledge-base index a cache of the store.
//!
//! The store holds every article's chunks with their embeddings and a per-tenant change
//! feed ([`KbIndexStore`](crate::store::KbIndexStore)); the index of each instance
//! remembers the last change it applied ([`KnowledgeBase::position`]) and catches up by
//! reading the changes after it ([`Helpdesk::kb_sync`]). Nothing is embedded on the way:
//! whoever saved an article embedded it once and stored the vectors.
//!
//! An instance catches a tenant up
//! * after each of its own index jobs (so its own saves are searchable as soon as they are
//!   embedded),
//! * before a search when the last catch-up is older than
//!   [`HelpdeskConfig::kb_sync_interval`](super::HelpdeskConfig::kb_sync_interval), which
//!   bounds how long another instance's saves stay invisible here,
//! * after an index sweep or a reindex stored chunks, and when a host asks.
//!
//! One catch-up per tenant runs at a time: callers that arrive while one runs wait for it
//! and, when it started after they arrived, take its result instead of reading the feed
//! again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex, PoisonError};

use jiff::Timestamp;

use super::Helpdesk;
use crate::kb::KnowledgeBase;
use crate::{Error, Result, TenantId};

/// Feed changes (articles) read and applied per page while catching up: bounds the
/// memory a page of stored vectors takes and how often a large catch-up saves its index.
pub(super) const FEED_PAGE: usize = 100;

/// The catch-up state of every tenant this instance has searched or indexed.
#[derive(Debug, Default)]
pub(super) struct KbSyncState {
    tenants: StdMutex<HashMap<TenantId, Arc<TenantSync>>>,
}

impl KbSyncState {
    fn tenant(&self, tenant: TenantId) -> Arc<TenantSync> {
        let mut map = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(map.entry(tenant).or_default())
    }

    /// The tenants this instance has caught up, searched or indexed.
    pub(super) fn known_tenants(&self) -> Vec<TenantId> {
        self.tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .copied()
            .collect()
    }
}

#[derive(Debug, Default)]
struct TenantSync {
    /// Held by the running catch-up.
    flight: tokio::sync::Mutex<()>,
    /// Catch-ups started so far; each takes the next number when it starts.
    started: AtomicU64,
    /// The number of the last catch-up that succeeded, and when (injected clock) it began
    /// reading the feed.
    last_ok: StdMutex<Option<(u64, Timestamp)>>,
}

impl TenantSync {
    fn last_ok(&self) -> Option<(u64, Timestamp)> {
        *self.last_ok.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Helpdesk {
    /// Catches this instance's knowledge-base index for `tenant` up with the store's
    /// change feed: applies every change after the index's position, page by page,
    /// without embedding anything. Returns the position reached (0 without a knowledge
    /// base).
    ///
    /// Concurrent calls for one tenant share the running catch-up: a caller that arrives
    /// while one runs waits for it and then, since that one may have started before the
    /// caller's changes were stored, runs one more unless another caller's run that started
    /// later has already finished.
    pub async fn kb_sync(&self, tenant: TenantId) -> Result<u64> {
        let Some(kb) = &self.inner.knowledge_base else {
            return Ok(0);
        };
        let slot = self.inner.kb_sync.tenant(tenant);
        let arrived = slot.started.load(Ordering::SeqCst);
        let _flight = slot.flight.lock().await;
        if slot.last_ok().is_some_and(|(n, _)| n > arrived) {
            // A catch-up that started after this call arrived has finished meanwhile.
            return kb.position(tenant).await;
        }
        let n = slot.started.fetch_add(1, Ordering::SeqCst) + 1;
        let began = self.now();
        let position = self.apply_feed(kb.as_ref(), tenant).await?;
        *slot.last_ok.lock().unwrap_or_else(PoisonError::into_inner) = Some((n, began));
        Ok(position)
    }

    /// Before a search: catches `tenant` up when its last catch-up is older than the
    /// configured interval. A failure is logged and the index is searched as it is (a chat
    /// turn never fails because the store's feed could not be read).
    pub(super) async fn kb_sync_if_due(&self, tenant: TenantId) {
        if self.inner.knowledge_base.is_none() {
            return;
        }
        let interval = self.inner.config.kb_sync_interval;
        if !interval.is_zero() {
            let last = self.inner.kb_sync.tenant(tenant).last_ok();
            let now = self.now();
            let fresh =
                last.is_some_and(|(_, at)| at.checked_add(interval).is_ok_and(|until| now < until));
            if fresh {
                return;
            }
        }
        if let Err(e) = self.kb_sync(tenant).await {
            tracing::warn!(%tenant, error = %e, "knowledge-base index not caught up with the store; searching it as it is");
        }
    }

    /// Reads the feed after `kb`'s position and applies it, a page at a time.
    async fn apply_feed(&self, kb: &dyn KnowledgeBase, tenant: TenantId) -> Result<u64> {
        let mut position = kb.position(tenant).await?;
        loop {
            let changes = self
                .inner
                .store
                .kb_changes(tenant, position, FEED_PAGE)
                .await?;
            let Some(last) = changes.last().map(|c| c.seq) else {
                return Ok(position);
            };
            if last <= position {
                // The store broke its contract; reading on would loop forever.
                return Err(Error::Internal(
                    "the store's knowledge-base feed returned changes at or before the position asked for",
                ));
            }
            kb.apply_changes(tenant, &changes).await?;
            position = last;
            if changes.len() < FEED_PAGE {
                return Ok(position);
            }
        }
    }
}
