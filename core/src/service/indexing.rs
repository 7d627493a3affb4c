//! Knowledge-base indexing in the background: an article change returns once the store has
//! committed it, and the index catches up shortly after (issue 16 item 15: saving a 199 KB
//! article held the request for 73 s while its ~460 chunks were embedded).
//!
//! A job embeds the article as stored now and stores the chunks with their vectors in the
//! store ([`KbIndexStore::put_article_chunks`]), which refuses chunks of a version that is
//! no longer the stored one: whatever order jobs (of this or any instance) finish in, the
//! stored chunks describe the current article. The job then catches this instance's index
//! up with the store's feed ([`Helpdesk::kb_sync`]); other instances catch up before their
//! next search. A deletion embeds nothing: the store recorded the removal in the feed.
//!
//! Jobs run one at a time (the embedder is one model anyway). The index sweep
//! ([`Helpdesk::index_sweep`]) embeds what no job did: articles whose saving instance
//! stopped first, articles stored before the store kept chunks, and every article after a
//! change of embedding model.
//!
//! [`KbIndexStore::put_article_chunks`]: crate::store::KbIndexStore::put_article_chunks

use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, Notify};

use super::Helpdesk;
use crate::domain::Article;
use crate::kb::KnowledgeBase;
use crate::store::ArticleChunks;
use crate::{ArticleId, Error, Result, TenantId};

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

    /// Waits until every article change this instance made so far is embedded and stored
    /// (or has failed and been logged), then catches this instance's index up with the
    /// store for every tenant it has indexed or searched (a failed catch-up is
    /// logged). Batch tools call it before they exit; tests before they search.
    pub async fn index_settled(&self) {
        let queue = &self.inner.index_queue;
        loop {
            let mut idle = std::pin::pin!(queue.idle.notified());
            idle.as_mut().enable();
            if queue.pending.load(Ordering::Acquire) == 0 {
                break;
            }
            idle.await;
        }
        for tenant in self.inner.kb_sync.known_tenants() {
            if let Err(e) = self.kb_sync(tenant).await {
                tracing::warn!(%tenant, error = %e, "knowledge-base index not caught up with the store");
            }
        }
    }

    /// Brings the index in line with the stored article `id` in the background (inline when
    /// there is no tokio runtime to spawn on). The store is the source of truth: a failure
    /// is logged, and the index sweep embeds the article later.
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
        let outcome = async {
            // Gone: the deletion's feed entry removes it. `None` from the put: the article
            // changed meanwhile and the newer change's job stores its chunks.
            if let Some(article) = self.inner.store.get_article(tenant, id).await? {
                self.embed_and_store(kb.as_ref(), &article).await?;
            }
            self.kb_sync(tenant).await
        };
        if let Err(e) = outcome.await {
            tracing::warn!(article = %id, error = %e, "knowledge-base chunks not stored for an article change; the index sweep retries");
        }
    }

    /// Embeds `article` and stores its chunks; the change number, or `None` when the
    /// article is gone or at another version now. An article the index cannot take (a
    /// `Validation` error) is stored without chunks, so it is not searchable and sweeps do
    /// not retry it until it changes.
    pub(super) async fn embed_and_store(
        &self,
        kb: &dyn KnowledgeBase,
        article: &Article,
    ) -> Result<Option<u64>> {
        let store = &self.inner.store;
        let stored = match kb.embed_article(article).await {
            Ok(chunks) => store.put_article_chunks(article.tenant_id, &chunks).await,
            Err(e) => Err(e),
        };
        match stored {
            Err(Error::Validation { field, message }) => {
                tracing::warn!(article = %article.id, %field, %message, "article cannot be indexed; stored without chunks (not searchable) until it changes");
                let empty = ArticleChunks {
                    article_id: article.id,
                    article_version: article.version,
                    title: article.title.clone(),
                    model: kb.model_id().to_string(),
                    chunks: Vec::new(),
                };
                store.put_article_chunks(article.tenant_id, &empty).await
            }
            other => other,
        }
    }
}
