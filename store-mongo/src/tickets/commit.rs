//! The ticket commit protocol: a ticket change and everything that belongs to it land in
//! ONE document write, so no multi-document transaction is needed.
//!
//! 1. Commit: the ticket document is inserted (create) or updated with a version guard
//!    (`{_id, tenant_id, version: expected}`), and the same single-document write stores
//!    the change's events, messages, attachments' metadata and outbox entries in the
//!    ticket's `pending` field,
//!    tagged with a fresh commit id. Unique indexes (number, idempotency key) are checked
//!    by that same write. A write that fails here has written nothing.
//! 2. Apply: the pending documents are copied into `events`, `messages`, `attachments`,
//!    `outbox` and `model_usage`
//!    under their own ids (idempotent: inserts that already happened are skipped, and a
//!    message revision never overwrites a newer one), a chat session the change marks
//!    active is touched (once per commit), then `pending` is removed if it still holds
//!    this commit.
//! 3. Settle: whoever finds a ticket with a `pending` field (the next writer of the ticket,
//!    or a reader of its events, messages, outbox or analytics) applies it first. A writer
//!    that crashed between 1 and 2 therefore loses nothing, and the next commit of a
//!    ticket can only happen after the previous one was applied.
//!
//! A change of several tickets (`update_tickets`, a merge) does step 1 for every ticket
//! inside one multi-document transaction (`batch`), so the version guards of all of them
//! hold in the same commit; steps 2 and 3 are the same per ticket. So does a change that
//! needs its chat session's state, or a routed assignment's claim on its assignee
//! (`session_commit`): step 1 and that other document land together.

use bson::{Bson, Document, doc};
use futures_util::TryStreamExt;
use futures_util::future::{BoxFuture, try_join_all};
use helpdesk_core::store::TicketWrite;
use helpdesk_core::{DuplicateKind, Error, Result};
use uuid::Uuid;

use super::session_commit::needs_transaction;
use crate::attachments::attachment_doc;
use crate::codec::{Reader, at_most, date, int};
use crate::error::{driver, is_duplicate_key, only_duplicate_keys, unexpected};
use crate::mapping::{event_doc, message_doc, outbox_doc, ticket_body};
use crate::model_usage::usage_doc;
use crate::schema::{ATTACHMENTS, CHAT_SESSIONS, EVENTS, MESSAGES, MODEL_USAGE, OUTBOX, TICKETS};
use crate::store::MongoStore;

/// How often a writer settles someone else's pending commit before giving up with a
/// (temporary) conflict.
pub(super) const SETTLE_ROUNDS: usize = 8;

/// The same validation as the reference store: everything in a write belongs to the
/// ticket's tenant (and events to the ticket).
pub(super) fn check_write(write: &TicketWrite) -> Result<()> {
    let t = &write.ticket;
    let foreign = write
        .events
        .iter()
        .any(|e| e.tenant_id != t.tenant_id || e.ticket_id != t.id)
        || write.messages.iter().any(|m| m.tenant_id != t.tenant_id)
        || write.outbox.iter().any(|o| o.tenant_id != t.tenant_id);
    if foreign {
        return Err(Error::validation(
            "write",
            "events, messages and outbox entries must belong to the ticket's tenant",
        ));
    }
    write.check_attachments()?;
    write.check_routing()
}

/// The `pending` sub-document of a commit.
pub(super) fn pending_doc(write: &TicketWrite) -> Result<Document> {
    let version = write.ticket.version;
    let events = write
        .events
        .iter()
        .enumerate()
        .map(|(seq, e)| event_doc(e, seq).map(Bson::Document))
        .collect::<Result<Vec<_>>>()?;
    let messages = write
        .messages
        .iter()
        .map(|m| message_doc(m, version).map(Bson::Document))
        .collect::<Result<Vec<_>>>()?;
    let outbox = write
        .outbox
        .iter()
        .map(|o| outbox_doc(o).map(Bson::Document))
        .collect::<Result<Vec<_>>>()?;
    let attachments = write
        .attachments
        .iter()
        .map(|a| attachment_doc(a).map(Bson::Document))
        .collect::<Result<Vec<_>>>()?;
    let model_usage: Vec<Bson> = write
        .model_usage
        .iter()
        .map(|u| Bson::Document(usage_doc(write.ticket.tenant_id, u)))
        .collect();
    let mut pending = doc! {
        "commit": Uuid::now_v7().to_string(),
        "version": int(version, "version")?,
        "events": events,
        "messages": messages,
        "outbox": outbox,
        "attachments": attachments,
        "model_usage": model_usage,
    };
    if let Some(a) = &write.chat_activity {
        pending.insert(
            "chat_activity",
            doc! {
                "session": a.session.to_string(),
                "tenant_id": write.ticket.tenant_id.to_string(),
                "at": date(a.at),
                "links_ticket": a.links_ticket.then(|| write.ticket.id.to_string()),
            },
        );
    }
    Ok(pending)
}

