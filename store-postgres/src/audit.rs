//! Administrative changes with their audit events: the change and the event's row are
//! written in one transaction, so both land or neither does.

use async_trait::async_trait;
use helpdesk_core::domain::AuditEvent;
use helpdesk_core::store::{AdminChange, AdminWrite, AuditQuery, AuditStore};
use helpdesk_core::{Result, TenantId};
use sqlx::PgConnection;
use sqlx::postgres::PgRow;

use crate::codec::{Columns, json, ms};
use crate::error::{db, insert_err};
use crate::sql::Sql;
use crate::{PostgresStore, api_keys, articles, canned, commit, people, views, webhooks};

fn audit_from(row: &PgRow) -> Result<AuditEvent> {
    let c = Columns(row);
    Ok(AuditEvent {
        id: c.id("id")?,
        tenant_id: c.id("tenant_id")?,
        at: c.ts("at")?,
        actor: c.opt_id("actor")?,
        kind: c.json("kind")?,
    })
}

async fn apply(
    sql: &Sql,
    conn: &mut PgConnection,
    tenant: TenantId,
    change: &AdminChange,
) -> Result<()> {
    match change {
        AdminChange::CreateUser { user, password } => {
            people::insert_user(sql, conn, user, password.as_ref()).await
        }
        AdminChange::UpdateUser(user) => people::update_user(sql, conn, user).await,
        AdminChange::EraseUser { user, audit } => {
            crate::erasure::erase_user(sql, conn, user, audit).await
        }
        AdminChange::SetPassword { user, hash } => {
            people::set_password(sql, conn, tenant, *user, hash).await
        }
        AdminChange::UpdateTenant(t) => people::update_tenant(sql, conn, t).await,
        AdminChange::RegisterTenant {
            tenant,
            admin,
            password,
        } => {
            people::insert_tenant(sql, conn, tenant).await?;
            people::insert_user(sql, conn, admin, password.as_ref()).await
        }
        AdminChange::CreateArticle(article) => articles::insert_article(sql, conn, article).await,
        AdminChange::UpdateArticle {
            expected_version,
            article,
        } => articles::update_article(sql, conn, *expected_version, article).await,
        AdminChange::DeleteArticle(id) => articles::delete_article(sql, conn, tenant, *id).await,
        AdminChange::CreateApiKey { key, secret_hash } => {
            api_keys::insert(sql, conn, key, secret_hash).await
        }
        AdminChange::RevokeApiKey { tenant, id, at } => {
            api_keys::revoke(sql, conn, *tenant, *id, *at).await
        }
        AdminChange::CreateWebhook(_)
        | AdminChange::UpdateWebhook { .. }
        | AdminChange::RotateWebhookSecret { .. }
        | AdminChange::SetWebhookEnabled { .. }
        | AdminChange::DeleteWebhook { .. } => webhooks::apply(sql, conn, change).await,
        AdminChange::CreateCannedResponse(_)
        | AdminChange::UpdateCannedResponse(_)
        | AdminChange::DeleteCannedResponse { .. } => canned::apply(sql, conn, change).await,
        AdminChange::CreateSavedView(_)
        | AdminChange::UpdateSavedView(_)
        | AdminChange::DeleteSavedView { .. } => views::apply(sql, conn, change).await,
        AdminChange::RecordOnly => Ok(()),
        // A change this build does not know writes nothing.
        _ => Err(helpdesk_core::Error::validation(
            "change",
            "not supported by this PostgreSQL store",
        )),
    }
}

async fn insert_event(sql: &Sql, conn: &mut PgConnection, event: &AuditEvent) -> Result<()> {
    sqlx::query(sql.text(
        "INSERT INTO helpdesk.audit_events (id, tenant_id, at, actor, kind) VALUES ($1, $2, $3, $4, $5)",
    ))
    .bind(event.id.as_uuid())
    .bind(event.tenant_id.as_uuid())
    .bind(ms(event.at))
    .bind(event.actor.map(|a| a.as_uuid()))
    .bind(json(&event.kind, "audit event kind")?)
    .execute(&mut *conn)
    .await
    .map_err(insert_err(event.id))?;
    Ok(())
}

#[async_trait]
impl AuditStore for PostgresStore {
    async fn commit_admin_change(&self, write: &AdminWrite) -> Result<()> {
        write.check()?;
        let mut tx = self.tx().await?;
        // On any error the transaction is dropped unfinished, which rolls it back.
        apply(&self.sql, &mut tx, write.tenant(), &write.change).await?;
        insert_event(&self.sql, &mut tx, &write.audit).await?;
        commit(tx).await
    }

    async fn list_audit_events(
        &self,
        tenant: TenantId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEvent>> {
        let limit = i64::from(query.limit.max(1));
        let rows = match query.before {
            Some(cursor) => sqlx::query(self.sql.text(
                "SELECT id, tenant_id, at, actor, kind FROM helpdesk.audit_events \
                 WHERE tenant_id = $1 AND (at < $2 OR (at = $3 AND id < $4)) \
                 ORDER BY at DESC, id DESC LIMIT $5",
            ))
            .bind(tenant.as_uuid())
            .bind(ms(cursor.at))
            .bind(ms(cursor.at))
            .bind(cursor.id.as_uuid())
            .bind(limit),
            None => sqlx::query(self.sql.text(
                "SELECT id, tenant_id, at, actor, kind FROM helpdesk.audit_events \
                 WHERE tenant_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
            ))
            .bind(tenant.as_uuid())
            .bind(limit),
        }
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(audit_from).collect()
    }
}
