//! Sweep leases: one row per lease name with its holder and expiry, taken by one atomic
//! upsert-if-expired, so of several instances sharing the database one works each batch.
//! Two instances racing for a free lease both reach the `INSERT`; the unique key makes the
//! second wait for the first's commit, then its `ON CONFLICT ... WHERE` sees the row the
//! first wrote (held, not expired) and updates nothing.

use std::time::Duration;

use async_trait::async_trait;
use helpdesk_core::store::LeaseStore;
use helpdesk_core::{Error, Result};
use jiff::Timestamp;

use crate::PostgresStore;
use crate::codec::ms;
use crate::error::db;

#[async_trait]
impl LeaseStore for PostgresStore {
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
        let done = sqlx::query(self.sql.text(
            "INSERT INTO helpdesk.leases AS l (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
             expires_at = excluded.expires_at \
             WHERE l.holder = excluded.holder OR l.expires_at <= $4",
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
                .text("DELETE FROM helpdesk.leases WHERE name = $1 AND holder = $2"),
        )
        .bind(name)
        .bind(holder)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }
}
