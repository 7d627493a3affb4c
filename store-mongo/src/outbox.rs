//! The notification outbox and sweep leases.

use std::time::Duration;

use async_trait::async_trait;
use bson::doc;
use helpdesk_core::domain::OutboxEntry;
use helpdesk_core::store::{LeaseStore, OutboxStore};
use helpdesk_core::{Error, OutboxId, Result, TenantId};
use jiff::Timestamp;

use crate::codec::{at_or_before, date};
use crate::error::{driver, is_duplicate_key};
use crate::mapping::outbox_from;
use crate::schema::{LEASES, OUTBOX};
use crate::store::MongoStore;

#[async_trait]
impl OutboxStore for MongoStore {
    async fn due_outbox(&self, now: Timestamp, limit: u32) -> Result<Vec<OutboxEntry>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // Entries of commits whose writer stopped before applying them become due too.
        self.settle(doc! {}).await?;
        self.find_all(
            OUTBOX,
            doc! { "delivered_at": null, "next_attempt_at": at_or_before(now) },
            doc! { "next_attempt_at": 1, "_id": 1 },
            i64::from(limit),
        )
        .await?
        .iter()
        .map(outbox_from)
        .collect()
    }

    async fn mark_outbox_delivered(&self, id: OutboxId, at: Timestamp) -> Result<()> {
        let result = self
            .coll(OUTBOX)
            .update_one(
                doc! { "_id": id.to_string() },
                doc! { "$set": { "delivered_at": date(at) } },
            )
            .await
            .map_err(driver)?;
        if result.matched_count == 0 {
            return Err(Error::not_found("outbox", id));
        }
        Ok(())
    }

    async fn mark_outbox_failed(
        &self,
        id: OutboxId,
        attempts: u32,
        next_attempt_at: Timestamp,
        error: &str,
    ) -> Result<()> {
        let result = self
            .coll(OUTBOX)
            .update_one(
                doc! { "_id": id.to_string() },
                doc! { "$set": {
                    "attempts": i64::from(attempts),
                    "next_attempt_at": date(next_attempt_at),
                    "last_error": error,
                } },
            )
            .await
            .map_err(driver)?;
        if result.matched_count == 0 {
            return Err(Error::not_found("outbox", id));
        }
        Ok(())
    }

    async fn list_outbox(&self, tenant: TenantId) -> Result<Vec<OutboxEntry>> {
        self.settle(doc! { "tenant_id": tenant.to_string() })
            .await?;
        self.find_all(
            OUTBOX,
            doc! { "tenant_id": tenant.to_string() },
            doc! { "created_at": -1, "_id": -1 },
            0,
        )
        .await?
        .iter()
        .map(outbox_from)
        .collect()
    }
}

#[async_trait]
impl LeaseStore for MongoStore {
    async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<bool> {
        let until = now
            .checked_add(ttl)
            .map_err(|_| Error::validation("ttl", "now + ttl is out of the timestamp range"))?;
        // Take it when it is ours or expired; when neither, the upsert's insert hits the
        // existing `_id` and the duplicate key means "held by someone else".
        let result = self
            .coll(LEASES)
            .update_one(
                doc! {
                    "_id": name,
                    "$or": [{ "holder": holder }, { "expires_at": at_or_before(now) }],
                },
                doc! { "$set": { "holder": holder, "expires_at": date(until) } },
            )
            .upsert(true)
            .await;
        match result {
            Ok(r) => Ok(r.matched_count == 1 || r.upserted_id.is_some()),
            Err(e) if is_duplicate_key(&e) => Ok(false),
            Err(e) => Err(driver(e)),
        }
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        self.coll(LEASES)
            .delete_one(doc! { "_id": name, "holder": holder })
            .await
            .map_err(driver)?;
        Ok(())
    }
}
