//! The knowledge base's stored chunks and change feed: `kb_articles` (one document per
//! article: its latest change number, or a tombstone once deleted), `kb_chunks` (one
//! document per chunk, so no article meets the 16 MB document limit) and `kb_sequences`
//! (each tenant's last number).
//!
//! Every change runs in a multi-document transaction that `$inc`s the tenant's
//! `kb_sequences` document. Two transactions incrementing it write-conflict: the loser
//! is aborted and runs again from the start (`crate::transaction`), by then
//! seeing the winner's commit. So numbers are taken in commit order, and a reader that has
//! seen `n` never later finds a change numbered `n` or less.
//!
//! A put also increments the article's own `kb_puts` counter, guarded by the version its
//! chunks were made from: the guard is the version check, and the write makes a concurrent
//! edit or deletion of the article conflict with the put, so chunks of a version replaced
//! while the put ran never commit.

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use futures_util::TryStreamExt;
use helpdesk_core::store::{ArticleChunks, IndexedChunk, KbChange, KbIndexStore};
use helpdesk_core::{ArticleId, Result, TenantId};
use mongodb::ClientSession;
use mongodb::options::{ReadConcern, ReturnDocument};

use crate::codec::{Reader, embedding, int};
use crate::error::{driver, unexpected};
use crate::schema::{ARTICLES, KB_ARTICLES, KB_CHUNKS, KB_SEQUENCES};
use crate::store::MongoStore;
use crate::transaction::in_transaction;

/// The document of a chunk (`ordinal` = its place in the article).
fn chunk_doc(
    tenant: &str,
    article: &str,
    ordinal: usize,
    chunk: &IndexedChunk,
) -> Result<Document> {
    Ok(doc! {
        "_id": format!("{article}:{ordinal}"),
        "tenant_id": tenant,
        "article_id": article,
        "ordinal": int(ordinal as u64, "chunks")?,
        "chunk_id": &chunk.chunk_id,
        "text": &chunk.text,
        "embedding": embedding(&chunk.embedding),
    })
}

impl MongoStore {
    /// Takes the tenant's next knowledge-base number in `session`'s transaction.
    async fn next_kb_seq(&self, tenant: &str, session: &mut ClientSession) -> Result<i64> {
        let counter = self
            .coll(KB_SEQUENCES)
            .find_one_and_update(
                doc! { "_id": tenant },
                doc! { "$inc": { "last_seq": 1_i64 } },
            )
            .upsert(true)
            .return_document(ReturnDocument::After)
            .session(&mut *session)
            .await
            .map_err(driver)?
            .ok_or_else(|| unexpected("an upserted knowledge-base counter came back empty"))?;
        Reader::new(&counter, KB_SEQUENCES).i64("last_seq")
    }

    async fn delete_kb_chunks(
        &self,
        tenant: &str,
        article: &str,
        session: &mut ClientSession,
    ) -> Result<()> {
        self.coll(KB_CHUNKS)
            .delete_many(doc! { "tenant_id": tenant, "article_id": article })
            .session(&mut *session)
            .await
            .map_err(driver)?;
        Ok(())
    }

    /// Records the deletion of the tenant's article in `session`'s transaction (the one
    /// deleting the article): the next number, the chunks deleted, the article's
    /// `kb_articles` document made a tombstone (inserted if it never had chunks).
    pub(crate) async fn record_kb_removal(
        &self,
        tenant: TenantId,
        article: ArticleId,
        session: &mut ClientSession,
    ) -> Result<()> {
        let (tenant, article) = (tenant.to_string(), article.to_string());
        let seq = self.next_kb_seq(&tenant, session).await?;
        self.delete_kb_chunks(&tenant, &article, session).await?;
        self.coll(KB_ARTICLES)
            .update_one(
                doc! { "_id": &article, "tenant_id": &tenant },
                doc! {
                    "$set": { "seq": seq, "removed": true },
                    "$setOnInsert": { "article_version": 0_i64, "title": "", "model": "" },
                },
            )
            .upsert(true)
            .session(&mut *session)
            .await
            .map_err(driver)?;
        Ok(())
    }

