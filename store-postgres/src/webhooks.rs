//! Webhook endpoints: administrative changes (in the audit transaction) and the delivery
//! record.

use async_trait::async_trait;
use helpdesk_core::domain::{WebhookEndpoint, WebhookOutcome, WebhookSecret};
use helpdesk_core::store::{AdminChange, WebhookStore};
use helpdesk_core::{Error, Result, TenantId, WebhookId};
use jiff::Timestamp;
use sqlx::PgConnection;
use sqlx::postgres::{PgQueryResult, PgRow};

use crate::PostgresStore;
use crate::codec::{Columns, json, ms, opt_ms};
use crate::error::{db, insert_err};
use crate::sql::Sql;

macro_rules! webhook_columns {
    () => {
        "id, tenant_id, url, event_types, secret, previous_secret, rotated_at, enabled, \
         disabled_reason, consecutive_failures, cursor, next_attempt_at, created_at"
    };
}

/// Enabled endpoints with no retry waiting after `$1`, those with none waiting first,
/// then by retry time and id: one ordered range of the partial index `webhooks_due`
/// (migration 3), whose key this `COALESCE` must repeat exactly.
pub(crate) const DUE_WEBHOOKS: &str = concat!(
    "SELECT ",
    webhook_columns!(),
    " FROM helpdesk.webhooks WHERE enabled \
     AND COALESCE(next_attempt_at, -9223372036854775808) <= $1 \
     ORDER BY COALESCE(next_attempt_at, -9223372036854775808), id LIMIT $2"
);

fn webhook_from(row: &PgRow) -> Result<WebhookEndpoint> {
    let c = Columns(row);
    Ok(WebhookEndpoint {
        id: c.id("id")?,
        tenant_id: c.id("tenant_id")?,
        url: c.text("url")?,
        event_types: c.json("event_types")?,
        secret: WebhookSecret::new(c.text("secret")?),
        previous_secret: c.opt_text("previous_secret")?.map(WebhookSecret::new),
        rotated_at: c.opt_ts("rotated_at")?,
        enabled: c.bool("enabled")?,
        disabled_reason: c.opt_text("disabled_reason")?,
        consecutive_failures: c.u32("consecutive_failures")?,
        cursor: c.opt_text("cursor")?,
        next_attempt_at: c.opt_ts("next_attempt_at")?,
        created_at: c.ts("created_at")?,
    })
}

/// `NotFound` when an update matched no endpoint of the tenant.
fn found(done: PgQueryResult, id: WebhookId) -> Result<()> {
    if done.rows_affected() == 0 {
        return Err(Error::not_found("webhook", id));
    }
    Ok(())
}

