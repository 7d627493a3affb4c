//! Knowledge-base reindexing as a background job with progress, one job per tenant.
//!
//! The job is [`Helpdesk::reindex_articles`]: it re-embeds every stored article of the
//! tenant and stores the chunks, one article at a time, so search keeps working during the
//! job and the page can show exact progress; every instance's index then follows the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use helpdesk_core::domain::Actor;
use helpdesk_core::{Helpdesk, TenantId};

/// Where a tenant's reindex job is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReindexProgress {
    /// Articles to index.
    pub(crate) total: usize,
    /// Articles indexed so far.
    pub(crate) done: usize,
    /// Set when the job ended: how long it took.
    pub(crate) finished_ms: Option<u64>,
    /// Set when the job stopped on an error (the message is generic; details are logged).
    pub(crate) failed: bool,
}

impl ReindexProgress {
    /// Whether the job still runs.
    pub(crate) fn running(&self) -> bool {
        self.finished_ms.is_none() && !self.failed
    }
}

/// The reindex jobs of all tenants.
#[derive(Debug, Default)]
pub(crate) struct ReindexJobs {
    jobs: Mutex<HashMap<TenantId, ReindexProgress>>,
}

impl ReindexJobs {
    fn update(&self, tenant: TenantId, f: impl FnOnce(&mut ReindexProgress)) {
        let mut jobs = self
            .jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(p) = jobs.get_mut(&tenant) {
            f(p);
        }
    }

    /// The progress of `tenant`'s latest job.
    pub(crate) fn progress(&self, tenant: TenantId) -> Option<ReindexProgress> {
        let jobs = self
            .jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        jobs.get(&tenant).cloned()
    }

    /// Starts a job for the admin `actor`'s tenant (of about `total` articles) unless one
    /// runs; returns whether it started.
    pub(crate) fn start(self: &Arc<Self>, helpdesk: Helpdesk, actor: Actor, total: usize) -> bool {
        let tenant = actor.tenant_id;
        {
            let mut jobs = self
                .jobs
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if jobs.get(&tenant).is_some_and(ReindexProgress::running) {
                return false;
            }
            jobs.insert(
                tenant,
                ReindexProgress {
                    total,
                    done: 0,
                    finished_ms: None,
                    failed: false,
                },
            );
        }
        let jobs = Arc::clone(self);
        tokio::spawn(async move {
            let started = Instant::now();
            let progress = |done: usize, total: usize| {
                jobs.update(tenant, |p| {
                    p.done = done;
                    p.total = total;
                });
            };
            if let Err(e) = helpdesk.reindex_articles(&actor, progress).await {
                tracing::error!(error = ?e, %tenant, "reindex failed");
                jobs.update(tenant, |p| p.failed = true);
                return;
            }
            let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            jobs.update(tenant, |p| p.finished_ms = Some(ms));
        });
        true
    }
}
