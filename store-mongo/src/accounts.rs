//! Tenants, users and login sessions.

use async_trait::async_trait;
use bson::doc;
use helpdesk_core::domain::{AuthSession, PasswordHash, Role, Tenant, User};
use helpdesk_core::store::{TenantStore, UserStore};
use helpdesk_core::{DuplicateKind, Error, Result, TenantId, UserId};
use jiff::Timestamp;
use mongodb::ClientSession;

use crate::codec::{at_or_before, to_bson};
use crate::error::{driver, is_duplicate_key};
use crate::mapping::{
    password_from, session_doc, session_from, tenant_doc, tenant_from, user_doc, user_fields,
    user_from,
};
use crate::schema::{SESSIONS, TENANTS, USERS};
use crate::store::{MongoStore, in_session};

#[async_trait]
impl TenantStore for MongoStore {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        self.insert_tenant(tenant, None).await
    }

    async fn get_tenant(&self, id: TenantId) -> Result<Option<Tenant>> {
        self.find_one(TENANTS, doc! { "_id": id.to_string() })
            .await?
            .map(|d| tenant_from(&d))
            .transpose()
    }

    async fn get_tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>> {
        self.find_one(TENANTS, doc! { "slug": slug })
            .await?
            .map(|d| tenant_from(&d))
            .transpose()
    }

    async fn update_tenant(&self, tenant: &Tenant) -> Result<()> {
        self.update_tenant_in(tenant, None).await
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        self.find_all(TENANTS, doc! {}, doc! { "created_at": 1, "_id": 1 }, 0)
            .await?
            .iter()
            .map(tenant_from)
            .collect()
    }
}

#[async_trait]
impl UserStore for MongoStore {
    async fn create_user(&self, user: &User) -> Result<()> {
        self.insert_user(user, None, None).await
    }

    async fn create_user_with_password(&self, user: &User, hash: &PasswordHash) -> Result<()> {
        self.insert_user(user, Some(hash), None).await
    }

    async fn set_password_hash(
        &self,
        tenant: TenantId,
        user: UserId,
        hash: &PasswordHash,
    ) -> Result<()> {
        self.set_password_in(tenant, user, hash, None).await
    }

    async fn login_credentials(
        &self,
        tenant: TenantId,
        email: &str,
    ) -> Result<Option<(User, Option<PasswordHash>)>> {
        let Some(d) = self
            .find_one(
                USERS,
                doc! { "tenant_id": tenant.to_string(), "email": email },
            )
            .await?
        else {
            return Ok(None);
        };
        Ok(Some((user_from(&d)?, password_from(&d)?)))
    }

    async fn get_user(&self, tenant: TenantId, id: UserId) -> Result<Option<User>> {
        self.find_one(
            USERS,
            doc! { "_id": id.to_string(), "tenant_id": tenant.to_string() },
        )
        .await?
        .map(|d| user_from(&d))
        .transpose()
    }

    async fn get_user_by_email(&self, tenant: TenantId, email: &str) -> Result<Option<User>> {
        self.find_one(
            USERS,
            doc! { "tenant_id": tenant.to_string(), "email": email },
        )
        .await?
        .map(|d| user_from(&d))
        .transpose()
    }

    async fn update_user(&self, user: &User) -> Result<()> {
        self.update_user_in(user, None).await
    }

    async fn list_users(&self, tenant: TenantId, role: Option<Role>) -> Result<Vec<User>> {
        let mut filter = doc! { "tenant_id": tenant.to_string() };
        if let Some(role) = role {
            filter.insert("role", role.as_str());
        }
        self.find_all(USERS, filter, doc! { "created_at": 1, "_id": 1 }, 0)
            .await?
            .iter()
            .map(user_from)
            .collect()
    }

    async fn create_session(&self, session: &AuthSession) -> Result<()> {
        match self.coll(SESSIONS).insert_one(session_doc(session)).await {
            Ok(_) => Ok(()),
            // The token hash is a secret's digest: it is not echoed.
            Err(e) if is_duplicate_key(&e) => Err(Error::Duplicate {
                kind: DuplicateKind::Id,
                value: "session".into(),
            }),
            Err(e) => Err(driver(e)),
        }
    }

    async fn get_session(&self, token_hash: &str) -> Result<Option<AuthSession>> {
        self.find_one(SESSIONS, doc! { "_id": token_hash })
            .await?
            .map(|d| session_from(&d))
            .transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        self.coll(SESSIONS)
            .delete_one(doc! { "_id": token_hash })
            .await
            .map_err(driver)?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64> {
        let coll = self.coll(SESSIONS);
        let result = coll
            .delete_many(doc! { "expires_at": at_or_before(now) })
            .await
            .map_err(driver)?;
        Ok(result.deleted_count)
    }
}

// The writes below take the session of an administrative change's transaction
// (`crate::audit`), or `None` on their own.
impl MongoStore {
    /// Inserts a tenant document; a taken slug is `Duplicate { kind: TenantSlug }`.
    pub(crate) async fn insert_tenant(
        &self,
        tenant: &Tenant,
        mut session: Option<&mut ClientSession>,
    ) -> Result<()> {
        let d = tenant_doc(tenant)?;
        let tenants = self.coll(TENANTS);
        match in_session!(session, tenants.insert_one(d)) {
            Ok(_) => Ok(()),
            Err(e) if is_duplicate_key(&e) => {
                // Read outside the transaction (which the failed write has aborted). Report
                // the slug first, like the reference store.
                let slug_taken = self
                    .find_one(TENANTS, doc! { "slug": &tenant.slug })
                    .await?
                    .is_some();
                Err(if slug_taken {
                    Error::Duplicate {
                        kind: DuplicateKind::TenantSlug,
                        value: tenant.slug.clone(),
                    }
                } else {
                    Error::Duplicate {
                        kind: DuplicateKind::Id,
                        value: tenant.id.to_string(),
                    }
                })
            }
            Err(e) => Err(driver(e)),
        }
    }