/// Applies one of the webhook changes of [`AdminChange`].
pub(crate) async fn apply(sql: &Sql, conn: &mut PgConnection, change: &AdminChange) -> Result<()> {
    match change {
        AdminChange::CreateWebhook(w) => {
            sqlx::query(sql.text(concat!(
                "INSERT INTO helpdesk.webhooks (",
                webhook_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            )))
            .bind(w.id.as_uuid())
            .bind(w.tenant_id.as_uuid())
            .bind(&w.url)
            .bind(json(&w.event_types, "webhook event types")?)
            .bind(w.secret.as_str())
            .bind(w.previous_secret.as_ref().map(WebhookSecret::as_str))
            .bind(opt_ms(w.rotated_at))
            .bind(w.enabled)
            .bind(&w.disabled_reason)
            .bind(i64::from(w.consecutive_failures))
            .bind(&w.cursor)
            .bind(opt_ms(w.next_attempt_at))
            .bind(ms(w.created_at))
            .execute(&mut *conn)
            .await
            .map_err(insert_err(w.id))?;
            Ok(())
        }
        AdminChange::UpdateWebhook {
            tenant,
            id,
            url,
            event_types,
        } => {
            let done = sqlx::query(sql.text(
                "UPDATE helpdesk.webhooks SET url = $1, event_types = $2 \
                 WHERE id = $3 AND tenant_id = $4",
            ))
            .bind(url)
            .bind(json(event_types, "webhook event types")?)
            .bind(id.as_uuid())
            .bind(tenant.as_uuid())
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            found(done, *id)
        }
        AdminChange::RotateWebhookSecret {
            tenant,
            id,
            secret,
            at,
        } => {
            // The right-hand sides read the row as it was: `secret` moves to the previous.
            let done = sqlx::query(sql.text(
                "UPDATE helpdesk.webhooks SET previous_secret = secret, secret = $1, \
                 rotated_at = $2 WHERE id = $3 AND tenant_id = $4",
            ))
            .bind(secret.as_str())
            .bind(ms(*at))
            .bind(id.as_uuid())
            .bind(tenant.as_uuid())
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            found(done, *id)
        }
        AdminChange::SetWebhookEnabled {
            tenant,
            id,
            enabled,
            reason,
        } => {
            let query = if *enabled {
                sqlx::query(sql.text(
                    "UPDATE helpdesk.webhooks SET enabled = true, disabled_reason = NULL, \
                     consecutive_failures = 0, next_attempt_at = NULL \
                     WHERE id = $1 AND tenant_id = $2",
                ))
            } else {
                sqlx::query(sql.text(
                    "UPDATE helpdesk.webhooks SET enabled = false, disabled_reason = $3 \
                     WHERE id = $1 AND tenant_id = $2",
                ))
            };
            let mut query = query.bind(id.as_uuid()).bind(tenant.as_uuid());
            if !*enabled {
                query = query.bind(reason);
            }
            let done = query.execute(&mut *conn).await.map_err(db)?;
            found(done, *id)
        }
        AdminChange::DeleteWebhook { tenant, id } => {
            let done = sqlx::query(
                sql.text("DELETE FROM helpdesk.webhooks WHERE id = $1 AND tenant_id = $2"),
            )
            .bind(id.as_uuid())
            .bind(tenant.as_uuid())
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            found(done, *id)
        }
        _ => Err(Error::Internal("not a webhook change")),
    }
}

#[async_trait]
impl WebhookStore for PostgresStore {
    async fn get_webhook(
        &self,
        tenant: TenantId,
        id: WebhookId,
    ) -> Result<Option<WebhookEndpoint>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM helpdesk.webhooks WHERE id = $1 AND tenant_id = $2"
        )))
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(webhook_from)
        .transpose()
    }

    async fn list_webhooks(&self, tenant: TenantId) -> Result<Vec<WebhookEndpoint>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM helpdesk.webhooks WHERE tenant_id = $1 ORDER BY created_at, id"
        )))
        .bind(tenant.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(webhook_from)
        .collect()
    }

    async fn due_webhooks(&self, now: Timestamp, limit: u32) -> Result<Vec<WebhookEndpoint>> {
        sqlx::query(self.sql.text(DUE_WEBHOOKS))
            .bind(ms(now))
            .bind(i64::from(limit.max(1)))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(webhook_from)
            .collect()
    }

    async fn record_webhook_delivery(
        &self,
        tenant: TenantId,
        id: WebhookId,
        outcome: &WebhookOutcome,
    ) -> Result<()> {
        let query = match outcome {
            WebhookOutcome::Delivered { cursor } => sqlx::query(self.sql.text(
                "UPDATE helpdesk.webhooks SET cursor = $3, consecutive_failures = 0, \
                 next_attempt_at = NULL WHERE id = $1 AND tenant_id = $2",
            ))
            .bind(id.as_uuid())
            .bind(tenant.as_uuid())
            .bind(cursor),
            WebhookOutcome::Failed {
                next_attempt_at,
                disable,
            } => sqlx::query(self.sql.text(
                "UPDATE helpdesk.webhooks SET consecutive_failures = consecutive_failures + 1, \
                 next_attempt_at = $3, enabled = enabled AND $4::text IS NULL, \
                 disabled_reason = COALESCE($4, disabled_reason) \
                 WHERE id = $1 AND tenant_id = $2",
            ))
            .bind(id.as_uuid())
            .bind(tenant.as_uuid())
            .bind(ms(*next_attempt_at))
            .bind(disable),
            _ => return Err(Error::Internal("unknown webhook outcome")),
        };
        let done = query.execute(&self.pool).await.map_err(db)?;
        found(done, id)
    }
}