/// The document a create inserts: the ticket, its idempotency key and its pending commit.
pub(super) fn create_doc(write: &TicketWrite, pending: &Document) -> Result<Document> {
    let t = &write.ticket;
    let mut d = doc! { "_id": t.id.to_string() };
    d.extend(ticket_body(t)?);
    if let Some(key) = &write.idempotency_key {
        d.insert("idempotency_key", key.as_str());
    }
    d.insert("pending", pending.clone());
    Ok(d)
}

fn documents(pending: &Document, field: &str) -> Vec<Document> {
    match pending.get(field) {
        Some(Bson::Array(items)) => items
            .iter()
            .filter_map(|b| b.as_document().cloned())
            .collect(),
        _ => Vec::new(),
    }
}

impl MongoStore {
    /// Inserts a new ticket with its whole write (see the module docs).
    pub(crate) async fn commit_create(&self, write: &TicketWrite) -> Result<()> {
        if needs_transaction(write) {
            return self.commit_with_session(None, write).await;
        }
        check_write(write)?;
        self.check_chat_activity(write).await?;
        self.check_new_attachments(write).await?;
        let t = &write.ticket;
        let pending = pending_doc(write)?;
        let d = create_doc(write, &pending)?;
        match self.coll(TICKETS).insert_one(d).await {
            Ok(_) => {
                self.apply_after_commit(&t.id.to_string(), &pending).await;
                Ok(())
            }
            Err(e) if is_duplicate_key(&e) => Err(self.create_duplicate(write, e).await),
            Err(e) => Err(driver(e)),
        }
    }

    /// Replaces the ticket when its stored version is `expected` (see the module docs).
    pub(crate) async fn commit_update(&self, expected: u64, write: &TicketWrite) -> Result<()> {
        if needs_transaction(write) {
            return self.commit_with_session(Some(expected), write).await;
        }
        check_write(write)?;
        self.check_chat_activity(write).await?;
        self.check_new_attachments(write).await?;
        self.guarded_update(expected, write, &pending_doc(write)?)
            .await
    }

    /// Step 1 of the protocol for an update with its pending commit already built (and
    /// checked): the guarded write, retried after settling a commit someone else left,
    /// then step 2.
    pub(super) async fn guarded_update(
        &self,
        expected: u64,
        write: &TicketWrite,
        pending: &Document,
    ) -> Result<()> {
        let step = UpdateStep::of_pending(expected, write, pending)?;
        for _ in 0..SETTLE_ROUNDS {
            let result = self
                .coll(TICKETS)
                .update_one(step.guard.clone(), step.update.clone())
                .await
                .map_err(|e| update_error(e, write))?;
            if result.matched_count == 1 {
                self.apply_after_commit(&step.id, &step.pending).await;
                return Ok(());
            }
            self.settle_unmatched(expected, write).await?;
        }
        Err(conflict(write, expected))
    }

    /// Why a version-guarded update matched nothing: `NotFound` or `Conflict` (returned),
    /// or the expected version with a commit not applied yet, which is applied on its
    /// writer's behalf (`Ok`: the caller tries again).
    pub(super) async fn settle_unmatched(&self, expected: u64, write: &TicketWrite) -> Result<()> {
        let t = &write.ticket;
        let id = t.id.to_string();
        let filter = doc! { "_id": &id, "tenant_id": t.tenant_id.to_string() };
        let Some(current) = self.find_one(TICKETS, filter).await? else {
            return Err(Error::not_found("ticket", t.id));
        };
        if Reader::new(&current, TICKETS).u64("version")? != expected {
            return Err(conflict(write, expected));
        }
        if let Some(Bson::Document(other)) = current.get("pending") {
            self.apply_pending(&id, other).await?;
        }
        Ok(())
    }

    /// Applies a just-committed write. The commit is durable already, so a failure here
    /// does not fail the call: the next writer or reader of the ticket applies it.
    pub(super) async fn apply_after_commit(&self, ticket_id: &str, pending: &Document) {
        if let Err(e) = self.apply_pending(ticket_id, pending).await {
            tracing::warn!(
                ticket_id,
                error = &e as &dyn std::error::Error,
                "ticket commit stored; applying its events, messages and outbox entries \
                 failed and is left to the next reader or writer"
            );
        }
    }