    /// Inserts a user document with its password hash, if any.
    pub(crate) async fn insert_user(
        &self,
        user: &User,
        password: Option<&PasswordHash>,
        mut session: Option<&mut ClientSession>,
    ) -> Result<()> {
        let users = self.coll(USERS);
        match in_session!(session, users.insert_one(user_doc(user, password))) {
            Ok(_) => Ok(()),
            // Read outside the transaction (which the failed write has aborted).
            Err(e) if is_duplicate_key(&e) => Err(self.user_duplicate(user).await?),
            Err(e) => Err(driver(e)),
        }
    }

    /// Replaces a user's fields (not its password hash).
    pub(crate) async fn update_user_in(
        &self,
        user: &User,
        mut session: Option<&mut ClientSession>,
    ) -> Result<()> {
        let filter = doc! { "_id": user.id.to_string(), "tenant_id": user.tenant_id.to_string() };
        // `$set` of the user's fields, not a replacement: the password hash stays.
        let set = doc! { "$set": user_fields(user) };
        let users = self.coll(USERS);
        match in_session!(session, users.update_one(filter, set)) {
            Ok(r) if r.matched_count == 0 => Err(Error::not_found("user", user.id)),
            Ok(_) => Ok(()),
            Err(e) if is_duplicate_key(&e) => Err(Error::Duplicate {
                kind: DuplicateKind::Email,
                value: user.email.clone(),
            }),
            Err(e) => Err(driver(e)),
        }
    }

    /// Replaces a user's password hash.
    pub(crate) async fn set_password_in(
        &self,
        tenant: TenantId,
        user: UserId,
        hash: &PasswordHash,
        mut session: Option<&mut ClientSession>,
    ) -> Result<()> {
        let coll = self.coll(USERS);
        let update = coll.update_one(
            doc! { "_id": user.to_string(), "tenant_id": tenant.to_string() },
            doc! { "$set": { "password_hash": hash.as_str() } },
        );
        let result = in_session!(session, update).map_err(driver)?;
        if result.matched_count == 0 {
            return Err(Error::not_found("user", user));
        }
        Ok(())
    }

    /// Replaces a tenant's name and settings.
    pub(crate) async fn update_tenant_in(
        &self,
        tenant: &Tenant,
        mut session: Option<&mut ClientSession>,
    ) -> Result<()> {
        let id = tenant.id.to_string();
        let coll = self.coll(TENANTS);
        let update = coll.update_one(
            doc! { "_id": &id, "tenant_id": &id },
            doc! { "$set": {
                "name": &tenant.name,
                "settings": to_bson(&tenant.settings, "tenant settings")?,
            } },
        );
        let result = in_session!(session, update).map_err(driver)?;
        if result.matched_count == 0 {
            return Err(Error::not_found("tenant", tenant.id));
        }
        Ok(())
    }

    /// Which unique value a failed user insert hit: the e-mail first, like the reference
    /// store, then the id.
    async fn user_duplicate(&self, user: &User) -> Result<Error> {
        let email_taken = self
            .find_one(
                USERS,
                doc! { "tenant_id": user.tenant_id.to_string(), "email": &user.email },
            )
            .await?
            .is_some();
        Ok(if email_taken {
            Error::Duplicate {
                kind: DuplicateKind::Email,
                value: user.email.clone(),
            }
        } else {
            Error::Duplicate {
                kind: DuplicateKind::Id,
                value: user.id.to_string(),
            }
        })
    }
}

impl MongoStore {
    /// The tenant's active agents, then its active admins, each role oldest first (one
    /// query), each with their routing stamp: the staff routing chooses from.
    pub(crate) async fn staff_of(&self, tenant: TenantId) -> Result<Vec<(User, u64)>> {
        let filter = doc! {
            "tenant_id": tenant.to_string(),
            "role": { "$in": [Role::Agent.as_str(), Role::Admin.as_str()] },
            "active": true,
        };
        let mut staff = self
            .find_all(USERS, filter, doc! { "created_at": 1, "_id": 1 }, 0)
            .await?
            .iter()
            .map(|d| Ok((user_from(d)?, crate::tickets::routing_claim::stamp_of(d))))
            .collect::<Result<Vec<(User, u64)>>>()?;
        // Stable: agents keep their creation order, then admins keep theirs.
        staff.sort_by_key(|(u, _)| u.role != Role::Agent);
        Ok(staff)
    }
}
