//! Webhook endpoints: one document per endpoint with its secrets and delivery state.
//! Administrative changes run in the audit transaction's session.

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use helpdesk_core::domain::{WebhookEndpoint, WebhookOutcome, WebhookSecret};
use helpdesk_core::store::{AdminChange, WebhookStore};
use helpdesk_core::{DuplicateKind, Error, Result, TenantId, WebhookId};
use jiff::Timestamp;
use mongodb::ClientSession;

use crate::codec::{Reader, date, opt_date};
use crate::error::{driver, is_duplicate_key};
use crate::schema::WEBHOOKS;
use crate::store::{MongoStore, in_session};

fn webhook_doc(w: &WebhookEndpoint) -> Document {
    doc! {
        "_id": w.id.to_string(),
        "tenant_id": w.tenant_id.to_string(),
        "url": &w.url,
        "event_types": &w.event_types,
        "secret": w.secret.as_str(),
        "previous_secret": w.previous_secret.as_ref().map(WebhookSecret::as_str),
        "rotated_at": opt_date(w.rotated_at),
        "enabled": w.enabled,
        "disabled_reason": w.disabled_reason.as_deref(),
        "consecutive_failures": i64::from(w.consecutive_failures),
        "cursor": w.cursor.as_deref(),
        "next_attempt_at": opt_date(w.next_attempt_at),
        "created_at": date(w.created_at),
    }
}

fn webhook_from(d: &Document) -> Result<WebhookEndpoint> {
    let r = Reader::new(d, WEBHOOKS);
    Ok(WebhookEndpoint {
        id: r.parse("_id")?,
        tenant_id: r.parse("tenant_id")?,
        url: r.str("url")?.to_string(),
        event_types: r.strings("event_types")?,
        secret: WebhookSecret::new(r.str("secret")?),
        previous_secret: r.opt_string("previous_secret")?.map(WebhookSecret::new),
        rotated_at: r.opt_time("rotated_at")?,
        enabled: r.bool("enabled")?,
        disabled_reason: r.opt_string("disabled_reason")?,
        consecutive_failures: r.u32("consecutive_failures")?,
        cursor: r.opt_string("cursor")?,
        next_attempt_at: r.opt_time("next_attempt_at")?,
        created_at: r.time("created_at")?,
    })
}

fn scope(tenant: TenantId, id: WebhookId) -> Document {
    doc! { "_id": id.to_string(), "tenant_id": tenant.to_string() }
}

impl MongoStore {
    /// Applies one of the webhook changes of [`AdminChange`] in `session`.
    pub(crate) async fn apply_webhook_change(
        &self,
        change: &AdminChange,
        mut session: Option<&mut ClientSession>,
    ) -> Result<()> {
        let coll = self.coll(WEBHOOKS);
        let (tenant, id, update) = match change {
            AdminChange::CreateWebhook(w) => {
                return match in_session!(session, coll.insert_one(webhook_doc(w))) {
                    Ok(_) => Ok(()),
                    Err(e) if is_duplicate_key(&e) => Err(Error::Duplicate {
                        kind: DuplicateKind::Id,
                        value: w.id.to_string(),
                    }),
                    Err(e) => Err(driver(e)),
                };
            }
            AdminChange::DeleteWebhook { tenant, id } => {
                let done =
                    in_session!(session, coll.delete_one(scope(*tenant, *id))).map_err(driver)?;
                if done.deleted_count == 0 {
                    return Err(Error::not_found("webhook", id));
                }
                return Ok(());
            }
            AdminChange::UpdateWebhook {
                tenant,
                id,
                url,
                event_types,
            } => (
                *tenant,
                *id,
                doc! { "$set": { "url": url, "event_types": event_types } },
            ),
            AdminChange::RotateWebhookSecret {
                tenant,
                id,
                secret,
                at,
            } => {
                // Read in the transaction: the current secret becomes the previous one.
                let current = in_session!(session, coll.find_one(scope(*tenant, *id)))
                    .map_err(driver)?
                    .ok_or_else(|| Error::not_found("webhook", id))?;
                let previous = Reader::new(&current, WEBHOOKS).str("secret")?.to_string();
                (
                    *tenant,
                    *id,
                    doc! { "$set": {
                        "previous_secret": previous,
                        "secret": secret.as_str(),
                        "rotated_at": date(*at),
                    } },
                )
            }
            AdminChange::SetWebhookEnabled {
                tenant,
                id,
                enabled,
                reason,
            } => {
                let set = if *enabled {
                    doc! {
                        "enabled": true,
                        "disabled_reason": Bson::Null,
                        "consecutive_failures": 0_i64,
                        "next_attempt_at": Bson::Null,
                    }
                } else {
                    doc! { "enabled": false, "disabled_reason": reason.as_deref() }
                };
                (*tenant, *id, doc! { "$set": set })
            }
            _ => return Err(Error::Internal("not a webhook change")),
        };
        let done =
            in_session!(session, coll.update_one(scope(tenant, id), update)).map_err(driver)?;
        if done.matched_count == 0 {
            return Err(Error::not_found("webhook", id));
        }
        Ok(())
    }
}

#[async_trait]
impl WebhookStore for MongoStore {
    async fn get_webhook(
        &self,
        tenant: TenantId,
        id: WebhookId,
    ) -> Result<Option<WebhookEndpoint>> {
        self.find_one(WEBHOOKS, scope(tenant, id))
            .await?
            .map(|d| webhook_from(&d))
            .transpose()
    }

    async fn list_webhooks(&self, tenant: TenantId) -> Result<Vec<WebhookEndpoint>> {
        self.find_all(
            WEBHOOKS,
            doc! { "tenant_id": tenant.to_string() },
            doc! { "created_at": 1, "_id": 1 },
            0,
        )
        .await?
        .iter()
        .map(webhook_from)
        .collect()
    }

    async fn due_webhooks(&self, now: Timestamp, limit: u32) -> Result<Vec<WebhookEndpoint>> {
        let filter = doc! {
            "enabled": true,
            "$or": [
                { "next_attempt_at": Bson::Null },
                { "next_attempt_at": { "$lte": date(now) } },
            ],
        };
        // A null sorts before every date: endpoints with no retry waiting come first.
        self.find_all(
            WEBHOOKS,
            filter,
            doc! { "next_attempt_at": 1, "_id": 1 },
            i64::from(limit.max(1)),
        )
        .await?
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
        let update = match outcome {
            WebhookOutcome::Delivered { cursor } => doc! { "$set": {
                "cursor": cursor,
                "consecutive_failures": 0_i64,
                "next_attempt_at": Bson::Null,
            } },
            WebhookOutcome::Failed {
                next_attempt_at,
                disable,
            } => {
                let mut set = doc! { "next_attempt_at": date(*next_attempt_at) };
                if let Some(reason) = disable {
                    set.insert("enabled", false);
                    set.insert("disabled_reason", reason);
                }
                doc! { "$set": set, "$inc": { "consecutive_failures": 1_i64 } }
            }
            _ => return Err(Error::Internal("unknown webhook outcome")),
        };
        let done = self
            .coll(WEBHOOKS)
            .update_one(scope(tenant, id), update)
            .await
            .map_err(driver)?;
        if done.matched_count == 0 {
            return Err(Error::not_found("webhook", id));
        }
        Ok(())
    }
}
