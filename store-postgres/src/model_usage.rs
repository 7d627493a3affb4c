//! The record of language-model usage (migration 13): rows inserted with a ticket write's
//! transaction or on their own, added up per UTC day by PostgreSQL.

use async_trait::async_trait;
use helpdesk_core::domain::{ModelUsage, ModelUsageDay};
use helpdesk_core::store::{ModelUsageStore, TimeRange};
use helpdesk_core::{Result, TenantId};
use jiff::civil::Date;
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::PostgresStore;
use crate::codec::{Columns, ms};
use crate::error::{PostgresError, db};
use crate::sql::Sql;

/// The tenant's calls in a half-open range of `at`, added up per UTC day, use case and
/// model, through the `model_usage_tenant_at` index. The sums are cast back to bigint
/// (`sum(bigint)` is numeric).
const PER_DAY: &str = "SELECT to_char(to_timestamp(at / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD') \
     AS day, use_case, model, count(*) AS calls, \
     sum(prompt_tokens)::bigint AS prompt_tokens, sum(output_tokens)::bigint AS output_tokens \
     FROM helpdesk.model_usage WHERE tenant_id = $1 AND at >= $2 AND at < $3 \
     GROUP BY day, use_case, model";

/// Inserts `usage` for `tenant` in one statement on `conn` (a transaction's).
pub(crate) async fn insert_usage(
    sql: &Sql,
    conn: &mut PgConnection,
    tenant: TenantId,
    usage: &[ModelUsage],
) -> Result<()> {
    // PostgreSQL binds at most 65535 parameters per statement; 6 per row.
    for rows in usage.chunks(10_000) {
        let mut insert: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "INSERT INTO {} (tenant_id, at, use_case, model, prompt_tokens, output_tokens) ",
            sql.table("model_usage")
        ));
        insert.push_values(rows, |mut row, u| {
            row.push_bind(tenant.as_uuid())
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
impl ModelUsageStore for PostgresStore {
    async fn record_model_usage(&self, tenant: TenantId, usage: &[ModelUsage]) -> Result<()> {
        if usage.is_empty() {
            return Ok(());
        }
        let mut tx = self.tx().await?;
        insert_usage(&self.sql, &mut tx, tenant, usage).await?;
        tx.commit().await.map_err(db)
    }

    async fn model_usage_per_day(
        &self,
        tenant: TenantId,
        range: TimeRange,
    ) -> Result<Vec<ModelUsageDay>> {
        let rows = sqlx::query(self.sql.text(PER_DAY))
            .bind(tenant.as_uuid())
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
                    .map_err(|e| PostgresError::corrupt("day", e))?,
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
