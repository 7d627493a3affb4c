//! Learned-triage model records (migration 16): one `triage_models` row per tenant and
//! version. The primary key (tenant, version) keeps one record per version: of two trainers
//! recording the same version, the second insert waits for the first to commit, then fails
//! on the key and gets the conflict. Read backwards, the same key serves the listing and
//! the latest model.

use async_trait::async_trait;
use helpdesk_core::store::{TriageModel, TriageModelStore};
use helpdesk_core::{Result, TenantId};
use jiff::Timestamp;
use sqlx::postgres::PgRow;

use crate::PostgresStore;
use crate::codec::{Columns, int, json, ms, opt_ms};
use crate::error::{PostgresError, db, is_unique_violation};

macro_rules! triage_model_columns {
    () => {
        "tenant_id, version, format, blob, size_bytes, trained_at, resolved_tickets, \
         training_tickets, holdout_tickets, holdout_correct, categories, retired_at"
    };
}

/// Inserts one model; the primary key refuses a version the tenant already has.
const INSERT: &str = concat!(
    "INSERT INTO helpdesk.triage_models (",
    triage_model_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
);

/// The tenant's models, highest version first: the primary key read backwards.
const LIST: &str = concat!(
    "SELECT ",
    triage_model_columns!(),
    " FROM helpdesk.triage_models WHERE tenant_id = $1 ORDER BY version DESC LIMIT $2"
);

/// Retires the tenant's models in service: one UPDATE over the primary key's tenant
/// prefix.
const RETIRE: &str =
    "UPDATE helpdesk.triage_models SET retired_at = $1 WHERE tenant_id = $2 AND retired_at IS NULL";

fn model_from(row: &PgRow) -> Result<TriageModel> {
    let c = Columns(row);
    Ok(TriageModel {
        tenant_id: c.id("tenant_id")?,
        version: c.u64("version")?,
        format: c.text("format")?,
        blob: c
            .text("blob")?
            .parse()
            .map_err(|e| PostgresError::corrupt("blob", e))?,
        size_bytes: c.u64("size_bytes")?,
        trained_at: c.ts("trained_at")?,
        resolved_tickets: c.u64("resolved_tickets")?,
        training_tickets: c.u64("training_tickets")?,
        holdout_tickets: c.u64("holdout_tickets")?,
        holdout_correct: c.u64("holdout_correct")?,
        categories: c.json("categories")?,
        retired_at: c.opt_ts("retired_at")?,
    })
}

impl PostgresStore {
    /// The tenant's models, highest version first, at most `limit` (one statement).
    async fn triage_models(&self, tenant: TenantId, limit: usize) -> Result<Vec<TriageModel>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(self.sql.text(LIST))
            .bind(tenant.as_uuid())
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(model_from).collect()
    }
}

#[async_trait]
impl TriageModelStore for PostgresStore {
    /// One insert; a unique violation (the primary key is the table's only unique index)
    /// is the conflict, and nothing is written.
    async fn put_triage_model(&self, model: &TriageModel) -> Result<()> {
        model.check()?;
        sqlx::query(self.sql.text(INSERT))
            .bind(model.tenant_id.as_uuid())
            .bind(int(model.version, "version")?)
            .bind(&model.format)
            .bind(model.blob.to_hex())
            .bind(int(model.size_bytes, "size_bytes")?)
            .bind(ms(model.trained_at))
            .bind(int(model.resolved_tickets, "resolved_tickets")?)
            .bind(int(model.training_tickets, "training_tickets")?)
            .bind(int(model.holdout_tickets, "holdout_tickets")?)
            .bind(int(model.holdout_correct, "holdout_correct")?)
            .bind(json(&model.categories, "categories")?)
            .bind(opt_ms(model.retired_at))
            .execute(&self.pool)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    model.version_taken()
                } else {
                    db(e)
                }
            })?;
        Ok(())
    }

    /// One statement (see `LIST`).
    async fn list_triage_models(&self, tenant: TenantId, limit: usize) -> Result<Vec<TriageModel>> {
        self.triage_models(tenant, limit).await
    }

    /// One statement: `LIST` with a limit of 1.
    async fn latest_triage_model(&self, tenant: TenantId) -> Result<Option<TriageModel>> {
        Ok(self.triage_models(tenant, 1).await?.into_iter().next())
    }

    /// One UPDATE (see `RETIRE`).
    async fn retire_triage_models(&self, tenant: TenantId, at: Timestamp) -> Result<u64> {
        let done = sqlx::query(self.sql.text(RETIRE))
            .bind(ms(at))
            .bind(tenant.as_uuid())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected())
    }
}