    /// The session a write marks active must be one of the ticket's tenant, and one it
    /// links must have no ticket yet (checked before the commit, so a wrong one writes
    /// nothing).
    pub(super) async fn check_chat_activity(&self, write: &TicketWrite) -> Result<()> {
        let Some(a) = &write.chat_activity else {
            return Ok(());
        };
        let filter = doc! {
            "_id": a.session.to_string(),
            "tenant_id": write.ticket.tenant_id.to_string(),
        };
        match self.find_one(CHAT_SESSIONS, filter).await? {
            None => Err(Error::not_found("chat_session", a.session)),
            Some(s) if a.links_ticket && !matches!(s.get("ticket_id"), None | Some(Bson::Null)) => {
                Err(a.already_linked())
            }
            Some(_) => Ok(()),
        }
    }

    /// Marks the chat session of a pending commit active, once per commit: the session
    /// records the commit that touched it last, so settling the same commit again does
    /// not bump its version twice. `last_activity_at` only moves forward (`$max`); a
    /// linking commit sets `ticket_id` when the session still has none (checked before the
    /// commit; a session linked meanwhile by a concurrent first turn keeps its ticket).
    async fn apply_chat_activity(&self, commit: &str, activity: &Document) -> Result<()> {
        let a = Reader::new(activity, TICKETS);
        let mut filter = doc! {
            "_id": a.str("session")?,
            "tenant_id": a.str("tenant_id")?,
            "touched_by": { "$ne": commit },
        };
        let mut set = doc! { "touched_by": commit };
        if let Some(Bson::String(ticket)) = activity.get("links_ticket") {
            filter.insert("ticket_id", Bson::Null);
            set.insert("ticket_id", ticket.as_str());
        }
        let update = doc! {
            "$max": { "last_activity_at": activity.get("at").cloned().unwrap_or(Bson::Null) },
            "$inc": { "version": 1_i64 },
            "$set": set,
        };
        self.coll(CHAT_SESSIONS)
            .update_one(filter, update)
            .await
            .map_err(driver)?;
        Ok(())
    }

    /// Copies a pending commit into its collections (idempotently) and clears it. The
    /// copies (events, outbox entries, each message, the chat activity) are independent
    /// and each is idempotent, so they are sent together: one round trip of latency for
    /// all of them instead of one each. `pending` is cleared only when all succeeded.
    pub(crate) async fn apply_pending(&self, ticket_id: &str, pending: &Document) -> Result<()> {
        let p = Reader::new(pending, TICKETS);
        let commit = p.str("commit")?;
        let version = int(p.u64("version")?, "version")?;
        let mut copies: Vec<BoxFuture<'_, Result<()>>> = Vec::new();
        for (collection, field) in [
            (EVENTS, "events"),
            (OUTBOX, "outbox"),
            (ATTACHMENTS, "attachments"),
            (MODEL_USAGE, "model_usage"),
        ] {
            let docs = documents(pending, field);
            if !docs.is_empty() {
                copies.push(Box::pin(self.insert_copies(collection, docs)));
            }
        }
        for m in documents(pending, "messages") {
            copies.push(Box::pin(self.upsert_message(m, version)));
        }
        if let Some(Bson::Document(activity)) = pending.get("chat_activity") {
            copies.push(Box::pin(self.apply_chat_activity(commit, activity)));
        }
        if let Some(Bson::Document(erase)) = pending.get("erase") {
            copies.push(Box::pin(self.apply_erasure(ticket_id, erase)));
        }
        try_join_all(copies).await?;
        self.coll(TICKETS)
            .update_one(
                doc! { "_id": ticket_id, "pending.commit": commit },
                doc! { "$unset": { "pending": "" } },
            )
            .await
            .map_err(driver)?;
        Ok(())
    }

    /// Inserts a commit's copies into `collection`, skipping those already there.
    async fn insert_copies(&self, collection: &str, docs: Vec<Document>) -> Result<()> {
        match self.coll(collection).insert_many(docs).ordered(false).await {
            Ok(_) => Ok(()),
            Err(e) if only_duplicate_keys(&e) => Ok(()),
            Err(e) => Err(driver(e)),
        }
    }

    /// Writes one message revision of a commit at ticket `version`, unless a newer
    /// revision is stored.
    async fn upsert_message(&self, m: Document, version: i64) -> Result<()> {
        let filter = doc! {
            "_id": m.get("_id").cloned().unwrap_or(Bson::Null),
            "tenant_id": m.get("tenant_id").cloned().unwrap_or(Bson::Null),
            "ticket_version": at_most(version),
        };
        match self
            .coll(MESSAGES)
            .replace_one(filter, m)
            .upsert(true)
            .await
        {
            Ok(_) => Ok(()),
            // A newer revision exists (or the id is taken): this revision is obsolete.
            Err(e) if is_duplicate_key(&e) => Ok(()),
            Err(e) => Err(driver(e)),
        }
    }

