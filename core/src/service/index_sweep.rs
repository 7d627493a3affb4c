//! Embedding what the index jobs did not: the leased index sweep, and an admin's reindex.
//!
//! An article's chunks are embedded by the instance that saved it, in a background job
//! ([`indexing`](super::indexing)). The sweep covers the rest: the job of an instance that
//! stopped before it finished, articles stored before the store kept chunks (an upgrade
//! embeds everything once, on one instance), and every article after the embedding model
//! changed. It asks the store what is missing
//! ([`KbIndexStore::articles_to_index`](crate::store::KbIndexStore::articles_to_index)), so
//! a sweep with nothing to do reads one list per tenant and embeds nothing.

use serde::{Deserialize, Serialize};

use super::Helpdesk;
use crate::domain::Actor;
use crate::roles::Action;
use crate::{Error, Result};

/// What an index sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IndexSweepReport {
    /// Articles embedded and stored.
    pub embedded: u64,
    /// Articles that changed or went away while they were embedded (their newer version's
    /// job or the next sweep covers them).
    pub stale: u64,
    /// Articles whose embedding or storing failed (logged; the next sweep retries them).
    pub failed: u64,
    /// True when the sweep stopped taking articles at half the lease time; more remain.
    pub out_of_time: bool,
    /// False when another process held the lease, or there is no knowledge base.
    pub ran: bool,
}

/// What a reindex did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReindexReport {
    /// The tenant's articles.
    pub articles: usize,
    /// Articles embedded and stored (the others changed or went away meanwhile: their own
    /// jobs store them).
    pub embedded: usize,
}

impl Helpdesk {
    /// Embeds and stores the chunks of articles that have none for their current version
    /// and this instance's embedding model, up to
    /// [`HelpdeskConfig::index_batch`](super::HelpdeskConfig::index_batch) per tenant,
    /// least recently updated first, under a lease so that of several instances one
    /// embeds; then catches this instance's index up for the tenants it stored chunks for.
    /// It stops taking articles once half the lease time has passed. Hosts run it
    /// periodically with the other sweeps, and once at startup; it is idempotent.
    pub async fn index_sweep(&self) -> Result<IndexSweepReport> {
        let Some(kb) = self.inner.knowledge_base.clone() else {
            return Ok(IndexSweepReport::default());
        };
        let store = &self.inner.store;
        let now = self.now();
        let deadline = now
            .checked_add(self.inner.config.lease_ttl / 2)
            .unwrap_or(now);
        let batch = usize::try_from(self.inner.config.index_batch).unwrap_or(usize::MAX);
        let report = self.with_lease("kb-index-sweep", now, async {
            let mut report = IndexSweepReport {
                ran: true,
                ..IndexSweepReport::default()
            };
            'tenants: for tenant in store.list_tenants().await? {
                let due = store
                    .articles_to_index(tenant.id, kb.model_id(), batch)
                    .await?;
                let mut stored = false;
                for id in due {
                    if self.now() >= deadline {
                        report.out_of_time = true;
                        break 'tenants;
                    }
                    let Some(article) = store.get_article(tenant.id, id).await? else {
                        report.stale += 1;
                        continue;
                    };
                    match self.embed_and_store(kb.as_ref(), &article).await {
                        Ok(Some(_)) => {
                            report.embedded += 1;
                            stored = true;
                        }
                        Ok(None) => report.stale += 1,
                        Err(e) => {
                            tracing::warn!(tenant = %tenant.id, article = %id, error = %e, "index sweep could not embed an article; the next sweep retries");
                            report.failed += 1;
                        }
                    }
                }
                if stored && let Err(e) = self.kb_sync(tenant.id).await {
                    tracing::warn!(tenant = %tenant.id, error = %e, "knowledge-base index not caught up after the index sweep");
                }
            }
            Ok(report)
        });
        Ok(report.await?.unwrap_or_default())
    }

    /// Runs the index sweep on behalf of an admin (checks the role matrix).
    pub async fn run_index_sweep(&self, actor: &Actor) -> Result<IndexSweepReport> {
        self.check(actor, Action::RunSweeps).await?;
        self.index_sweep().await
    }

    /// Re-embeds every article of the actor's tenant (admins) and stores the chunks, one
    /// article at a time, calling `progress(done, total)` after each; then catches this
    /// instance's index up (other instances follow through the store's feed). Searches go
    /// on meanwhile. Stops at the first failure. Without a knowledge base it is a
    /// `Configuration` error on `knowledge_base`.
    pub async fn reindex_articles(
        &self,
        actor: &Actor,
        progress: impl Fn(usize, usize) + Send + Sync,
    ) -> Result<ReindexReport> {
        self.check(actor, Action::ManageArticles).await?;
        let Some(kb) = self.inner.knowledge_base.clone() else {
            return Err(Error::Configuration {
                field: "knowledge_base".into(),
                message: "no knowledge base is configured".into(),
            });
        };
        let tenant = actor.tenant_id;
        let articles = self.inner.store.list_articles(tenant).await?;
        let mut report = ReindexReport {
            articles: articles.len(),
            embedded: 0,
        };
        for (done, article) in articles.iter().enumerate() {
            if self.embed_and_store(kb.as_ref(), article).await?.is_some() {
                report.embedded += 1;
            }
            progress(done + 1, articles.len());
        }
        self.kb_sync(tenant).await?;
        Ok(report)
    }
}
