//! Webhook endpoints: administrative changes (in the audit transaction) and the delivery
//! record.

use async_trait::async_trait;
use helpdesk_core::domain::{WebhookEndpoint, WebhookOutcome, WebhookSecret};
use helpdesk_core::store::{AdminChange, WebhookStore};
use helpdesk_core::{Error, Result, TenantId, WebhookId};
use jiff::Timestamp;
use sqlx::SqliteConnection;
use sqlx::sqlite::{SqliteQueryResult, SqliteRow};

use crate::SqliteStore;
use crate::codec::{Columns, json, ms, opt_ms};
use crate::error::{db, insert_err};
use crate::sql::Sql;

macro_rules! webhook_columns {
    () => {
        "id, tenant_id, url, event_types, secret, previous_secret, rotated_at, enabled, \
         disabled_reason, consecutive_failures, cursor, next_attempt_at, created_at"
    };
}

fn webhook_from(row: &SqliteRow) -> Result<WebhookEndpoint> {
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
fn found(done: SqliteQueryResult, id: WebhookId) -> Result<()> {
    if done.rows_affected() == 0 {
        return Err(Error::not_found("webhook", id));
    }
    Ok(())
}

/// Applies one of the webhook changes of [`AdminChange`].
pub(crate) async fn apply(
    sql: &Sql,
    conn: &mut SqliteConnection,
    change: &AdminChange,
) -> Result<()> {
    match change {
        AdminChange::CreateWebhook(w) => {
            sqlx::query(sql.text(concat!(
                "INSERT INTO helpdesk_webhooks (",
                webhook_columns!(),
                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            )))
            .bind(w.id.to_string())
            .bind(w.tenant_id.to_string())
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
                "UPDATE helpdesk_webhooks SET url = ?, event_types = ? \
                 WHERE id = ? AND tenant_id = ?",
            ))
            .bind(url)
            .bind(json(event_types, "webhook event types")?)
            .bind(id.to_string())
            .bind(tenant.to_string())
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
                "UPDATE helpdesk_webhooks SET previous_secret = secret, secret = ?, \
                 rotated_at = ? WHERE id = ? AND tenant_id = ?",
            ))
            .bind(secret.as_str())
            .bind(ms(*at))
            .bind(id.to_string())
            .bind(tenant.to_string())
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
                    "UPDATE helpdesk_webhooks SET enabled = 1, disabled_reason = NULL, \
                     consecutive_failures = 0, next_attempt_at = NULL \
                     WHERE id = ? AND tenant_id = ?",
                ))
            } else {
                sqlx::query(sql.text(
                    "UPDATE helpdesk_webhooks SET enabled = 0, disabled_reason = ? \
                     WHERE id = ? AND tenant_id = ?",
                ))
                .bind(reason)
            };
            let done = query
                .bind(id.to_string())
                .bind(tenant.to_string())
                .execute(&mut *conn)
                .await
                .map_err(db)?;
            found(done, *id)
        }
        AdminChange::DeleteWebhook { tenant, id } => {
            let done = sqlx::query(
                sql.text("DELETE FROM helpdesk_webhooks WHERE id = ? AND tenant_id = ?"),
            )
            .bind(id.to_string())
            .bind(tenant.to_string())
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            found(done, *id)
        }
        _ => Err(Error::Internal("not a webhook change")),
    }
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn get_webhook(
        &self,
        tenant: TenantId,
        id: WebhookId,
    ) -> Result<Option<WebhookEndpoint>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM helpdesk_webhooks WHERE id = ? AND tenant_id = ?"
        )))
        .bind(id.to_string())
        .bind(tenant.to_string())
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
            " FROM helpdesk_webhooks WHERE tenant_id = ? ORDER BY created_at, id"
        )))
        .bind(tenant.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(webhook_from)
        .collect()
    }

    async fn due_webhooks(&self, now: Timestamp, limit: u32) -> Result<Vec<WebhookEndpoint>> {
        // NULLs sort first in SQLite: endpoints with no retry waiting come first.
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM helpdesk_webhooks WHERE enabled = 1 \
             AND (next_attempt_at IS NULL OR next_attempt_at <= ?) \
             ORDER BY next_attempt_at, id LIMIT ?"
        )))
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
                "UPDATE helpdesk_webhooks SET cursor = ?, consecutive_failures = 0, \
                 next_attempt_at = NULL WHERE id = ? AND tenant_id = ?",
            ))
            .bind(cursor),
            WebhookOutcome::Failed {
                next_attempt_at,
                disable,
            } => sqlx::query(self.sql.text(
                "UPDATE helpdesk_webhooks SET consecutive_failures = consecutive_failures + 1, \
                 next_attempt_at = ?, enabled = CASE WHEN ? IS NULL THEN enabled ELSE 0 END, \
                 disabled_reason = COALESCE(?, disabled_reason) \
                 WHERE id = ? AND tenant_id = ?",
            ))
            .bind(ms(*next_attempt_at))
            .bind(disable)
            .bind(disable),
            _ => return Err(Error::Internal("unknown webhook outcome")),
        };
        let done = query
            .bind(id.to_string())
            .bind(tenant.to_string())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        found(done, id)
    }
}
