//! Knowledge-base indexing in the background: an article change returns once the store has
//! committed it, and the index catches up shortly after (issue 16 item 15: saving a 199 KB
//! article held the request for 73 s while its ~460 chunks were embedded).
//!
//! Jobs run one at a time (the embedder is one model anyway) and each re-reads the article
//! from the store, so whichever job runs last indexes the latest stored content, whatever
//! order the jobs were queued in; a deleted article is removed.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, Notify};

use super::Helpdesk;
use crate::{ArticleId, TenantId};

/// How far the knowledge-base index is behind the stored articles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IndexStatus {
    /// Article changes stored but not yet reflected in the index (queued or running).
    pub pending: usize,
}

/// The background indexing queue of one helpdesk.
#[derive(Debug, Default)]
pub(super) struct IndexQueue {
    pending: AtomicUsize,
    /// Held by the running job: jobs run one at a time.
    gate: Mutex<()>,
    idle: Notify,
}

/// Counts a job as done even if its task is cancelled or panics.
struct Done<'a>(&'a IndexQueue);

impl Drop for Done<'_> {
    fn drop(&mut self) {
        if self.0.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Helpdesk {
    /// How far the knowledge-base index is behind the store (for a progress display).
    pub fn index_status(&self) -> IndexStatus {
        IndexStatus {
            pending: self.inner.index_queue.pending.load(Ordering::Acquire),
        }
    }

    /// Waits until every article change made so far is in the knowledge-base index (or has
    /// failed and been logged). Batch tools call it before they exit; tests before they
    /// search.
    pub async fn index_settled(&self) {
        let queue = &self.inner.index_queue;
        loop {
            let mut idle = std::pin::pin!(queue.idle.notified());
            idle.as_mut().enable();
            if queue.pending.load(Ordering::Acquire) == 0 {
                return;
            }
            idle.await;
        }
    }

    /// Brings the index in line with the stored article `id` in the background (inline when
    /// there is no tokio runtime to spawn on). The store is the source of truth: a failure
    /// is logged, and a reindex from the store repairs the index.
    pub(super) async fn schedule_index(&self, tenant: TenantId, id: ArticleId) {
        if self.inner.knowledge_base.is_none() {
            return;
        }
        self.inner
            .index_queue
            .pending
            .fetch_add(1, Ordering::AcqRel);
        let this = self.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move { this.run_index_job(tenant, id).await });
            }
            Err(_) => this.run_index_job(tenant, id).await,
        }
    }

    async fn run_index_job(&self, tenant: TenantId, id: ArticleId) {
        let queue = &self.inner.index_queue;
        let _done = Done(queue);
        let _turn = queue.gate.lock().await;
        let Some(kb) = &self.inner.knowledge_base else {
            return;
        };
        let outcome = match self.inner.store.get_article(tenant, id).await {
            Ok(Some(article)) => kb.upsert_article(&article).await,
            Ok(None) => kb.remove_article(tenant, id).await,
            Err(e) => Err(e),
        };
        if let Err(e) = outcome {
            tracing::warn!(article = %id, error = %e, "knowledge-base index not updated for a stored article change; a reindex repairs it");
        }
    }
}
