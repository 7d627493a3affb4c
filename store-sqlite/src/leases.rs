//! Sweep leases: one row per lease name with its holder and expiry, taken by an atomic
//! upsert-if-expired, so one of several processes sharing the file works each batch.

use std::time::Duration;

use async_trait::async_trait;
use helpdesk_core::store::LeaseStore;
use helpdesk_core::{Error, Result};
use jiff::Timestamp;

use crate::SqliteStore;
use crate::codec::ms;
use crate::error::db;

#[async_trait]
impl LeaseStore for SqliteStore {
    async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<bool> {
        let until = now
            .checked_add(ttl)
            .map_err(|e| Error::validation("ttl", e.to_string()))?;
        // One statement: insert, or take over when expired or already ours.
        let done = sqlx::query(self.sql.text(
            "INSERT INTO helpdesk_leases (name, holder, expires_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
             expires_at = excluded.expires_at \
             WHERE helpdesk_leases.holder = excluded.holder OR helpdesk_leases.expires_at <= ?4",
        ))
        .bind(name)
        .bind(holder)
        .bind(ms(until))
        .bind(ms(now))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        sqlx::query(
            self.sql
                .text("DELETE FROM helpdesk_leases WHERE name = ? AND holder = ?"),
        )
        .bind(name)
        .bind(holder)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }
}
