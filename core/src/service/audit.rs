//! Passwords and the audit trail of administrative changes.

use super::Helpdesk;
use super::tenants::hash_off_thread;
use crate::domain::{Actor, AuditEvent, AuditKind};
use crate::roles::Action;
use crate::store::{AdminChange, AuditQuery};
use crate::{Result, UserId};

/// Most audit events one page returns.
pub const MAX_AUDIT_PAGE: u32 = 200;

impl Helpdesk {
    /// Sets a user's password: any user their own, an admin anyone's in the tenant (another
    /// tenant's user is `NotFound`). Hashed off the async threads; stored with a
    /// `PasswordChanged` audit event (which never holds the hash) in one write.
    pub async fn set_password(
        &self,
        actor: &Actor,
        user: UserId,
        new_password: &str,
    ) -> Result<()> {
        let action = if user == actor.user_id {
            Action::ChangePassword
        } else {
            Action::ManageUsers
        };
        self.check(actor, action).await?;
        let hash = hash_off_thread(new_password.to_string()).await?;
        self.commit_admin(
            Some(actor),
            actor.tenant_id,
            AdminChange::SetPassword { user, hash },
            AuditKind::PasswordChanged { user },
        )
        .await
    }

    /// The tenant's audit events, newest first (admins only): at most `query.limit`
    /// (clamped to 1..=[`MAX_AUDIT_PAGE`]), after `query.before` when given (pass
    /// [`AuditCursor::after`](crate::store::AuditCursor::after) of the last event for the
    /// next page).
    pub async fn list_audit_events(
        &self,
        actor: &Actor,
        query: AuditQuery,
    ) -> Result<Vec<AuditEvent>> {
        self.check(actor, Action::ViewAudit).await?;
        let query = AuditQuery {
            limit: query.limit.clamp(1, MAX_AUDIT_PAGE),
            ..query
        };
        self.inner
            .store
            .list_audit_events(actor.tenant_id, &query)
            .await
    }
}
