//! The record of language-model usage (migration 16): rows inserted with a ticket write's
//! transaction or on their own, added up per UTC day by SQLite.

use async_trait::async_trait;
use helpdesk_core::domain::{ModelUsage, ModelUsageDay};
use helpdesk_core::store::{ModelUsageStore, TimeRange};
use helpdesk_core::{Result, TenantId};
use jiff::civil::Date;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::codec::{Columns, ms};
use crate::error::{SqliteError, db};
use crate::sql::Sql;
use crate::{SqliteStore, commit};

/// The tenant's calls in a half-open range of `at`, added up per UTC day (`date()` of the
/// milliseconds as Unix seconds), use case and model, through the `model_usage_tenant_at`
/// index.
const PER_DAY: &str = "SELECT date(at / 1000, 'unixepoch') AS day, use_case, model, \
     count(*) AS calls, sum(prompt_tokens) AS prompt_tokens, \
     sum(output_tokens) AS output_tokens \
     FROM helpdesk_model_usage WHERE tenant_id = ? AND at >= ? AND at < ? \
     GROUP BY day, use_case, model";

/// Inserts `usage` for `tenant` in one statement on `conn` (a write transaction's).
pub(crate) async fn insert_usage(
    sql: &Sql,
    conn: &mut SqliteConnection,
    tenant: TenantId,
    usage: &[ModelUsage],
) -> Result<()> {
    // SQLite binds at most 32766 parameters per statement; 6 per row.
    for rows in usage.chunks(5000) {
        let mut insert: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "INSERT INTO {} (tenant_id, at, use_case, model, prompt_tokens, output_tokens) ",
            sql.table("model_usage")
        ));
        insert.push_values(rows, |mut row, u| {
            row.push_bind(tenant.to_string())
                .push_bind(ms(u.at))
                .push_bind(u.use_case.as_str())
                .push_bind(u.model.clone())
                .push_bind(i64::from(u.prompt_tokens))
                .push_bind(i64::from(u.output_tokens));
        });
        insert.build().execute(&mut *conn).await.map_err(db)?;
    }
    Ok(())
}

#[async_trait]
impl ModelUsageStore for SqliteStore {
    async fn record_model_usage(&self, tenant: TenantId, usage: &[ModelUsage]) -> Result<()> {
        if usage.is_empty() {
            return Ok(());
        }
        let mut tx = self.write_tx().await?;
        insert_usage(&self.sql, &mut tx, tenant, usage).await?;
        commit(tx).await
    }

    async fn model_usage_per_day(
        &self,
        tenant: TenantId,
        range: TimeRange,
    ) -> Result<Vec<ModelUsageDay>> {
        let rows = sqlx::query(self.sql.text(PER_DAY))
            .bind(tenant.to_string())
            .bind(ms(range.from))
            .bind(ms(range.to))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        let mut days = Vec::with_capacity(rows.len());
        for row in &rows {
            let c = Columns(row);
            days.push(ModelUsageDay {
                day: c
                    .text("day")?
                    .parse::<Date>()
                    .map_err(|e| SqliteError::corrupt("day", e))?,
                use_case: c.parsed("use_case")?,
                model: c.text("model")?,
                calls: c.u64("calls")?,
                prompt_tokens: c.u64("prompt_tokens")?,
                output_tokens: c.u64("output_tokens")?,
            });
        }
        ModelUsageDay::order(&mut days);
        Ok(days)
    }
}