    /// One attempt of a put in `session`'s transaction; `None` when the article is not
    /// stored at the chunks' version (nothing written).
    async fn put_in(
        &self,
        tenant: &str,
        chunks: &ArticleChunks,
        docs: &[Document],
        session: &mut ClientSession,
    ) -> Result<Option<u64>> {
        let article = chunks.article_id.to_string();
        let version = int(chunks.article_version, "article_version")?;
        let touched = self
            .coll(ARTICLES)
            .update_one(
                doc! { "_id": &article, "tenant_id": tenant, "version": version },
                doc! { "$inc": { "kb_puts": 1_i64 } },
            )
            .session(&mut *session)
            .await
            .map_err(driver)?;
        if touched.matched_count == 0 {
            return Ok(None);
        }
        let seq = self.next_kb_seq(tenant, session).await?;
        self.coll(KB_ARTICLES)
            .update_one(
                doc! { "_id": &article, "tenant_id": tenant },
                doc! { "$set": {
                    "seq": seq,
                    "article_version": version,
                    "title": &chunks.title,
                    "model": &chunks.model,
                    "removed": false,
                } },
            )
            .upsert(true)
            .session(&mut *session)
            .await
            .map_err(driver)?;
        self.delete_kb_chunks(tenant, &article, session).await?;
        if !docs.is_empty() {
            self.coll(KB_CHUNKS)
                .insert_many(docs.to_vec())
                .session(&mut *session)
                .await
                .map_err(driver)?;
        }
        u64::try_from(seq)
            .map(Some)
            .map_err(|_| unexpected("a negative knowledge-base change number"))
    }

    /// A page of the feed and its live articles' chunks, read in `session`'s snapshot.
    async fn changes_in(
        &self,
        tenant: &str,
        since: i64,
        limit: i64,
        session: &mut ClientSession,
    ) -> Result<(Vec<Document>, Vec<Document>)> {
        let rows: Vec<Document> = self
            .coll(KB_ARTICLES)
            .find(doc! { "tenant_id": tenant, "seq": { "$gt": since } })
            .sort(doc! { "seq": 1 })
            .limit(limit)
            .session(&mut *session)
            .await
            .map_err(driver)?
            .stream(&mut *session)
            .try_collect()
            .await
            .map_err(driver)?;
        let live: Vec<Bson> = rows
            .iter()
            .filter(|d| !matches!(d.get("removed"), Some(Bson::Boolean(true))))
            .filter_map(|d| d.get("_id").cloned())
            .collect();
        if live.is_empty() {
            return Ok((rows, Vec::new()));
        }
        let chunks: Vec<Document> = self
            .coll(KB_CHUNKS)
            .find(doc! { "tenant_id": tenant, "article_id": { "$in": live } })
            .sort(doc! { "article_id": 1, "ordinal": 1 })
            .session(&mut *session)
            .await
            .map_err(driver)?
            .stream(&mut *session)
            .try_collect()
            .await
            .map_err(driver)?;
        Ok((rows, chunks))
    }
}

/// The feed's documents as changes: each row in number order, with its chunks (sorted by
/// article, then ordinal) when live.
fn changes_from(rows: &[Document], chunks: &[Document]) -> Result<Vec<KbChange>> {
    let mut by_article: std::collections::HashMap<&str, Vec<IndexedChunk>> =
        std::collections::HashMap::new();
    for d in chunks {
        let r = Reader::new(d, KB_CHUNKS);
        by_article
            .entry(r.str("article_id")?)
            .or_default()
            .push(IndexedChunk {
                chunk_id: r.str("chunk_id")?.to_owned(),
                text: r.str("text")?.to_owned(),
                embedding: r.embedding("embedding")?,
            });
    }
    rows.iter()
        .map(|d| {
            let r = Reader::new(d, KB_ARTICLES);
            let article_id: ArticleId = r.parse("_id")?;
            let chunks = if r.bool("removed")? {
                None
            } else {
                Some(ArticleChunks {
                    article_id,
                    article_version: r.u64("article_version")?,
                    title: r.str("title")?.to_owned(),
                    model: r.str("model")?.to_owned(),
                    chunks: by_article.remove(r.str("_id")?).unwrap_or_default(),
                })
            };
            Ok(KbChange {
                seq: r.u64("seq")?,
                article_id,
                chunks,
            })
        })
        .collect()
}

