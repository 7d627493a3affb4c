//! The record of language-model usage: documents of the `model_usage` collection, copied
//! from a ticket's pending commit (see `tickets::commit`) or inserted on their own, added
//! up per UTC day by an aggregation.

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use helpdesk_core::domain::{ModelUsage, ModelUsageDay};
use helpdesk_core::store::{ModelUsageStore, TimeRange};
use helpdesk_core::{Result, TenantId};
use jiff::civil::Date;
use uuid::Uuid;

use crate::codec::{Reader, date, within};
use crate::error::{driver, malformed, unexpected};
use crate::schema::MODEL_USAGE;
use crate::store::MongoStore;

/// The document of one call. Its fresh `_id` makes copying a pending commit's usage again
/// (settling it twice) a duplicate that is skipped, not a second count.
pub(crate) fn usage_doc(tenant: TenantId, u: &ModelUsage) -> Document {
    doc! {
        "_id": Uuid::now_v7().to_string(),
        "tenant_id": tenant.to_string(),
        "at": date(u.at),
        "use_case": u.use_case.as_str(),
        "model": u.model.as_str(),
        "prompt_tokens": i64::from(u.prompt_tokens),
        "output_tokens": i64::from(u.output_tokens),
    }
}

fn day_row(row: &Document) -> Result<ModelUsageDay> {
    let key = match row.get("_id") {
        Some(Bson::Document(key)) => key,
        _ => return Err(unexpected("a model usage group without its key")),
    };
    let k = Reader::new(key, MODEL_USAGE);
    let r = Reader::new(row, MODEL_USAGE);
    Ok(ModelUsageDay {
        day: k
            .str("day")?
            .parse::<Date>()
            .map_err(|e| malformed(MODEL_USAGE, "day", e))?,
        use_case: k
            .str("use_case")?
            .parse()
            .map_err(|e| malformed(MODEL_USAGE, "use_case", e))?,
        model: k.str("model")?.to_owned(),
        calls: r.u64("calls")?,
        prompt_tokens: r.u64("prompt_tokens")?,
        output_tokens: r.u64("output_tokens")?,
    })
}

#[async_trait]
impl ModelUsageStore for MongoStore {
    async fn record_model_usage(&self, tenant: TenantId, usage: &[ModelUsage]) -> Result<()> {
        if usage.is_empty() {
            return Ok(());
        }
        let docs: Vec<Document> = usage.iter().map(|u| usage_doc(tenant, u)).collect();
        self.coll(MODEL_USAGE)
            .insert_many(docs)
            .await
            .map_err(driver)?;
        Ok(())
    }

    /// Settles the tenant's pending commits first (their usage is not copied yet), then
    /// one `$group` over the `tenant_at` index.
    async fn model_usage_per_day(
        &self,
        tenant: TenantId,
        range: TimeRange,
    ) -> Result<Vec<ModelUsageDay>> {
        self.settle(doc! { "tenant_id": tenant.to_string() })
            .await?;
        let pipeline = vec![
            doc! { "$match": { "tenant_id": tenant.to_string(), "at": within(&range) } },
            doc! { "$group": {
                "_id": {
                    "day": { "$dateToString": { "format": "%Y-%m-%d", "date": "$at" } },
                    "use_case": "$use_case",
                    "model": "$model",
                },
                "calls": { "$sum": 1_i64 },
                "prompt_tokens": { "$sum": "$prompt_tokens" },
                "output_tokens": { "$sum": "$output_tokens" },
            } },
        ];
        let rows = self.aggregate(MODEL_USAGE, pipeline).await?;
        let mut days = rows.iter().map(day_row).collect::<Result<Vec<_>>>()?;
        ModelUsageDay::order(&mut days);
        Ok(days)
    }
}
