//! The memory store's knowledge-base chunks and change feed.

use std::collections::HashMap;

use async_trait::async_trait;

use super::{Data, MemoryStore};
use crate::store::{ArticleChunks, KbChange, KbIndexStore};
use crate::{ArticleId, Result, TenantId};

/// Each article's latest change (its number, and its chunks or `None` once deleted), and
/// each tenant's last change number.
#[derive(Debug, Default)]
pub(super) struct KbData {
    last_seq: HashMap<TenantId, u64>,
    latest: HashMap<(TenantId, ArticleId), (u64, Option<ArticleChunks>)>,
}

impl KbData {
    fn record(
        &mut self,
        tenant: TenantId,
        article: ArticleId,
        chunks: Option<ArticleChunks>,
    ) -> u64 {
        let seq = self.last_seq.entry(tenant).or_insert(0);
        *seq += 1;
        let seq = *seq;
        self.latest.insert((tenant, article), (seq, chunks));
        seq
    }
}

/// Records an article's deletion in the feed (called in the deleting write).
pub(super) fn record_removal(d: &mut Data, tenant: TenantId, article: ArticleId) {
    d.kb.record(tenant, article, None);
}

#[async_trait]
impl KbIndexStore for MemoryStore {
    async fn put_article_chunks(
        &self,
        tenant: TenantId,
        chunks: &ArticleChunks,
    ) -> Result<Option<u64>> {
        chunks.check()?;
        let mut d = self.lock()?;
        let current = d.articles.iter().any(|a| {
            a.tenant_id == tenant
                && a.id == chunks.article_id
                && a.version == chunks.article_version
        });
        if !current {
            return Ok(None);
        }
        Ok(Some(d.kb.record(
            tenant,
            chunks.article_id,
            Some(chunks.clone()),
        )))
    }

    async fn kb_changes(
        &self,
        tenant: TenantId,
        since: u64,
        limit: usize,
    ) -> Result<Vec<KbChange>> {
        let d = self.lock()?;
        let mut changes: Vec<KbChange> =
            d.kb.latest
                .iter()
                .filter(|((t, _), (seq, _))| *t == tenant && *seq > since)
                .map(|((_, article_id), (seq, chunks))| KbChange {
                    seq: *seq,
                    article_id: *article_id,
                    chunks: chunks.clone(),
                })
                .collect();
        changes.sort_by_key(|c| c.seq);
        changes.truncate(limit);
        Ok(changes)
    }

    async fn articles_to_index(
        &self,
        tenant: TenantId,
        model: &str,
        limit: usize,
    ) -> Result<Vec<ArticleId>> {
        let d = self.lock()?;
        let mut stale: Vec<_> = d
            .articles
            .iter()
            .filter(|a| a.tenant_id == tenant)
            .filter(|a| match d.kb.latest.get(&(tenant, a.id)) {
                Some((_, Some(chunks))) => {
                    chunks.article_version != a.version || chunks.model != model
                }
                _ => true,
            })
            .map(|a| (a.updated_at, a.id))
            .collect();
        stale.sort();
        Ok(stale.into_iter().take(limit).map(|(_, id)| id).collect())
    }
}
