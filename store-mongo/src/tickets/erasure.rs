//! Erasure of personal data through the ticket commit protocol (see `commit`): the erased
//! ticket and its pending commit land in one guarded document write, and the commit's
//! `erase` part (the replaced events, the deleted attachments and outbox entries) is
//! applied with the rest of it, idempotently, by the writer or whoever settles it next.
//!
//! The search words follow: the ticket document's words arrays are written from the
//! erased texts by the commit, each message's by its replacement, and the user
//! document's requester text by the customer's erasure.

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use futures_util::TryStreamExt;
use helpdesk_core::domain::{Sha256, Ticket};
use helpdesk_core::store::{ErasureStore, TicketErasure};
use helpdesk_core::{Result, TenantId};
use jiff::Timestamp;

use super::commit::{check_write, pending_doc};
use crate::codec::{Reader, date, to_bson};
use crate::error::driver;
use crate::mapping::ticket_from;
use crate::schema::{ATTACHMENTS, EVENTS, OUTBOX, TICKETS};
use crate::store::MongoStore;

/// The `erase` part of an erasure's pending commit.
fn erase_doc(erasure: &TicketErasure) -> Result<Document> {
    let events = erasure
        .events
        .iter()
        .map(|e| {
            Ok(Bson::Document(doc! {
                "_id": e.id.to_string(),
                "kind": to_bson(&e.kind, "event kind")?,
            }))
        })
        .collect::<Result<Vec<_>>>()?;
    let attachments: Vec<String> = erasure
        .attachments
        .iter()
        .map(ToString::to_string)
        .collect();
    Ok(doc! {
        "tenant_id": erasure.write.ticket.tenant_id.to_string(),
        "at": date(erasure.write.ticket.updated_at),
        "events": events,
        "attachments": attachments,
    })
}

impl MongoStore {
    /// Every replaced event must be a stored event of the ticket with the same kind
    /// (checked before the commit, so a wrong one writes nothing).
    async fn check_erased_events(&self, erasure: &TicketErasure) -> Result<()> {
        if erasure.events.is_empty() {
            return Ok(());
        }
        let t = &erasure.write.ticket;
        let ids: Vec<String> = erasure.events.iter().map(|e| e.id.to_string()).collect();
        let found: Vec<Document> = self
            .coll(EVENTS)
            .find(doc! {
                "_id": { "$in": &ids },
                "tenant_id": t.tenant_id.to_string(),
                "ticket_id": t.id.to_string(),
            })
            .projection(doc! { "type": 1 })
            .await
            .map_err(driver)?
            .try_collect()
            .await
            .map_err(driver)?;
        for e in &erasure.events {
            let id = e.id.to_string();
            let stored = found.iter().any(|d| {
                d.get_str("_id").is_ok_and(|x| x == id)
                    && d.get_str("type").is_ok_and(|k| k == e.kind.name())
            });
            if !stored {
                return Err(TicketErasure::unknown_event(e));
            }
        }
        Ok(())
    }

    /// Applies a pending commit's `erase` part: each event's kind replaced, the
    /// attachments' documents and the ticket's outbox entries up to the erasure deleted
    /// (a later commit's entries, which a late second apply could meet, stay).
    pub(super) async fn apply_erasure(&self, ticket_id: &str, erase: &Document) -> Result<()> {
        let r = Reader::new(erase, TICKETS);
        let tenant = r.str("tenant_id")?;
        let at = erase.get("at").cloned().unwrap_or(Bson::Null);
        if let Ok(events) = erase.get_array("events") {
            for e in events.iter().filter_map(Bson::as_document) {
                self.coll(EVENTS)
                    .update_one(
                        doc! {
                            "_id": e.get("_id").cloned().unwrap_or(Bson::Null),
                            "tenant_id": tenant,
                            "ticket_id": ticket_id,
                        },
                        doc! { "$set": { "kind": e.get("kind").cloned().unwrap_or(Bson::Null) } },
                    )
                    .await
                    .map_err(driver)?;
            }
        }
        let attachments = erase.get_array("attachments").cloned().unwrap_or_default();
        if !attachments.is_empty() {
            self.coll(ATTACHMENTS)
                .delete_many(doc! {
                    "_id": { "$in": attachments },
                    "tenant_id": tenant,
                    "ticket_id": ticket_id,
                })
                .await
                .map_err(driver)?;
        }
        self.coll(OUTBOX)
            .delete_many(doc! {
                "tenant_id": tenant,
                "ticket_id": ticket_id,
                "created_at": { "$lte": at },
            })
            .await
            .map_err(driver)?;
        Ok(())
    }
}

#[async_trait]
impl ErasureStore for MongoStore {
    /// One guarded write of the erased ticket with its pending commit (its messages
    /// replaced, and its `erase` part), applied as every commit is.
    async fn erase_ticket(&self, expected_version: u64, erasure: &TicketErasure) -> Result<()> {
        erasure.check(expected_version)?;
        let write = &erasure.write;
        check_write(write)?;
        self.check_erased_events(erasure).await?;
        let mut pending = pending_doc(write)?;
        pending.insert("erase", erase_doc(erasure)?);
        self.guarded_update(expected_version, write, &pending).await
    }

    async fn retention_due(
        &self,
        tenant: TenantId,
        before: Timestamp,
        limit: u32,
    ) -> Result<Vec<Ticket>> {
        let found: Vec<Document> = self
            .coll(TICKETS)
            .find(doc! {
                "tenant_id": tenant.to_string(),
                "erased_at": Bson::Null,
                "created_at": { "$lt": date(before) },
            })
            .sort(doc! { "created_at": 1 })
            .limit(i64::from(limit))
            .await
            .map_err(driver)?
            .try_collect()
            .await
            .map_err(driver)?;
        found.iter().map(ticket_from).collect()
    }

    async fn blob_in_use(&self, tenant: TenantId, sha256: &Sha256) -> Result<bool> {
        let found = self
            .coll(ATTACHMENTS)
            .find_one(doc! { "tenant_id": tenant.to_string(), "sha256": sha256.to_hex() })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(driver)?;
        Ok(found.is_some())
    }
}
