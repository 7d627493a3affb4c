//! Administrative changes with their audit events: the write that carries both, and the
//! audit listing.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::domain::{
    ApiKey, Article, AuditEvent, CannedResponse, PasswordHash, SavedView, Tenant, User,
    WebhookEndpoint, WebhookSecret,
};
use crate::{
    ApiKeyId, ArticleId, AuditEventId, CannedResponseId, Error, Result, SavedViewId, TenantId,
    UserId, WebhookId,
};

/// One administrative change. Each is the same write as the single-purpose call named on
/// it, with the same errors.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AdminChange {
    /// [`UserStore::create_user`](super::UserStore::create_user), or
    /// [`create_user_with_password`](super::UserStore::create_user_with_password) with a
    /// hash.
    CreateUser {
        /// The new user.
        user: User,
        /// Its initial password hash, if any.
        password: Option<PasswordHash>,
    },
    /// [`UserStore::update_user`](super::UserStore::update_user).
    UpdateUser(User),
    /// A new tenant with its first admin:
    /// [`TenantStore::create_tenant`](super::TenantStore::create_tenant), then the admin as
    /// in `CreateUser`, in the same commit, so a tenant never exists without its admin.
    RegisterTenant {
        /// The new tenant.
        tenant: Tenant,
        /// Its first admin (of that tenant).
        admin: User,
        /// The admin's initial password hash, if any.
        password: Option<PasswordHash>,
    },
    /// A customer's erasure: the user replaced as in `UpdateUser` (with its name and
    /// e-mail anonymised), its password hash and login sessions deleted, and each of
    /// `audit` replacing the stored audit event of the tenant with its id (earlier events
    /// that recorded the e-mail; another id is `NotFound` on `audit_event`).
    EraseUser {
        /// The anonymised user.
        user: User,
        /// Earlier audit events with the personal data they recorded replaced.
        audit: Vec<AuditEvent>,
    },
    /// [`UserStore::set_password_hash`](super::UserStore::set_password_hash).
    SetPassword {
        /// The user, of the audit event's tenant.
        user: UserId,
        /// The new hash.
        hash: PasswordHash,
    },
    /// [`TenantStore::update_tenant`](super::TenantStore::update_tenant).
    UpdateTenant(Tenant),
    /// [`ArticleStore::create_article`](super::ArticleStore::create_article).
    CreateArticle(Article),
    /// [`ArticleStore::update_article`](super::ArticleStore::update_article).
    UpdateArticle {
        /// The version the article must have in the store.
        expected_version: u64,
        /// The article's new state.
        article: Article,
    },
    /// [`ArticleStore::delete_article`](super::ArticleStore::delete_article).
    DeleteArticle(ArticleId),
    /// A new API key of `key.tenant_id`, stored with the hash of its secret
    /// ([`ApiKeyStore`](super::ApiKeyStore) reads it back by that hash). A used id is
    /// `Duplicate { kind: Id }`, as is a hash already stored.
    CreateApiKey {
        /// The key (`revoked_at` and `last_used_at` as they are stored: normally `None`).
        key: ApiKey,
        /// [`hash_token`](crate::auth::hash_token) of its secret.
        secret_hash: String,
    },
    /// Revokes an API key of `tenant`: sets its `revoked_at` to `at` unless it is already
    /// revoked (then the first revocation time stays). A key of another tenant, or an
    /// unknown id, is `NotFound`.
    RevokeApiKey {
        /// The key's tenant (the audit event's).
        tenant: TenantId,
        /// The key.
        id: ApiKeyId,
        /// When it is revoked.
        at: jiff::Timestamp,
    },
    /// A new webhook endpoint of `0.tenant_id`, stored as given (a used id is
    /// `Duplicate { kind: Id }`).
    CreateWebhook(WebhookEndpoint),
    /// Replaces a webhook endpoint's URL and event kinds; its secrets, state and delivery
    /// progress stay. Another tenant's endpoint, or an unknown id, is `NotFound` (as for
    /// every webhook change below).
    UpdateWebhook {
        /// The endpoint's tenant (the audit event's).
        tenant: TenantId,
        /// The endpoint.
        id: WebhookId,
        /// The new URL.
        url: String,
        /// The new event kinds.
        event_types: Vec<String>,
    },
    /// Rotates a webhook endpoint's secret: the current one becomes `previous_secret`,
    /// `secret` the current one, and `rotated_at` becomes `at`.
    RotateWebhookSecret {
        /// The endpoint's tenant.
        tenant: TenantId,
        /// The endpoint.
        id: WebhookId,
        /// The new secret.
        secret: WebhookSecret,
        /// When.
        at: jiff::Timestamp,
    },
    /// Enables or disables a webhook endpoint. Enabling clears `disabled_reason`, the
    /// failure count and any waiting retry; disabling sets `disabled_reason` to `reason`.
    SetWebhookEnabled {
        /// The endpoint's tenant.
        tenant: TenantId,
        /// The endpoint.
        id: WebhookId,
        /// Enabled or not.
        enabled: bool,
        /// Why it is disabled (ignored when enabling).
        reason: Option<String>,
    },
    /// Deletes a webhook endpoint.
    DeleteWebhook {
        /// The endpoint's tenant.
        tenant: TenantId,
        /// The endpoint.
        id: WebhookId,
    },
    /// A new canned response of `0.tenant_id`, stored as given. A used id is
    /// `Duplicate { kind: Id }`; a name whose [`folded_name`](CannedResponse::folded_name)
    /// another response of the same scope (the tenant's shared ones, or the same owner's)
    /// already has is `Duplicate { kind: Name }`.
    CreateCannedResponse(CannedResponse),
    /// Replaces a canned response's owner, name, body, `internal`, actions and
    /// `updated_at` (its id, tenant, creator and creation time stay). Another tenant's
    /// response, or an unknown id, is `NotFound`; a name taken in the new scope is
    /// `Duplicate { kind: Name }`.
    UpdateCannedResponse(CannedResponse),
    /// Deletes a canned response (its past uses stay in the tickets' events). Another
    /// tenant's response, or an unknown id, is `NotFound`.
    DeleteCannedResponse {
        /// The response's tenant.
        tenant: TenantId,
        /// The response.
        id: CannedResponseId,
    },
    /// A new saved view of `0.tenant_id`, stored as given. A used id is
    /// `Duplicate { kind: Id }`; a name whose [`folded_name`](SavedView::folded_name) another
    /// view of the same scope (the tenant's shared ones, or the same owner's) already has is
    /// `Duplicate { kind: Name }`.
    CreateSavedView(SavedView),
    /// Replaces a saved view's owner, name, filter and `updated_at` (its id, tenant,
    /// creator and creation time stay). Another tenant's view, or an unknown id, is
    /// `NotFound`; a name taken in the new scope is `Duplicate { kind: Name }`.
    UpdateSavedView(SavedView),
    /// Deletes a saved view. Another tenant's view, or an unknown id, is `NotFound`.
    DeleteSavedView {
        /// The view's tenant.
        tenant: TenantId,
        /// The view.
        id: SavedViewId,
    },
    /// Nothing besides the audit event: an administrative action that changes no data
    /// (exporting a customer's data) is on the record all the same.
    RecordOnly,
}

