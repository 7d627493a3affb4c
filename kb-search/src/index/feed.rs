//! Following the store: loading a page of the tenant's knowledge-base change feed into its
//! index from the stored vectors, without embedding.

use helpdesk_core::store::KbChange;
use helpdesk_core::{ArticleId, Result, TenantId};

use super::tenant::ChunkRecord;
use super::{KbIndex, join_error, persist};
use crate::error::KbError;

/// What one feed change does to the index.
enum Op {
    Remove,
    Replace(Vec<(ChunkRecord, Vec<f32>)>),
}

impl KbIndex {
    /// [`KnowledgeBase::apply_changes`](helpdesk_core::KnowledgeBase::apply_changes): each
    /// change at or below the index's position is skipped (already reflected); the others
    /// replace or remove their article's chunks, one article at a time under the index's
    /// write lock so that searches run between them; then the position becomes the page's
    /// last change number and the index is saved (under a read lock, as every write).
    pub(super) async fn apply_feed_page(
        &self,
        tenant: TenantId,
        changes: &[KbChange],
    ) -> Result<()> {
        let Some(last) = changes.iter().map(|c| c.seq).max() else {
            return Ok(());
        };
        let model = self.embedder.model_id();
        let dims = self.embedder.dimensions();
        let mut ops: Vec<(u64, ArticleId, Op)> = Vec::with_capacity(changes.len());
        for change in changes {
            let op = match &change.chunks {
                None => Op::Remove,
                Some(stored)
                    if stored.model != model || stored.dimensions().is_some_and(|d| d != dims) =>
                {
                    // Another instance embeds with another model (a rolling upgrade, or a
                    // model change): the index sweep of an instance with this model
                    // re-embeds the article; until then this index keeps what it has.
                    tracing::warn!(
                        %tenant, article = %change.article_id, found = %stored.model,
                        found_dims = stored.dimensions().unwrap_or(0), want = %model, want_dims = dims,
                        "stored chunks of another embedding model skipped"
                    );
                    continue;
                }
                Some(stored) => Op::Replace(
                    stored
                        .chunks
                        .iter()
                        .map(|c| {
                            (
                                ChunkRecord {
                                    chunk_id: c.chunk_id.clone(),
                                    article_id: change.article_id,
                                    title: stored.title.clone(),
                                    heading: None,
                                    text: c.text.clone(),
                                },
                                c.embedding.clone(),
                            )
                        })
                        .collect(),
                ),
            };
            ops.push((change.seq, change.article_id, op));
        }
        let shared = self.tenant(tenant).await?;
        let dir = self.tenant_dir(tenant);
        tokio::task::spawn_blocking(move || -> Result<(), KbError> {
            let _writer = shared
                .writer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let from = shared.read().position;
            if last <= from {
                return Ok(());
            }
            let mut changed = false;
            for (seq, article, op) in ops {
                if seq <= from {
                    continue;
                }
                let mut index = shared.write();
                changed |= match op {
                    Op::Remove => index.remove_article(article) > 0,
                    Op::Replace(records) => index.replace_article(article, records)?,
                };
            }
            {
                let mut index = shared.write();
                if changed {
                    index.maybe_compact();
                }
                index.position = last;
            }
            persist::save(&dir, &shared.read())
        })
        .await
        .map_err(join_error)??;
        Ok(())
    }
}
