//! Administrative changes with their audit events, in a multi-document transaction.
//!
//! Unlike ticket writes (single-document commits, see the crate docs), an administrative
//! change and its audit event are written in one MongoDB transaction on a
//! [`ClientSession`]: both are committed together, and any error aborts both (a
//! transaction that loses to a concurrent one is run again). This needs a
//! replica set or a sharded cluster (or a server with transactions, like the SecantusDB test
//! server); a standalone `mongod` refuses the transaction and the change fails unwritten.

use async_trait::async_trait;
use bson::{Document, doc};
use helpdesk_core::domain::{AuditEvent, User};
use helpdesk_core::store::{AdminChange, AdminWrite, AuditQuery, AuditStore};
use helpdesk_core::{DuplicateKind, Error, Result, TenantId};
use mongodb::ClientSession;

use crate::codec::{Reader, date, opt_string, to_bson};
use crate::error::{driver, is_duplicate_key};
use crate::schema::{AUDIT_EVENTS, SESSIONS, USERS};
use crate::store::MongoStore;
use crate::transaction::in_transaction;

fn audit_doc(e: &AuditEvent) -> Result<Document> {
    Ok(doc! {
        "_id": e.id.to_string(),
        "tenant_id": e.tenant_id.to_string(),
        "at": date(e.at),
        "actor": opt_string(e.actor),
        "kind": to_bson(&e.kind, "audit event kind")?,
    })
}

fn audit_from(d: &Document) -> Result<AuditEvent> {
    let r = Reader::new(d, AUDIT_EVENTS);
    Ok(AuditEvent {
        id: r.parse("_id")?,
        tenant_id: r.parse("tenant_id")?,
        at: r.time("at")?,
        actor: r.opt_parse("actor")?,
        kind: r.serde("kind")?,
    })
}

impl MongoStore {
    /// The change, then its event, in `session`'s transaction.
    async fn apply_admin_change(
        &self,
        write: &AdminWrite,
        session: &mut ClientSession,
    ) -> Result<()> {
        let tenant = write.tenant();
        let s = Some(&mut *session);
        match &write.change {
            AdminChange::CreateUser { user, password } => {
                self.insert_user(user, password.as_ref(), s).await?;
            }
            AdminChange::UpdateUser(user) => self.update_user_in(user, s).await?,
            AdminChange::EraseUser { user, audit } => {
                self.erase_user_in(user, audit, session).await?;
            }
            AdminChange::SetPassword { user, hash } => {
                self.set_password_in(tenant, *user, hash, s).await?;
            }
            AdminChange::UpdateTenant(t) => self.update_tenant_in(t, s).await?,
            AdminChange::RegisterTenant {
                tenant,
                admin,
                password,
            } => {
                self.insert_tenant(tenant, Some(&mut *session)).await?;
                self.insert_user(admin, password.as_ref(), Some(&mut *session))
                    .await?;
            }
            AdminChange::CreateArticle(article) => self.insert_article(article, s).await?,
            AdminChange::UpdateArticle {
                expected_version,
                article,
            } => self.replace_article(*expected_version, article, s).await?,
            AdminChange::DeleteArticle(id) => self.remove_article(tenant, *id, session).await?,
            AdminChange::CreateApiKey { key, secret_hash } => {
                self.insert_api_key(key, secret_hash, s).await?;
            }
            AdminChange::RevokeApiKey { tenant, id, at } => {
                self.revoke_api_key_in(*tenant, *id, *at, s).await?;
            }
            change @ (AdminChange::CreateWebhook(_)
            | AdminChange::UpdateWebhook { .. }
            | AdminChange::RotateWebhookSecret { .. }
            | AdminChange::SetWebhookEnabled { .. }
            | AdminChange::DeleteWebhook { .. }) => {
                self.apply_webhook_change(change, s).await?;
            }
            change @ (AdminChange::CreateCannedResponse(_)
            | AdminChange::UpdateCannedResponse(_)
            | AdminChange::DeleteCannedResponse { .. }) => {
                self.apply_canned_change(change, s).await?;
            }
            change @ (AdminChange::CreateSavedView(_)
            | AdminChange::UpdateSavedView(_)
            | AdminChange::DeleteSavedView { .. }) => {
                self.apply_view_change(change, s).await?;
            }
            AdminChange::RecordOnly => {}
            // A change this build does not know writes nothing.
            _ => {
                return Err(Error::validation(
                    "change",
                    "not supported by this MongoDB store",
                ));
            }
        }
        let events = self.coll(AUDIT_EVENTS);
        match events
            .insert_one(audit_doc(&write.audit)?)
            .session(&mut *session)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_duplicate_key(&e) => Err(Error::Duplicate {
                kind: DuplicateKind::Id,
                value: write.audit.id.to_string(),
            }),
            Err(e) => Err(driver(e)),
        }
    }
}

#[async_trait]
impl AuditStore for MongoStore {
    /// One transaction, run again when it loses to a concurrent one (an article's
    /// deletion and a put of the tenant's knowledge-base chunks both take the tenant's
    /// next change number, and one of two such transactions is aborted).
    async fn commit_admin_change(&self, write: &AdminWrite) -> Result<()> {
        write.check()?;
        in_transaction!(self, |session| self
            .apply_admin_change(write, session)
            .await)
    }

    async fn list_audit_events(
        &self,
        tenant: TenantId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEvent>> {
        let mut filter = doc! { "tenant_id": tenant.to_string() };
        if let Some(cursor) = query.before {
            filter.insert(
                "$or",
                vec![
                    doc! { "at": { "$lt": date(cursor.at) } },
                    doc! { "at": date(cursor.at), "_id": { "$lt": cursor.id.to_string() } },
                ],
            );
        }
        self.find_all(
            AUDIT_EVENTS,
            filter,
            doc! { "at": -1, "_id": -1 },
            i64::from(query.limit.max(1)),
        )
        .await?
        .iter()
        .map(audit_from)
        .collect()
    }
}

impl MongoStore {
    /// A customer's erasure (`AdminChange::EraseUser`) in the admin change's transaction:
    /// the user's fields set (its requester search text with them), its password hash
    /// and sessions deleted, the audit events rewritten.
    async fn erase_user_in(
        &self,
        user: &User,
        audit: &[AuditEvent],
        session: &mut ClientSession,
    ) -> Result<()> {
        self.update_user_in(user, Some(&mut *session)).await?;
        let (tenant, id) = (user.tenant_id.to_string(), user.id.to_string());
        self.coll(USERS)
            .update_one(
                doc! { "_id": &id, "tenant_id": &tenant },
                doc! { "$unset": { "password_hash": "" } },
            )
            .session(&mut *session)
            .await
            .map_err(driver)?;
        self.coll(SESSIONS)
            .delete_many(doc! { "tenant_id": &tenant, "user_id": &id })
            .session(&mut *session)
            .await
            .map_err(driver)?;
        for a in audit {
            let done = self
                .coll(AUDIT_EVENTS)
                .update_one(
                    doc! { "_id": a.id.to_string(), "tenant_id": &tenant },
                    doc! { "$set": { "kind": to_bson(&a.kind, "audit kind")? } },
                )
                .session(&mut *session)
                .await
                .map_err(driver)?;
            if done.matched_count != 1 {
                return Err(Error::not_found("audit_event", a.id));
            }
        }
        Ok(())
    }
}
