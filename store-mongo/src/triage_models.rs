//! Learned-triage model records: one `triage_models` document per tenant and version
//! (`_id` = `<tenant id>/<version>`). The unique index on (tenant_id, version) keeps one
//! record per version, so of two trainers recording the same version the second insert is
//! a duplicate key and gets the conflict; the same index, read backwards, serves the
//! listing and the latest model. `retired_at` is a date, or null while the model is in
//! service; a document written before models could be retired has no field, which reads
//! as in service and which the retirement's filter on null matches too.

use async_trait::async_trait;
use bson::{Document, doc};
use helpdesk_core::store::{TriageModel, TriageModelStore};
use helpdesk_core::{Result, TenantId};
use jiff::Timestamp;

use crate::codec::{Reader, date, int, opt_date};
use crate::error::{driver, is_duplicate_key};
use crate::schema::TRIAGE_MODELS;
use crate::store::MongoStore;

/// The document of a model.
fn model_doc(m: &TriageModel) -> Result<Document> {
    Ok(doc! {
        "_id": format!("{}/{}", m.tenant_id, m.version),
        "tenant_id": m.tenant_id.to_string(),
        "version": int(m.version, "version")?,
        "format": &m.format,
        "blob": m.blob.to_hex(),
        "size_bytes": int(m.size_bytes, "size_bytes")?,
        "trained_at": date(m.trained_at),
        "resolved_tickets": int(m.resolved_tickets, "resolved_tickets")?,
        "training_tickets": int(m.training_tickets, "training_tickets")?,
        "holdout_tickets": int(m.holdout_tickets, "holdout_tickets")?,
        "holdout_correct": int(m.holdout_correct, "holdout_correct")?,
        "categories": &m.categories,
        "retired_at": opt_date(m.retired_at),
    })
}

/// Reads a model document.
fn model_from(d: &Document) -> Result<TriageModel> {
    let r = Reader::new(d, TRIAGE_MODELS);
    Ok(TriageModel {
        tenant_id: r.parse("tenant_id")?,
        version: r.u64("version")?,
        format: r.str("format")?.to_string(),
        blob: r.parse("blob")?,
        size_bytes: r.u64("size_bytes")?,
        trained_at: r.time("trained_at")?,
        resolved_tickets: r.u64("resolved_tickets")?,
        training_tickets: r.u64("training_tickets")?,
        holdout_tickets: r.u64("holdout_tickets")?,
        holdout_correct: r.u64("holdout_correct")?,
        categories: r.strings("categories")?,
        retired_at: r.opt_time("retired_at")?,
    })
}

impl MongoStore {
    /// The tenant's models, highest version first, at most `limit` (one query over the
    /// `tenant_version_unique` index).
    async fn triage_models(&self, tenant: TenantId, limit: usize) -> Result<Vec<TriageModel>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.find_all(
            TRIAGE_MODELS,
            doc! { "tenant_id": tenant.to_string() },
            doc! { "version": -1 },
            i64::try_from(limit).unwrap_or(i64::MAX),
        )
        .await?
        .iter()
        .map(model_from)
        .collect()
    }
}

#[async_trait]
impl TriageModelStore for MongoStore {
    /// One `insert_one`; a duplicate key (the unique (tenant_id, version) index, or the
    /// `_id` made of the same two) is the conflict, and nothing is written.
    async fn put_triage_model(&self, model: &TriageModel) -> Result<()> {
        model.check()?;
        match self.coll(TRIAGE_MODELS).insert_one(model_doc(model)?).await {
            Ok(_) => Ok(()),
            Err(e) if is_duplicate_key(&e) => Err(model.version_taken()),
            Err(e) => Err(driver(e)),
        }
    }

    /// One query (see `triage_models`).
    async fn list_triage_models(&self, tenant: TenantId, limit: usize) -> Result<Vec<TriageModel>> {
        self.triage_models(tenant, limit).await
    }

    /// One query: the listing with a limit of 1.
    async fn latest_triage_model(&self, tenant: TenantId) -> Result<Option<TriageModel>> {
        Ok(self.triage_models(tenant, 1).await?.into_iter().next())
    }

    /// One `update_many` over the tenant's documents still in service (the
    /// `tenant_version_unique` index's tenant prefix finds them).
    async fn retire_triage_models(&self, tenant: TenantId, at: Timestamp) -> Result<u64> {
        let done = self
            .coll(TRIAGE_MODELS)
            .update_many(
                doc! { "tenant_id": tenant.to_string(), "retired_at": null },
                doc! { "$set": { "retired_at": date(at) } },
            )
            .await
            .map_err(driver)?;
        Ok(done.modified_count)
    }
}
