//! The step of the upgrade to schema version 3 (full-text search and custom fields) that
//! fills in what a database of an earlier version lacks: every ticket's custom field
//! values (none), their tokens and the words of its subject and details, every reply,
//! chat turn and note's words, and every user's requester text. They are computed here
//! exactly as the store computes them when it writes (`mapping`, `search::words`), so an
//! upgraded database answers searches over its whole history.
//!
//! It runs when a store opens a database whose recorded version is older, before the new
//! version is recorded, so a step interrupted halfway is finished by the next start. Each
//! collection is read in `_id` order, a batch at a time, and only documents still lacking
//! the new fields; each document is updated on its own, guarded by that lack (and a
//! ticket by its version), so a document the store rewrote meanwhile keeps what the store
//! wrote, and two instances upgrading at once write the same values.

use std::future::IntoFuture;

use bson::{Bson, Document, doc};
use futures_util::TryStreamExt;
use futures_util::future::try_join_all;
use helpdesk_core::Result;
use helpdesk_core::domain::{MessageKind, field_tokens};

use crate::codec::{Reader, int, serde_name};
use crate::error::driver;
use crate::fields::{CUSTOM_FIELDS, FIELD_TOKENS, fields_doc};
use crate::mapping::ticket_from;
use crate::schema::{MESSAGES, TICKETS, USERS};
use crate::search::words::{
    BODY_WORDS, DETAILS_WORDS, INDEXED_KINDS, REQUESTER_TEXT, SUBJECT_WORDS, body_words,
    details_words, requester_folded, subject_words,
};
use crate::store::MongoStore;

/// Documents read per batch.
const BATCH: i64 = 200;

/// How many documents each collection had to be indexed.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Reindexed {
    pub(crate) tickets: usize,
    pub(crate) messages: usize,
    pub(crate) users: usize,
}

impl MongoStore {
    /// Fills in the fields of version 3 (see the module docs). Pending commits are applied
    /// first: their messages were written without words and are indexed with the rest.
    pub(crate) async fn reindex(&self) -> Result<Reindexed> {
        self.settle(doc! {}).await?;
        let tickets = self
            .each_lacking(TICKETS, SUBJECT_WORDS, doc! {}, doc! {}, |d| {
                let t = ticket_from(d)?;
                let guard = doc! { "version": int(t.version, "version")? };
                let set = doc! {
                    CUSTOM_FIELDS: fields_doc(&t.custom_fields),
                    FIELD_TOKENS: field_tokens(&t.custom_fields),
                    SUBJECT_WORDS: subject_words(&t),
                    DETAILS_WORDS: details_words(&t),
                };
                Ok(Some((guard, set)))
            })
            .await?;
        let kinds = INDEXED_KINDS
            .iter()
            .map(|k| serde_name(k, "message kind"))
            .collect::<Result<Vec<_>>>()?;
        let messages = self
            .each_lacking(
                MESSAGES,
                BODY_WORDS,
                doc! { "kind": { "$in": kinds } },
                doc! { "kind": 1, "body": 1 },
                |d| {
                    let r = Reader::new(d, MESSAGES);
                    let kind: MessageKind = r.serde("kind")?;
                    Ok(body_words(kind, r.str("body")?).map(|w| (doc! {}, doc! { BODY_WORDS: w })))
                },
            )
            .await?;
        let users = self
            .each_lacking(
                USERS,
                REQUESTER_TEXT,
                doc! {},
                doc! { "name": 1, "email": 1 },
                |d| {
                    let r = Reader::new(d, USERS);
                    let text = requester_folded(r.str("name")?, r.str("email")?);
                    Ok(Some((doc! {}, doc! { REQUESTER_TEXT: text })))
                },
            )
            .await?;
        Ok(Reindexed {
            tickets,
            messages,
            users,
        })
    }

    /// Sets the fields `fill` gives on every document of `collection` matching `filter`
    /// that lacks `field` (read with `projection`, all fields when empty); `fill` also gives
    /// the extra guard of the update (`None`: nothing to set). Returns how many documents
    /// were read.
    async fn each_lacking(
        &self,
        collection: &'static str,
        field: &'static str,
        filter: Document,
        projection: Document,
        fill: impl Fn(&Document) -> Result<Option<(Document, Document)>>,
    ) -> Result<usize> {
        let coll = self.coll(collection);
        let mut after: Option<Bson> = None;
        let mut seen = 0;
        loop {
            let mut batch_filter = filter.clone();
            batch_filter.insert(field, doc! { "$exists": false });
            if let Some(last) = &after {
                batch_filter.insert("_id", doc! { "$gt": last.clone() });
            }
            let mut find = coll.find(batch_filter).sort(doc! { "_id": 1 }).limit(BATCH);
            if !projection.is_empty() {
                find = find.projection(projection.clone());
            }
            let docs: Vec<Document> = find
                .await
                .map_err(driver)?
                .try_collect()
                .await
                .map_err(driver)?;
            let Some(last) = docs.last() else {
                return Ok(seen);
            };
            after = last.get("_id").cloned();
            seen += docs.len();
            let mut updates = Vec::with_capacity(docs.len());
            for d in &docs {
                let Some((mut guard, set)) = fill(d)? else {
                    continue;
                };
                guard.insert("_id", d.get("_id").cloned().unwrap_or(Bson::Null));
                guard.insert(field, doc! { "$exists": false });
                updates.push(coll.update_one(guard, doc! { "$set": set }).into_future());
            }
            try_join_all(updates).await.map_err(driver)?;
        }
    }
}