/// An administrative change and its audit event, committed together
/// ([`AuditStore::commit_admin_change`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AdminWrite {
    /// The change.
    pub change: AdminChange,
    /// Its audit event; its tenant is the tenant of the change.
    pub audit: AuditEvent,
}

impl AdminWrite {
    /// The change with its event.
    pub fn new(change: AdminChange, audit: AuditEvent) -> Self {
        Self { change, audit }
    }

    /// The tenant the change writes to (the audit event's tenant).
    pub fn tenant(&self) -> TenantId {
        self.audit.tenant_id
    }

    /// Checks that the change belongs to the audit event's tenant: every backend calls
    /// this first, so an event can never be filed under another tenant than its change.
    pub fn check(&self) -> Result<()> {
        let changed = match &self.change {
            AdminChange::CreateUser { user, .. } | AdminChange::UpdateUser(user) => {
                Some(user.tenant_id)
            }
            AdminChange::EraseUser { user, audit } => {
                if audit.iter().any(|a| a.tenant_id != user.tenant_id) {
                    return Err(Error::validation(
                        "audit",
                        "replaced audit events must be of the erased user's tenant",
                    ));
                }
                Some(user.tenant_id)
            }
            AdminChange::UpdateTenant(tenant) => Some(tenant.id),
            AdminChange::RegisterTenant { tenant, admin, .. } => {
                if admin.tenant_id != tenant.id {
                    return Err(Error::validation(
                        "admin.tenant_id",
                        "must be the tenant being registered",
                    ));
                }
                Some(tenant.id)
            }
            AdminChange::CreateArticle(article) | AdminChange::UpdateArticle { article, .. } => {
                Some(article.tenant_id)
            }
            AdminChange::CreateApiKey { key, .. } => Some(key.tenant_id),
            AdminChange::RevokeApiKey { tenant, .. }
            | AdminChange::UpdateWebhook { tenant, .. }
            | AdminChange::RotateWebhookSecret { tenant, .. }
            | AdminChange::SetWebhookEnabled { tenant, .. }
            | AdminChange::DeleteWebhook { tenant, .. }
            | AdminChange::DeleteCannedResponse { tenant, .. }
            | AdminChange::DeleteSavedView { tenant, .. } => Some(*tenant),
            AdminChange::CreateSavedView(view) | AdminChange::UpdateSavedView(view) => {
                Some(view.tenant_id)
            }
            AdminChange::CreateCannedResponse(canned)
            | AdminChange::UpdateCannedResponse(canned) => Some(canned.tenant_id),
            AdminChange::CreateWebhook(endpoint) => Some(endpoint.tenant_id),
            AdminChange::SetPassword { .. }
            | AdminChange::DeleteArticle(_)
            | AdminChange::RecordOnly => None,
        };
        match changed {
            Some(tenant) if tenant != self.audit.tenant_id => Err(Error::validation(
                "audit.tenant_id",
                "must be the tenant of the change",
            )),
            _ => Ok(()),
        }
    }
}