    /// Applies every pending commit of tickets matching `scope` (a tenant, a ticket, or
    /// everything), so that readers see every acknowledged change. Whether there was one to
    /// apply (a reader that read concurrently with this reads again then).
    pub(crate) async fn settle(&self, mut scope: Document) -> Result<bool> {
        scope.insert("pending.commit", doc! { "$exists": true });
        let pending: Vec<Document> = self
            .coll(TICKETS)
            .find(scope)
            .projection(doc! { "pending": 1 })
            .await
            .map_err(driver)?
            .try_collect()
            .await
            .map_err(driver)?;
        let found = !pending.is_empty();
        for t in pending {
            let id = Reader::new(&t, TICKETS).str("_id")?.to_string();
            match t.get("pending") {
                Some(Bson::Document(p)) => self.apply_pending(&id, p).await?,
                _ => return Err(unexpected("a pending ticket without its pending commit")),
            }
        }
        Ok(found)
    }

    /// Which unique value a failed ticket insert hit, checked in the reference store's
    /// order: idempotency key, id, number.
    pub(super) async fn create_duplicate(
        &self,
        write: &TicketWrite,
        cause: mongodb::error::Error,
    ) -> Error {
        let t = &write.ticket;
        let tenant = t.tenant_id.to_string();
        let checks = async {
            if let Some(key) = &write.idempotency_key {
                let filter = doc! { "tenant_id": &tenant, "idempotency_key": key.as_str() };
                if self.find_one(TICKETS, filter).await?.is_some() {
                    return Ok(Some((DuplicateKind::IdempotencyKey, key.clone())));
                }
            }
            if self
                .find_one(TICKETS, doc! { "_id": t.id.to_string() })
                .await?
                .is_some()
            {
                return Ok(Some((DuplicateKind::Id, t.id.to_string())));
            }
            let number = doc! { "tenant_id": &tenant, "number": int(t.number, "number")? };
            if self.find_one(TICKETS, number).await?.is_some() {
                return Ok(Some((DuplicateKind::TicketNumber, t.number.to_string())));
            }
            Ok::<_, Error>(None)
        };
        match checks.await {
            Ok(Some((kind, value))) => Error::Duplicate { kind, value },
            Ok(None) => driver(cause),
            Err(e) => e,
        }
    }
}

/// The version-guarded update of one ticket commit (step 1 of the protocol).
pub(super) struct UpdateStep {
    /// The ticket id.
    pub(super) id: String,
    /// Matches the ticket at the expected version with no commit pending.
    pub(super) guard: Document,
    /// Sets the new ticket and its `pending` commit.
    pub(super) update: Document,
    /// The pending commit, to apply once the update landed.
    pub(super) pending: Document,
}

impl UpdateStep {
    /// The update of `write` expecting the stored ticket at `expected`.
    pub(super) fn of(expected: u64, write: &TicketWrite) -> Result<Self> {
        Self::of_pending(expected, write, &pending_doc(write)?)
    }

    /// [`of`](Self::of) with the pending commit already built.
    pub(super) fn of_pending(
        expected: u64,
        write: &TicketWrite,
        pending: &Document,
    ) -> Result<Self> {
        let t = &write.ticket;
        let id = t.id.to_string();
        let pending = pending.clone();
        let mut set = ticket_body(t)?;
        set.insert("pending", pending.clone());
        let guard = doc! {
            "_id": &id,
            "tenant_id": t.tenant_id.to_string(),
            "version": int(expected, "expected_version")?,
            "pending.commit": { "$exists": false },
        };
        Ok(Self {
            id,
            guard,
            update: doc! { "$set": set },
            pending,
        })
    }
}

/// The error of a failed guarded update: a unique-index violation can only be the
/// per-tenant number (the id does not change).
pub(super) fn update_error(e: mongodb::error::Error, write: &TicketWrite) -> Error {
    if is_duplicate_key(&e) {
        Error::Duplicate {
            kind: DuplicateKind::TicketNumber,
            value: write.ticket.number.to_string(),
        }
    } else {
        driver(e)
    }
}

pub(super) fn conflict(write: &TicketWrite, expected: u64) -> Error {
    Error::Conflict {
        entity: "ticket",
        id: write.ticket.id.to_string(),
        expected,
    }
}