#[async_trait]
impl KbIndexStore for MongoStore {
    /// One transaction (run again when it loses to a concurrent one): the article's guarded
    /// `$inc`, the counter's `$inc`, the `kb_articles` upsert, the old chunks' deletion and
    /// one `insert_many` of the chunks (split by the driver at its batch limits), then the
    /// commit.
    async fn put_article_chunks(
        &self,
        tenant: TenantId,
        chunks: &ArticleChunks,
    ) -> Result<Option<u64>> {
        chunks.check()?;
        let tenant = tenant.to_string();
        let article = chunks.article_id.to_string();
        let docs = chunks
            .chunks
            .iter()
            .enumerate()
            .map(|(i, c)| chunk_doc(&tenant, &article, i, c))
            .collect::<Result<Vec<_>>>()?;
        in_transaction!(self, |session| self
            .put_in(&tenant, chunks, &docs, session)
            .await)
    }

    /// Two finds in one snapshot (a read-only transaction at read concern `snapshot`, so
    /// the chunks are those of the rows' own commit): the page of `kb_articles` from the
    /// `tenant_seq_unique` index, then its live articles' chunks.
    async fn kb_changes(
        &self,
        tenant: TenantId,
        since: u64,
        limit: usize,
    ) -> Result<Vec<KbChange>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let tenant = tenant.to_string();
        let since = i64::try_from(since).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut session = self.client().start_session().await.map_err(driver)?;
        session
            .start_transaction()
            .read_concern(ReadConcern::snapshot())
            .await
            .map_err(driver)?;
        let read = self.changes_in(&tenant, since, limit, &mut session).await;
        // Nothing was written: ending the transaction only releases its snapshot.
        if let Err(e) = session.commit_transaction().await {
            tracing::debug!(
                error = &e as &dyn std::error::Error,
                "ending a read-only transaction failed; the server drops it"
            );
        }
        let (rows, chunks) = read?;
        changes_from(&rows, &chunks)
    }

    /// One aggregation: the tenant's articles by `tenant_updated`, each looked up in
    /// `kb_articles` by id, kept when no live document of its version and `model` is there.
    async fn articles_to_index(
        &self,
        tenant: TenantId,
        model: &str,
        limit: usize,
    ) -> Result<Vec<ArticleId>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let tenant = tenant.to_string();
        let current = doc! { "$and": [
            { "$eq": ["$$k.tenant_id", &tenant] },
            { "$eq": ["$$k.removed", false] },
            { "$eq": ["$$k.article_version", "$version"] },
            { "$eq": ["$$k.model", model] },
        ] };
        let pipeline = vec![
            doc! { "$match": { "tenant_id": &tenant } },
            doc! { "$sort": { "updated_at": 1, "_id": 1 } },
            doc! { "$project": { "_id": 1, "version": 1 } },
            doc! { "$lookup": {
                "from": self.collection_name(KB_ARTICLES),
                "localField": "_id",
                "foreignField": "_id",
                "as": "kb",
            } },
            doc! { "$match": { "$expr": { "$not": [{ "$anyElementTrue": [{ "$map": {
                "input": "$kb", "as": "k", "in": current,
            } }] }] } } },
            doc! { "$limit": i64::try_from(limit).unwrap_or(i64::MAX) },
            doc! { "$project": { "_id": 1 } },
        ];
        self.aggregate(ARTICLES, pipeline)
            .await?
            .iter()
            .map(|d| Reader::new(d, ARTICLES).parse("_id"))
            .collect()
    }
}