/// Where a page of audit events starts: strictly after this event in newest-first order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditCursor {
    /// The time of the last event of the previous page.
    pub at: Timestamp,
    /// Its id (breaks ties between events of the same millisecond).
    pub id: AuditEventId,
}

impl AuditCursor {
    /// The cursor after `event`.
    pub fn after(event: &AuditEvent) -> Self {
        Self {
            at: event.at,
            id: event.id,
        }
    }

    /// Whether `event` comes after the cursor in newest-first order (`at` descending,
    /// then id descending).
    pub fn precedes(&self, event: &AuditEvent) -> bool {
        (event.at, event.id) < (self.at, self.id)
    }
}

/// A page request of a tenant's audit events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditQuery {
    /// At most this many events (a backend may treat 0 as 1).
    pub limit: u32,
    /// Only events after this one, newest first; `None` starts at the newest.
    pub before: Option<AuditCursor>,
}

impl AuditQuery {
    /// The newest `limit` events.
    pub fn newest(limit: u32) -> Self {
        Self {
            limit,
            before: None,
        }
    }
}

/// Administrative changes with their audit trail.
///
/// A change and its event land together or not at all: a change that fails (a taken
/// e-mail, a stale article version, an id of another tenant) writes no event.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Applies `write.change` and appends `write.audit`, atomically. Errors are those of
    /// the change's single-purpose call; a change of another tenant than the event's is a
    /// `Validation` error ([`AdminWrite::check`]); nothing is written on any error.
    async fn commit_admin_change(&self, write: &AdminWrite) -> Result<()>;

    /// A tenant's audit events, newest first (`at` descending, then id descending), at
    /// most `query.limit`, after `query.before` when given.
    async fn list_audit_events(
        &self,
        tenant: TenantId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEvent>>;
}
