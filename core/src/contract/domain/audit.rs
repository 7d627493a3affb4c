//! The audit trail: administrative changes (users, roles, passwords, tenant settings,
//! knowledge-base articles) recorded as events, the way ticket changes are.
//!
//! An audit event carries ids, names and a summary of what changed, never a secret: a
//! password change records whose password changed, not the hash.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::Role;
use crate::{
    ApiKeyId, ArticleId, AuditEventId, CannedResponseId, SavedViewId, TenantId, UserId, WebhookId,
};

/// One administrative change, written in the same atomic write as the change itself
/// ([`AdminWrite`](crate::store::AdminWrite)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Id (time ordered).
    pub id: AuditEventId,
    /// The tenant whose data changed.
    pub tenant_id: TenantId,
    /// When the change was made.
    pub at: Timestamp,
    /// Who made it; `None` for a change nobody signed in made (the first admin of a tenant
    /// registering itself).
    pub actor: Option<UserId>,
    /// What changed.
    pub kind: AuditKind,
}

/// A role change of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleChange {
    /// The role before.
    pub from: Role,
    /// The role after.
    pub to: Role,
}

/// What an audit event records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditKind {
    /// A user was added (by an admin, or as a tenant's first admin).
    UserAdded {
        /// The new user.
        user: UserId,
        /// Its e-mail.
        email: String,
        /// Its role.
        role: Role,
    },
    /// A user's profile, role or activation changed.
    UserChanged {
        /// The user.
        user: UserId,
        /// Names of the fields that changed (`name`, `skills`, `capacity`, `role`,
        /// `active`), in that order.
        fields: Vec<String>,
        /// The role change, when the role changed.
        role: Option<RoleChange>,
        /// The new activation state, when it changed (`false`: deactivated).
        active: Option<bool>,
    },
    /// A user's password was set (the hash is never recorded).
    PasswordChanged {
        /// The user.
        user: UserId,
    },
    /// The tenant's settings changed.
    TenantSettingsChanged {
        /// Names of the top-level settings that changed (`categories`, `sla`, ...).
        fields: Vec<String>,
    },
    /// A knowledge-base article was created.
    ArticleCreated {
        /// The article.
        article: ArticleId,
        /// Its title.
        title: String,
    },
    /// A knowledge-base article was edited.
    ArticleUpdated {
        /// The article.
        article: ArticleId,
        /// Its title after the edit.
        title: String,
        /// Its version after the edit.
        version: u64,
    },
    /// A knowledge-base article was deleted.
    ArticleDeleted {
        /// The article.
        article: ArticleId,
        /// Its title when it was deleted.
        title: String,
    },
    /// An API key was created (its secret and hash are never recorded).
    ApiKeyCreated {
        /// The key.
        key: ApiKeyId,
        /// Its label.
        label: String,
        /// The user it acts as.
        user: UserId,
        /// The role it acts with.
        role: Role,
    },
    /// An API key was revoked.
    ApiKeyRevoked {
        /// The key.
        key: ApiKeyId,
    },
    /// A webhook endpoint was registered (its secret is never recorded).
    WebhookCreated {
        /// The endpoint.
        webhook: WebhookId,
        /// Its URL.
        url: String,
        /// The event kinds it wants.
        event_types: Vec<String>,
    },
    /// A webhook endpoint's URL or event kinds changed.
    WebhookUpdated {
        /// The endpoint.
        webhook: WebhookId,
        /// Its URL after the change.
        url: String,
        /// Its event kinds after the change.
        event_types: Vec<String>,
    },
    /// A webhook endpoint's signing secret was rotated.
    WebhookSecretRotated {
        /// The endpoint.
        webhook: WebhookId,
    },
    /// A webhook endpoint was enabled or disabled by an admin.
    WebhookEnabledChanged {
        /// The endpoint.
        webhook: WebhookId,
        /// Whether it is enabled now.
        enabled: bool,
    },
    /// A webhook endpoint was deleted.
    WebhookDeleted {
        /// The endpoint.
        webhook: WebhookId,
    },
    /// A canned response was created.
    CannedResponseCreated {
        /// The response.
        canned_response: CannedResponseId,
        /// Its name.
        name: String,
        /// Whether it is shared with the tenant's staff (else it is its creator's own).
        shared: bool,
    },
    /// A canned response's name, text or actions changed.
    CannedResponseUpdated {
        /// The response.
        canned_response: CannedResponseId,
        /// Its name after the change.
        name: String,
    },
    /// A canned response was deleted.
    CannedResponseDeleted {
        /// The response.
        canned_response: CannedResponseId,
        /// Its name.
        name: String,
    },
    /// A saved view was created.
    SavedViewCreated {
        /// The view.
        view: SavedViewId,
        /// Its name.
        name: String,
        /// Whether it is shared with the tenant's staff.
        shared: bool,
    },
    /// A saved view's name, filter or scope changed.
    SavedViewUpdated {
        /// The view.
        view: SavedViewId,
        /// Its name after the change.
        name: String,
    },
    /// A saved view was deleted.
    SavedViewDeleted {
        /// The view.
        view: SavedViewId,
        /// Its name.
        name: String,
    },
    /// A customer's personal data was erased (a data subject's erasure request): the
    /// profile anonymised, the login removed, and the personal data of their tickets
    /// erased.
    CustomerErased {
        /// The customer.
        user: UserId,
    },
    /// Everything the company holds about a customer was exported (a data subject's
    /// access request).
    CustomerDataExported {
        /// The customer.
        user: UserId,
        /// How many of their tickets the export holds.
        tickets: u64,
    },
}

impl AuditEvent {
    /// A new event of `tenant` at `at`.
    pub fn new(tenant: TenantId, at: Timestamp, actor: Option<UserId>, kind: AuditKind) -> Self {
        Self {
            id: AuditEventId::new(),
            tenant_id: tenant,
            at,
            actor,
            kind,
        }
    }
}
