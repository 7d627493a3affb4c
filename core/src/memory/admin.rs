//! Administrative writes of the in-memory store (users, passwords, tenant settings,
//! articles) and the audit trail they commit with.
//!
//! Each write checks everything before it changes anything, so under the store's one lock
//! a change and its audit event land together or not at all.

use async_trait::async_trait;

use super::{Data, MemoryStore, insert_user};
use crate::domain::{Article, AuditEvent, PasswordHash, Tenant, User};
use crate::store::{AdminChange, AdminWrite, AuditQuery, AuditStore};
use crate::{ArticleId, DuplicateKind, Error, Result, TenantId, UserId};

pub(super) fn update_tenant(d: &mut Data, tenant: &Tenant) -> Result<()> {
    let slot = d
        .tenants
        .iter_mut()
        .find(|t| t.id == tenant.id)
        .ok_or_else(|| Error::not_found("tenant", tenant.id))?;
    slot.name.clone_from(&tenant.name);
    slot.settings = tenant.settings.clone();
    Ok(())
}

pub(super) fn create_user(d: &mut Data, user: &User, hash: Option<&PasswordHash>) -> Result<()> {
    insert_user(d, user)?;
    if let Some(hash) = hash {
        d.passwords.insert(user.id, hash.clone());
    }
    Ok(())
}

pub(super) fn set_password(
    d: &mut Data,
    tenant: TenantId,
    user: UserId,
    hash: &PasswordHash,
) -> Result<()> {
    if !d
        .users
        .iter()
        .any(|u| u.tenant_id == tenant && u.id == user)
    {
        return Err(Error::not_found("user", user));
    }
    d.passwords.insert(user, hash.clone());
    Ok(())
}

pub(super) fn update_user(d: &mut Data, user: &User) -> Result<()> {
    if !d
        .users
        .iter()
        .any(|u| u.tenant_id == user.tenant_id && u.id == user.id)
    {
        return Err(Error::not_found("user", user.id));
    }
    if d.users
        .iter()
        .any(|u| u.tenant_id == user.tenant_id && u.email == user.email && u.id != user.id)
    {
        return Err(Error::Duplicate {
            kind: DuplicateKind::Email,
            value: user.email.clone(),
        });
    }
    let slot = d
        .users
        .iter_mut()
        .find(|u| u.tenant_id == user.tenant_id && u.id == user.id)
        .ok_or_else(|| Error::not_found("user", user.id))?;
    *slot = user.clone();
    Ok(())
}

pub(super) fn create_article(d: &mut Data, article: &Article) -> Result<()> {
    if d.articles.iter().any(|a| a.id == article.id) {
        return Err(Error::Duplicate {
            kind: DuplicateKind::Id,
            value: article.id.to_string(),
        });
    }
    d.articles.push(article.clone());
    Ok(())
}

pub(super) fn update_article(d: &mut Data, expected_version: u64, article: &Article) -> Result<()> {
    let slot = d
        .articles
        .iter_mut()
        .find(|a| a.tenant_id == article.tenant_id && a.id == article.id)
        .ok_or_else(|| Error::not_found("article", article.id))?;
    if slot.version != expected_version {
        return Err(Error::Conflict {
            entity: "article",
            id: article.id.to_string(),
            expected: expected_version,
        });
    }
    *slot = article.clone();
    Ok(())
}

pub(super) fn delete_article(d: &mut Data, tenant: TenantId, id: ArticleId) -> Result<()> {
    let before = d.articles.len();
    d.articles
        .retain(|a| !(a.tenant_id == tenant && a.id == id));
    if d.articles.len() == before {
        return Err(Error::not_found("article", id));
    }
    super::kb_index::record_removal(d, tenant, id);
    Ok(())
}

fn apply(d: &mut Data, tenant: TenantId, change: &AdminChange) -> Result<()> {
    match change {
        AdminChange::CreateUser { user, password } => create_user(d, user, password.as_ref()),
        AdminChange::UpdateUser(user) => update_user(d, user),
        AdminChange::EraseUser { user, audit } => super::erasure::erase_user(d, user, audit),
        AdminChange::SetPassword { user, hash } => set_password(d, tenant, *user, hash),
        AdminChange::UpdateTenant(t) => update_tenant(d, t),
        AdminChange::RegisterTenant {
            tenant,
            admin,
            password,
        } => {
            // Every check before any insert: the tenant and its admin land together.
            super::check_new_tenant(d, tenant)?;
            if d.users.iter().any(|u| u.id == admin.id) {
                return Err(Error::Duplicate {
                    kind: DuplicateKind::Id,
                    value: admin.id.to_string(),
                });
            }
            d.tenants.push(tenant.clone());
            create_user(d, admin, password.as_ref())
        }
        AdminChange::CreateArticle(article) => create_article(d, article),
        AdminChange::UpdateArticle {
            expected_version,
            article,
        } => update_article(d, *expected_version, article),
        AdminChange::DeleteArticle(id) => delete_article(d, tenant, *id),
        AdminChange::CreateApiKey { key, secret_hash } => {
            super::api_keys::create(d, key, secret_hash)
        }
        AdminChange::RevokeApiKey { tenant, id, at } => {
            super::api_keys::revoke(d, *tenant, *id, *at)
        }
        AdminChange::CreateWebhook(_)
        | AdminChange::UpdateWebhook { .. }
        | AdminChange::RotateWebhookSecret { .. }
        | AdminChange::SetWebhookEnabled { .. }
        | AdminChange::DeleteWebhook { .. } => super::webhooks::apply(d, change),
        AdminChange::CreateCannedResponse(_)
        | AdminChange::UpdateCannedResponse(_)
        | AdminChange::DeleteCannedResponse { .. } => super::canned::apply(d, change),
        AdminChange::CreateSavedView(_)
        | AdminChange::UpdateSavedView(_)
        | AdminChange::DeleteSavedView { .. } => super::views::apply(d, change),
        AdminChange::RecordOnly => Ok(()),
    }
}

#[async_trait]
impl AuditStore for MemoryStore {
    async fn commit_admin_change(&self, write: &AdminWrite) -> Result<()> {
        write.check()?;
        let mut d = self.lock()?;
        if d.audit.iter().any(|e| e.id == write.audit.id) {
            return Err(Error::Duplicate {
                kind: DuplicateKind::Id,
                value: write.audit.id.to_string(),
            });
        }
        apply(&mut d, write.tenant(), &write.change)?;
        d.audit.push(write.audit.clone());
        Ok(())
    }

    async fn list_audit_events(
        &self,
        tenant: TenantId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEvent>> {
        let d = self.lock()?;
        let mut list: Vec<AuditEvent> = d
            .audit
            .iter()
            .filter(|e| e.tenant_id == tenant)
            .filter(|e| query.before.is_none_or(|c| c.precedes(e)))
            .cloned()
            .collect();
        list.sort_by_key(|e| std::cmp::Reverse((e.at, e.id)));
        list.truncate(query.limit.max(1) as usize);
        Ok(list)
    }
}
